"""The native backend's solve(): model -> octant mesh -> P1 transport + P2 elasticity -> sink.

1. Mesh (:mod:`.mesh` / :mod:`.mesh_io`) from ``numerics.mesh``.
2. Transport system (:mod:`.transport`) with the flux J = model.surface_flux(V_h, A_h) of the
   *discrete* octant, so DOD = 1 lands exactly at ``model.full_lithiation_time``.
3. Elasticity (:mod:`.elasticity`): assembled and factorised once.
4. Adaptive BDF1/BDF2 + Newton (:func:`solvers.stepping.integrate`) up to the stop condition:
   ``dod`` and ``time`` end at a fixed time; ``surface_theta`` where max theta over the sphere
   vertices first reaches the value (located within the step), at the latest at DOD = 1.
5. After every accepted step: progress, and a scalar row (with the stresses when
   ``numerics.stress_every_step``: back-substitutions with the stored factor, batched 16 states
   at a time, rows written in order; pending rows are flushed before returning or raising);
   full fields at ``outputs.target_times(model)`` (hit exactly) and every ``outputs.every`` steps.

theta may exceed 1 near the surface (pure Fick): never clipped, reported in ``SolveStats.notes``.
A diverging solve raises :class:`~solvers.errors.SolverDiverged`; fields already sent stay sent.
"""

from __future__ import annotations

import logging
import time as _time

import numpy as np

from models import LithiationModel
from models.errors import ModelError

from ..api import Numerics, OutputRequest, ResultSink, SolveStats
from ..errors import SolverDiverged, SolverError
from ..stepping import integrate
from ..summary import run_notes
from .elasticity import ElasticityProblem
from .krylov import FrozenKrylovSolver
from .mesh import mesh_from_options
from .postprocess import NativePost, ScalarBuffer
from .transport import OctantTransport

__all__ = ["solve"]

log = logging.getLogger(__name__)


def _surface_theta_event(surface: np.ndarray, c_max: float, target: float):
    """g(c) = max theta over the sphere vertices - target (the stepper stops where g >= 0)."""

    def event(c: np.ndarray) -> float:
        return float(c[surface].max()) / c_max - target

    return event


