"""Newton linear systems of the transport problem: inexact GMRES on a frozen, reused factorisation.

The Newton matrix A = a0 M - dF/dc is non-symmetric (the D'(c) term) and changes a little from one
Newton iteration, and one time step, to the next: most of it is the mass (scaled by the BDF
coefficient a0) and the diffusion of the unlithiated core and of the lithiated shell; what moves
is the band around the front where D jumps. So A x = b is solved by GMRES, right-preconditioned
with the LU factorisation of an *earlier* Newton matrix,

    A P^{-1} z = b,   x = P^{-1} z,   P = A_earlier = L U,

starting from x0 = P^{-1} b (exact when A has not changed). The factorisation is renewed when
the BDF coefficient a0 has moved too far since, or when the GMRES iterations a fresh factor would
have saved add up to the price of a factorisation (rent or buy; see :class:`FrozenKrylovSolver`).

**Inexact Newton.** The Krylov tolerance is a relative residual of ``rtol`` (default 1e-2), not
machine precision: each Newton iteration then contracts the error by ~max(rtol, |error|) instead
of squaring it, which costs one extra Newton iteration at most, while a linear solve to 1e-10
costs ~3x the back-substitutions (Eisenstat & Walker, SIAM J. Sci. Comput. 17:16 (1996), on forcing
terms). Newton's own stopping test (:mod:`solvers.stepping`) decides when the state is converged.

**Li conservation.** For a conservative discretisation 1^T A = a0 m^T (columns of dF/dc sum to
zero), so the total amount after a Newton update is exact only when 1^T (A x - b) = 0, which an
inexact solve does not give. Each solution is therefore corrected to x + delta |x| with delta
chosen so that 1^T (b - A x) = 0 exactly (a rank-one projection; the exact solution satisfies it
for any matrix). Mass balance then holds to rounding whatever the Krylov tolerance.

**Factorisation.** :class:`~.pardiso.PardisoFactor` (MKL PARDISO: the pattern is analysed once,
later factorisations redo the numbers only, ~25 ms for 4,096 unknowns) when pypardiso is
installed, else SuperLU (symmetric minimum-degree ordering without pivoting: the pattern is
symmetric and A close to an M-matrix; ~0.1-0.2 s, so it is renewed less eagerly). Every
back-substitution costs ~3-4 ms at 4,096 unknowns with either.

Measured on the Si full lithiation (2-core VM): medium mesh (4,096 unknowns), 835 Newton systems,
~90 PARDISO refactorisations, ~1.2 GMRES iterations each: 11-14 s, where GMRES to 1e-10 on a
SuperLU factor renewed after 20 iterations took 53 s (10,500 back-substitutions); fine mesh
(12,167 unknowns) 103 s.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular

from ..errors import SolverError
from ..stepping import splu_solve
from .pardiso import pardiso_available

__all__ = ["FrozenKrylovSolver", "NewtonSystem", "right_preconditioned_gmres"]

log = logging.getLogger(__name__)

Apply = Callable[[np.ndarray], np.ndarray]


@dataclass
class NewtonSystem:
    """A Newton matrix ``matrix`` (A = a0 M - dF/dc) with its BDF coefficient a0 [1/s]."""

    matrix: sp.csr_matrix
    a0: float


def right_preconditioned_gmres(
    matrix: sp.spmatrix, rhs: np.ndarray, precondition: Apply, *, rtol: float, max_iterations: int
) -> tuple[np.ndarray, int, bool]:
    """GMRES on A P^{-1} z = b from x0 = P^{-1} b; returns (x, iterations, converged).

    Converged when ||b - A x|| <= rtol ||b|| (2-norm). One preconditioner application per
    iteration plus one for x0; modified Gram-Schmidt Arnoldi with Givens rotations, no restart
    (the caller refactorises instead).
    """
    if max_iterations < 1:
        raise SolverError(f"GMRES needs max_iterations >= 1, got {max_iterations}")
    x = precondition(rhs)
    residual = rhs - matrix @ x
    target = rtol * float(np.linalg.norm(rhs))
    beta = float(np.linalg.norm(residual))
    if beta <= target:
        return x, 0, True
    m = max_iterations
    basis = np.empty((m + 1, rhs.size))
    directions = np.empty((m, rhs.size))
    hessenberg = np.zeros((m + 1, m))
    cos, sin = np.zeros(m), np.zeros(m)
    g = np.zeros(m + 1)
    g[0] = beta
    basis[0] = residual / beta
    for j in range(m):  # Krylov iterations (a handful), not a loop over mesh entities
        directions[j] = precondition(basis[j])
        w = matrix @ directions[j]
        h = hessenberg[:, j]  # a view: the column is rotated in place below
        for i in range(j + 1):
            h[i] = w @ basis[i]
            w -= h[i] * basis[i]
        h[j + 1] = float(np.linalg.norm(w))
        breakdown = h[j + 1] == 0.0  # the Krylov space holds the exact solution
        if not breakdown:
            basis[j + 1] = w / h[j + 1]
        for i in range(j):  # the earlier Givens rotations, applied to the new column
            h[i], h[i + 1] = cos[i] * h[i] + sin[i] * h[i + 1], -sin[i] * h[i] + cos[i] * h[i + 1]
        r = math.hypot(h[j], h[j + 1])
        cos[j], sin[j] = (h[j] / r, h[j + 1] / r) if r > 0.0 else (1.0, 0.0)
        h[j], h[j + 1] = r, 0.0
        g[j], g[j + 1] = cos[j] * g[j], -sin[j] * g[j]
        converged = abs(g[j + 1]) <= target
        if converged or breakdown or j == m - 1:
            k = j + 1
            y = solve_triangular(hessenberg[:k, :k], g[:k], check_finite=False)
            return x + y @ directions[:k], k, converged or breakdown
    raise AssertionError("unreachable")  # pragma: no cover


class _SuperLUFactor:
    """SuperLU with a symmetric ordering and no pivoting (see the module notes); same calls as PardisoFactor."""

    def factor(self, matrix: sp.spmatrix) -> None:
        from scipy.sparse.linalg import splu

        self._lu = splu(
            sp.csc_matrix(matrix), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )

    def __call__(self, rhs: np.ndarray) -> np.ndarray:
        return self._lu.solve(rhs)


def _make_factor(factorisation: str):
    if factorisation == "auto":
        factorisation = "pardiso" if pardiso_available() else "superlu"
    if factorisation == "pardiso":
        from .pardiso import PardisoFactor

        return "pardiso", PardisoFactor(mtype=11)
    if factorisation == "superlu":
        return "superlu", _SuperLUFactor()
    raise SolverError(f"unknown transport factorisation {factorisation!r}; use auto, pardiso or superlu")


class FrozenKrylovSolver:
    """``linear_solve(A, b)`` for :func:`solvers.stepping.integrate`: inexact GMRES on A,
    right-preconditioned by a reused factorisation of an earlier Newton system (module notes).

    ``factorisation``: ``auto`` (PARDISO when pypardiso is installed, else SuperLU), ``pardiso`` or
    ``superlu``. ``rtol``: GMRES relative residual. ``refactor_ratio``: renew the factor when a0
    leaves [a0_f / ratio, a0_f * ratio]; ``refactor_iterations``: renew it after a solve that
    needed more GMRES iterations. By default the factor is renewed as in the rent-or-buy rule:
    once the GMRES iterations a fresh factor would have saved since the last factorisation (all
    beyond the first of each solve) cost as much as a factorisation, i.e. add up to its price in
    back-substitutions, r = t_factor / t_apply (measured as the run goes), or after any solve that
    needed more than 10; ``refactor_ratio`` is 1.5 while r < 15, else 2.5. Accepts a
    :class:`NewtonSystem` or a plain sparse matrix (solved directly by sparse LU).
    """

    def __init__(
        self,
        *,
        factorisation: str = "auto",
        rtol: float = 1e-2,
        refactor_ratio: float | None = None,
        refactor_iterations: int | None = None,
        max_iterations: int = 30,
    ):
        if not 0.0 < rtol < 1.0:
            raise SolverError(f"FrozenKrylovSolver rtol must be in (0, 1), got {rtol!r}")
        self.factorisation, self._factor = _make_factor(factorisation)
        self.method = f"gmres+frozen {self.factorisation}"
        self.rtol = rtol
        self._fixed_ratio, self._fixed_iterations = refactor_ratio, refactor_iterations
        self.max_iterations = max_iterations
        self.factor_seconds = 0.0  # the last factorisation [s]
        self.apply_seconds = 0.0  # running mean of one GMRES iteration (back-substitution + product) [s]
        self.factorisations = 0
        self.krylov_iterations = 0
        self.solves = 0
        self._a0: float | None = None
        self._stale = True
        self._wasted = 0

    @property
    def price(self) -> float:
        """A factorisation's price in back-substitutions (r in the class notes; 10 before measured)."""
        return self.factor_seconds / self.apply_seconds if self.apply_seconds > 0 else 10.0

    def _renew_after(self, iterations: int) -> bool:
        """True when the factor should be renewed after a solve of ``iterations`` (class notes)."""
        self._wasted += max(0, iterations - 1)
        if self._fixed_iterations is not None:
            return iterations > self._fixed_iterations
        return iterations > 10 or self._wasted >= self.price

    @property
    def refactor_ratio(self) -> float:
        """Change of a0 beyond which the factor is renewed (see the class notes)."""
        return self._fixed_ratio or (1.5 if self.price < 15 else 2.5)

    def _refactor(self, system: NewtonSystem) -> None:
        start = time.perf_counter()
        self._factor.factor(system.matrix)
        self.factor_seconds = time.perf_counter() - start
        self._wasted = 0
        self._a0 = system.a0
        self._stale = False
        self.factorisations += 1

    def _gmres(self, system: NewtonSystem, rhs: np.ndarray) -> tuple[np.ndarray, int, bool]:
        start = time.perf_counter()
        x, its, converged = right_preconditioned_gmres(
            system.matrix, rhs, self._factor, rtol=self.rtol, max_iterations=self.max_iterations
        )
        per_apply = (time.perf_counter() - start) / (its + 1)
        self.apply_seconds = per_apply if self.apply_seconds == 0 else 0.9 * self.apply_seconds + 0.1 * per_apply
        return x, its, converged

    def __call__(self, matrix, rhs: np.ndarray) -> np.ndarray:
        self.solves += 1
        if not isinstance(matrix, NewtonSystem):
            return splu_solve(matrix, rhs)
        ratio = matrix.a0 / self._a0 if self._a0 else math.inf
        if self._stale or not 1.0 / self.refactor_ratio <= ratio <= self.refactor_ratio:
            self._refactor(matrix)
        x, its, converged = self._gmres(matrix, rhs)
        self.krylov_iterations += its
        if not converged:
            self._refactor(matrix)  # the frozen preconditioner has gone stale
            x, its, converged = self._gmres(matrix, rhs)
            self.krylov_iterations += its
            if not converged:
                log.debug("GMRES did not converge on a fresh factorisation; using sparse LU with pivoting")
                return splu_solve(matrix.matrix, rhs)
        self._stale = self._renew_after(its)
        return conserve_total(matrix.matrix, rhs, x)


def conserve_total(matrix: sp.spmatrix, rhs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x + delta |x| with 1^T (rhs - matrix (x + delta |x|)) = 0 (exact total; module notes)."""
    csr = sp.csr_matrix(matrix)  # no copy for a CSR matrix
    column_sums = np.bincount(csr.indices, weights=csr.data, minlength=csr.shape[1])
    weight = np.abs(x)
    denominator = float(column_sums @ weight)
    if denominator == 0.0 or not math.isfinite(denominator):
        return x
    return x + (float(rhs.sum()) - float(column_sums @ x)) / denominator * weight
