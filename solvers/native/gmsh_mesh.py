"""Octant meshes with inclusions, made by gmsh (OpenCASCADE), cached by a hash of the geometry.

Geometry: the octant x, y, z >= 0 of the ball of radius R (``occ.addSphere`` with latitude 0..pi/2 and
azimuth 0..pi/2); each inclusion is a ball (``addSphere``) or a cylinder (``addCylinder``), intersected
with the octant when a symmetry plane cuts it; ``occ.fragment`` of the octant with all inclusions makes
the interfaces conforming (shared nodes: c is continuous across them). One physical volume group per
domain (index 0 the matrix, then each distinct inclusion material, see :mod:`models.inclusions`).

Units: OpenCASCADE's tolerances are absolute (~1e-7), so a micrometre particle built in metres loses
its booleans (an embedded sphere is not cut out of the matrix). The geometry is therefore built in
units of R (the particle has radius 1) and the nodes are scaled back to metres.

Sizes: the element size at the particle surface h (from ``numerics.mesh``: ``element_size`` or the
size preset, the same tangential size as the generated octant mesh, pi R / (4 n)), growing to
``surface_grading`` x h toward the centre (a Distance + Threshold field on the sphere), and
``min(h, inclusion_resolution x r_inc)`` on and near every inclusion boundary (one Distance +
Threshold field per inclusion); the minimum of all fields is used.

Cache: the mesh (points, tetrahedra, domain per tetrahedron) is stored as ``<sha256>.npz`` in the
cache folder: ``$OCTANT_MESH_CACHE`` if set, else ``$XDG_CACHE_HOME/octant/meshes`` or
``~/.cache/octant/meshes``; the key hashes R, the inclusion geometry and domains, the sizes and the
gmsh version. gmsh is imported lazily (``pip install gmsh`` or ``pip install 'octant[mesh]'``); its
failures become :class:`~solvers.errors.MeshError` naming the geometry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from models.inclusions import BarInclusion, Inclusion, SphereInclusion

from ..api import MeshOptions
from ..errors import MeshError
from .mesh import OctantMesh, divisions_for
from .mesh_io import octant_from_arrays

__all__ = ["DomainMesh", "default_cache_dir", "gmsh_octant_mesh", "mesh_key"]

log = logging.getLogger(__name__)

_MESHER_VERSION = 1  # bump when the geometry or size fields change (invalidates cached meshes)


@dataclass(frozen=True)
class DomainMesh:
    """An octant mesh with a domain index per tetrahedron (0 the matrix)."""

    mesh: OctantMesh
    domain: np.ndarray
    cached: bool = False

    def volumes(self, n_domains: int) -> np.ndarray:
        """Discrete volume [m^3] of each domain (n_domains,)."""
        return np.bincount(self.domain, weights=self.mesh.volumes, minlength=n_domains)


def default_cache_dir() -> Path:
    """The user cache folder for meshes (never inside the repository)."""
    env = os.environ.get("OCTANT_MESH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "octant" / "meshes"


def _import_gmsh():
    try:
        import gmsh
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MeshError(
            "meshing a particle with inclusions needs gmsh: pip install gmsh (or pip install 'octant[mesh]');"
            f" import failed: {exc}"
        ) from exc
    return gmsh


def _geometry(inclusions: Sequence[Inclusion], domains: Sequence[int]) -> list[dict]:
    out = []
    for inc, d in zip(inclusions, domains):
        if isinstance(inc, SphereInclusion):
            out.append({"shape": "sphere", "center": list(inc.center), "radius": inc.radius, "domain": int(d)})
        else:
            out.append({"shape": "bar", "start": list(inc.start), "end": list(inc.end), "radius": inc.radius, "domain": int(d)})
    return out


def _sizes(options: MeshOptions, radius: float, inclusion_resolution: float) -> dict[str, float]:
    n = divisions_for(options, radius)
    return {
        "surface": math.pi * radius / (4.0 * n),
        "grading": max(float(options.surface_grading), 1.0),
        "inclusion_resolution": float(inclusion_resolution),
    }


def mesh_key(radius: float, geometry: list[dict], sizes: dict[str, float], gmsh_version: str) -> str:
    """SHA-256 of the canonical JSON of everything that determines the mesh."""
    doc = {"R": repr(float(radius)), "inclusions": geometry, "sizes": sizes, "gmsh": gmsh_version, "mesher": _MESHER_VERSION}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()


def _add_inclusion(occ, inc: Inclusion, octant_tag: int, radius: float) -> int:
    """Add one inclusion volume (in units of R), cut to the octant when a symmetry plane passes through it."""
    s = 1.0 / radius
    if isinstance(inc, SphereInclusion):
        tag = occ.addSphere(*(s * np.asarray(inc.center)), s * inc.radius)
    else:
        axis = s * np.subtract(inc.end, inc.start)
        tag = occ.addCylinder(*(s * np.asarray(inc.start)), *axis, s * inc.radius)
    if inc.cut_planes(1e-9 * radius) or isinstance(inc, BarInclusion):
        out, _ = occ.intersect([(3, tag)], [(3, octant_tag)], removeObject=True, removeTool=False)
        if len(out) != 1:
            raise MeshError(f"gmsh: the {inc.describe()} does not intersect the octant in one piece")
        tag = out[0][1]
    return tag


def _size_fields(gmsh, outer_surfaces: list[int], inclusion_surfaces: list[list[int]], radii: list[float], sizes, radius):
    """Size fields in units of R (``radii`` and ``sizes['surface']`` are in metres)."""
    field = gmsh.model.mesh.field
    radius_m = radius
    h, grading = sizes["surface"] / radius_m, sizes["grading"]
    radius = 1.0
    ids = []
    dist = field.add("Distance")
    field.setNumbers(dist, "SurfacesList", outer_surfaces)
    thr = field.add("Threshold")
    field.setNumber(thr, "InField", dist)
    field.setNumber(thr, "SizeMin", h)
    field.setNumber(thr, "SizeMax", h * grading)
    field.setNumber(thr, "DistMin", 0.0)
    field.setNumber(thr, "DistMax", 0.8 * radius)
    ids.append(thr)
    for surfaces, r_m in zip(inclusion_surfaces, radii):
        r = r_m / radius_m
        h_inc = min(h, sizes["inclusion_resolution"] * r)
        d = field.add("Distance")
        field.setNumbers(d, "SurfacesList", surfaces)
        t = field.add("Threshold")
        field.setNumber(t, "InField", d)
        field.setNumber(t, "SizeMin", h_inc)
        field.setNumber(t, "SizeMax", h * grading)
        field.setNumber(t, "DistMin", 0.5 * r)
        field.setNumber(t, "DistMax", 0.5 * r + 4.0 * (h * grading - h_inc))
        ids.append(t)
    fmin = field.add("Min")
    field.setNumbers(fmin, "FieldsList", ids)
    field.setAsBackgroundMesh(fmin)


def _build(gmsh, radius: float, inclusions: Sequence[Inclusion], domains: Sequence[int], sizes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometry, fragments, physical groups, size fields and the 3D mesh; (points, tets, domain)."""
    occ = gmsh.model.occ
    octant = occ.addSphere(0.0, 0.0, 0.0, 1.0, -1, 0.0, math.pi / 2, math.pi / 2)
    tags = [_add_inclusion(occ, inc, octant, radius) for inc in inclusions]
    if tags:
        _, out_map = occ.fragment([(3, octant)], [(3, t) for t in tags])
    else:
        out_map = [[(3, octant)]]
    occ.synchronize()
    children = [[t for dim, t in m if dim == 3] for m in out_map]
    inclusion_vols = children[1:]
    taken = {t for vols in inclusion_vols for t in vols}
    by_domain: dict[int, list[int]] = {0: [t for t in children[0] if t not in taken]}
    for vols, d in zip(inclusion_vols, domains):
        by_domain.setdefault(int(d), []).extend(vols)
    for d, vols in sorted(by_domain.items()):
        gmsh.model.addPhysicalGroup(3, sorted(set(vols)), d + 1, name=f"domain{d}")
    boundary = gmsh.model.getBoundary([(3, t) for t in by_domain[0]], oriented=False)
    outer = [t for dim, t in boundary if dim == 2 and _is_sphere_patch(gmsh, t, 1.0)]
    inc_surfaces = [[t for dim, t in gmsh.model.getBoundary([(3, v) for v in vols], oriented=False) if dim == 2]
                    for vols in inclusion_vols]
    _size_fields(gmsh, outer, inc_surfaces, [inc.radius for inc in inclusions], sizes, radius)
    gmsh.model.mesh.generate(3)
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    points = np.asarray(coords, dtype=float).reshape(-1, 3) * radius
    index = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    index[node_tags.astype(np.int64)] = np.arange(node_tags.size)
    tets, dom = [], []
    for d, vols in sorted(by_domain.items()):
        for v in sorted(set(vols)):
            types, _, nodes = gmsh.model.mesh.getElements(3, v)
            for etype, conn in zip(types, nodes):
                if etype != 4:
                    raise MeshError(f"gmsh produced element type {etype} in volume {v}; expected linear tetrahedra")
                block = index[np.asarray(conn, dtype=np.int64)].reshape(-1, 4)
                tets.append(block)
                dom.append(np.full(len(block), d, dtype=np.int64))
    return points, np.vstack(tets), np.concatenate(dom)


