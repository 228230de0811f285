"""Intel MKL PARDISO through pypardiso, called the way a solver that refactorises often needs it.

PARDISO works in phases: 11 analysis (fill-reducing ordering, symbolic factorisation), 22
numerical factorisation, 33 forward/backward substitution. pypardiso's convenience methods redo
the analysis whenever they see a new matrix object and compare the matrix on every solve; the
transport Newton systems keep one sparsity pattern for a whole run and only change values, so
:class:`PardisoFactor` analyses a pattern once and then runs phase 22 (numbers only, ~30 % of the
full factorisation) and raw phase-33 calls (no matrix comparison, no iterative refinement steps:
the callers check residuals themselves).

pypardiso looks for MKL's ``mkl_rt`` library by walking ``sys.prefix`` recursively when it is not
on the loader path: ~1 s at import and again for every solver object. :func:`load_pypardiso` finds
the library from the ``mkl`` distribution's file list (milliseconds) and hands pypardiso the path
through ``PYPARDISO_MKL_RT``.

Matrix types used here: 11 (real non-symmetric; the full CSR matrix) and 2 (real symmetric
positive definite; the upper triangle in CSR).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from functools import cache

import numpy as np
import scipy.sparse as sp

from ..errors import BackendUnavailable, SolverError

__all__ = ["PardisoFactor", "load_pypardiso", "pardiso_available"]

log = logging.getLogger(__name__)

_INSTALL_HINT = "pip install pypardiso (x86-64; part of pip install 'octant[all]')"


@cache
def load_pypardiso():
    """The ``pypardiso`` module, with MKL's runtime located quickly (see the module notes).

    Raises :class:`~solvers.errors.BackendUnavailable` with the install hint when it is missing.
    """
    if "PYPARDISO_MKL_RT" not in os.environ:
        try:
            candidates = [f for f in importlib.metadata.files("mkl") or () if f.name.startswith("libmkl_rt")]
        except importlib.metadata.PackageNotFoundError:
            candidates = []
        for candidate in sorted(candidates, key=lambda f: len(str(f))):
            path = candidate.locate()
            if path.exists():
                os.environ["PYPARDISO_MKL_RT"] = str(path.resolve())
                break
    try:
        import pypardiso
    except (ImportError, OSError) as exc:
        raise BackendUnavailable(f"PARDISO is not available ({exc}); {_INSTALL_HINT}") from exc
    return pypardiso


def pardiso_available() -> bool:
    """True when pypardiso and MKL's runtime load here (checked once; see :func:`load_pypardiso`)."""
    try:
        load_pypardiso()
    except BackendUnavailable:
        return False
    return True


class PardisoFactor:
    """A PARDISO factorisation of one sparsity pattern, renewed cheaply when only values change.

    ``mtype``: 11 (non-symmetric; pass the full matrix) or 2 (SPD; pass the full matrix, the upper
    triangle is taken here). :meth:`factor` analyses the pattern the first time (and whenever it
    changes) and otherwise only refactorises the numbers; calling the object solves with the last
    factor for one right-hand side (n,) or several (n, k).
    """

    def __init__(self, mtype: int = 11):
        if mtype not in (2, 11):
            raise SolverError(f"PardisoFactor supports mtype 2 (SPD) and 11 (non-symmetric), got {mtype}")
        pypardiso = load_pypardiso()
        self.mtype = mtype
        self._solver = pypardiso.PyPardisoSolver(mtype=mtype)
        self._solver.set_iparm(8, 0)  # no iterative refinement inside the solve phase
        self._pattern: tuple[np.ndarray, np.ndarray] | None = None
        self._matrix: sp.csr_matrix | None = None
        self.analyses = 0
        self.factorisations = 0

    def _stored(self, matrix: sp.spmatrix) -> sp.csr_matrix:
        csr = sp.triu(matrix, format="csr") if self.mtype == 2 else sp.csr_matrix(matrix)
        if not csr.has_sorted_indices:
            csr = csr.sorted_indices()
        return csr

    def _same_pattern(self, csr: sp.csr_matrix) -> bool:
        if self._pattern is None:
            return False
        indptr, indices = self._pattern
        return indptr.shape == csr.indptr.shape and np.array_equal(indptr, csr.indptr) and np.array_equal(indices, csr.indices)

    def _run(self, phase: int, csr: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        self._solver.set_phase(phase)
        try:
            return self._solver._call_pardiso(csr, rhs)
        except Exception as exc:  # pypardiso raises its own error class with PARDISO's code
            raise SolverError(f"PARDISO phase {phase} failed: {exc}") from exc

    def factor(self, matrix: sp.spmatrix) -> None:
        """Factorise ``matrix`` (n, n): numbers only when its pattern is the one analysed last."""
        csr = self._stored(matrix)
        csr.data = np.ascontiguousarray(csr.data, dtype=float)
        phase = 22 if self._same_pattern(csr) else 12
        self._run(phase, csr, np.zeros(csr.shape[0]))
        if phase == 12:
            self._pattern = (csr.indptr.copy(), csr.indices.copy())
            self.analyses += 1
        self._matrix = csr
        self.factorisations += 1

    def __call__(self, rhs: np.ndarray) -> np.ndarray:
        """x with A x = ``rhs`` for the last factorised A; ``rhs`` (n,) or (n, k)."""
        if self._matrix is None:
            raise SolverError("PardisoFactor: factor() a matrix before solving")
        b = np.asarray(rhs, dtype=float)
        x = self._run(33, self._matrix, np.asfortranarray(b) if b.ndim == 2 else np.ascontiguousarray(b))
        return np.asarray(x).reshape(b.shape)

    def free(self) -> None:
        """Release PARDISO's internal memory (the factor)."""
        self._solver.free_memory(everything=True)
        self._matrix = None
        self._pattern = None
