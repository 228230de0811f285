"""The tetrahedral octant mesh: generation in pure numpy, boundary tagging and quality.

Generation (structured, graded, conforming):

1. Split the unit cube [0, 1]^3 into n^3 cells and every cell into 6 tetrahedra along its main
   diagonal (the Kuhn/Freudenthal split). All cells use the same split, so the mesh is conforming.
2. Map the cube onto the octant of the ball of radius R. With s = |X|_inf (the "radius" of the
   cube shell through X) and t = X / s in [0, 1]^3, the direction is the *equiangular* cubed-sphere
   map u = tan(pi t / 4), d = u / |u|_2 (cube faces s = const go to spheres; the planes X_i = 0 stay
   on the symmetry planes x_i = 0; element angles stay more uniform than with X / |X|_2), and the
   radius is r = R g(s) with the grading
       g(s) = a s + b s^2,  a = 2G / (G + 1),  b = (1 - G) / (G + 1),
   so g(0) = 0, g(1) = 1 and g'(0) / g'(1) = G: the radial element size at the centre is G times
   the one at the surface (G = ``surface_grading`` >= 1; G = 1 is uniform).
3. Orient every element positively; check volumes and the mean-ratio quality
       q = 12 (3 |T|)^{2/3} / sum_{edges} l^2   (1 for a regular tetrahedron, -> 0 when degenerate).

Sizes: ``coarse``/``medium``/``fine`` use n = 8/15/22 cells along the cube edge, i.e. 14.7k/89k/273k
P2 displacement DOFs. An explicit ``element_size`` h [m] is the tangential element size at the
surface, the arc R pi / (4 n) of the equiangular map: n = ceil(pi R / (4 h)).

Boundary tagging works on any tetrahedral octant (generated or imported): boundary faces are the
faces of exactly one element; a face whose unit normal is +-e_i and whose vertices have x_i ~ 0 is
on the symmetry plane x_i = 0; a face whose vertices all lie at |x| ~ R is on the sphere. Any other
boundary face means the mesh is not an octant (a :class:`~solvers.errors.MeshError`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import cached_property
from itertools import permutations

import numpy as np

from ..api import MeshOptions
from ..errors import MeshError
from .basis import tet_volumes
from .topology import boundary_faces

__all__ = [
    "SIZE_PRESETS",
    "OctantMesh",
    "classify_boundary",
    "divisions_for",
    "generate_octant_mesh",
    "mesh_from_options",
    "mesh_quality",
]

log = logging.getLogger(__name__)

#: Cells along the edge of the reference cube for each size preset.
SIZE_PRESETS: dict[str, int] = {"coarse": 8, "medium": 15, "fine": 22}


@dataclass(frozen=True)
class OctantMesh:
    """A straight-sided tetrahedral mesh of the octant x, y, z >= 0 of a ball of radius R.

    Attributes
    ----------
    points: (n, 3) vertex coordinates [m].
    tets: (m, 4) positively oriented vertex ids.
    radius: R [m].
    sphere_faces: (k, 3) boundary faces on the sphere, outward oriented.
    plane_faces: faces on x = 0, y = 0, z = 0 (in that order), outward oriented.
    center: vertex id at the origin.
    source: how the mesh was made (for provenance).
    """

    points: np.ndarray
    tets: np.ndarray
    radius: float
    sphere_faces: np.ndarray
    plane_faces: tuple[np.ndarray, np.ndarray, np.ndarray]
    center: int
    source: str = "generated"
    info: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def n_points(self) -> int:
        """Number of vertices."""
        return int(self.points.shape[0])

    @property
    def n_tets(self) -> int:
        """Number of tetrahedra."""
        return int(self.tets.shape[0])

    @cached_property
    def volumes(self) -> np.ndarray:
        """Element volumes (m,) [m^3]."""
        return tet_volumes(self.points, self.tets)

    @property
    def volume(self) -> float:
        """Discrete octant volume V_h [m^3] (-> pi R^3 / 6 under refinement)."""
        return float(self.volumes.sum())

    @cached_property
    def sphere_face_areas(self) -> np.ndarray:
        """Areas (k,) [m^2] of the sphere faces."""
        return _face_areas(self.points, self.sphere_faces)

    @property
    def sphere_area(self) -> float:
        """Discrete sphere-face area A_h [m^2] (-> pi R^2 / 2 under refinement)."""
        return float(self.sphere_face_areas.sum())

    @cached_property
    def sphere_vertices(self) -> np.ndarray:
        """Sorted vertex ids on the sphere."""
        return np.unique(self.sphere_faces)

    def quality(self) -> np.ndarray:
        """Mean-ratio quality (m,) of every element, see :func:`mesh_quality`."""
        return mesh_quality(self.points, self.tets)


def _face_areas(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = points[faces[:, 0]], points[faces[:, 1]], points[faces[:, 2]]
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def mesh_quality(points: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Mean-ratio quality 12 (3|T|)^(2/3) / sum l^2 per element (1 regular, <= 0 inverted)."""
    vol = tet_volumes(points, tets)
    pairs = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
    d = points[tets[:, pairs[:, 0]]] - points[tets[:, pairs[:, 1]]]
    sum_l2 = np.einsum("mki,mki->m", d, d)
    return 12.0 * np.sign(vol) * np.cbrt(3.0 * np.abs(vol)) ** 2 / sum_l2


