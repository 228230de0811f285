"""The transient loop and result tail shared by the native and radial solvers.

A backend builds a :class:`Discretisation` (its transport system, initial state, post-processor,
surface-theta probe and linear solver) and calls :func:`run_transient`, which

1. integrates ``M dc/dt = F(c)`` with :func:`solvers.stepping.integrate` up to the model's stop
   (``dod``/``time`` at a fixed end time; ``surface_theta`` as an event located within the step,
   at the latest at DOD = 1), landing exactly on the output times;
2. calls ``post.accept(t, c, dt)`` once with the initial state (dt = 0) and then after **every**
   accepted step, in order: the mechanics contract (history-dependent mechanics, e.g. J2
   plasticity, updates its state there; stress-driven diffusion reads it from the transport
   residual). Rejected or event-location trial steps are never passed;
3. writes one scalar row per accepted step (and one at t = 0), in order, with the stress extrema
   (max von Mises, min/max hydrostatic) at the cadence ``outputs.stress_every_dod``: at t = 0,
   whenever the DOD passes the next multiple of the cadence, at every stored field frame and at
   the last step (``0``: every step; ``None``: never, NaN). A post-processor whose stresses are
   free (``stresses_free``: closed form, or already computed by ``accept``) gets them every row.
   Rows needing stresses are evaluated ``batch`` at a time (one multi-right-hand-side solve);
4. sends progress every step and full field frames at the output times and every
   ``outputs.every`` accepted steps;
5. fills the common part of :class:`~solvers.api.SolveStats`: step/Newton counts, stop reason,
   final time and DOD, max theta, frames written, Li mass balance, the run notes, and the
   ``transient`` wall time. Pending rows are flushed before returning or raising.
"""

from __future__ import annotations

import logging
import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from models import LithiationModel

from .api import FieldFrame, Numerics, OutputRequest, ResultSink, SolveStats
from .errors import SolverDiverged
from .stepping import IntegrationResult, LinearSolve, SemiDiscreteProblem, integrate
from .summary import run_notes

__all__ = ["Discretisation", "MechanicsState", "PostProcessor", "ScalarQueue", "run_transient"]

log = logging.getLogger(__name__)

_STRESS_KEYS = ("von_mises_max", "hydrostatic_min", "hydrostatic_max")


@dataclass
class MechanicsState:
    """A solved state of the quadrature-point mechanics (elastoplastic or Li-dependent stiffness),
    the same in both discretisations: unknowns ``u``, point strain and stress (Voigt, (m, nq, 6)),
    plastic strain (m, nq, 6), equivalent plastic strain ``alpha`` (m, nq), Newton iterations used.
    (m, nq: elements and quadrature points per element: 3D tetrahedra, or radial P2 elements.)"""

    u: np.ndarray
    strain: np.ndarray
    stress: np.ndarray
    plastic_strain: np.ndarray
    alpha: np.ndarray
    iterations: int


@runtime_checkable
class PostProcessor(Protocol):
    """What the time loop needs from a discretisation's post-processing (and mechanics).

    ``stresses_free``: True when :meth:`stress_extrema` costs nothing worth saving (then every
    row carries stresses).
    """

    stresses_free: bool

    def dod(self, c: np.ndarray) -> float:
        """Depth of discharge [-] of the state ``c`` [mol/m^3]."""

    def base_row(self, t: float, c: np.ndarray) -> dict[str, float]:
        """A row of :data:`solvers.api.SCALAR_COLUMNS` with NaN stress extrema."""

    def stress_extrema(self, times: list[float], states: list[np.ndarray]) -> np.ndarray:
        """(k, 3): max von Mises, min and max hydrostatic stress [Pa] for accepted states."""

    def frame(self, t: float, c: np.ndarray) -> FieldFrame:
        """All point fields at time ``t`` [s]."""

    def accept(self, t: float, c: np.ndarray, dt: float) -> None:
        """Called with every accepted state, in order (the mechanics hook; may be a no-op)."""


