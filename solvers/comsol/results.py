"""Turn a COMSOL mesh export + Data export into octant field frames and scalar rows.

A COMSOL Data export lists its evaluation points in its own order (not the mesh's vertex order:
the ``busbar`` fixture has the same 7340 points as its mesh, permuted). Rows are therefore matched
to mesh vertices by position (nearest neighbour, tolerance 1e-6 of the mesh size); extra rows
(e.g. Lagrange points of a refined export) are ignored, and a vertex without a row is an error --
except the edge midpoints of a second-order (``tet2``) mesh exported with vertex data only, which
get the mean of their edge's end values.

Mapping of COMSOL expressions to the run-store arrays of :data:`solvers.api.FIELD_UNITS`:

=====================================  ===================================================
``c``                                   ``c`` [mol/m^3] and ``theta`` = c / c_max
``cmax_loc`` (several materials)         the local c_max of each node: theta = c / cmax_loc
``u``, ``v``, ``w``                     ``displacement`` [m] (3)
``solid.sx sy sz syz sxz sxy``          ``stress`` [Pa] (Voigt xx yy zz yz xz xy), ``hydrostatic``
                                        (mean normal stress) and ``max_principal_stress``
``solid.mises``                         ``von_mises`` [Pa] (else computed from the stress)
``solid.evol``                          ``volumetric_strain`` [-]
``solid.epeGp`` (elastoplastic runs)     ``plastic_strain`` (equivalent plastic strain) [-]
anything else (``T``, ``V``, ...)        stored under its COMSOL name, unchanged
=====================================  ===================================================

Scalars (one row per stored time, when ``c`` is present): DOD and theta mean from the lumped
(P1) volume integral of c, theta max on the spherical surface (boundary faces not on a symmetry
plane), theta at the vertex nearest the centre, max von Mises, min/max hydrostatic stress.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from solvers.api import SCALAR_COLUMNS, FieldFrame, ResultSink
from solvers.errors import SolverError

from .mphtxt import TET2_TO_VTK, MphtxtMesh, tet_volumes
from .spreadsheet import SpreadsheetData

__all__ = [
    "CMAX_COLUMN",
    "PLASTIC_COLUMN",
    "LENGTH_UNITS",
    "ComsolResults",
    "ResultsError",
    "convert_results",
    "scalar_row",
    "surface_vertices",
    "write_to_sink",
]

log = logging.getLogger(__name__)

#: Length unit names of the ``% Length unit:`` header line -> metres.
LENGTH_UNITS: dict[str, float] = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "\u00b5m": 1e-6, "\u03bcm": 1e-6, "nm": 1e-9}

_STRESS = ("solid.sx", "solid.sy", "solid.sz", "solid.syz", "solid.sxz", "solid.sxy")
_DISP = ("u", "v", "w")
#: Column of the local c_max [mol/m^3] that a several-material model exports (one value per domain).
CMAX_COLUMN = "cmax_loc"
#: COMSOL's equivalent plastic strain (Gauss-point variable, as COMSOL's own plasticity plots use it).
PLASTIC_COLUMN = "solid.epeGp"
_KNOWN = {"c", CMAX_COLUMN, PLASTIC_COLUMN, "solid.mises", "solid.evol", *_STRESS, *_DISP}


class ResultsError(SolverError, ValueError):
    """A mesh and a data export that do not fit together."""


@dataclass
class ComsolResults:
    """Frames (one per stored time) and scalar rows (empty without ``c``), plus notes."""

    frames: list[FieldFrame]
    scalars: list[dict[str, float]]
    notes: list[str] = field(default_factory=list)


def _length_scale(data: SpreadsheetData) -> float:
    unit = data.metadata.get("Length unit", "m").strip()
    if unit not in LENGTH_UNITS:
        raise ResultsError(f"unknown length unit {unit!r} in the data export; export in m, mm, um or nm")
    return LENGTH_UNITS[unit]


def _match_rows(mesh_points: np.ndarray, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of ``coords`` for each mesh node (nearest) and a mask of nodes without a row nearby."""
    from scipy.spatial import cKDTree

    if coords.shape[1] != mesh_points.shape[1]:
        raise ResultsError(f"data export has {coords.shape[1]} coordinate columns, the mesh is {mesh_points.shape[1]}D")
    extent = float(np.ptp(mesh_points, axis=0).max()) or 1.0
    distance, rows = cKDTree(coords).query(mesh_points)
    return rows, distance > 1e-6 * extent


