"""Import a tetrahedral octant mesh from a file: COMSOL ``.mphtxt`` or gmsh ``.msh`` (via meshio).

The file must describe the octant x, y, z >= 0 of a sphere centred at the origin, in metres, with
one domain. Checks, all geometric (no reliance on the file's boundary labels):

1. tetrahedra only are used (second-order ``tet2``/``tetra10`` are reduced to their 4 corners and
   unused nodes dropped; the native solver builds its own P2 nodes on straight edges);
2. every element is oriented positively (reordered if needed) and none is degenerate;
3. the radius R_h = max |x| matches the model's radius within 1% (a factor 1e6 means micrometres);
4. no coordinate is below -1e-6 R, there is a vertex at the origin;
5. every boundary face is on a symmetry plane (normal -e_i, x_i = 0) or on the sphere |x| = R
   (:func:`~.mesh.classify_boundary`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from ..errors import MeshError
from .basis import tet_volumes
from .mesh import OctantMesh, classify_boundary, mesh_quality

__all__ = ["octant_from_arrays", "read_octant_mesh"]

log = logging.getLogger(__name__)


def _read_mphtxt(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from solvers.comsol.mphtxt import read_mphtxt

    mesh = read_mphtxt(path)
    if mesh.sdim != 3:
        raise MeshError(f"{path}: a {mesh.sdim}D mesh; octant needs a 3D tetrahedral mesh")
    _, block = mesh.volume_block()
    return np.asarray(mesh.points, dtype=float), block.connectivity[:, :4], block.domains


def _read_meshio(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        import meshio
    except ImportError as exc:
        raise MeshError(f"reading {path.suffix} meshes needs meshio: pip install meshio") from exc
    try:
        mesh = meshio.read(path)
    except Exception as exc:  # meshio raises many types (ReadError, ValueError, KeyError ...)
        raise MeshError(f"{path}: meshio cannot read it ({exc}); write the mesh as gmsh .msh (v2 or v4)") from exc
    blocks = [(b.type, b.data) for b in mesh.cells if b.type in ("tetra", "tetra10")]
    if not blocks:
        raise MeshError(
            f"{path}: no tetrahedra (cell types: {', '.join(sorted({b.type for b in mesh.cells})) or 'none'}); "
            "octant needs a 3D tetrahedral mesh (gmsh: Mesh 3)"
        )
    tets = np.vstack([data[:, :4] for _, data in blocks])
    domains = np.ones(len(tets), dtype=np.int64)
    for key in ("gmsh:physical", "cell_tags", "medit:ref"):
        if key in mesh.cell_data:
            tagged = [d for b, d in zip(mesh.cells, mesh.cell_data[key]) if b.type in ("tetra", "tetra10")]
            if tagged:
                domains = np.concatenate([np.asarray(d).reshape(-1) for d in tagged]).astype(np.int64)
            break
    points = np.asarray(mesh.points, dtype=float)
    if points.shape[1] != 3:
        raise MeshError(f"{path}: points have {points.shape[1]} coordinates; need 3D")
    return points, tets, domains


def octant_from_arrays(
    points: np.ndarray, tets: np.ndarray, radius: float, *, source: str = "arrays", domains: np.ndarray | None = None
) -> OctantMesh:
    """Check and tag a tetrahedral octant given as arrays; ``radius`` [m] is the model's R."""
    points = np.asarray(points, dtype=float)
    tets = np.asarray(tets, dtype=np.int64)
    if domains is not None and np.unique(domains).size > 1:
        raise MeshError(
            f"{source}: {np.unique(domains).size} domains ({np.unique(domains).tolist()}); the native solver "
            "handles one homogeneous particle (inclusions are not supported yet): merge the domains"
        )
    used = np.unique(tets)
    if used.size < points.shape[0]:  # drop unused nodes (e.g. tet2 mid-side nodes)
        renumber = np.full(points.shape[0], -1, dtype=np.int64)
        renumber[used] = np.arange(used.size)
        points, tets = points[used], renumber[tets]
    vol = tet_volumes(points, tets)
    scale = np.abs(vol).max() if vol.size else 0.0
    if vol.size == 0 or np.any(np.abs(vol) <= 1e-12 * scale):
        raise MeshError(f"{source}: {int((np.abs(vol) <= 1e-12 * scale).sum())} degenerate (zero-volume) tetrahedra")
    neg = vol < 0
    tets[neg] = tets[neg][:, [0, 1, 3, 2]]
    r_mesh = float(np.linalg.norm(points, axis=1).max())
    ratio = r_mesh / radius
    if not 0.99 <= ratio <= 1.01:
        hint = ""
        if 0.5e6 <= ratio <= 2e6:
            hint = " (the coordinates look like micrometres: export the mesh in metres)"
        elif 0.5e3 <= ratio <= 2e3:
            hint = " (the coordinates look like millimetres: export the mesh in metres)"
        raise MeshError(
            f"{source}: mesh radius {r_mesh:.6g} does not match the particle radius {radius:.6g} m{hint}; "
            "the mesh must be in metres and have the model's radius"
        )
    if points.min() < -1e-6 * r_mesh:
        raise MeshError(
            f"{source}: coordinates down to {points.min():.4g} m; the mesh must be the octant x, y, z >= 0 "
            "(symmetry planes at x=0, y=0, z=0)"
        )
    dist = np.linalg.norm(points, axis=1)
    center = int(np.argmin(dist))
    if dist[center] > 1e-6 * r_mesh:
        raise MeshError(f"{source}: no vertex at the origin (closest at {dist[center]:.4g} m); not an octant")
    sphere, planes = classify_boundary(points, tets, r_mesh)
    volume = float(tet_volumes(points, tets).sum())
    exact = math.pi * r_mesh**3 / 6.0
    if abs(volume / exact - 1.0) > 0.05:
        raise MeshError(
            f"{source}: volume {volume:.4g} m^3 is not that of an octant of radius {r_mesh:.4g} m ({exact:.4g})"
        )
    q = mesh_quality(points, tets)
    info = {"quality_min": float(q.min()), "quality_mean": float(q.mean())}
    if q.min() < 0.05:
        log.warning("%s: poor element quality (min mean-ratio %.3g); results may be inaccurate", source, q.min())
    return OctantMesh(
        points=points,
        tets=tets,
        radius=r_mesh,
        sphere_faces=sphere,
        plane_faces=planes,
        center=center,
        source=source,
        info=info,
    )


def read_octant_mesh(path: str | Path, *, radius: float) -> OctantMesh:
    """Read and check an octant mesh from ``.mphtxt`` (COMSOL) or ``.msh`` (gmsh); ``radius`` [m]."""
    path = Path(path)
    if not path.is_file():
        raise MeshError(
            f"mesh file {str(path)!r} not found; give numerics.mesh.file relative to the spec file or absolute"
        )
    suffix = path.suffix.lower()
    if suffix == ".mphtxt":
        points, tets, domains = _read_mphtxt(path)
    elif suffix in (".msh", ".vtu", ".vtk", ".xdmf", ".mesh"):
        points, tets, domains = _read_meshio(path)
    else:
        raise MeshError(f"mesh file {path.name!r}: unknown format {suffix!r}; use .mphtxt (COMSOL) or .msh (gmsh)")
    mesh = octant_from_arrays(points, tets, radius, source=str(path), domains=domains)
    log.info("read %s: %d vertices, %d tetrahedra", path, mesh.n_points, mesh.n_tets)
    return mesh