@dataclass
class Discretisation:
    """A spatial discretisation ready for :func:`run_transient`.

    ``problem``: the transport system (:class:`~solvers.stepping.SemiDiscreteProblem`, with
    ``amount(c)``: the inventory integral of c [mol, or mol/sr]); ``c0``: initial state;
    ``surface_theta``: max theta over the flux surface for a state; ``influx``: inserted Li per
    second in the units of ``amount`` (J times the discrete surface measure); ``linear_solve``:
    the Newton-system solver (None: sparse LU).
    """

    backend: str
    problem: SemiDiscreteProblem
    post: PostProcessor
    c0: np.ndarray
    surface_theta: Callable[[np.ndarray], float]
    influx: float
    linear_solve: LinearSolve | None = None


class ScalarQueue:
    """Scalar rows written to the sink in order; rows that need stresses are evaluated ``batch``
    at a time (one multi-right-hand-side solve). ``flush()`` writes everything pending.

    64 right-hand sides per solve: the supernodal back-substitution of the medium-mesh elasticity
    factor costs (CHOLMOD, 2 cores) 150 ms for one, 36 ms each for 16 and 27 ms each for 64;
    rows reach the sink at most 64 stress samples late (0.32 in DOD at the default cadence)."""

    def __init__(self, post: PostProcessor, sink: ResultSink, *, every_dod: float | None, batch: int = 64):
        self.post, self.sink = post, sink
        self.enabled = every_dod is not None
        self.every_dod = float(every_dod) if every_dod is not None else math.inf
        self.batch = max(1, int(batch))
        self.next_dod = 0.0
        self._rows: list[dict[str, float]] = []
        self._need: list[tuple[int, float, np.ndarray]] = []
        self.rows_written = 0
        self.stress_evaluations = 0
        self.stress_seconds = 0.0

    def add(self, t: float, c: np.ndarray) -> None:
        """Queue the row of state ``c`` at ``t`` [s]; stresses when the cadence asks for them."""
        row = self.post.base_row(t, c)
        self._rows.append(row)
        if self.enabled and (self.post.stresses_free or row["dod"] >= self.next_dod - 1e-12):
            self._mark(c)

    def _mark(self, c: np.ndarray) -> None:
        index = len(self._rows) - 1
        if self._need and self._need[-1][0] == index:
            return
        row = self._rows[index]
        self._need.append((index, row["time_s"], np.array(c, dtype=float, copy=True)))
        if self.every_dod > 0:
            self.next_dod = (math.floor(row["dod"] / self.every_dod + 1e-9) + 1) * self.every_dod
        if len(self._need) >= self.batch:
            self.flush()

    def require_stress(self, c: np.ndarray) -> None:
        """Make sure the last queued row (state ``c``) carries stresses (frames, last step)."""
        if self.enabled and self._rows:
            self._mark(c)

    def flush(self) -> None:
        """Evaluate the pending stresses and write all queued rows."""
        if self._need:
            t0 = _time.perf_counter()
            values = self.post.stress_extrema([t for _, t, _ in self._need], [c for _, _, c in self._need])
            self.stress_seconds += _time.perf_counter() - t0
            self.stress_evaluations += len(self._need)
            for (index, _, _), triple in zip(self._need, values):
                self._rows[index].update(zip(_STRESS_KEYS, (float(v) for v in triple)))
        for row in self._rows:
            self.sink.write_scalars(row)
            self.rows_written += 1
        self._rows, self._need = [], []


def _stop_event(model: LithiationModel, disc: Discretisation):
    if model.stop.kind != "surface_theta":
        return None
    target = float(model.stop.value)
    probe = disc.surface_theta
    return lambda c: float(probe(c)) - target


