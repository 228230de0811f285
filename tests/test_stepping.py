"""Tests of the adaptive BDF1/BDF2 integrator (solvers.stepping) on ODEs with known solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm

from solvers.api import TimeOptions
from solvers.errors import SolverDiverged
from solvers.stepping import (
    IntegrationResult,
    error_constant_ratio,
    integrate,
    lagrange_derivative_weights,
    splu_solve,
)


class LinearSystem:
    """M y' = M B y with a non-diagonal SPD mass matrix; exact y(t) = expm(B t) y0."""

    def __init__(self) -> None:
        self.mass = sp.csc_matrix(np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.5]]))
        self.b = np.array([[-1.0, 2.0, 0.0], [-2.0, -1.0, 0.5], [0.0, -0.5, -0.3]])
        self.k = sp.csr_matrix(self.mass @ self.b)
        self.scale = 1.0

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        return self.k @ y

    def jacobian(self, y: np.ndarray, t: float) -> sp.spmatrix:
        return self.k

    def exact(self, t: float, y0: np.ndarray) -> np.ndarray:
        return expm(self.b * t) @ y0


class Riccati:
    """y' = -y^2 (nonlinear, exact y = y0 / (1 + y0 t)), with a forcing-free scalar mass 1."""

    mass = sp.identity(1, format="csc")
    scale = 1.0

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        return -(y**2)

    def jacobian(self, y: np.ndarray, t: float) -> sp.spmatrix:
        return sp.csc_matrix(np.diag(-2.0 * y))


Y0 = np.array([1.0, 1.0, -0.5])


def fixed_step_error(order: int, n_steps: int, t_end: float = 2.0) -> float:
    """Global error at t_end with constant steps (error control switched off by a huge rtol)."""
    problem = LinearSystem()
    h = t_end / n_steps
    opts = TimeOptions(order=order, rtol=1e12, atol=1e12, initial_step=h, max_step=h)
    res = integrate(problem, Y0, t_end, options=opts)
    assert res.steps_accepted == n_steps
    return float(np.max(np.abs(res.y - problem.exact(t_end, Y0))))


@pytest.mark.parametrize("order", [1, 2])
def test_fixed_step_order_of_convergence(order: int) -> None:
    errors = np.array([fixed_step_error(order, n) for n in (40, 80, 160, 320)])
    observed = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(observed - order) < 0.15), observed


def test_adaptive_bdf2_error_follows_tolerance() -> None:
    problem = LinearSystem()
    steps, errors = [], []
    for rtol in (1e-4, 1e-5, 1e-6, 1e-7):
        res = integrate(problem, Y0, 2.0, options=TimeOptions(rtol=rtol, atol=rtol))
        steps.append(res.steps_accepted)
        errors.append(float(np.max(np.abs(res.y - problem.exact(2.0, Y0)))))
    errors, steps = np.array(errors), np.array(steps, dtype=float)
    assert np.all(np.diff(errors) < 0)
    order = -np.log(errors[-1] / errors[0]) / np.log(steps[-1] / steps[0])  # error ~ N^-order
    assert 1.7 < order < 2.5, order


def test_constant_step_coefficients_and_error_constants() -> None:
    h = 0.1
    a = lagrange_derivative_weights([0.0, -h, -2 * h])
    np.testing.assert_allclose(a * h, [1.5, -2.0, 0.5], rtol=1e-13)
    assert error_constant_ratio(0.0, [-h, -2 * h, -3 * h], 2, False) == pytest.approx(2.0 / 11.0)
    assert error_constant_ratio(0.0, [-h, -2 * h], 1, False) == pytest.approx(1.0 / 3.0)
    assert error_constant_ratio(0.0, [-h], 1, True) == pytest.approx(0.5)
    # variable-step BDF2 with ratio w = h_n / h_{n-1} = 2
    w = 2.0
    a = lagrange_derivative_weights([0.0, -h, -h - h / w])
    np.testing.assert_allclose(a * h, [(1 + 2 * w) / (1 + w), -(1 + w), w**2 / (1 + w)], rtol=1e-13)


def test_nonlinear_problem_with_newton() -> None:
    res = integrate(Riccati(), np.array([2.0]), 5.0, options=TimeOptions(rtol=1e-7, atol=1e-9))
    assert res.y[0] == pytest.approx(2.0 / 11.0, rel=1e-4)  # global error ~ steps * rtol


