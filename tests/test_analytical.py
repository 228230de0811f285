"""Independent checks of the analytical references (models.analytical)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from models.analytical import (
    crank_concentration,
    mean_concentration_inside,
    quasi_steady_stresses,
    radial_stresses,
    tan_roots,
)
from models.errors import ModelError

R, D, J = 4.11e-6, 2e-15, 3.308e-6
E, NU, OMEGA = 80e9, 0.22, 9e-6


def test_tan_roots() -> None:
    lam = tan_roots(500)
    assert lam[0] == pytest.approx(4.493409457909064, rel=1e-14)
    np.testing.assert_allclose(np.tan(lam), lam, rtol=1e-9)
    n = np.arange(1, 501)
    assert np.all((lam > n * np.pi) & (lam < (n + 0.5) * np.pi))


@pytest.mark.parametrize("tau", [0.002, 0.05, 0.3, 2.0])
def test_crank_mass_balance(tau: float) -> None:
    t = tau * R**2 / D
    mean, _ = quad(lambda r: crank_concentration(r, t, D=D, J=J, R=R, c0=100.0) * r**2, 0, R, limit=200, epsabs=0)
    assert 3.0 * mean / R**3 - 100.0 == pytest.approx(3.0 * J * t / R, rel=1e-7)


def test_crank_solves_the_diffusion_problem() -> None:
    """PDE residual, surface flux and initial condition, by finite differences of the series."""
    t = 0.05 * R**2 / D
    dt, dr = 1e-4 * t, 1e-4 * R
    r = np.array([0.2, 0.5, 0.8]) * R
    c = lambda r_, t_: crank_concentration(r_, t_, D=D, J=J, R=R)  # noqa: E731
    dcdt = (c(r, t + dt) - c(r, t - dt)) / (2 * dt)
    lap = (c(r + dr, t) - 2 * c(r, t) + c(r - dr, t)) / dr**2 + (2 / r) * (c(r + dr, t) - c(r - dr, t)) / (2 * dr)
    np.testing.assert_allclose(dcdt, D * lap, rtol=1e-5)
    flux = D * (c(R, t) - c(R - dr, t)) / dr  # one-sided: O(dr) accurate
    assert flux == pytest.approx(J, rel=1e-3)
    initial = crank_concentration(np.array([0.0, 0.3, 0.6]) * R, 0.0, D=D, J=J, R=R, n_terms=4000)
    assert np.max(np.abs(initial)) < 1e-3 * J * R / D


def test_crank_quasi_steady_limit_and_centre() -> None:
    t = 3.0 * R**2 / D
    x = np.linspace(0.0, 1.0, 11)
    c = crank_concentration(x * R, t, D=D, J=J, R=R)
    expected = (3 * D * t / R**2 + x**2 / 2 - 0.3) * J * R / D
    np.testing.assert_allclose(c, expected, rtol=1e-10)
    assert np.isfinite(c[0])


def test_cbar_is_exact_for_piecewise_linear_profiles() -> None:
    rng = np.random.default_rng(1)
    r = np.concatenate(([0.0], np.sort(rng.uniform(0, R, 30)), [R]))
    a, b = 2.0e4, 3.0e9  # c = a + b r: Cbar = a + 3 b r / 4 exactly
    cbar = mean_concentration_inside(r, a + b * r)
    np.testing.assert_allclose(cbar, a + 0.75 * b * r, rtol=1e-13)
    # a genuinely piecewise profile against adaptive quadrature of its interpolant
    c = rng.uniform(0, 3e5, r.size)
    i = 7
    ref, _ = quad(lambda s: np.interp(s, r, c) * s**2, 0, r[i], points=r[1:i], limit=200, epsabs=0, epsrel=1e-13)
    assert mean_concentration_inside(r, c)[i] == pytest.approx(3 * ref / r[i] ** 3, rel=1e-10)


def test_uniform_concentration_gives_zero_stress_and_free_swelling() -> None:
    r = np.linspace(0, R, 50) ** 1.0
    out = radial_stresses(r, np.full(r.size, 2.0e5), E=E, nu=NU, Omega=OMEGA, c_ref=5.0e4)
    for key in ("sigma_r", "sigma_t", "von_mises", "hydrostatic"):
        assert np.max(np.abs(out[key])) < 1e-6 * OMEGA * E * 1.5e5
    np.testing.assert_allclose(out["u"], OMEGA * 1.5e5 * r / 3, rtol=1e-12)
    np.testing.assert_allclose(out["volumetric_strain"], OMEGA * 1.5e5, rtol=1e-12)


def test_quasi_steady_profile_gives_the_closed_form_with_second_order_error() -> None:
    errors = []
    for n in (50, 100, 200, 400):
        r = R * np.sin(np.linspace(0, np.pi / 2, n + 1))  # non-uniform, refined at the surface
        r[-1] = R
        c = 1e5 + (J * R / D) * ((r / R) ** 2 / 2 - 0.3)
        out = radial_stresses(r, c, E=E, nu=NU, Omega=OMEGA, c_ref=3e4)
        ref = quasi_steady_stresses(r, R=R, D=D, J=J, E=E, nu=NU, Omega=OMEGA)
        s = float(ref["s"])
        keys = ("sigma_r", "sigma_t", "von_mises", "hydrostatic")
        errors.append(max(np.max(np.abs(out[k] - ref[k])) / s for k in keys))
    errors = np.array(errors)
    assert errors[-1] < 1e-4
    observed = np.log2(errors[:-1] / errors[1:])
    assert np.all(observed > 1.8), observed


def test_stresses_satisfy_equilibrium_hooke_and_zero_mean() -> None:
    """A smooth profile on a fine mesh: d(sigma_r)/dr + 2 (sigma_r - sigma_t)/r = 0, Hooke's law
    with the eigenstrain, sigma_r(R) = 0 and zero volume-averaged stress (free body)."""
    r = np.linspace(0, R, 4001)
    c = 3e5 * np.exp(-((R - r) / (0.2 * R)) ** 2)
    out = radial_stresses(r, c, E=E, nu=NU, Omega=OMEGA)
    s_scale = OMEGA * E * 3e5
    assert abs(out["sigma_r"][-1]) < 1e-12 * s_scale
    sr, st, u = out["sigma_r"], out["sigma_t"], out["u"]
    inner = slice(1, -1)
    dsr = np.gradient(sr, r)
    residual = dsr[inner] + 2 * (sr[inner] - st[inner]) / r[inner]
    assert np.max(np.abs(residual[10:])) * R < 1e-3 * s_scale
    eps_r, eps_t = np.gradient(u, r), np.where(r > 0, u / np.where(r > 0, r, 1), 0)
    lam_ = E * NU / ((1 + NU) * (1 - 2 * NU))
    mu = E / (2 * (1 + NU))
    free = OMEGA * c / 3
    hooke_r = lam_ * (eps_r + 2 * eps_t) + 2 * mu * eps_r - (3 * lam_ + 2 * mu) * free
    assert np.max(np.abs(hooke_r - sr)[10:-10]) < 1e-3 * s_scale
    np.testing.assert_allclose(out["volumetric_strain"][10:-10], (eps_r + 2 * eps_t)[10:-10], atol=1e-4 * OMEGA * 3e5)
    mean_hydro = np.trapezoid(out["hydrostatic"] * r**2, r) * 3 / R**3
    assert abs(mean_hydro) < 1e-5 * s_scale
    assert out["u"][-1] == pytest.approx(OMEGA * R * out["cbar"][-1] / 3, rel=1e-12)


def test_bad_inputs_raise_model_error() -> None:
    with pytest.raises(ModelError):
        mean_concentration_inside(np.array([0.1, 0.2]), np.array([1.0, 2.0]))
    with pytest.raises(ModelError):
        radial_stresses(np.array([0.0, 1.0]), np.array([1.0, 2.0]), E=1e9, nu=0.5, Omega=1e-6)
    with pytest.raises(ModelError):
        crank_concentration(0.0, 1.0, D=-1.0, J=1.0, R=1.0)
