"""The radial backend's solve(): model -> mesh -> transport -> adaptive BDF -> sink.

Steps: build the graded radial mesh (:mod:`.mesh`), the P1 transport system (:mod:`.transport`),
integrate it with :func:`solvers.stepping.integrate` up to the stop condition, and after every
accepted step send the scalar row (stresses by the closed form, :mod:`.postprocess`) and the
progress to the sink; full fields at the requested output times (hit exactly) and every
``outputs.every`` accepted steps.

Stop conditions (``model.stop.kind``): ``dod`` ends at t = dod * t_full (DOD is linear in time
under galvanostatic loading, and the discrete scheme conserves Li exactly, so the DOD computed
from the integral equals the target to roundoff); ``time`` at the given time; ``surface_theta``
where c(R)/c_max first reaches the value (located within the step), at the latest at DOD = 1.
"""

from __future__ import annotations

import logging
import time as _time

import numpy as np

from models import LithiationModel
from models.errors import ModelError

from ..api import Numerics, OutputRequest, ResultSink, SolveStats
from ..stepping import integrate
from ..summary import run_notes
from .mesh import graded_nodes, node_count
from .postprocess import RadialPost
from .coupling import StressDrivenTransport
from .transport import RadialTransport, tridiagonal_solve

__all__ = ["solve"]

logger = logging.getLogger(__name__)


def solve(model: LithiationModel, outputs: OutputRequest, numerics: Numerics, sink: ResultSink) -> SolveStats:
    """Run ``model`` with the 1D spherically symmetric solver; results go to ``sink``.

    Returns :class:`SolveStats` (``backend="radial"``) with step counts, node count, wall times,
    notes (theta above 1, outputs not reached, ignored options) and ``extra`` entries
    ``radial_nodes``, ``stop_reason``, ``final_time_s``, ``final_dod``, ``theta_max``,
    ``mass_balance_rel_error``.
    """
    wall0 = _time.perf_counter()
    if not 0.0 <= model.initial_theta < 1.0:
        raise ModelError(f"initial_theta must be in [0, 1), got {model.initial_theta!r}")
    stats = SolveStats(backend="radial")
    mesh = numerics.mesh
    if mesh.file is not None:
        stats.notes.append(f"mesh file {mesh.file!r} ignored: the radial backend builds its own 1D mesh")
    radius = model.radius
    n = node_count(mesh, radius)
    nodes = graded_nodes(radius, n, max(float(mesh.surface_grading), 1.0))
    transport = RadialTransport(nodes, model.material.diffusivity, model.c_max, model.surface_flux())
    post = RadialPost(model, nodes, transport.weights)
    problem = (
        StressDrivenTransport(transport, model, post.hydrostatic)
        if model.mechanics.stress_driven_diffusion
        else transport
    )
    stats.dofs = {"c": n}
    stats.extra["radial_nodes"] = n

    t_end = model.end_time()
    targets, schedule_notes = outputs.schedule(model, t_end)
    stats.notes += schedule_notes
    target_set = set(targets.tolist())
    every = outputs.every

    c_max = model.c_max
    c0 = np.full(n, model.c0)
    track = {"steps": 0, "theta_max": float(c0.max()) / c_max, "t_theta_max": 0.0, "written": 0}
    post.accept(c0)
    sink.write_scalars(post.scalar_row(0.0, c0))
    sink.progress(0.0, 0.0, 0.0)

    def on_step(t: float, c: np.ndarray, dt: float) -> None:
        post.accept(c)  # mechanics every accepted step (history of elastoplastic runs)
        row = post.scalar_row(t, c)
        sink.write_scalars(row)
        sink.progress(t, row["dod"], dt)
        track["steps"] += 1
        theta_max = float(np.max(c)) / c_max
        if theta_max > track["theta_max"]:
            track["theta_max"], track["t_theta_max"] = theta_max, t
        if every is not None and track["steps"] % every == 0 and t not in target_set:
            sink.write_fields(post.frame(t, c))
            track["written"] += 1

    def on_output(t: float, c: np.ndarray) -> None:
        sink.write_fields(post.frame(t, c))
        track["written"] += 1

    event = None
    if model.stop.kind == "surface_theta":
        target_theta = float(model.stop.value)
        event = lambda c: float(c[-1]) / c_max - target_theta  # noqa: E731
    setup = _time.perf_counter() - wall0
    result = integrate(
        problem,
        c0,
        t_end,
        options=numerics.time,
        output_times=targets,
        on_step=on_step,
        on_output=on_output,
        stop_event=event,
        linear_solve=tridiagonal_solve,
    )

    stats.steps_accepted = result.steps_accepted
    stats.steps_rejected = result.steps_rejected
    stats.newton_iterations = result.newton_iterations
    final_dod = post.dod(result.y)
    inserted = transport.amount(result.y - model.c0)
    expected = transport.flux * radius**2 * result.t
    stats.extra.update(
        {
            "stop_reason": "surface_theta"
            if result.stopped_by_event
            else ("dod" if model.stop.kind == "surface_theta" else model.stop.kind),
            "final_time_s": result.t,
            "final_dod": final_dod,
            "theta_max": track["theta_max"],
            "mass_balance_rel_error": abs(inserted - expected) / expected if expected > 0 else abs(inserted),
            "mechanics": model.mechanics.constitutive,
            "stress_driven_diffusion": model.mechanics.stress_driven_diffusion,
        }
    )
    if post.fe is not None:
        stats.extra["mechanics_newton_iterations"] = post.fe.newton_iterations
        stats.extra["mechanics_solves"] = post.fe.solves
    stats.notes += run_notes(
        model, result, targets, final_dod=final_dod, theta_max=track["theta_max"], t_theta_max=track["t_theta_max"]
    )
    total = _time.perf_counter() - wall0
    stats.timings_s = {"setup": setup, "solve": total - setup, "total": total}
    logger.info(
        "radial: %d nodes, %d steps (%d rejected), %d Newton iterations, t = %.6g s, DOD = %.6g, %.3f s",
        n,
        result.steps_accepted,
        result.steps_rejected,
        result.newton_iterations,
        result.t,
        final_dod,
        stats.timings_s["total"],
    )
    return stats
