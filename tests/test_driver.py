"""The shared time loop (solvers.driver): mechanics hook order, stress cadence, spec plumbing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import LithiationModel, StopCondition, get_preset
from orchestrator.spec import parse_study
from orchestrator.errors import SpecError
from solvers.api import MemorySink, Numerics, OutputRequest, SolveStats, TimeOptions
from solvers.driver import Discretisation, run_transient
from solvers.native import generate_octant_mesh
from solvers.native.elasticity import ElasticityProblem
from solvers.native.krylov import FrozenKrylovSolver
from solvers.native.postprocess import NativePost
from solvers.native.transport import OctantTransport
from solvers.radial.mesh import graded_nodes
from solvers.radial.postprocess import RadialPost
from solvers.radial.transport import RadialTransport, tridiagonal_solve

R = 4.11e-6


def _model(dod: float) -> LithiationModel:
    return LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", dod))


class RecordingRadialPost(RadialPost):
    """The real radial post-processor, recording the states the mechanics hook receives."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.accepted: list[tuple[float, float, float]] = []

    def accept(self, t, c, dt):
        self.accepted.append((t, dt, self.dod(c)))


def _radial_disc(model: LithiationModel, n: int = 41) -> Discretisation:
    nodes = graded_nodes(R, n, 3.0)
    problem = RadialTransport(nodes, model.material.diffusivity, model.c_max, model.surface_flux())
    post = RecordingRadialPost(model, nodes, problem.weights)
    return Discretisation(
        backend="radial",
        problem=problem,
        post=post,
        c0=np.full(n, model.c0),
        surface_theta=lambda c: float(c[-1]) / model.c_max,
        influx=problem.flux * R**2,
        linear_solve=tridiagonal_solve,
    )


def test_mechanics_hook_sees_every_accepted_state_in_order():
    model = _model(0.3)
    disc = _radial_disc(model)
    sink, stats = MemorySink(), SolveStats(backend="radial")
    result = run_transient(model, OutputRequest(dods=(0.1, 0.2)), Numerics(), sink, disc, stats)
    accepted = disc.post.accepted
    assert len(accepted) == result.steps_accepted + 1 == len(sink.rows)
    times = [t for t, _, _ in accepted]
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert times == [row["time_s"] for row in sink.rows]
    np.testing.assert_allclose(np.diff(times), [dt for _, dt, _ in accepted][1:], rtol=1e-12)
    assert stats.extra["stop_reason"] == "dod" and stats.extra["mass_balance_rel_error"] < 1e-8


def test_event_stop_passes_only_the_located_state_to_the_hook():
    model = LithiationModel(
        radius=R, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("surface_theta", 0.4)
    )
    disc = _radial_disc(model)
    sink = MemorySink()
    run_transient(model, OutputRequest(), Numerics(), sink, disc, SolveStats(backend="radial"))
    assert len(disc.post.accepted) == len(sink.rows)
    assert sink.rows[-1]["theta_surface_max"] == pytest.approx(0.4, abs=1e-6)


def _native_disc(model: LithiationModel):
    mesh = generate_octant_mesh(R, 3)
    flux = model.surface_flux(volume=mesh.volume, area=mesh.sphere_area)
    transport = OctantTransport(mesh, model.material.diffusivity, model.c_max, flux)
    m = model.material
    elasticity = ElasticityProblem(mesh, m.youngs_modulus, m.poisson_ratio, linear_solver="superlu")
    post = NativePost(model, mesh, transport.ones_mass, elasticity)
    disc = Discretisation(
        backend="native",
        problem=transport,
        post=post,
        c0=np.full(mesh.n_points, model.c0),
        surface_theta=lambda c: float(c[mesh.sphere_vertices].max()) / model.c_max,
        influx=flux * mesh.sphere_area,
        linear_solve=FrozenKrylovSolver(),
    )
    return disc, elasticity


@pytest.mark.parametrize("every", [0.02, 0.0, None])
def test_stress_cadence(every):
    model = _model(0.2)
    disc, elasticity = _native_disc(model)
    sink, stats = MemorySink(), SolveStats(backend="native")
    outputs = OutputRequest(dods=(0.1,), stress_every_dod=every)
    numerics = Numerics(time=TimeOptions(rtol=1e-4))
    run_transient(model, outputs, numerics, sink, disc, stats)
    vm = sink.column("von_mises_max")
    dod = sink.column("dod")
    sampled = np.isfinite(vm)
    assert stats.extra["stress_evaluations"] == int(sampled.sum()) == elasticity.solver.solves - 1  # + frame
    if every is None:
        assert not sampled.any()
        return
    if every == 0.0:
        assert sampled.all()
        return
    # t = 0, the frame at DOD 0.1, the last step, and one row per 0.02 of DOD in between
    assert sampled[0] and sampled[-1] and sampled[np.flatnonzero(np.isclose(dod, 0.1))].all()
    assert len(dod) > 3 * sampled.sum()
    passed = np.floor(dod[sampled] / every + 1e-9)
    assert set(np.arange(0, 11)) <= set(passed.astype(int).tolist())
    # sampled values equal a direct evaluation of the same state
    frame_vm = sink.frames[0].point_data["von_mises"].max()
    assert vm[np.isclose(dod, 0.1)][0] == pytest.approx(frame_vm, rel=1e-9)


BASE = """
spec_version: 1
name: t
backend: radial
model:
  particle: {radius: 4.11 um}
  material: Si
  loading: {specific_current: 0.1 A/g}
"""


def test_spec_scalars_cadence_reaches_the_output_request():
    default = parse_study(BASE, "yaml").outputs.to_request()
    assert default.stress_every_dod == 0.005
    text = BASE + "outputs: {scalars: {every_dod: 0}}\n"
    assert parse_study(text, "yaml").outputs.to_request().stress_every_dod == 0.0
    text = BASE + "outputs: {scalars: {every_dod: null}}\n"
    assert parse_study(text, "yaml").outputs.to_request().stress_every_dod is None


def test_spec_old_stress_every_step_is_explained():
    with pytest.raises(SpecError, match="outputs.scalars.every_dod"):
        parse_study(BASE + "numerics: {stress_every_step: true}\n", "yaml")
    with pytest.raises(SpecError):
        parse_study(BASE + "outputs: {scalars: {every_dod: -0.1}}\n", "yaml")
    assert math.isfinite(parse_study(BASE, "yaml").outputs.scalars.every_dod)


def test_spec_transport_scheme_reaches_numerics():
    assert parse_study(BASE, "yaml").numerics.to_numerics().transport == "lumped"
    text = BASE + "numerics: {transport: lumped-p2}\n"
    assert parse_study(text, "yaml").numerics.to_numerics().transport == "lumped-p2"
    with pytest.raises(SpecError, match="transport"):
        parse_study(BASE + "numerics: {transport: upwind}\n", "yaml")
