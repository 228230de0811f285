"""J2 return mapping (models.constitutive) against closed-form paths; tangent against differences."""

import numpy as np
import pytest

from models.constitutive import (
    elastic_stress,
    elastic_tangent,
    from_mandel,
    hydrostatic,
    return_mapping,
    stress_driven_flux,
    to_mandel,
    von_mises,
)

E, NU, SY = 80e9, 0.22, 1.75e9
K, G = E / (3 * (1 - 2 * NU)), E / (2 * (1 + NU))


def _path(strains, eigen=None, hardening=0.0, sy=SY):
    """Drive one material point through a strain path; return stress and alpha histories."""
    ep, alpha = np.zeros(6), 0.0
    stresses, alphas = [], []
    for i, eps in enumerate(strains):
        ev = 0.0 if eigen is None else eigen[i]
        r = return_mapping(eps, ev, ep, alpha, youngs_modulus=E, poisson_ratio=NU, yield_stress=sy,
                           hardening_modulus=hardening)
        ep, alpha = r.plastic_strain, r.alpha
        stresses.append(r.stress)
        alphas.append(float(r.alpha))
    return np.array(stresses), np.array(alphas)


@pytest.mark.parametrize("hardening", [0.0, 5e9])
def test_uniaxial_strain_path_closed_form(hardening):
    # eps = diag(e, 0, 0): elastic until 2 G e = sigma_Y; then sigma_11 - sigma_22 = sigma_Y + H alpha,
    # alpha = (2 G e - sigma_Y) / (3 G + H), mean stress K e throughout.
    e = np.linspace(0.0, 0.08, 161)
    strains = np.zeros((e.size, 6))
    strains[:, 0] = e
    stress, alpha = _path(strains, hardening=hardening)
    alpha_exact = np.maximum(2 * G * e - SY, 0.0) / (3 * G + hardening)
    np.testing.assert_allclose(alpha, alpha_exact, rtol=1e-12, atol=1e-15)
    diff_exact = np.where(alpha_exact > 0, SY + hardening * alpha_exact, 2 * G * e)
    np.testing.assert_allclose(stress[:, 0] - stress[:, 1], diff_exact, rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(hydrostatic(stress), K * e, rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(stress[:, 1], stress[:, 2], rtol=1e-12, atol=1e-3)
    assert np.all(von_mises(stress) <= (SY + hardening * alpha) * (1 + 1e-12))


def test_hydrostatic_path_never_yields():
    # pure volumetric strain and swelling: no deviator, sigma = K (tr eps - e_v) I at any magnitude
    t = np.linspace(-0.5, 0.5, 21)
    strains = np.zeros((t.size, 6))
    strains[:, :3] = t[:, None]
    ev = 0.3 * t
    stress, alpha = _path(strains, eigen=ev)
    np.testing.assert_allclose(stress[:, :3], (K * (3 * t - ev))[:, None] * np.ones(3), rtol=1e-12)
    assert np.all(stress[:, 3:] == 0.0) and np.all(alpha == 0.0)


def test_uniaxial_stress_path_with_material_newton():
    # sigma_22 = sigma_33 = 0 found by Newton on the lateral strains with the consistent tangent;
    # perfect plasticity: sigma_11 = min(E e, sigma_Y) and the Newton converges quadratically.
    ep, alpha = np.zeros(6), 0.0
    lateral = 0.0
    for e in np.linspace(0.0, 0.05, 26):
        for _ in range(20):
            eps = np.array([e, lateral, lateral, 0.0, 0.0, 0.0])
            r = return_mapping(eps, 0.0, ep, alpha, youngs_modulus=E, poisson_ratio=NU, yield_stress=SY)
            res = r.stress[1]
            if abs(res) < 1e-6 * SY:
                break
            d = r.tangent
            lateral -= res / (d[1, 1] + d[1, 2])
        assert abs(r.stress[1]) < 1e-6 * SY and abs(r.stress[2]) < 1e-6 * SY
        assert r.stress[0] == pytest.approx(min(E * e, SY), rel=1e-9, abs=1.0)
        ep, alpha = r.plastic_strain, r.alpha
    # plastic flow is incompressible: lateral strain -> -e/2 (elastic part -nu sigma_Y/E)
    assert lateral == pytest.approx(-0.5 * (0.05 - SY / E) - NU * SY / E, rel=1e-6)


@pytest.mark.parametrize("hardening", [0.0, 3e9])
def test_consistent_tangent_matches_finite_differences(hardening):
    rng = np.random.default_rng(3)
    eps = rng.normal(scale=0.02, size=(50, 6))
    ep = rng.normal(scale=0.005, size=(50, 6))
    ep[:, :3] -= ep[:, :3].mean(axis=1, keepdims=True)
    alpha = np.abs(rng.normal(scale=0.01, size=50))
    ev = rng.normal(scale=0.05, size=50)
    kw = dict(youngs_modulus=E * (1 + 0.1 * rng.random(50)), poisson_ratio=NU, yield_stress=SY, hardening_modulus=hardening)
    base = return_mapping(eps, ev, ep, alpha, **kw)
    assert base.yielding.sum() > 10 and (~base.yielding).sum() > 0
    h = 1e-8
    for j in range(6):
        dm = np.zeros(6)
        dm[j] = h
        plus = return_mapping(from_mandel(to_mandel(eps) + dm), ev, ep, alpha, **kw, tangent=False)
        minus = return_mapping(from_mandel(to_mandel(eps) - dm), ev, ep, alpha, **kw, tangent=False)
        fd = (to_mandel(plus.stress) - to_mandel(minus.stress)) / (2 * h)
        np.testing.assert_allclose(base.tangent[:, :, j], fd, rtol=1e-5, atol=1e-5 * E)


def test_elastic_branch_equals_elastic_update():
    rng = np.random.default_rng(0)
    eps = rng.normal(scale=1e-4, size=(10, 6))
    ev = rng.normal(scale=1e-4, size=10)
    r = return_mapping(eps, ev, np.zeros((10, 6)), np.zeros(10), youngs_modulus=E, poisson_ratio=NU, yield_stress=SY)
    assert not r.yielding.any()
    np.testing.assert_allclose(r.stress, elastic_stress(eps, ev, E, NU), rtol=1e-12)
    np.testing.assert_allclose(r.tangent, np.broadcast_to(elastic_tangent(E, NU), (10, 6, 6)), rtol=1e-12)


def test_stress_driven_flux_direction():
    # Li flows up the hydrostatic-stress gradient: no concentration gradient, tension to the right
    j = stress_driven_flux(1e-15, 1e5, np.zeros(3), np.array([1e15, 0, 0]), partial_molar_volume=9e-6, temperature=298.15)
    assert j[0] > 0 and j[1] == 0.0