def solve(model: LithiationModel, outputs: OutputRequest, numerics: Numerics, sink: ResultSink) -> SolveStats:
    """Run ``model`` with the native 3D octant solver; results go to ``sink``.

    Returns :class:`SolveStats` (``backend="native"``): dofs ``{"c", "u"}``, timings (mesh,
    assembly, factorisation, transient, total), step and Newton counts, notes, and ``extra``
    entries (linear solvers, mesh statistics, stop reason, final time/DOD, theta max, mass
    balance error).
    """
    wall0 = _time.perf_counter()
    if not 0.0 <= model.initial_theta < 1.0:
        raise ModelError(f"initial_theta must be in [0, 1), got {model.initial_theta!r}")
    if numerics.displacement_order not in (1, 2):
        raise SolverError(f"numerics.displacement_order must be 1 or 2, got {numerics.displacement_order!r}")
    stats = SolveStats(backend="native")
    timings: dict[str, float] = {}

    t0 = _time.perf_counter()
    mesh = mesh_from_options(numerics.mesh, model.radius)
    timings["mesh"] = _time.perf_counter() - t0
    if numerics.mesh.radial_nodes is not None:
        stats.notes.append("numerics.mesh.radial_nodes ignored: it applies to the radial backend only")

    t0 = _time.perf_counter()
    flux = model.surface_flux(volume=mesh.volume, area=mesh.sphere_area)
    transport = OctantTransport(mesh, model.material.diffusivity, model.c_max, flux)
    t_transport = _time.perf_counter() - t0
    mat = model.material
    elasticity = ElasticityProblem(
        mesh,
        mat.youngs_modulus,
        mat.poisson_ratio,
        order=numerics.displacement_order,
        linear_solver=numerics.linear_solver,
    )
    timings["assembly"] = t_transport + elasticity.timings["assembly"]
    timings["factorisation"] = elasticity.timings["factorisation"]
    post = NativePost(model, mesh, transport.ones_mass, elasticity)
    stats.dofs = {"c": mesh.n_points, "u": elasticity.n_dofs}

    t_end = model.end_time()
    targets, schedule_notes = outputs.schedule(model, t_end)
    stats.notes += schedule_notes
    target_set = set(targets.tolist())
    every = outputs.every
    with_stress = bool(numerics.stress_every_step)

    c_max = model.c_max
    c0 = np.full(mesh.n_points, model.c0)
    track = {"steps": 0, "theta_max": model.initial_theta, "t_theta_max": 0.0, "written": 0, "t": 0.0, "dt": 0.0}
    scalars = ScalarBuffer(post, sink, with_stress=with_stress)
    scalars.add(0.0, c0)
    scalars.flush()
    sink.progress(0.0, 0.0, 0.0)

    def on_step(t: float, c: np.ndarray, dt: float) -> None:
        scalars.add(t, c)
        sink.progress(t, post.dod(c), dt)
        track["steps"] += 1
        track["t"], track["dt"] = t, dt
        theta_max = float(np.max(c)) / c_max
        if theta_max > track["theta_max"]:
            track["theta_max"], track["t_theta_max"] = theta_max, t
        if every is not None and track["steps"] % every == 0 and t not in target_set:
            scalars.flush()
            sink.write_fields(post.frame(t, c))
            track["written"] += 1

    def on_output(t: float, c: np.ndarray) -> None:
        scalars.flush()
        sink.write_fields(post.frame(t, c))
        track["written"] += 1

    event = (
        _surface_theta_event(mesh.sphere_vertices, c_max, float(model.stop.value))
        if model.stop.kind == "surface_theta"
        else None
    )

    linear_solve = FrozenKrylovSolver()
    t0 = _time.perf_counter()
    try:
        result = integrate(
            transport,
            c0,
            t_end,
            options=numerics.time,
            output_times=targets,
            on_step=on_step,
            on_output=on_output,
            stop_event=event,
            linear_solve=linear_solve,
        )
    except SolverDiverged as exc:
        scalars.flush()
        log.error(
            "native solve diverged at t = %s s (step %s s) after %d accepted steps; %d field frame(s) were written",
            exc.time,
            exc.step,
            track["steps"],
            track["written"],
        )
        raise
    scalars.flush()
    timings["transient"] = _time.perf_counter() - t0

    stats.steps_accepted = result.steps_accepted
    stats.steps_rejected = result.steps_rejected
    stats.newton_iterations = result.newton_iterations
    final_dod = post.dod(result.y)
    inserted = transport.amount(result.y - model.c0)
    expected = flux * mesh.sphere_area * result.t
    stats.extra.update(
        {
            "linear_solver": elasticity.solver.method,
            "transport_linear_solver": linear_solve.method,
            "transport_factorisations": linear_solve.factorisations,
            "krylov_iterations": linear_solve.krylov_iterations,
            "elasticity_solves": elasticity.solver.solves,
            "displacement_order": numerics.displacement_order,
            "mesh": {
                "source": mesh.source,
                "vertices": mesh.n_points,
                "tetrahedra": mesh.n_tets,
                "volume_m3": mesh.volume,
                "sphere_area_m2": mesh.sphere_area,
                **{k: v for k, v in mesh.info.items()},
            },
            "surface_flux_mol_m2_s": flux,
            "stop_reason": "surface_theta"
            if result.stopped_by_event
            else ("time" if model.stop.kind == "time" else "dod"),
            "final_time_s": result.t,
            "final_dod": final_dod,
            "theta_max": track["theta_max"],
            "fields_written": track["written"],
            "mass_balance_rel_error": abs(inserted - expected) / expected if expected > 0 else abs(inserted),
        }
    )
    stats.notes += run_notes(
        model, result, targets, final_dod=final_dod, theta_max=track["theta_max"], t_theta_max=track["t_theta_max"]
    )
    timings["total"] = _time.perf_counter() - wall0
    stats.timings_s = timings
    log.info(
        "native: %d vertices, %d displacement unknowns, %d steps (%d rejected), %d Newton iterations, "
        "t = %.6g s, DOD = %.6g, %.2f s",
        mesh.n_points,
        elasticity.n_dofs,
        result.steps_accepted,
        result.steps_rejected,
        result.newton_iterations,
        result.t,
        final_dod,
        timings["total"],
    )
    return stats
