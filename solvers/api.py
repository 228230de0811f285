"""The contract between the orchestrator and every solver backend.

A backend is a module with two functions::

    available() -> tuple[bool, str]            # can it run here, and if not, why (with a hint)
    solve(model, outputs, numerics, sink) -> SolveStats

``solve`` turns a :class:`models.LithiationModel` into fields and scalars and hands them to a
:class:`ResultSink` as it goes; it never knows where or how they are stored. Units are SI.

Scalars (one row per accepted time step, and one at t = 0) have the columns of
:data:`SCALAR_COLUMNS`. Fields (one :class:`FieldFrame` per requested output time) carry point
arrays named as in :data:`FIELD_UNITS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from models import LithiationModel

__all__ = [
    "FIELD_UNITS",
    "SCALAR_COLUMNS",
    "SCALAR_DEFAULTS",
    "FieldFrame",
    "MemorySink",
    "MeshOptions",
    "Numerics",
    "OutputRequest",
    "ResultSink",
    "SolveStats",
    "TimeOptions",
    "heartbeat",
]

SCALAR_COLUMNS: tuple[str, ...] = (
    "time_s",
    "dod",
    "theta_mean",
    "theta_surface_max",
    "theta_center",
    "von_mises_max",
    "hydrostatic_min",
    "hydrostatic_max",
    "plastic_strain_max",  # equivalent plastic strain [-]; 0 for elastic runs (appended last: older
    # scalars.csv files simply lack the column)
)

#: Values of columns added after the first release, for rows that do not give them (an elastic run
#: has no plastic strain); sinks fill them in so older producers keep working.
SCALAR_DEFAULTS: dict[str, float] = {"plastic_strain_max": 0.0}

#: Point arrays of a field frame, with their units and number of components.
FIELD_UNITS: dict[str, tuple[str, int]] = {
    "c": ("mol/m^3", 1),
    "theta": ("1", 1),
    "displacement": ("m", 3),
    "stress": ("Pa", 6),  # Voigt order xx, yy, zz, yz, xz, xy
    "von_mises": ("Pa", 1),
    "hydrostatic": ("Pa", 1),
    "volumetric_strain": ("1", 1),
    "max_principal_stress": ("Pa", 1),
    "plastic_strain": ("1", 1),  # equivalent plastic strain (0 for elastic runs)
}


@dataclass(frozen=True)
class OutputRequest:
    """When to store full fields (at DODs [-], at times [s], at inserted specific capacities [C/kg]
    (i_m t, 1 Ah/g = 3.6e6 C/kg), and/or every N accepted steps) and how often the scalar rows carry
    the stress extrema.

    ``stress_every_dod``: the max von Mises and min/max hydrostatic stress of the scalar rows are
    evaluated whenever the DOD passes the next multiple of it (and at t = 0, at every field frame
    and at the last step); ``0`` means every accepted step, ``None`` never (NaN). The default,
    0.005, gives a smooth curve with about 200 mechanics solves per full lithiation.
    """

    dods: tuple[float, ...] = ()
    times: tuple[float, ...] = ()
    every: int | None = None
    stress_every_dod: float | None = 0.005
    capacities: tuple[float, ...] = ()

    def target_times(self, model: LithiationModel) -> np.ndarray:
        """Sorted unique output times [s] from ``dods``, ``times`` and ``capacities`` (``every`` is step-based)."""
        times = [model.time_at_dod(d) for d in self.dods] + [float(t) for t in self.times]
        times += [model.time_at_capacity(q) for q in self.capacities]
        return np.unique(np.asarray(times, dtype=float))

    def schedule(self, model: LithiationModel, t_end: float) -> tuple[np.ndarray, list[str]]:
        """Output times [s] a run that ends at ``t_end`` can write, and a note on those it cannot.

        Times within 1e-12 (relative) of ``t_end`` are snapped to it.
        """
        targets = self.target_times(model)
        reachable = targets <= t_end * (1 + 1e-12)
        beyond = targets[~reachable]
        notes = (
            [f"{beyond.size} output time(s) after the stop time {t_end:.6g} s not written: {beyond.tolist()}"]
            if beyond.size
            else []
        )
        return np.minimum(targets[reachable], t_end), notes


@dataclass(frozen=True)
class MeshOptions:
    """Native mesh: a size preset or an explicit element size, surface grading, or a mesh file.

    ``size``: ``coarse`` | ``medium`` | ``fine``; ``element_size`` [m] overrides it (size at the
    surface); ``surface_grading`` >= 1 is the ratio of element size at the centre to the surface;
    ``file``: a ``.mphtxt`` or ``.msh`` mesh in metres (then size and grading are ignored).
    ``radial_nodes``: node count of the 1D radial solver.
    """

    size: Literal["coarse", "medium", "fine"] = "medium"
    element_size: float | None = None
    surface_grading: float = 3.0
    file: str | None = None
    radial_nodes: int | None = None


@dataclass(frozen=True)
class TimeOptions:
    """Adaptive time stepping: BDF order (1 or 2), local error tolerances, step bounds [s].

    ``newton_tol``: Newton stops when its next update is estimated below ``newton_tol`` times the
    state's scale (max norm). Default (None): 0.1 min(rtol, atol), i.e. the Newton error is at most
    a tenth of the smallest local-error weight (SUNDIALS' CVODE uses the same 0.1 factor), 1e-7 at
    the default tolerances: solving the nonlinear system further changes nothing the error test sees.
    """

    rtol: float = 1e-4
    atol: float = 1e-6  # absolute tolerance on theta [-]
    order: int = 2
    initial_step: float | None = None
    max_step: float | None = None
    max_newton_iterations: int = 12
    newton_tol: float | None = None

    @property
    def newton_tolerance(self) -> float:
        """The Newton tolerance in use (relative to the state's scale)."""
        return self.newton_tol if self.newton_tol is not None else 0.1 * min(self.rtol, self.atol)


@dataclass(frozen=True)
class Numerics:
    """Solver numerics (native and radial backends).

    ``transport`` (native): ``lumped`` (default; lumped-mass edge scheme on the vertices, see
    :mod:`solvers.native.edge_transport`), ``lumped-p2`` (the same on the P2 node set, every
    element split in 8: 8x the transport unknowns, no extra mechanics unknowns) or ``galerkin``
    (consistent mass and quadrature of D; undershoots at sharp fronts).
    """

    mesh: MeshOptions = field(default_factory=MeshOptions)
    time: TimeOptions = field(default_factory=TimeOptions)
    displacement_order: int = 2
    linear_solver: Literal["auto", "cholmod", "pardiso", "superlu", "amg"] = "auto"
    transport: Literal["lumped", "lumped-p2", "galerkin"] = "lumped"


@dataclass
class FieldFrame:
    """Fields at one output time.

    ``points`` (n, 3) [m]; ``cells`` maps a meshio cell type (``tetra``, ``tetra10``, ``line``)
    to its connectivity; ``point_data`` holds the arrays of :data:`FIELD_UNITS` (n,) or (n, k);
    ``cell_data`` e.g. ``material`` (one array per cell block).
    """

    time: float
    dod: float
    points: np.ndarray
    cells: dict[str, np.ndarray]
    point_data: dict[str, np.ndarray]
    cell_data: dict[str, list[np.ndarray]] = field(default_factory=dict)


@runtime_checkable
class ResultSink(Protocol):
    """Where a solver sends its results (the run store implements it)."""

    def write_scalars(self, row: dict[str, float]) -> None:
        """Append one row with the keys of :data:`SCALAR_COLUMNS`."""

    def write_fields(self, frame: FieldFrame) -> None:
        """Store one field frame (written atomically before the call returns)."""

    def progress(self, time: float, dod: float, step: float) -> None:
        """Report progress (time [s], DOD [-], last step size [s]); also a heartbeat."""


def heartbeat(sink: ResultSink) -> None:
    """Tell ``sink`` the solver is alive during long set-up (meshing, factorisation) without progress.

    Sinks may offer an optional ``heartbeat()`` method (the run store's sink refreshes the run's
    heartbeat, rate-limited); sinks without one are left alone.
    """
    beat = getattr(sink, "heartbeat", None)
    if callable(beat):
        beat()


class MemorySink:
    """A result sink that keeps everything in memory: for notebooks, tests and verification.

    ``rows`` (scalar rows), ``frames`` (field frames) and ``progress_calls`` ((t, dod, dt) tuples).
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.frames: list[FieldFrame] = []
        self.progress_calls: list[tuple[float, float, float]] = []
        self.heartbeats = 0

    def write_scalars(self, row: dict[str, float]) -> None:
        self.rows.append({**row, **{k: v for k, v in SCALAR_DEFAULTS.items() if k not in row}})

    def write_fields(self, frame: FieldFrame) -> None:
        self.frames.append(frame)

    def progress(self, time: float, dod: float, step: float) -> None:
        self.progress_calls.append((time, dod, step))

    def heartbeat(self) -> None:
        self.heartbeats += 1

    def column(self, name: str) -> np.ndarray:
        """One scalar column as an array."""
        return np.array([row[name] for row in self.rows])


@dataclass
class SolveStats:
    """What a solve did, recorded in provenance.json."""

    backend: str
    steps_accepted: int = 0
    steps_rejected: int = 0
    newton_iterations: int = 0
    dofs: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "steps_accepted": self.steps_accepted,
            "steps_rejected": self.steps_rejected,
            "newton_iterations": self.newton_iterations,
            "dofs": dict(self.dofs),
            "timings_s": {k: round(v, 6) for k, v in self.timings_s.items()},
            "notes": list(self.notes),
            **self.extra,
        }
