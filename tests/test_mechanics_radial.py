"""Radial elastoplastic mechanics, Li-dependent stiffness and stress-driven diffusion (issue 11)."""

from __future__ import annotations

import numpy as np
import pytest

from models import (
    ExponentialDiffusivity,
    ExpressionDiffusivity,
    LinearLaw,
    LithiationModel,
    MechanicsOptions,
    StopCondition,
    get_preset,
)
from models.analytical import hill_sphere_stresses, hill_sphere_pressure, radial_stresses
from models.errors import ModelError
from solvers import radial
from solvers.api import SCALAR_COLUMNS, MemorySink, MeshOptions, Numerics, OutputRequest
from solvers.radial.mechanics import RadialMechanics
from solvers.radial.mesh import graded_nodes

R = 4.11e-6
C_MAX = 311140.0


def run(model, outputs=OutputRequest(dods=(0.5, 1.0)), nodes=41):
    sink = MemorySink()
    stats = radial.solve(model, outputs, Numerics(mesh=MeshOptions(radial_nodes=nodes)), sink)
    return sink, stats


@pytest.mark.parametrize("zone", [1.25, 1.5, 1.8])
def test_hill_thick_sphere_plastic_zone_and_stresses(zone):
    # Hill (1950): elastic-perfectly-plastic hollow sphere a = 1, b = 2 under internal pressure p;
    # plastic zone a < r < c with p = 2 sY ln(c/a) + (2 sY/3)(1 - c^3/b^3); the stress field is
    # statically determined, whatever E, nu.
    a, b, sy = 1.0, 2.0, 1.0
    r = np.linspace(a, b, 81)
    mech = RadialMechanics(r, youngs_modulus=300.0, poisson_ratio=0.3, partial_molar_volume=0.0, c_max=1.0, yield_stress=sy)
    p = hill_sphere_pressure(zone, a=a, b=b, yield_stress=sy)
    assert hill_sphere_pressure(a, a=a, b=b, yield_stress=sy) == pytest.approx(2 * sy / 3 * (1 - a**3 / b**3))
    for load in np.linspace(0.0, p, 9)[1:]:
        state = mech.advance(np.zeros(r.size), load)
    rq = mech.rq.ravel()
    plastic = state.alpha.ravel() > 0
    h = r[1] - r[0]
    assert abs(rq[plastic].max() - zone) < h  # plastic-zone radius within one element
    assert rq[~plastic].min() > zone - h
    exact = hill_sphere_stresses(rq, plastic_radius=zone, a=a, b=b, yield_stress=sy)
    stress = state.stress.reshape(-1, 6)
    np.testing.assert_allclose(stress[:, 0], exact["sigma_r"], atol=2e-3 * sy)
    np.testing.assert_allclose(stress[:, 1], exact["sigma_t"], atol=2e-3 * sy)
    assert np.all(np.abs(stress[:, 1] - stress[:, 0]) <= sy * (1 + 1e-9))
    # the pressure the solver holds is the applied one: sigma_r at the inner Gauss point ~ -p
    assert stress[0, 0] == pytest.approx(-p, rel=0.01)


def test_radial_fe_elastic_converges_to_closed_form():
    errors = []
    for n in (21, 41, 81):
        r = graded_nodes(R, n, 3.0)
        c = C_MAX * 0.8 * (r / R) ** 4
        mech = RadialMechanics(r, youngs_modulus=80e9, poisson_ratio=0.22, partial_molar_volume=9e-6, c_max=C_MAX)
        fields = mech.nodal_fields(mech.advance(c))
        ref = radial_stresses(r, c, E=80e9, nu=0.22, Omega=9e-6)
        assert np.max(np.abs(fields["u"] - ref["u"])) < 1e-5 * np.max(ref["u"])
        errors.append(np.max(np.abs(fields["von_mises"] - ref["von_mises"])) / np.max(ref["von_mises"]))
    assert errors[-1] < 0.01 and errors[0] / errors[-1] > 3.5  # first order in h (nodal averaging)


def si_model(mechanics=MechanicsOptions(), material=None, **kw):
    return LithiationModel(radius=R, material=material or get_preset("Si"), specific_current=100.0, mechanics=mechanics, **kw)


