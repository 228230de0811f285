"""Derived quantities of the documented defaults (DESIGN.md section 3) and the law language."""

import math

import numpy as np
import pytest

from models import (
    PRESETS,
    ConstantDiffusivity,
    ExponentialDiffusivity,
    ExpressionDiffusivity,
    ExpressionError,
    LithiationModel,
    StepDiffusivity,
    get_preset,
    parse_expression,
)
from models.materials import UnknownPreset


@pytest.fixture
def si_model():
    return LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0)


def test_si_c_max(si_model):
    assert si_model.c_max == pytest.approx(311_140, rel=2e-5)


def test_si_surface_flux(si_model):
    assert si_model.surface_flux() == pytest.approx(3.308e-6, rel=2e-4)


def test_full_lithiation_time(si_model):
    assert si_model.full_lithiation_time / 3600 == pytest.approx(35.79, abs=0.005)
    assert si_model.time_at_dod(0.5) == pytest.approx(si_model.full_lithiation_time / 2)


def test_flux_uses_given_discrete_geometry(si_model):
    # a discrete octant with a smaller volume-to-area ratio gets a proportionally smaller flux
    exact = si_model.surface_flux()
    assert si_model.surface_flux(volume=0.99, area=1.0 * 3 / 4.11e-6) == pytest.approx(0.99 * exact)


def test_alloy_is_si_times_ten():
    theta = np.linspace(0, 1, 11)
    np.testing.assert_allclose(get_preset("Si8.5Sn0.5Sb").diffusivity(theta), 10 * get_preset("Si").diffusivity(theta))


def test_presets_carry_sources():
    for material in PRESETS.values():
        assert {"capacity", "density", "diffusivity", "youngs_modulus"} <= set(material.sources)


def test_unknown_preset_lists_known():
    with pytest.raises(UnknownPreset, match="Si8.5Sn0.5Sb"):
        get_preset("Ge")


@pytest.mark.parametrize(
    "law",
    [
        ConstantDiffusivity(value=2e-15),
        ExponentialDiffusivity(low=2e-17, high=2e-15),
        StepDiffusivity(low=2e-17, high=2e-15, theta_f=0.4, width=0.1),
        ExpressionDiffusivity(expr="2e-17*exp(4.605*theta) + min(theta, 0.51)*1e-16"),
    ],
)
def test_law_derivative_matches_finite_difference(law):
    theta = np.linspace(0.013, 0.987, 37)
    h = 1e-6
    fd = (law(theta + h) - law(theta - h)) / (2 * h)
    np.testing.assert_allclose(law.derivative(theta), fd, rtol=1e-5, atol=1e-30)


def test_exponential_law_end_members():
    law = ExponentialDiffusivity(low=2e-17, high=2e-15)
    assert law(0.0) == pytest.approx(2e-17)
    assert law(1.0) == pytest.approx(2e-15)


def test_comsol_expression_evaluates_like_numpy():
    law = StepDiffusivity(low=2e-17, high=2e-15, scale=10.0)
    text = law.comsol("th")
    theta = 0.37
    value = eval(text.replace("^", "**"), {"th": theta, "tanh": math.tanh, "exp": math.exp})  # noqa: S307
    assert value == pytest.approx(float(law(theta)), rel=1e-12)


@pytest.mark.parametrize(
    "text",
    ["__import__('os')", "theta.real", "open('x')", "x + 1", "theta if theta else 1", "[theta]", "exp(theta, 2)", "theta < 1"],
)
def test_expression_language_rejects_everything_else(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_expression_power_and_functions():
    expr = parse_expression("sqrt(theta)^2 + log(exp(1)) - tanh(0) + max(theta, 0.2)")
    np.testing.assert_allclose(expr(np.array([0.1, 0.5])), [0.1 + 1 + 0.2, 0.5 + 1 + 0.5])