def _midpoint_parents(connectivity: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For missing ``tet2`` edge-midpoint nodes: (node, end a, end b), from COMSOL's node order."""
    edges = ((4, 0, 1), (5, 0, 2), (6, 1, 2), (7, 0, 3), (8, 1, 3), (9, 2, 3))
    triples = np.concatenate([connectivity[:, [m, a, b]] for m, a, b in edges])
    triples = triples[missing[triples[:, 0]]]
    node, first = np.unique(triples[:, 0], return_index=True)
    return node, triples[first, 1], triples[first, 2]


def surface_vertices(points: np.ndarray, tets: np.ndarray, plane_tol: float | None = None) -> np.ndarray:
    """Vertices on the curved surface: on boundary faces that do not lie on a plane x, y or z = 0."""
    faces = np.concatenate([tets[:, [0, 1, 2]], tets[:, [0, 1, 3]], tets[:, [0, 2, 3]], tets[:, [1, 2, 3]]])
    faces = np.sort(faces, axis=1)
    unique, counts = np.unique(faces, axis=0, return_counts=True)
    boundary = unique[counts == 1]
    if plane_tol is None:
        plane_tol = 1e-9 * (float(np.ptp(points, axis=0).max()) or 1.0)
    on_plane = (np.abs(points[boundary]) <= plane_tol).all(axis=1).any(axis=1)
    return np.unique(boundary[~on_plane])


def _principal_max(stress: np.ndarray) -> np.ndarray:
    xx, yy, zz, yz, xz, xy = stress.T
    tensor = np.stack([np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1), np.stack([xz, yz, zz], -1)], -2)
    return np.linalg.eigvalsh(tensor)[:, -1]


def _von_mises(stress: np.ndarray) -> np.ndarray:
    xx, yy, zz, yz, xz, xy = stress.T
    return np.sqrt(0.5 * ((xx - yy) ** 2 + (yy - zz) ** 2 + (zz - xx) ** 2) + 3.0 * (xy**2 + yz**2 + xz**2))


def scalar_row(
    time: float, c: np.ndarray, weights: np.ndarray, surface: np.ndarray, center: int, *,
    c_max: float | np.ndarray, c0: float, von_mises: np.ndarray | None, hydrostatic: np.ndarray | None,
    plastic_strain: np.ndarray | None = None,
) -> dict[str, float]:
    """One row of :data:`SCALAR_COLUMNS` from nodal values (``weights``: lumped nodal volumes).

    ``c_max`` is a number, or nodal values (several materials): then theta = c / c_max node by
    node and DOD = int(c - c0) / int(c_max - c0) = int(c - c0) / sum_d (c_max,d - c0) V_d.
    ``plastic_strain``: equivalent plastic strain (elastoplastic runs; else the max is 0).
    """
    cmax = np.broadcast_to(np.asarray(c_max, dtype=float), c.shape)
    theta = c / cmax
    nan = float("nan")
    values = {
        "time_s": float(time),
        "dod": float(weights @ (c - c0) / (weights @ (cmax - c0))),
        "theta_mean": float(weights @ theta / weights.sum()),
        "theta_surface_max": float(theta[surface].max()) if surface.size else nan,
        "theta_center": float(theta[center]),
        "von_mises_max": float(von_mises.max()) if von_mises is not None else nan,
        "hydrostatic_min": float(hydrostatic.min()) if hydrostatic is not None else nan,
        "hydrostatic_max": float(hydrostatic.max()) if hydrostatic is not None else nan,
        "plastic_strain_max": float(plastic_strain.max()) if plastic_strain is not None else 0.0,
    }
    missing = [k for k in SCALAR_COLUMNS if k not in values]
    assert not missing, f"scalar_row does not compute {missing}"
    return {k: values[k] for k in SCALAR_COLUMNS}


def _point_data(col, names: list[str], unknown: list[str], cmax: float | np.ndarray | None) -> dict[str, np.ndarray]:
    """The run-store point arrays of one stored time (``col(name)``: the column at the vertices)."""
    pd: dict[str, np.ndarray] = {}
    if "c" in names:
        pd["c"] = col("c")
        if cmax is not None:
            pd["theta"] = pd["c"] / cmax
    if all(n in names for n in _DISP):
        pd["displacement"] = np.stack([col(n) for n in _DISP], axis=1)
    stress = None
    if all(n in names for n in _STRESS):
        stress = np.stack([col(n) for n in _STRESS], axis=1)
        pd["stress"] = stress
        pd["hydrostatic"] = stress[:, :3].mean(axis=1)
        pd["max_principal_stress"] = _principal_max(stress)
    if "solid.mises" in names:
        pd["von_mises"] = col("solid.mises")
    elif stress is not None:
        pd["von_mises"] = _von_mises(stress)
    if "solid.evol" in names:
        pd["volumetric_strain"] = col("solid.evol")
    if PLASTIC_COLUMN in names:
        pd["plastic_strain"] = col(PLASTIC_COLUMN)
    for n in unknown:
        pd[n] = col(n)
    return pd


