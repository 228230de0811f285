"""ParaView exports of a stored run: the full mirrored sphere, DOD as a field and as the time value.

``export_paraview(result, out_dir, mirror=True, time_axis="dod")`` writes ``<out_dir>/fields.pvd``
and ``<out_dir>/fields/NNNN.vtu``:

- ``mirror``: the octant reflected across x = 0, y = 0 and z = 0 (8 copies, the full particle);
  vectors and tensors are reflected with it (u -> M u, sigma -> M sigma M with M = diag(+-1)), and
  tetrahedra of odd reflections are reordered so that every cell keeps a positive volume;
- a radial (1D) run is first swept onto a 3D octant volume (the spherically symmetric solution at
  |x|, vectors and tensors rotated, as :mod:`orchestrator.compare` does);
- every step carries the point array ``dod`` [-] (constant per step); the ``.pvd`` timestep is
  the DOD (``time_axis="dod"``, ParaView's time slider then
  reads DOD) or the time in seconds (``"time"``, as the run's own ``fields.pvd``).

Uses meshio only (no pyvista). Units: SI.
"""

from __future__ import annotations

import logging
from itertools import product
from pathlib import Path

import numpy as np

from .compare import _VOIGT, _Transfer
from .results import InvalidSelection, MissingFieldsError, RunResult

__all__ = ["TIME_AXES", "export_paraview"]

log = logging.getLogger(__name__)

TIME_AXES = ("dod", "time")


def _octant_tets(divisions: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(points [unit sphere octant], tetra connectivity): a Kuhn-split cube mapped by X |X|_inf / |X|_2."""
    n = divisions
    g = np.arange(n + 1)
    ijk = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    x = ijk / n
    norm = np.linalg.norm(x, axis=1)
    points = x * np.divide(x.max(axis=1), norm, out=np.zeros_like(norm), where=norm > 0)[:, None]
    index = lambda i, j, k: (i * (n + 1) + j) * (n + 1) + k  # noqa: E731
    c = np.stack(np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij"), axis=-1).reshape(-1, 3)
    corners = {
        (a, b, d): index(c[:, 0] + a, c[:, 1] + b, c[:, 2] + d) for a, b, d in product((0, 1), repeat=3)
    }
    tets = []
    for perm in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):  # Kuhn: 6 tets per cube
        path = [(0, 0, 0)]
        for axis in perm:
            nxt = list(path[-1])
            nxt[axis] = 1
            path.append(tuple(nxt))
        tets.append(np.stack([corners[p] for p in path], axis=1))
    cells = np.concatenate(tets)
    vol = np.einsum("ij,ij->i", np.cross(points[cells[:, 1]] - points[cells[:, 0]], points[cells[:, 2]] - points[cells[:, 0]]),
                    points[cells[:, 3]] - points[cells[:, 0]])
    cells[vol < 0] = cells[vol < 0][:, [0, 2, 1, 3]]
    return points, cells


def _reflect(name: str, values: np.ndarray, signs: np.ndarray) -> np.ndarray:
    if values.ndim == 1:
        return values
    if values.shape[1] == 3:
        return values * signs
    if values.shape[1] == 6:
        factor = np.array([signs[i] * signs[j] for i, j in _VOIGT])
        return values * factor
    log.warning("array %s has %d components; copied unreflected", name, values.shape[1])
    return values


def _mirrored(points: np.ndarray, cells: np.ndarray, data: dict[str, np.ndarray]):
    out_points, out_cells, out_data = [], [], {k: [] for k in data}
    for k, signs in enumerate(product((1.0, -1.0), repeat=3)):
        s = np.array(signs)
        out_points.append(points * s)
        block = cells + k * len(points)
        if np.prod(s) < 0:  # an odd reflection turns tetrahedra inside out
            block = block[:, [0, 2, 1, 3]]
        out_cells.append(block)
        for name, values in data.items():
            out_data[name].append(_reflect(name, values, s))
    return np.concatenate(out_points), np.concatenate(out_cells), {k: np.concatenate(v) for k, v in out_data.items()}


def _step_mesh(result: RunResult, path: Path, radial: tuple[np.ndarray, np.ndarray] | None):
    import meshio

    mesh = meshio.read(path)
    data = {k: np.asarray(v, dtype=float) for k, v in mesh.point_data.items()}
    if radial is None:
        tets = [b.data for b in mesh.cells if b.type == "tetra"]
        if not tets:
            raise InvalidSelection(f"{path}: no linear tetrahedra to export (cell types: {[b.type for b in mesh.cells]})")
        return np.asarray(mesh.points, dtype=float), np.concatenate(tets), data
    points, cells = radial
    transfer = _Transfer(points, np.asarray(mesh.points, dtype=float))
    return points, cells, {k: transfer(v) for k, v in data.items()}


def export_paraview(
    result: RunResult, out_dir: str | Path, *, mirror: bool = True, time_axis: str = "dod"
) -> Path:
    """Write the run's field steps for ParaView (see the module docstring); return the ``.pvd`` path."""
    import meshio

    if time_axis not in TIME_AXES:
        raise InvalidSelection(f"time axis {time_axis!r}: choose {' or '.join(TIME_AXES)}")
    if not result.steps:
        result.step()  # raises MissingFieldsError with the reason
        raise MissingFieldsError(f"run {result.run_id} has no field steps")
    out = Path(out_dir)
    if out.resolve() == result.path.resolve():
        raise InvalidSelection("write the ParaView export to another folder than the run directory")
    (out / "fields").mkdir(parents=True, exist_ok=True)
    radial = None
    if result.is_radial():
        points, cells = _octant_tets()
        radial = (points * result.radius, cells)
    entries = []
    for step in result.steps:
        points, cells, data = _step_mesh(result, step.path, radial)
        if mirror:
            points, cells, data = _mirrored(points, cells, data)
        data["dod"] = np.full(len(points), step.dod)
        name = f"fields/{step.index:04d}.vtu"
        meshio.Mesh(points, [("tetra", cells)], point_data=data).write(out / name, binary=True)
        stamp = step.dod if time_axis == "dod" else step.time
        entries.append(f'    <DataSet timestep="{stamp!r}" group="" part="0" file="{name}"/>')
    pvd = out / "fields.pvd"
    pvd.write_text(
        '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
        f"  <!-- octant run {result.study}/{result.run_id}; timestep = {'DOD [-]' if time_axis == 'dod' else 'time [s]'};"
        f" {'mirrored to the full sphere' if mirror else 'the octant'} -->\n  <Collection>\n"
        + "\n".join(entries)
        + "\n  </Collection>\n</VTKFile>\n",
        encoding="utf-8",
    )
    log.debug("wrote %s (%d steps)", pvd, len(entries))
    return pvd
