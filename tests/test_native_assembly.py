"""Native assembly: the symmetric block pattern sums element blocks exactly like a COO assembly."""

from __future__ import annotations

import numpy as np

from solvers.native.assembly import SymmetricBlockPattern, assemble_matrix


def _random_problem(seed: int, m: int = 40, nl: int = 6, n_nodes: int = 30, dim: int = 3):
    rng = np.random.default_rng(seed)
    conn = np.stack([rng.choice(n_nodes, nl, replace=False) for _ in range(m)])  # any node order
    a = rng.standard_normal((m, nl * dim, nl * dim))
    ke = a + a.transpose(0, 2, 1)  # symmetric element matrices, (a, i) x (b, j)
    dofs = (dim * conn[:, :, None] + np.arange(dim)).reshape(m, -1)
    return conn, ke, dofs


def _pattern_matrix(conn, ke, n_nodes, dim, keep=None):
    m, nl = conn.shape
    pairs = np.triu_indices(nl)
    blocks = ke.reshape(m, nl, dim, nl, dim).transpose(1, 3, 0, 2, 4)[pairs]  # (n_pairs, m, dim, dim)
    pattern = SymmetricBlockPattern(conn, n_nodes, dim, pairs)
    return pattern.csr(pattern.upper_blocks(np.ascontiguousarray(blocks)), keep)


def test_symmetric_block_pattern_matches_coo_assembly():
    n_nodes, dim = 30, 3
    conn, ke, dofs = _random_problem(0, n_nodes=n_nodes, dim=dim)
    reference = assemble_matrix(dofs, dofs, ke, (n_nodes * dim, n_nodes * dim)).toarray()
    full = _pattern_matrix(conn, ke, n_nodes, dim)
    assert full.has_sorted_indices
    np.testing.assert_allclose(full.toarray(), reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    keep = np.flatnonzero(np.random.default_rng(1).random(n_nodes * dim) > 0.3)
    reduced = _pattern_matrix(conn, ke, n_nodes, dim, keep)
    np.testing.assert_allclose(reduced.toarray(), reference[np.ix_(keep, keep)], rtol=0, atol=1e-12 * np.abs(reference).max())
    # the stored structure is the structural one: every element pair present, nothing else
    assert reduced.nnz == np.count_nonzero(np.abs(reference[np.ix_(keep, keep)]) > 0)


def test_symmetric_block_pattern_scalar_unknowns():
    conn, ke, dofs = _random_problem(2, nl=4, dim=1)
    reference = assemble_matrix(dofs, dofs, ke, (30, 30)).toarray()
    np.testing.assert_allclose(_pattern_matrix(conn, ke, 30, 1).toarray(), reference, atol=1e-12 * np.abs(reference).max())