def convert_results(
    mesh: MphtxtMesh,
    data: SpreadsheetData,
    *,
    c_max: float | None = None,
    c0: float = 0.0,
    dod_of_time=None,
) -> ComsolResults:
    """Frames and scalars from a COMSOL mesh and a Data export of the same solution.

    ``c_max`` [mol/m^3] enables ``theta`` and the scalars; ``dod_of_time(t)`` gives a frame's DOD
    when there is no ``c`` column (else the computed DOD is used). Points are converted to metres
    using the export's ``% Length unit:`` line (the mesh is assumed to be in the same unit).
    """
    scale = _length_scale(data)
    points = np.asarray(mesh.points, dtype=float) * scale
    if points.shape[1] != 3:
        raise ResultsError(f"the mesh is {points.shape[1]}D; octant stores 3D tetrahedral meshes")
    kind, block = mesh.volume_block()
    rows, missing = _match_rows(points, np.asarray(data.coords, dtype=float) * scale)
    notes = []
    mids = (np.zeros(0, np.int64),) * 3
    if missing.any() and kind == "tet2":
        # a vertex-only export of a second-order mesh: midpoints get the mean of their edge ends
        mids = _midpoint_parents(block.connectivity, missing)
        still = missing.copy()
        still[mids[0]] = False
        if not (still.any() or missing[mids[1]].any() or missing[mids[2]].any()):
            notes.append(f"{len(mids[0])} tet2 edge midpoints had no data row: linear mean of the edge ends used")
            missing = still
    if missing.any():
        raise ResultsError(
            f"{int(missing.sum())} of {len(points)} mesh vertices have no data row: export the Data at the mesh"
            " nodes of the same solution (Data export, points 'From dataset') and the mesh of that solution"
        )
    if len(data.coords) > len(points):
        notes.append(f"{len(data.coords) - len(points)} data rows are not mesh vertices and were ignored")
    tets = block.connectivity[:, :4]
    cells = {"tetra": tets} if kind == "tet" else {"tetra10": block.connectivity[:, TET2_TO_VTK]}
    cell_data = {"material": [block.domains.copy()]} if len(np.unique(block.domains)) > 1 else {}
    # lumped nodal volumes and topology (for the scalars)
    vol = tet_volumes(points, tets)
    weights = np.bincount(tets.ravel(), weights=np.repeat(vol / 4.0, 4), minlength=len(points))
    surface = surface_vertices(points, tets)
    center = int(np.argmin(np.einsum("ij,ij->i", points, points)))

    times: list[float | None] = list(data.times) or [None]
    names = data.names
    unknown = [n for n in names if n not in _KNOWN]
    if unknown:
        notes.append(f"stored under their COMSOL names: {', '.join(unknown)}")
    frames: list[FieldFrame] = []
    scalars: list[dict[str, float]] = []
    for t in times:
        def col(name: str, t: float | None = t) -> np.ndarray:
            values = np.asarray(data.column(name, t), dtype=float)[rows]
            if mids[0].size:
                values[mids[0]] = 0.5 * (values[mids[1]] + values[mids[2]])
            return values

        cmax: float | np.ndarray | None = col(CMAX_COLUMN) if CMAX_COLUMN in names else c_max
        pd = _point_data(col, names, unknown, cmax)
        time = 0.0 if t is None else float(t)
        row = None
        if "c" in pd and cmax is not None:
            row = scalar_row(time, pd["c"], weights, surface, center, c_max=cmax, c0=c0,
                             von_mises=pd.get("von_mises"), hydrostatic=pd.get("hydrostatic"),
                             plastic_strain=pd.get("plastic_strain"))
            scalars.append(row)
        dod = row["dod"] if row else (float(dod_of_time(time)) if dod_of_time else 0.0)
        frames.append(FieldFrame(time=time, dod=dod, points=points, cells=cells, point_data=pd, cell_data=cell_data))
    if not scalars:
        notes.append("no scalars: the export has no 'c' column (or c_max is unknown)")
    return ComsolResults(frames=frames, scalars=scalars, notes=notes)


def write_to_sink(
    results: ComsolResults,
    sink: ResultSink,
    *,
    field_times: np.ndarray | None = None,
    stop_surface_theta: float | None = None,
) -> tuple[int, int, list[str]]:
    """Send scalars and frames to ``sink``; return (scalar rows, frames written, notes).

    ``field_times`` [s]: only frames at these times (relative match 1e-9) are written (``None``:
    all). ``stop_surface_theta``: drop rows and frames after the first stored time at which the
    surface theta reached it (a ``surface_theta`` stop applied after the solve).
    """
    rows, frames, notes = results.scalars, results.frames, []
    if stop_surface_theta is not None:
        hit = [i for i, r in enumerate(rows) if r["theta_surface_max"] >= stop_surface_theta]
        if hit:
            last = rows[hit[0]]["time_s"]
            rows = rows[: hit[0] + 1]
            frames = [f for f in frames if f.time <= last]
            notes.append(f"surface theta reached {stop_surface_theta} at t = {last:.6g} s (a stored time); later outputs dropped")
    previous = 0.0
    for row in rows:
        sink.write_scalars(row)
        sink.progress(row["time_s"], row["dod"], row["time_s"] - previous)
        previous = row["time_s"]
    written = 0
    wanted = None if field_times is None else np.asarray(field_times, dtype=float)
    for frame in frames:
        if wanted is not None and not (wanted.size and np.min(np.abs(wanted - frame.time)) <= 1e-9 * max(1.0, frame.time)):
            continue
        sink.write_fields(frame)
        written += 1
    return len(rows), written, notes
