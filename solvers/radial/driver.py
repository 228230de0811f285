"""The radial backend's solve(): model -> mesh -> transport -> adaptive BDF -> sink.

Steps: build the graded radial mesh (:mod:`.mesh`), the P1 transport system (:mod:`.transport`),
and run the shared time loop (:func:`solvers.driver.run_transient`): a scalar row per accepted
step (stresses by the closed form, :mod:`.postprocess`, every row), progress, and full fields at
the requested output times (hit exactly) and every ``outputs.every`` accepted steps.

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
from ..driver import Discretisation, run_transient
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

    disc = Discretisation(
        backend="radial",
        problem=problem,
        post=post,
        c0=np.full(n, model.c0),
        surface_theta=lambda c: float(c[-1]) / model.c_max,
        influx=transport.flux * radius**2,
        linear_solve=tridiagonal_solve,
    )
    setup = _time.perf_counter() - wall0
    result = run_transient(model, outputs, numerics, sink, disc, stats)
    final_dod = stats.extra["final_dod"]
    stats.extra["mechanics"] = model.mechanics.constitutive
    stats.extra["stress_driven_diffusion"] = model.mechanics.stress_driven_diffusion
    if post.fe is not None:
        stats.extra["mechanics_newton_iterations"] = post.fe.newton_iterations
        stats.extra["mechanics_solves"] = post.fe.solves
    total = _time.perf_counter() - wall0
    stats.timings_s.update({"setup": setup, "solve": total - setup, "total": total})
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