def classify_boundary(
    points: np.ndarray, tets: np.ndarray, radius: float, *, rel_tol: float = 1e-6
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Tag the boundary faces of a tetrahedral octant: (sphere faces, (x=0, y=0, z=0) faces).

    Faces are returned outward oriented. Raises :class:`MeshError` when a boundary face is on
    neither a symmetry plane nor the sphere of ``radius`` [m] (within ``rel_tol`` * R).
    """
    faces, _owner, opposite = boundary_faces(tets, points.shape[0])
    a, b, c = points[faces[:, 0]], points[faces[:, 1]], points[faces[:, 2]]
    normal = np.cross(b - a, c - a)
    flip = np.einsum("ij,ij->i", normal, a - points[opposite]) < 0.0
    faces[flip] = faces[flip][:, [0, 2, 1]]
    normal[flip] *= -1.0
    unit = normal / np.linalg.norm(normal, axis=1, keepdims=True)
    tol = rel_tol * radius
    corners = points[faces]  # (k, 3, 3)
    on_plane = [(np.abs(corners[:, :, i]).max(axis=1) <= tol) & (unit[:, i] < -1.0 + 1e-6) for i in range(3)]
    radii = np.linalg.norm(corners, axis=2)
    on_sphere = (np.abs(radii - radius).max(axis=1) <= max(tol, 1e-3 * radius)) & ~np.any(on_plane, axis=0)
    tagged = on_sphere | np.any(on_plane, axis=0)
    if not tagged.all():
        bad = corners[~tagged][0]
        raise MeshError(
            f"{int((~tagged).sum())} of {len(faces)} boundary faces lie neither on a symmetry plane "
            f"(x=0, y=0, z=0) nor on the sphere |x| = {radius:.6g} m (e.g. a face with vertices "
            f"{np.array2string(bad, precision=4)}); the mesh must be the octant x, y, z >= 0 of a "
            "sphere centred at the origin, in metres"
        )
    return faces[on_sphere], (faces[on_plane[0]], faces[on_plane[1]], faces[on_plane[2]])


def divisions_for(options: MeshOptions, radius: float) -> int:
    """Cells n along the reference cube edge for a size preset or explicit ``element_size``."""
    if options.element_size is not None:
        if options.element_size <= 0:
            raise MeshError(f"numerics.mesh.element_size must be positive, got {options.element_size} m")
        n = math.ceil(math.pi * radius / (4.0 * options.element_size))
        if n > 120:
            raise MeshError(
                f"element_size {options.element_size:.3g} m gives {n} cells per cube edge (about "
                f"{6 * n**3:.3g} elements) for R = {radius:.3g} m; use a size >= {math.pi * radius / 480:.3g} m"
            )
        return max(n, 2)
    try:
        return SIZE_PRESETS[options.size]
    except KeyError:
        raise MeshError(f"unknown mesh size {options.size!r}; use one of {', '.join(SIZE_PRESETS)}") from None


def _kuhn_tets(n: int) -> np.ndarray:
    """Kuhn split of the n^3 grid of the unit cube: (6 n^3, 4) vertex ids of the (n+1)^3 grid."""
    stride = np.array([(n + 1) ** 2, n + 1, 1], dtype=np.int64)
    i, j, k = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    base = (i * stride[0] + j * stride[1] + k * stride[2]).ravel()
    blocks = []
    for p in permutations(range(3)):  # the 6 monotone paths from (0,0,0) to (1,1,1)
        v1 = stride[p[0]]
        v2 = v1 + stride[p[1]]
        v3 = stride.sum()
        local = np.array([0, v1, v2, v3], dtype=np.int64)
        blocks.append(base[:, None] + local[None, :])
    return np.vstack(blocks)


def _map_to_octant(grid: np.ndarray, radius: float, grading: float) -> np.ndarray:
    """Equiangular, graded map of points of [0, 1]^3 onto the octant of radius ``radius``."""
    s = grid.max(axis=1)
    inside = s > 0.0
    t = np.zeros_like(grid)
    t[inside] = grid[inside] / s[inside, None]
    u = np.tan(0.25 * np.pi * t)
    norm = np.linalg.norm(u, axis=1)
    direction = np.zeros_like(grid)
    direction[inside] = u[inside] / norm[inside, None]
    a = 2.0 * grading / (grading + 1.0)
    b = (1.0 - grading) / (grading + 1.0)
    r = radius * (a * s + b * s * s)
    return direction * r[:, None]


def generate_octant_mesh(radius: float, divisions: int, grading: float = 3.0) -> OctantMesh:
    """Graded tetrahedral octant mesh with ``divisions`` cells per cube edge (6 n^3 elements).

    ``radius`` [m]; ``grading`` G >= 1 is the ratio of radial element size at the centre to the
    surface.
    """
    if radius <= 0:
        raise MeshError(f"the particle radius must be positive, got {radius} m")
    if divisions < 1:
        raise MeshError(f"mesh divisions must be >= 1, got {divisions}")
    if grading < 1.0:
        raise MeshError(f"numerics.mesh.surface_grading must be >= 1 (centre/surface size ratio), got {grading}")
    n = int(divisions)
    axis = np.linspace(0.0, 1.0, n + 1)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    tets = _kuhn_tets(n)
    ref_vol = tet_volumes(grid, tets)
    neg = ref_vol < 0
    tets[neg] = tets[neg][:, [0, 1, 3, 2]]
    points = _map_to_octant(grid, radius, grading)
    q = mesh_quality(points, tets)
    if not (q > 0).all():
        raise MeshError(f"generated mesh has {int((q <= 0).sum())} inverted elements (n={n}, grading={grading})")
    sphere, planes = classify_boundary(points, tets, radius)
    info = {"divisions": n, "grading": grading, "quality_min": float(q.min()), "quality_mean": float(q.mean())}
    log.debug(
        "octant mesh n=%d G=%g: %d vertices, %d tets, quality min %.3f", n, grading, len(points), len(tets), q.min()
    )
    return OctantMesh(
        points=points,
        tets=tets,
        radius=float(radius),
        sphere_faces=sphere,
        plane_faces=planes,
        center=0,
        source=f"generated (n={n}, surface_grading={grading:g})",
        info=info,
    )


def mesh_from_options(options: MeshOptions, radius: float) -> OctantMesh:
    """The mesh that ``numerics.mesh`` asks for: a file (``.mphtxt``/``.msh``) or a generated one."""
    if options.file:
        from .mesh_io import read_octant_mesh

        return read_octant_mesh(options.file, radius=radius)
    return generate_octant_mesh(radius, divisions_for(options, radius), options.surface_grading)
