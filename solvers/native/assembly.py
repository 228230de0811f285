"""Vectorised assembly of element contributions into sparse matrices and vectors.

Finite-element assembly is a scatter-add: element e contributes a dense block K_e (a x b) to the
global entries (rows[e, i], cols[e, j]). With all blocks stacked in one array (m, a, b), the global
matrix is the COO triplet (rows, cols, values) with duplicates summed.

When the same connectivity is assembled many times (the transport Jacobian at every Newton
iteration), the sorting work is done once: :class:`SparsePattern` computes the CSR structure and,
for every stacked element entry, the slot of the CSR ``data`` array it adds to. Re-assembly is
then a single ``numpy.bincount(slot, weights=values)``: O(m a b), no sort, no Python loop.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["SparsePattern", "assemble_matrix", "assemble_vector"]


def assemble_matrix(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Sum element blocks ``values`` (m, a, b) at ``rows`` (m, a) x ``cols`` (m, b) into CSR."""
    m, a, b = values.shape
    r = np.broadcast_to(rows[:, :, None], (m, a, b)).ravel()
    c = np.broadcast_to(cols[:, None, :], (m, a, b)).ravel()
    mat = sp.coo_matrix((values.ravel(), (r, c)), shape=shape).tocsr()
    mat.sum_duplicates()
    return mat


def assemble_vector(rows: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum element vectors ``values`` (m, a) at ``rows`` (m, a) into a length-``size`` array."""
    return np.bincount(rows.ravel(), weights=values.ravel(), minlength=size)


class SparsePattern:
    """A fixed CSR sparsity pattern with a precomputed scatter map for repeated assembly.

    ``rows`` (m, a) and ``cols`` (m, b) are the global row/column ids of each element block.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
        m, a = rows.shape
        b = cols.shape[1]
        r = np.broadcast_to(rows[:, :, None], (m, a, b)).ravel().astype(np.int64)
        c = np.broadcast_to(cols[:, None, :], (m, a, b)).ravel().astype(np.int64)
        keys = r * np.int64(shape[1]) + c
        uniq, slot = np.unique(keys, return_inverse=True)
        self.shape = shape
        self.block = (a, b)
        self.slot = slot.astype(np.int64)
        self.indices = (uniq % shape[1]).astype(np.int32)
        row_of = uniq // shape[1]
        self.indptr = np.searchsorted(row_of, np.arange(shape[0] + 1)).astype(np.int32)
        self.nnz = int(uniq.size)

    def matrix(self, values: np.ndarray) -> sp.csr_matrix:
        """CSR matrix of the element blocks ``values`` (m, a, b) on this pattern."""
        data = np.bincount(self.slot, weights=values.ravel(), minlength=self.nnz)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)
