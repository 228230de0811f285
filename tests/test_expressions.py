"""The law language: symbolic derivative, COMSOL text, and limits on hostile input."""

import math
import time

import numpy as np
import pytest

from models import ExpressionError, parse_expression
from models.expressions import MAX_DEPTH, MAX_LENGTH

SMOOTH_LAWS = [
    "2e-17+9.9e-16*(1+tanh((theta-0.85)/0.02))",
    "2e-17*(100.0)^theta",
    "2e-17*exp(4.605*theta) + min(theta, 0.51)*1e-16",
    "theta^theta + sqrt(theta)^3 - log(1 + theta)/(2 + theta)",
    "-theta^2/(1+theta) + 2^-theta + max(0.3, theta)",
    "c/1000*theta + (theta + c/1000)^theta",
]


@pytest.mark.parametrize("text", SMOOTH_LAWS)
def test_symbolic_derivative_matches_central_difference(text):
    expr = parse_expression(text)
    c_max = 1000.0
    theta = np.linspace(0.013, 0.987, 41)
    value, deriv = expr.value_and_derivative(theta, c_max=c_max)
    h = 1e-6
    fd = (expr(theta + h, c_max * (theta + h)) - expr(theta - h, c_max * (theta - h))) / (2 * h)
    np.testing.assert_allclose(value, expr(theta, c_max * theta), rtol=1e-14)
    np.testing.assert_allclose(deriv, fd, rtol=2e-6, atol=1e-7 * np.abs(fd).max())
    np.testing.assert_array_equal(expr.derivative_theta(theta, c_max), deriv)


def test_derivative_of_tanh_step_is_exact_at_the_front():
    expr = parse_expression("1e-17+1e-15*(1+tanh((theta-0.85)/0.02))")
    theta = np.array([0.8, 0.85, 0.9])
    exact = 1e-15 / 0.02 / np.cosh((theta - 0.85) / 0.02) ** 2
    np.testing.assert_allclose(expr.derivative_theta(theta), exact, rtol=1e-13)


def test_constant_law_broadcasts_value_and_zero_derivative():
    expr = parse_expression("2*3e-15")
    value, deriv = expr.value_and_derivative(np.zeros((3, 4)))
    assert value.shape == deriv.shape == (3, 4)
    assert np.all(value == 6e-15) and np.all(deriv == 0.0)


def test_min_max_derivative_picks_the_active_branch():
    expr = parse_expression("min(2*theta, 0.5) + max(theta, 0.8)")
    np.testing.assert_allclose(expr.derivative_theta(np.array([0.1, 0.5, 0.9])), [2.0, 0.0, 1.0])


def test_comsol_text_is_unchanged_by_folding():
    expr = parse_expression("2^3*theta - (1/4)")
    assert expr.comsol("th") == "(((2.0^3.0)*th)-(1.0/4.0))"
    assert float(expr(0.5)) == pytest.approx(8 * 0.5 - 0.25)


@pytest.mark.parametrize(
    "text, message",
    [
        ("9^9^9^9", "overflows"),
        ("10**10**10", "overflows"),
        ("exp(1000)*theta", "overflows"),
        ("1/0", "division by zero"),
        ("theta/(1-1)", "division by zero"),
        ("log(0) + theta", "no real value"),
        ("(-8)^(1/3)", "no real value"),
        ("theta^5000", "exponent"),
        ("1e999*theta", "not finite"),
        ("9" * 400, "too large"),
    ],
)
def test_dangerous_constants_are_rejected_quickly(text, message):
    t0 = time.perf_counter()
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "+".join(["1"] * 1000),
        "+".join(["theta"] * 400),
        "-" * 1500 + "theta",
        "exp(" * 150 + "theta" + ")" * 150,
        "(" * 300 + "theta" + ")" * 300,
    ],
)
def test_deep_or_long_trees_give_a_clean_error(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_length_limit():
    with pytest.raises(ExpressionError, match=str(MAX_LENGTH)):
        parse_expression("theta" + " " * MAX_LENGTH)


def test_moderate_trees_within_the_limits_are_accepted():
    text = "+".join(f"{k}e-18*theta^{k}" for k in range(1, MAX_DEPTH // 3))
    expr = parse_expression(text)
    expected = sum(k * 1e-18 * 0.5**k for k in range(1, MAX_DEPTH // 3))
    assert float(expr(0.5)) == pytest.approx(expected, rel=1e-12)


def test_runtime_non_finite_values_stay_nan_not_errors():
    expr = parse_expression("2e-15*log(theta)")
    value, deriv = expr.value_and_derivative(np.array([0.0, 1.0]))
    assert math.isinf(value[0]) and value[1] == 0.0 and deriv[1] == pytest.approx(2e-15)
