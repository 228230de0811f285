"""Tests of the 1D spherically symmetric backend (solvers.radial) against analytical references."""

from __future__ import annotations

import numpy as np
import pytest

from models import ConstantDiffusivity, ExpressionDiffusivity, LithiationModel, StopCondition, get_preset
from models.analytical import crank_concentration, quasi_steady_stresses
from solvers import radial
from solvers.api import (
    FIELD_UNITS,
    SCALAR_COLUMNS,
    MeshOptions,
    Numerics,
    OutputRequest,
    ResultSink,
    TimeOptions,
)
from solvers.errors import MeshError, SolverDiverged
from solvers.radial import RadialTransport, graded_nodes, node_count
from solvers.api import MemorySink as CollectingSink

R = 4.11e-6
D_CONST = 2e-15


def model_of(material: str = "Si", *, stop: StopCondition = StopCondition(), **kw) -> LithiationModel:
    return LithiationModel(radius=R, material=get_preset(material), specific_current=100.0, stop=stop, **kw)


def constant_d_model(stop: StopCondition, **kw) -> LithiationModel:
    material = get_preset("Si").with_(diffusivity=ConstantDiffusivity(D_CONST))
    return LithiationModel(radius=R, material=material, specific_current=100.0, stop=stop, **kw)


def run(model, outputs=OutputRequest(), numerics=Numerics()):
    sink = CollectingSink()
    stats = radial.solve(model, outputs, numerics, sink)
    return sink, stats


def test_available_and_contract() -> None:
    ok, why = radial.available()
    assert ok and "radial" in why
    assert isinstance(CollectingSink(), ResultSink)


def test_full_si_lithiation_output_contract() -> None:
    model = model_of("Si")
    sink, stats = run(model, OutputRequest(dods=(0.25, 0.5, 1.0)))
    assert stats.backend == "radial" and stats.steps_accepted > 10
    assert stats.dofs == {"c": radial.DEFAULT_NODES["medium"]}
    assert all(tuple(row) == SCALAR_COLUMNS for row in sink.rows)
    assert len(sink.rows) == stats.steps_accepted + 1 and sink.rows[0]["time_s"] == 0.0
    assert len(sink.progress_calls) == len(sink.rows)
    t = sink.column("time_s")
    assert np.all(np.diff(t) > 0) and t[-1] == model.full_lithiation_time
    assert sink.rows[-1]["dod"] == pytest.approx(1.0, abs=1e-9)
    assert sink.column("theta_surface_max").max() > 1.0  # pure Fick overshoots at the surface ...
    assert any("theta exceeded 1" in note for note in stats.notes)  # ... and it is reported, not clipped
    assert stats.extra["theta_max"] > 1.0
    n = stats.dofs["c"]
    for frame in sink.frames:
        assert set(frame.point_data) == set(FIELD_UNITS)
        for name, (_, k) in FIELD_UNITS.items():
            assert frame.point_data[name].shape == ((n,) if k == 1 else (n, k)), name
        assert frame.points.shape == (n, 3) and np.all(frame.points[:, 1:] == 0)
        assert frame.cells["line"].shape == (n - 1, 2)
        s = frame.point_data["stress"]
        np.testing.assert_array_equal(s[:, 1], s[:, 2])
        assert np.all(s[:, 3:] == 0)
        assert np.all(frame.point_data["max_principal_stress"] >= np.maximum(s[:, 0], s[:, 1]) - 1e-6)
    # the last frame is the particle at DOD 1: surface displacement = Omega R Cbar(R) / 3
    last = sink.frames[-1]
    omega = model.material.partial_molar_volume
    assert last.point_data["displacement"][-1, 0] == pytest.approx(omega * R * model.c_max / 3, rel=1e-9)