def test_elastoplastic_si_radial_run():
    model = si_model(MechanicsOptions(constitutive="elastoplastic", yield_stress=1.75e9))
    sink, stats = run(model)
    assert all(tuple(row) == SCALAR_COLUMNS for row in sink.rows)
    vm = sink.column("von_mises_max")
    assert vm.max() <= 1.75e9 * 1.02 and vm.max() > 1.7e9
    eps_p = sink.column("plastic_strain_max")
    assert eps_p[0] == 0.0 and eps_p[-1] > 0.1 and np.all(np.diff(eps_p) >= -1e-12)  # monotone history
    frame = sink.frames[-1]
    assert frame.point_data["plastic_strain"].max() == pytest.approx(eps_p[-1], rel=0.5)
    assert stats.extra["mechanics_newton_iterations"] >= stats.steps_accepted
    elastic, _ = run(si_model())
    assert np.all(elastic.column("plastic_strain_max") == 0.0)
    assert elastic.column("von_mises_max").max() > 10 * vm.max()  # ~24 GPa elastic vs the flow stress


def test_softening_law_lowers_stress_and_equals_constant_law_when_flat():
    soft = get_preset("Si").with_(youngs_modulus=LinearLaw(low=80e9, high=12e9, unit="Pa"))
    flat = get_preset("Si").with_(youngs_modulus=LinearLaw(low=80e9, high=80e9, unit="Pa"))
    s_soft, _ = run(si_model(material=soft), OutputRequest(dods=(0.5,)))
    s_flat, _ = run(si_model(material=flat), OutputRequest(dods=(0.5,)))
    s_ref, _ = run(si_model(), OutputRequest(dods=(0.5,)))
    # a theta-independent law takes the finite-element path and agrees with the closed form
    np.testing.assert_allclose(s_flat.frames[0].point_data["c"], s_ref.frames[0].point_data["c"])
    u_flat, u_ref = s_flat.frames[0].point_data["displacement"], s_ref.frames[0].point_data["displacement"]
    np.testing.assert_allclose(u_flat, u_ref, atol=1e-4 * np.abs(u_ref).max())
    assert s_soft.column("von_mises_max").max() < 0.8 * s_ref.column("von_mises_max").max()


def held_out_material():
    return get_preset("Si").with_(
        name="held-out",
        diffusivity=ExponentialDiffusivity(low=1e-16, high=1e-15),
        youngs_modulus=50e9,
        poisson_ratio=0.3,
        partial_molar_volume=3e-6,
    )


def d_eff_material(material, model):
    a = model.stress_driven_enhancement()
    law = material.diffusivity
    expr = f"{law.low!r}*({law.high / law.low!r})^theta*(1+{a!r}*theta)"
    return material.with_(diffusivity=ExpressionDiffusivity(expr=expr))


def test_stress_driven_diffusion_equals_effective_diffusivity_radial():
    mat = held_out_material()
    coupled = si_model(MechanicsOptions(stress_driven_diffusion=True), material=mat, temperature=320.0)
    a = coupled.stress_driven_enhancement()
    assert a == pytest.approx(2 * 50e9 * 9e-12 * coupled.c_max / (9 * 0.7 * 8.314462618 * 320.0), rel=1e-9)
    uncoupled = si_model(material=d_eff_material(mat, coupled), temperature=320.0)
    plain = si_model(material=mat, temperature=320.0)
    s1, _ = run(coupled, OutputRequest(dods=(0.3,)))
    s2, _ = run(uncoupled, OutputRequest(dods=(0.3,)))
    s3, _ = run(plain, OutputRequest(dods=(0.3,)))
    t1, t2, t3 = (s.frames[0].point_data["theta"] for s in (s1, s2, s3))
    np.testing.assert_allclose(t1, t2, atol=1e-9)
    assert np.ptp(t1) < 0.5 * np.ptp(t3)  # the coupling flattens the profile


def test_mechanics_options_errors():
    with pytest.raises(ModelError, match="constitutive: elastoplastic"):
        MechanicsOptions(yield_stress=1e9)
    with pytest.raises(ModelError, match="yield stress"):
        si_model(MechanicsOptions(constitutive="elastoplastic"))
    with pytest.raises(ModelError, match="temperature"):
        si_model(temperature=-3.0)
    with pytest.raises(ModelError, match="constitutive must be one of"):
        MechanicsOptions(constitutive="plastic")
