"""Mesh topology by sorting: unique faces, boundary faces, unique edges and the P2 dof map.

Every tetrahedron has 4 triangular faces and 6 edges. Writing each face (edge) with its vertex
numbers sorted gives a key that two neighbouring elements share; ``numpy.unique`` over the keys of
all elements then finds

- the boundary faces: keys that occur exactly once (an interior face is shared by two elements);
- the unique edges: one P2 mid-edge node per distinct edge key, so the P2 node numbering is
  ``vertices 0..n-1`` followed by ``n + edge index``.

No Python loop runs over elements: keys are packed into one int64 (vertex counts up to ~2 million
for faces) and sorted.
"""

from __future__ import annotations

import numpy as np

from .basis import P2_EDGES

__all__ = ["FACE_LOCAL", "boundary_faces", "p2_connectivity"]

#: Local vertex triples of the 4 faces of a tetrahedron (face k is opposite vertex k).
FACE_LOCAL: np.ndarray = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]], dtype=np.int64)


def _pack(sorted_ids: np.ndarray, n: int) -> np.ndarray:
    """One int64 key per row of sorted vertex ids (rows of 2 or 3)."""
    key = np.zeros(sorted_ids.shape[0], dtype=np.int64)
    for j in range(sorted_ids.shape[1]):  # 2 or 3 columns
        key = key * np.int64(n) + sorted_ids[:, j].astype(np.int64)
    return key


def boundary_faces(tets: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces that belong to exactly one element.

    Returns ``faces`` (k, 3) vertex ids, ``owner`` (k,) the element of each face and ``opposite``
    (k,) the owner's vertex not on the face (to orient normals outward).
    """
    tets = np.asarray(tets, dtype=np.int64)
    if n_points >= 2_000_000:
        raise ValueError("boundary_faces supports fewer than 2 million vertices (int64 face keys)")
    local = tets[:, FACE_LOCAL].reshape(-1, 3)  # (4m, 3)
    keys = _pack(np.sort(local, axis=1), n_points)
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    once = first[counts == 1]
    faces = local[once]
    owner = once // 4
    opposite = tets[owner, once % 4]
    return faces, owner, opposite


def p2_connectivity(tets: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """P2 connectivity (m, 10) in ``tetra10`` order and the unique edges (ne, 2).

    Node ``n_points + j`` is the midpoint of ``edges[j]``.
    """
    tets = np.asarray(tets, dtype=np.int64)
    local = tets[:, P2_EDGES].reshape(-1, 2)
    srt = np.sort(local, axis=1)
    keys = _pack(srt, n_points)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    edges = srt[first]
    conn = np.empty((tets.shape[0], 10), dtype=np.int64)
    conn[:, :4] = tets
    conn[:, 4:] = n_points + inverse.reshape(-1, 6)
    return conn, edges