def _is_sphere_patch(gmsh, tag: int, radius: float) -> bool:
    """True when the surface ``tag`` lies on the particle's sphere (sampled points at |x| = R)."""
    lo, hi = gmsh.model.getParametrizationBounds(2, tag)
    uv = [lo[0] + f * (hi[0] - lo[0]) for f in (0.3, 0.6)], [lo[1] + f * (hi[1] - lo[1]) for f in (0.3, 0.6)]
    params = [c for u in uv[0] for v in uv[1] for c in (u, v)]
    xyz = np.asarray(gmsh.model.getValue(2, tag, params)).reshape(-1, 3)
    return bool(np.all(np.abs(np.linalg.norm(xyz, axis=1) - radius) <= 1e-6 * radius))


def _run_gmsh(radius: float, inclusions, domains, sizes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gmsh = _import_gmsh()
    gmsh.initialize(["-noenv"], readConfigFiles=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.Verbosity", 1)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)
        gmsh.option.setNumber("Mesh.Optimize", 1)
        gmsh.model.add("octant")
        return _build(gmsh, radius, inclusions, domains, sizes)
    except MeshError:
        raise
    except Exception as exc:  # gmsh raises plain Exception with its log text
        desc = "; ".join(inc.describe() for inc in inclusions) or "no inclusions"
        raise MeshError(
            f"gmsh could not mesh the octant of radius {radius * 1e6:.4g} um with {desc}: {exc}."
            " Move the inclusions apart or away from the surface, or change numerics.mesh (element_size, size)"
        ) from exc
    finally:
        gmsh.finalize()


def gmsh_octant_mesh(
    radius: float,
    inclusions: Sequence[Inclusion] = (),
    domains: Sequence[int] = (),
    options: MeshOptions = MeshOptions(),
    *,
    inclusion_resolution: float = 0.5,
    cache_dir: str | Path | None = None,
) -> DomainMesh:
    """The tetrahedral octant of radius ``radius`` [m] with ``inclusions`` meshed conformingly.

    ``domains``: the domain index of each inclusion (default 1, 2, ...); ``options``: size preset or
    ``element_size`` and ``surface_grading``; ``inclusion_resolution``: element size on an inclusion
    boundary as a fraction of its radius (capped by the surface size). Cached in ``cache_dir``
    (default :func:`default_cache_dir`); pass ``cache_dir=False``-like ``""`` to disable.
    """
    domains = tuple(domains) or tuple(range(1, len(inclusions) + 1))
    if len(domains) != len(inclusions):
        raise MeshError(f"{len(inclusions)} inclusions but {len(domains)} domain indices")
    geometry = _geometry(inclusions, domains)
    sizes = _sizes(options, radius, inclusion_resolution)
    gmsh_version = _import_gmsh().__version__
    key = mesh_key(radius, geometry, sizes, gmsh_version)
    folder = None if cache_dir == "" else Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"{key}.npz" if folder is not None else None
    cached = path is not None and path.is_file()
    if cached:
        data = np.load(path)
        points, tets, dom = data["points"], data["tets"], data["domain"]
    else:
        points, tets, dom = _run_gmsh(radius, inclusions, domains, sizes)
        if path is not None:
            _save(path, points, tets, dom)
    source = f"gmsh {gmsh_version} ({len(inclusions)} inclusion(s), h = {sizes['surface'] * 1e6:.3g} um, key {key[:12]}{', cached' if cached else ''})"
    try:
        mesh = octant_from_arrays(points, tets.copy(), radius, source=source)
    except MeshError as exc:
        desc = "; ".join(inc.describe() for inc in inclusions) or "no inclusions"
        raise MeshError(
            f"the gmsh mesh of the octant with {desc} is not usable: {exc}. Inclusions much smaller than the"
            " element size, or nearly touching each other or the surface, cannot be meshed; enlarge or move them"
        ) from exc
    log.info("%s: %d vertices, %d tetrahedra", source, mesh.n_points, mesh.n_tets)
    return DomainMesh(mesh=mesh, domain=np.asarray(dom, dtype=np.int64), cached=cached)


def _save(path: Path, points: np.ndarray, tets: np.ndarray, domain: np.ndarray) -> None:
    """Atomic write of the cached mesh (a failure to cache is logged, never fatal)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, points=points, tets=tets, domain=domain)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not cache the mesh in %s (%s)", path.parent, exc)