def test_linear_problem_costs_one_newton_iteration_per_step() -> None:
    res = integrate(LinearSystem(), Y0, 2.0, options=TimeOptions(rtol=1e-6, atol=1e-8))
    assert res.newton_iterations == res.steps_accepted + res.steps_rejected


def test_output_times_are_hit_exactly() -> None:
    problem = LinearSystem()
    outs = [0.0, 0.1234567, 0.5, 1.0 / 3.0, 0.33333334, 1.7, 2.0]
    stepped: list[float] = []
    seen: list[tuple[float, np.ndarray]] = []
    res = integrate(
        problem,
        Y0,
        2.0,
        options=TimeOptions(rtol=1e-6, atol=1e-8),
        output_times=outs,
        on_step=lambda t, y, dt: stepped.append(t),
        on_output=lambda t, y: seen.append((t, y.copy())),
    )
    assert [t for t, _ in seen] == sorted(outs)  # bit-exact times, in order, each once
    assert all(t in stepped for t in outs if t > 0)
    assert stepped[-1] == 2.0 and res.t == 2.0
    for t, y in seen:
        np.testing.assert_allclose(y, problem.exact(t, Y0), atol=1e-4)  # global error ~ steps * rtol
    assert np.all(np.diff(stepped) > 0)


def test_stop_event_is_located() -> None:
    """y' = 1 - y, y(0) = 0: y = 1 - exp(-t) crosses 1/2 at t = ln 2."""

    class Relax:
        mass = sp.identity(1, format="csc")
        scale = 1.0

        def rhs(self, y, t):
            return 1.0 - y

        def jacobian(self, y, t):
            return -sp.identity(1, format="csc")

    res = integrate(
        Relax(), np.array([0.0]), 10.0, options=TimeOptions(rtol=1e-8, atol=1e-10), stop_event=lambda y: y[0] - 0.5
    )
    assert res.stopped_by_event
    assert res.y[0] >= 0.5 and res.y[0] - 0.5 < 1e-9
    assert res.t == pytest.approx(math.log(2.0), abs=2e-5)  # limited by the global error, not the search


def test_stop_event_already_met_returns_at_once() -> None:
    res = integrate(Riccati(), np.array([1.0]), 1.0, stop_event=lambda y: y[0] - 0.5)
    assert res.stopped_by_event and res.t == 0.0 and res.steps_accepted == 0


def test_custom_linear_solver_is_used() -> None:
    calls = []

    def solve(a, b):
        calls.append(a.shape)
        return splu_solve(a, b)

    res = integrate(LinearSystem(), Y0, 1.0, linear_solve=solve)
    assert isinstance(res, IntegrationResult)
    assert len(calls) == res.linear_solves + 1  # + the initial M y'(0) = F(y0) solve


def test_nan_beyond_a_time_raises_solver_diverged() -> None:
    class Breaks:
        mass = sp.identity(2, format="csc")
        scale = 1.0

        def rhs(self, y, t):
            return np.full(2, np.nan) if t > 0.5 else -y

        def jacobian(self, y, t):
            return -sp.identity(2, format="csc")

    with pytest.raises(SolverDiverged) as info:
        integrate(Breaks(), np.ones(2), 1.0)
    assert info.value.time == pytest.approx(0.5, abs=1e-9)
    assert info.value.step is not None and info.value.step < 1e-9
    assert "t = 0.5" in str(info.value)


def test_finite_time_blow_up_raises_solver_diverged() -> None:
    """y' = y^2, y(0) = 1 blows up at t = 1."""

    class BlowUp(Riccati):
        def rhs(self, y, t):
            return y**2

        def jacobian(self, y, t):
            return sp.csc_matrix(np.diag(2.0 * y))

    with pytest.raises(SolverDiverged) as info:
        integrate(BlowUp(), np.array([1.0]), 2.0)
    assert 0.99 < info.value.time <= 1.0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="order"):
        integrate(LinearSystem(), Y0, 1.0, options=TimeOptions(order=3))
    with pytest.raises(ValueError, match="t_end"):
        integrate(LinearSystem(), Y0, -1.0)
    with pytest.raises(SolverDiverged):
        integrate(LinearSystem(), np.array([np.nan, 0, 0]), 1.0)