def test_outputs_land_exactly_on_dod_times_and_every_n_steps() -> None:
    model = model_of("Si8.5Sn0.5Sb", stop=StopCondition("dod", 0.6))
    dods = (0.1, 0.25, 0.5)
    sink, stats = run(model, OutputRequest(dods=dods, times=(0.0, 1000.0, 1e9), every=25))
    by_time = {f.time: f for f in sink.frames}
    for d in dods:
        t = model.time_at_dod(d)
        assert t in by_time, (t, sorted(by_time))
        assert by_time[t].dod == pytest.approx(d, abs=1e-10)
        assert t in set(sink.column("time_s"))
    assert 0.0 in by_time and 1000.0 in by_time
    assert any("not written" in note for note in stats.notes)  # 1e9 s is after the stop
    n_every = stats.steps_accepted // 25
    assert n_every >= 1
    assert len(sink.frames) >= 3 + 2 + n_every - 3  # DOD + time outputs + every-N (minus coincidences)
    assert len({f.time for f in sink.frames}) == len(sink.frames)  # nothing written twice


def test_mass_conservation_with_nonlinear_diffusivity() -> None:
    model = model_of("Si", stop=StopCondition("dod", 0.6))
    sink, stats = run(model)
    t, dod = sink.column("time_s"), sink.column("dod")
    # Li in the particle vs the time integral of the surface flux, at every step
    np.testing.assert_allclose(dod, t / model.full_lithiation_time, rtol=1e-8, atol=1e-12)
    assert stats.extra["mass_balance_rel_error"] < 1e-8
    np.testing.assert_allclose(sink.column("theta_mean"), dod, rtol=1e-12, atol=1e-15)  # theta0 = 0


def test_constant_d_matches_crank_with_second_order_convergence() -> None:
    tau = 0.05
    t_end = tau * R**2 / D_CONST
    model = constant_d_model(StopCondition("time", t_end))
    j = model.surface_flux()
    l2, linf = [], []
    for n in (21, 41, 81, 161):
        numerics = Numerics(mesh=MeshOptions(radial_nodes=n), time=TimeOptions(rtol=1e-9, atol=1e-11))
        sink, _ = run(model, OutputRequest(times=(t_end,)), numerics)
        (frame,) = sink.frames
        r = frame.points[:, 0]
        err = (frame.point_data["c"] - crank_concentration(r, t_end, D=D_CONST, J=j, R=R)) / (j * R / D_CONST)
        weights = RadialTransport(r, model.material.diffusivity, model.c_max, j).weights
        l2.append(np.sqrt(weights @ err**2 / (R**3 / 3)))
        linf.append(np.max(np.abs(err)))
    l2_order = np.log2(np.array(l2[:-1]) / np.array(l2[1:]))
    linf_order = np.log2(np.array(linf[:-1]) / np.array(linf[1:]))
    assert linf[-1] < 5e-5
    assert np.all(l2_order > 1.85), l2_order
    assert np.all(linf_order > 1.6), linf_order  # h^2 log(1/h) at the centre, where r^2 degenerates


def test_quasi_steady_stresses_within_one_percent() -> None:
    t_end = 1.5 * R**2 / D_CONST  # exp(-l_1^2 tau) ~ 1e-13: quasi-steady
    model = constant_d_model(StopCondition("time", t_end))
    sink, _ = run(model, OutputRequest(times=(t_end,)))
    frame = sink.frames[-1]
    m = model.material
    r = frame.points[:, 0]
    ref = quasi_steady_stresses(
        r, R=R, D=D_CONST, J=model.surface_flux(), E=m.youngs_modulus, nu=m.poisson_ratio, Omega=m.partial_molar_volume
    )
    s = float(ref["s"])
    assert s == pytest.approx(model.quasi_steady_stress_scale())
    stress = frame.point_data["stress"]
    assert np.max(np.abs(stress[:, 0] - ref["sigma_r"])) < 0.01 * s
    assert np.max(np.abs(stress[:, 1] - ref["sigma_t"])) < 0.01 * s
    assert np.max(np.abs(frame.point_data["von_mises"] - ref["von_mises"])) < 0.01 * s
    assert sink.rows[-1]["von_mises_max"] == pytest.approx(s, rel=0.01)
    assert sink.rows[-1]["hydrostatic_max"] == pytest.approx(s, rel=0.01)  # centre, hydrostatic tension


