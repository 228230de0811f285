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

__all__ = ["SparsePattern", "SymmetricBlockPattern", "assemble_matrix", "assemble_vector"]


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


def _index_dtype(bound: int) -> type:
    """int32 when every index is below ``bound`` < 2^31 (halves the pattern's memory), else int64."""
    return np.int32 if bound < 2**31 - 1 else np.int64


class SymmetricBlockPattern:
    """Assembly of a symmetric operator with ``dim`` unknowns per node (interleaved numbering
    ``dim * node + i``) from the upper half of its element blocks.

    Element e contributes a dense ``dim x dim`` block B for every local node pair (a, b) of
    ``pairs`` (a <= b; the blocks (b, a) = B^T are implied). The pair is stored once, as the
    canonical block (min, max) of its global nodes (g_a, g_b), B^T when g_a > g_b. The sum is one
    sparse product acc = S W with the 0/1 matrix S (2 nnzb x m pairs) sending each (element,
    pair) to its canonical block, in the "direct" or "transposed" half, and W the element blocks
    (n_pairs m, dim^2), read once in memory order: no sort, no strided scatter. The blocks of
    the upper triangle are then U = acc_direct + acc_transposed^T.

    ``conn`` (m, nl): node ids of each element; ``pairs``: the local pairs (2, n_pairs), a <= b.
    """

    def __init__(self, conn: np.ndarray, n_nodes: int, dim: int, pairs: tuple[np.ndarray, np.ndarray]):
        conn = np.asarray(conn, dtype=np.int64)
        ga, gb = conn[:, pairs[0]].T, conn[:, pairs[1]].T  # (n_pairs, m): memory order of the blocks
        swap = ga > gb
        keys = np.minimum(ga, gb) * np.int64(n_nodes) + np.maximum(ga, gb)
        uniq, slot = np.unique(keys.ravel(), return_inverse=True)
        self.nnzb = int(uniq.size)
        self.rows, self.cols = uniq // n_nodes, uniq % n_nodes  # canonical blocks, rows <= cols, sorted
        target = slot.astype(_index_dtype(2 * self.nnzb)) + self.nnzb * swap.ravel()
        self._scatter = sp.csc_matrix(
            (np.ones(target.size), target, np.arange(target.size + 1, dtype=target.dtype)),
            shape=(2 * self.nnzb, target.size),
        )
        self.n_nodes, self.dim = n_nodes, dim
        self.n_pairs, self.n_elements = ga.shape

    def upper_blocks(self, blocks: np.ndarray) -> np.ndarray:
        """The summed canonical blocks U (nnzb, dim, dim) from element blocks ``blocks``
        (n_pairs, m, dim, dim) (any array of that size in that memory order)."""
        d = self.dim
        acc = self._scatter @ np.reshape(blocks, (self.n_pairs * self.n_elements, d * d))
        acc = acc.reshape(2, self.nnzb, d, d)
        return acc[0] + acc[1].transpose(0, 2, 1)

    def csr(self, upper: np.ndarray, keep: np.ndarray | None = None) -> sp.csr_matrix:
        """The full symmetric matrix of the canonical blocks ``upper`` (nnzb, dim, dim) as CSR;
        ``keep`` (sorted unknown ids): only these rows and columns (e.g. the free unknowns)."""
        gather, indices, indptr = self.structure(keep)
        n = self.n_nodes * self.dim if keep is None else keep.size
        return sp.csr_matrix((np.ravel(upper)[gather], indices, indptr), shape=(n, n))

    def _full_blocks(self) -> sp.csr_matrix:
        """Node-block CSR of the full matrix; its data codes the source: +(k+1) for canonical block
        k, -(k+1) for the transpose of canonical block k (below the diagonal)."""
        n = self.n_nodes
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.rows, minlength=n), out=indptr[1:])
        code = np.arange(1, self.nnzb + 1, dtype=_index_dtype(2 * self.nnzb))
        upper = sp.csr_matrix((code, self.cols, indptr), shape=(n, n))
        strict = self.rows != self.cols
        np.cumsum(np.bincount(self.rows[strict], minlength=n), out=indptr[1:])
        lower = sp.csr_matrix((-code[strict], self.cols[strict], indptr), shape=(n, n)).T.tocsr()
        return upper + lower  # disjoint patterns: a union; sorted indices

    def structure(self, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gather, indices, indptr) of the full CSR restricted to the unknowns ``keep``: entry k of
        the CSR data is ``upper.ravel()[gather[k]]``. In CSR order the entries of unknown row
        (R, i) are, for each block (R, C) of node row R in column order, the d columns (C, j):
        the blocks of each kept row are listed by concatenated ranges, then expanded by j, and
        the dropped columns squeezed out in one pass (no sort, no CSR fancy indexing)."""
        d, n_dofs = self.dim, self.n_nodes * self.dim
        full = self._full_blocks()
        kept = np.ones(n_dofs, dtype=bool)
        if keep is not None:
            kept[:] = False
            kept[keep] = True
        rows = np.flatnonzero(kept)
        first, length = full.indptr[rows // d], full.indptr[rows // d + 1] - full.indptr[rows // d]
        idx = _index_dtype(d * d * full.nnz)
        out_start = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(length, out=out_start[1:])
        block = (np.arange(out_start[-1], dtype=idx) - np.repeat((out_start[:-1] - first).astype(idx), length))
        code = full.data[block]
        transposed = code < 0
        base = np.abs(code) - 1
        base *= d * d
        i = np.repeat((rows % d).astype(idx), length)
        base += np.where(transposed, i, d * i)  # entry (i, j) of the block, or (j, i) transposed
        gather = _expand(base, np.where(transposed, idx(d), idx(1)), d)
        cols = _expand(d * full.indices[block].astype(idx), np.ones(1, dtype=idx), d)
        del block, code, transposed, base, i
        kept_per_node = kept.reshape(-1, d).sum(axis=1)
        per_block = np.zeros(full.nnz + 1, dtype=np.int64)
        np.cumsum(kept_per_node[full.indices], out=per_block[1:])
        counts = (per_block[full.indptr[1:]] - per_block[full.indptr[:-1]])[rows // d]
        indptr = np.zeros(rows.size + 1, dtype=idx)
        np.cumsum(counts, out=indptr[1:])
        if keep is None:
            return gather, cols, indptr
        mask = kept[cols]
        return gather[mask], (np.cumsum(kept) - 1).astype(idx)[cols[mask]], indptr


def _expand(base: np.ndarray, step: np.ndarray, d: int) -> np.ndarray:
    """The flat (n * d) array base[k] + j step[k], j = 0..d-1, in (k, j) order."""
    out = np.empty((base.size, d), dtype=base.dtype)
    out[:, 0] = base
    for j in range(1, d):  # d = 3 columns
        np.add(out[:, j - 1], step, out=out[:, j])
    return out.ravel()
