"""Factorise a symmetric positive definite sparse matrix once, solve many times.

The elasticity matrix K does not change during a run (only the eigenstrain load does), so it is
factorised once and every quasi-static solve is a pair of triangular solves:

- ``cholmod``: sparse Cholesky K = L L^T with fill-reducing ordering (scikit-sparse/SuiteSparse);
  the fastest here (seconds for ~1e5 DOFs). Needs ``pip install 'scikit-sparse==0.4.16'`` and
  ``apt-get install libsuitesparse-dev libopenblas0-pthread``.
- ``pardiso``: Intel MKL PARDISO through pypardiso (``pip install pypardiso``, x86-64 only; in
  ``octant[all]``), a supernodal Cholesky (mtype 2) on the upper triangle (:mod:`.pardiso`);
  pip-only. On the medium mesh (86k unknowns, 2 cores) its factorisation takes ~1.7x and its
  multi-right-hand-side solves ~2.7x as long as CHOLMOD's.
- ``superlu``: scipy's sparse LU; always available, fine for small 3D problems, very slow and
  memory-hungry beyond ~1e5 DOFs.
- ``amg``: no factorisation: conjugate gradients preconditioned by a pyamg smoothed-aggregation
  hierarchy (built once, with the rigid-body modes as near-null space); memory-lean, slower per
  solve, warm-started from the previous solution. ``pip install pyamg``.

``auto`` picks cholmod when importable, else pardiso when importable, else superlu below 60,000
unknowns, else amg when pyamg is importable, else superlu.

The Newton systems of the transport problem are solved by :mod:`.krylov`.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.sparse as sp

from ..errors import BackendUnavailable, SolverError
from .pardiso import pardiso_available

__all__ = ["SpdSolver", "factorize", "module_available", "resolve_method"]

log = logging.getLogger(__name__)

Method = Literal["auto", "cholmod", "pardiso", "superlu", "amg"]
_SUPERLU_AUTO_LIMIT = 60_000


def module_available(module: str) -> bool:
    """True when ``module`` (e.g. ``sksparse.cholmod``) can be imported here."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def resolve_method(method: str, n: int) -> str:
    """The concrete method ``auto`` stands for, for a system of ``n`` unknowns."""
    if method not in ("auto", "cholmod", "pardiso", "superlu", "amg"):
        raise SolverError(f"unknown numerics.linear_solver {method!r}; use auto, cholmod, pardiso, superlu or amg")
    if method != "auto":
        return method
    if module_available("sksparse.cholmod"):
        return "cholmod"
    if pardiso_available():
        return "pardiso"
    if n <= _SUPERLU_AUTO_LIMIT or not module_available("pyamg"):
        return "superlu"
    return "amg"


class SpdSolver:
    """Solves K x = b for the matrix given to :func:`factorize`; ``method`` names what it uses."""

    def __init__(self, method: str, solve, n: int):
        self.method = method
        self._solve = solve
        self.n = n
        self.solves = 0

    def __call__(self, rhs: np.ndarray) -> np.ndarray:
        """Solution x of K x = ``rhs``, (n,) or (n, k) (k right-hand sides at once)."""
        rhs = np.asarray(rhs, dtype=float)
        self.solves += 1 if rhs.ndim == 1 else rhs.shape[1]
        if rhs.ndim == 2 and self.method == "amg":
            return np.column_stack([self._solve(np.ascontiguousarray(col)) for col in rhs.T])
        return self._solve(rhs)


def _single_threaded(solve):
    """``solve`` run with one BLAS/OpenMP thread (when threadpoolctl is installed).

    The triangular solves of a factor are memory-bound with small dense blocks: extra BLAS threads
    do not help, and on a shared, loaded machine their spin-waiting made each CHOLMOD solve ~8x
    slower (measured in the elastoplastic CG loop, which solves with the factor hundreds of times).
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it solves keep the libraries' default thread count
        return solve
    controller = ThreadpoolController()

    def wrapped(b: np.ndarray) -> np.ndarray:
        with controller.limit(limits=1):
            return solve(b)

    return wrapped


def factorize(
    matrix: sp.spmatrix, method: Method = "auto", *, near_nullspace: np.ndarray | None = None, rtol: float = 1e-11
) -> SpdSolver:
    """Factorise (or precondition) the SPD ``matrix`` once; returns a reusable :class:`SpdSolver`.

    ``near_nullspace`` (n, k) helps the ``amg`` hierarchy (rigid-body modes for elasticity);
    ``rtol`` is the relative residual of the ``amg`` conjugate gradients.
    """
    n = matrix.shape[0]
    chosen = resolve_method(method, n)
    if chosen == "cholmod":
        try:
            from sksparse.cholmod import cholesky
        except ImportError as exc:
            raise BackendUnavailable(
                "numerics.linear_solver = cholmod needs scikit-sparse: apt-get install libsuitesparse-dev "
                "libopenblas0-pthread && pip install 'scikit-sparse==0.4.16' (or choose auto/superlu/amg)"
            ) from exc
        factor = cholesky(sp.csc_matrix(matrix), ordering_method="nesdis")
        return SpdSolver("cholmod", _single_threaded(lambda b: np.asarray(factor(b))), n)
    if chosen == "pardiso":
        from .pardiso import PardisoFactor

        pardiso = PardisoFactor(mtype=2)  # real SPD: supernodal Cholesky of the upper triangle
        pardiso.factor(matrix)
        return SpdSolver("pardiso", pardiso, n)
    if chosen == "superlu":
        from scipy.sparse.linalg import splu

        lu = splu(sp.csc_matrix(matrix))
        return SpdSolver("superlu", lu.solve, n)
    try:
        import pyamg
    except ImportError as exc:
        raise BackendUnavailable(
            "numerics.linear_solver = amg needs pyamg: pip install pyamg (or choose auto/cholmod/superlu)"
        ) from exc
    from scipy.sparse.linalg import cg

    csr = sp.csr_matrix(matrix)
    hierarchy = pyamg.smoothed_aggregation_solver(csr, B=near_nullspace, symmetry="symmetric")
    precond = hierarchy.aspreconditioner(cycle="V")
    state = {"x0": None}

    def solve(b: np.ndarray) -> np.ndarray:
        x, info = cg(csr, b, x0=state["x0"], rtol=rtol, atol=0.0, M=precond, maxiter=2000)
        if info != 0:
            raise SolverError(
                f"AMG-preconditioned CG did not converge in {info} iterations; use numerics.linear_solver = "
                "cholmod or superlu"
            )
        state["x0"] = x
        return x

    log.debug("pyamg hierarchy: %s", hierarchy)
    return SpdSolver("amg", solve, n)
