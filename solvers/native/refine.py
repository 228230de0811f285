"""The P2 node set as a P1 mesh: every tetrahedron split into 8 at its edge midpoints.

The transport unknowns of the native solver live on the nodes of the P2 displacement space
(vertices and edge midpoints), so the concentration is resolved 2x finer along every direction
(8x the unknowns) at no extra mechanics cost, and the eigenstrain it induces lives on the same
nodes as the displacement. The concentration is piecewise linear on the sub-tetrahedra.

Red refinement of a tetrahedron with vertices 0..3 and edge midpoints (tetra10 order)
4 = (0,1), 5 = (1,2), 6 = (0,2), 7 = (0,3), 8 = (1,3), 9 = (2,3):

- four corner tetrahedra (0,4,6,7), (1,4,5,8), (2,6,5,9), (3,7,8,9);
- the inner octahedron {4..9} split into four tetrahedra around one of its three diagonals
  (4-9, 6-8 or 7-5), chosen per element as the shortest (best shape; Bey's rule). The diagonal
  is interior to the parent, so any choice keeps the refined mesh conforming.

All 8 children have the parent's volume / 8. Boundary faces split into 4 at the same midpoints,
so the refined sphere faces tile the parent's faces (same discrete area and volume: the DOD and
flux are unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .basis import tet_volumes
from .mesh import OctantMesh
from .topology import p2_connectivity

__all__ = ["NODE_BARYCENTRIC", "RefinedMesh", "SUBTETS", "refine_octant_mesh"]

#: Barycentric coordinates (10, 4) of the tetra10 nodes in their parent element.
NODE_BARYCENTRIC: np.ndarray = np.vstack(
    [np.eye(4), 0.5 * (np.eye(4)[[0, 1, 0, 0, 1, 2]] + np.eye(4)[[1, 2, 2, 3, 3, 3]])]
)

_CORNERS = [[0, 4, 6, 7], [1, 4, 5, 8], [2, 6, 5, 9], [3, 7, 8, 9]]
#: (diagonal, equator cycle) of the three octahedron splits
_DIAGONALS = [((4, 9), (5, 6, 7, 8)), ((6, 8), (4, 5, 9, 7)), ((7, 5), (4, 6, 9, 8))]

#: Local tetra10 node ids (3, 8, 4) of the 8 children for each octahedron diagonal choice.
SUBTETS: np.ndarray = np.array(
    [
        _CORNERS + [[a, b, ring[k], ring[(k + 1) % 4]] for k in range(4)]
        for (a, b), ring in _DIAGONALS
    ],
    dtype=np.int64,
)


@dataclass(frozen=True)
class RefinedMesh:
    """The refined P1 mesh on the P2 nodes of a parent octant mesh.

    ``mesh``: the refined :class:`OctantMesh` (points = P2 nodes: vertices then edge midpoints);
    ``parent``: the parent mesh; ``conn``: parent P2 connectivity (m, 10); ``edges``: (ne, 2)
    parent edges (node ``n_vertices + j`` is the midpoint of ``edges[j]``); ``variant`` (m,): the
    octahedron diagonal of each parent (index into :data:`SUBTETS`); children of parent e are rows
    ``8 e .. 8 e + 7`` of ``mesh.tets``.
    """

    mesh: OctantMesh
    parent: OctantMesh
    conn: np.ndarray
    edges: np.ndarray
    variant: np.ndarray


def _split_faces(faces: np.ndarray, midpoint_of) -> np.ndarray:
    """Each triangle (a, b, c) -> (a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca) (orientation kept)."""
    a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
    ab, bc, ca = midpoint_of(a, b), midpoint_of(b, c), midpoint_of(c, a)
    return np.stack(
        [np.stack(t, axis=1) for t in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))], axis=1
    ).reshape(-1, 3)


def refine_octant_mesh(parent: OctantMesh) -> RefinedMesh:
    """Split every element of ``parent`` into 8 at its edge midpoints (see module doc)."""
    n = parent.n_points
    conn, edges = p2_connectivity(parent.tets, n)
    nodes = np.vstack([parent.points, 0.5 * (parent.points[edges[:, 0]] + parent.points[edges[:, 1]])])
    x = nodes[conn]  # (m, 10, 3)
    lengths = np.stack(
        [np.linalg.norm(x[:, a] - x[:, b], axis=1) for (a, b), _ in _DIAGONALS], axis=1
    )  # (m, 3)
    variant = np.argmin(lengths, axis=1)
    local = SUBTETS[variant]  # (m, 8, 4)
    tets = np.take_along_axis(conn[:, None, :], local.reshape(len(conn), -1)[:, None, :], axis=2)
    tets = tets.reshape(-1, 4)
    vol = tet_volumes(nodes, tets)
    flip = vol < 0
    tets[flip] = tets[flip][:, [0, 1, 3, 2]]

    keys = edges[:, 0].astype(np.int64) * n + edges[:, 1]

    def midpoint_of(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        return n + np.searchsorted(keys, lo.astype(np.int64) * n + hi)

    sphere = _split_faces(parent.sphere_faces, midpoint_of)
    planes = tuple(_split_faces(f, midpoint_of) for f in parent.plane_faces)
    mesh = OctantMesh(
        points=nodes,
        tets=tets,
        radius=parent.radius,
        sphere_faces=sphere,
        plane_faces=planes,
        center=parent.center,
        source=f"{parent.source}, split 8x at the P2 nodes",
        info={**parent.info, "refined": 8},
    )
    return RefinedMesh(mesh=mesh, parent=parent, conn=conn, edges=edges, variant=variant)
