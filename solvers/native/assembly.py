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

__all__ = ["BlockPattern", "SparsePattern", "assemble_matrix", "assemble_vector"]


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


class BlockPattern:
    """The node-pair sparsity of a vector-valued (``dim`` components per node) operator, with the
    slot of every element node pair: repeated assembly is ``dim^2`` bincounts into block data and
    one conversion of a block-CSR (BSR) matrix, no sort of the ``(m n_local dim)^2`` triplets.

    ``conn`` (m, nl): node ids of each element; ``n_nodes``: number of nodes.
    """

    def __init__(self, conn: np.ndarray, n_nodes: int, dim: int):
        m, nl = conn.shape
        conn = np.asarray(conn, dtype=np.int64)
        keys = (conn[:, :, None] * np.int64(n_nodes) + conn[:, None, :]).ravel()
        uniq, slot = np.unique(keys, return_inverse=True)
        self.slot = slot.reshape(m, nl, nl)
        self.indices = (uniq % n_nodes).astype(np.int32)
        self.indptr = np.searchsorted(uniq // n_nodes, np.arange(n_nodes + 1)).astype(np.int32)
        self.nnzb = int(uniq.size)
        self.n_nodes, self.dim = n_nodes, dim

    def add(self, data: np.ndarray, elements: slice, blocks: np.ndarray) -> None:
        """Add element blocks ``blocks`` (m', nl, nl, dim, dim) of ``elements`` into ``data`` (nnzb, dim, dim)."""
        slot = self.slot[elements].ravel()
        flat = blocks.reshape(slot.size, self.dim, self.dim)
        for i in range(self.dim):
            for j in range(self.dim):
                data[:, i, j] += np.bincount(slot, weights=flat[:, i, j], minlength=self.nnzb)

    def csr(self, data: np.ndarray, keep: np.ndarray | None = None) -> sp.csr_matrix:
        """The assembled matrix (n_nodes dim square) as CSR; ``keep``: only these rows and columns."""
        n = self.n_nodes * self.dim
        matrix = sp.bsr_matrix((data, self.indices, self.indptr), shape=(n, n)).tocsr()
        if keep is None:
            return matrix
        return matrix[keep][:, keep].tocsr()