def test_uniform_concentration_without_flux_is_stress_free() -> None:
    material = get_preset("Si")
    model = LithiationModel(
        radius=R, material=material, specific_current=0.0, stop=StopCondition("time", 3600.0),
        initial_theta=0.3, reference_theta=0.1,
    )
    sink, stats = run(model, OutputRequest(times=(3600.0,)))
    frame = sink.frames[-1]
    dc = 0.2 * model.c_max
    omega = material.partial_molar_volume
    scale = omega * material.youngs_modulus * dc
    for name in ("von_mises", "hydrostatic", "max_principal_stress"):
        assert np.max(np.abs(frame.point_data[name])) < 1e-9 * scale
    assert np.max(np.abs(frame.point_data["stress"])) < 1e-9 * scale
    np.testing.assert_allclose(frame.point_data["displacement"][:, 0], omega * dc * frame.points[:, 0] / 3, rtol=1e-9)
    np.testing.assert_allclose(frame.point_data["volumetric_strain"], omega * dc, rtol=1e-9)
    np.testing.assert_allclose(frame.point_data["theta"], 0.3, rtol=1e-12)
    assert np.max(np.abs(sink.column("dod"))) < 1e-12


def test_surface_theta_stop() -> None:
    model = model_of("Si", stop=StopCondition("surface_theta", 0.8))
    sink, stats = run(model, OutputRequest(dods=(0.9,)))
    last = sink.rows[-1]
    assert last["theta_surface_max"] == pytest.approx(0.8, abs=1e-7) and last["theta_surface_max"] >= 0.8
    assert sink.column("theta_surface_max")[:-1].max() < 0.8
    assert stats.extra["stop_reason"] == "surface_theta"
    assert last["dod"] < 0.9 and sink.frames == []
    assert any("not written" in note for note in stats.notes)


def test_diverging_diffusivity_raises_solver_diverged() -> None:
    """D = 2e-15 sqrt(0.3 - theta) is NaN beyond theta = 0.3: no solution past that time."""
    material = get_preset("Si").with_(diffusivity=ExpressionDiffusivity("2e-15*sqrt(0.3-theta)"))
    model = LithiationModel(radius=R, material=material, specific_current=100.0)
    with pytest.raises(SolverDiverged) as info:
        run(model)
    assert 0 < info.value.time < model.full_lithiation_time
    assert info.value.step is not None and "t = " in str(info.value)


def test_jacobian_is_exact() -> None:
    nodes = graded_nodes(R, 15, 3.0)
    law = get_preset("Si").diffusivity
    c_max = get_preset("Si").c_max
    c = np.random.default_rng(3).uniform(0, 1.1, 15) * c_max
    for lumped in (True, False):
        problem = RadialTransport(nodes, law, c_max, 3.3e-6, lumped=lumped)
        jac = problem.jacobian(c, 0.0).toarray()
        eps = 1e-6 * c_max
        columns = [(problem.rhs(c + eps * e, 0.0) - problem.rhs(c - eps * e, 0.0)) / (2 * eps) for e in np.eye(15)]
        fd = np.stack(columns, axis=1)
        assert np.max(np.abs(jac - fd)) < 1e-6 * np.max(np.abs(jac))
        np.testing.assert_allclose(
            problem.newton_matrix(3.0, c, 0.0).toarray(), 3.0 * problem.mass.toarray() - jac, rtol=1e-14, atol=1e-30
        )
        assert problem.weights.sum() == pytest.approx(R**3 / 3, rel=1e-13)
        assert problem.rhs(c, 0.0).sum() == pytest.approx(3.3e-6 * R**2, rel=1e-9)  # conservative fluxes


def test_mesh_grading_and_node_count() -> None:
    r = graded_nodes(R, 41, 3.0)
    h = np.diff(r)
    assert r[0] == 0.0 and r[-1] == R
    assert h[0] / h[-1] == pytest.approx(3.0, rel=1e-12) and np.all(np.diff(h) < 0)
    assert node_count(MeshOptions(size="fine"), R) == radial.DEFAULT_NODES["fine"]
    assert node_count(MeshOptions(radial_nodes=17), R) == 17
    n = node_count(MeshOptions(element_size=R / 200, surface_grading=3.0), R)
    assert np.diff(graded_nodes(R, n, 3.0))[-1] <= R / 200 < np.diff(graded_nodes(R, n - 1, 3.0))[-1]
    with pytest.raises(MeshError):
        graded_nodes(R, 2)