def run_transient(
    model: LithiationModel,
    outputs: OutputRequest,
    numerics: Numerics,
    sink: ResultSink,
    disc: Discretisation,
    stats: SolveStats,
) -> IntegrationResult:
    """Integrate ``disc`` for ``model`` and send rows, progress and frames to ``sink`` (see module
    doc); fills ``stats`` (counts, extras, notes, ``timings_s['transient']``) and returns the
    integrator's result. Raises :class:`~solvers.errors.SolverDiverged` after flushing rows."""
    post, c_max = disc.post, model.c_max
    t_end = model.end_time()
    targets, schedule_notes = outputs.schedule(model, t_end)
    stats.notes += schedule_notes
    target_set = set(targets.tolist())
    every = outputs.every
    track = {"steps": 0, "theta_max": float(np.max(disc.c0)) / c_max, "t_theta_max": 0.0, "written": 0}
    track["frame_seconds"] = 0.0
    rows = ScalarQueue(post, sink, every_dod=outputs.stress_every_dod)

    def write_frame(t: float, c: np.ndarray) -> None:
        rows.require_stress(c)
        rows.flush()
        t0 = _time.perf_counter()
        sink.write_fields(post.frame(t, c))
        track["frame_seconds"] += _time.perf_counter() - t0
        track["written"] += 1

    def on_step(t: float, c: np.ndarray, dt: float) -> None:
        post.accept(t, c, dt)
        rows.add(t, c)
        sink.progress(t, post.dod(c), dt)
        track["steps"] += 1
        theta_max = float(np.max(c)) / c_max
        if theta_max > track["theta_max"]:
            track["theta_max"], track["t_theta_max"] = theta_max, t
        if every is not None and track["steps"] % every == 0 and t not in target_set:
            write_frame(t, c)

    post.accept(0.0, disc.c0, 0.0)
    rows.add(0.0, disc.c0)
    rows.flush()
    sink.progress(0.0, 0.0, 0.0)
    t0 = _time.perf_counter()
    try:
        result = integrate(
            disc.problem,
            disc.c0,
            t_end,
            options=numerics.time,
            output_times=targets,
            on_step=on_step,
            on_output=write_frame,
            stop_event=_stop_event(model, disc),
            linear_solve=disc.linear_solve,
        )
    except SolverDiverged as exc:
        rows.flush()
        log.error(
            "%s solve diverged at t = %s s (step %s s) after %d accepted steps; %d field frame(s) were written",
            disc.backend,
            exc.time,
            exc.step,
            track["steps"],
            track["written"],
        )
        raise
    rows.require_stress(result.y)
    rows.flush()
    stats.timings_s["transient"] = _time.perf_counter() - t0
    stats.timings_s["stress_extrema"] = rows.stress_seconds  # part of transient
    stats.timings_s["frames"] = track["frame_seconds"]  # part of transient (mechanics + output)
    _tail(model, disc, result, targets, track, rows, stats)
    return result


def _tail(
    model: LithiationModel,
    disc: Discretisation,
    result: IntegrationResult,
    targets: np.ndarray,
    track: dict,
    rows: ScalarQueue,
    stats: SolveStats,
) -> None:
    """The common statistics and notes of a finished transient run."""
    stats.steps_accepted = result.steps_accepted
    stats.steps_rejected = result.steps_rejected
    stats.newton_iterations = result.newton_iterations
    final_dod = disc.post.dod(result.y)
    inserted = disc.problem.amount(result.y - disc.c0)
    expected = disc.influx * result.t
    if result.stopped_by_event:
        reason = "surface_theta"
    else:
        reason = model.stop.kind if model.stop.kind in ("time", "capacity") else "dod"
    stats.extra.update(
        {
            "stop_reason": reason,
            "final_time_s": result.t,
            "final_dod": final_dod,
            "theta_max": track["theta_max"],
            "fields_written": track["written"],
            "stress_evaluations": rows.stress_evaluations,
            "mass_balance_rel_error": abs(inserted - expected) / expected if expected > 0 else abs(inserted),
        }
    )
    stats.notes += run_notes(
        model, result, targets, final_dod=final_dod, theta_max=track["theta_max"], t_theta_max=track["t_theta_max"]
    )
