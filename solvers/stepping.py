"""Adaptive implicit time integration of M dy/dt = F(y, t): variable-step BDF1/BDF2 with Newton.

The problem
-----------
A semi-discrete (method-of-lines) system ``M dy/dt = F(y, t)`` with a constant, non-singular
mass matrix ``M`` (consistent or lumped) and an exact Jacobian ``dF/dy``: the transport equation
of the native 3D and radial solvers after discretisation in space. It is described by any object
satisfying :class:`SemiDiscreteProblem`.

The method
----------
Backward differentiation of order k (BDF-k). Let p be the polynomial of degree k interpolating
the new value y_{n+1} at t_{n+1} and the k previous accepted values y_n, ..., y_{n+1-k}. BDF-k asks
that p satisfy the equation at t_{n+1}:

    M p'(t_{n+1}) = M (a_0 y_{n+1} + sum_{j>=1} a_j y_{n+1-j}) = F(y_{n+1}, t_{n+1}),

with a_j = L_j'(t_{n+1}) the derivatives of the Lagrange basis on the (unequally spaced) nodes.
For k = 1 this is backward Euler, a_0 = 1/h. For k = 2 and step ratio w = h_n / h_{n-1} it is the
variable-step BDF2, a_0 = (1 + 2w) / ((1 + w) h_n), a_1 = -(1 + w) / h_n, a_2 = w^2 / ((1 + w) h_n),
which is zero-stable for w < 1 + sqrt(2); the step growth is therefore capped at 2 per step.
BDF2 is used from the third step on when ``options.order == 2`` (the first two steps are BDF1, so
that the error estimator always has enough history); ``options.order == 1`` keeps BDF1 throughout.

Each step solves the nonlinear system R(y) = M (a_0 y + sum_{j>=1} a_j y_{n+1-j}) - F(y, t_{n+1}) = 0
by Newton's method
with the exact Jacobian every iteration, (a_0 M - dF/dy) dy = -R, starting from the predictor.
The linear solver is scipy's sparse LU (``splu``) unless the caller passes ``linear_solve(A, b)``
(it is also called once with A = M, for y'_0 of the first predictor).
Newton has converged when the next update, estimated from |dy|, from the contraction rate
r < 1 (r / (1 - r) |dy|) or from the residual decrease (|dy_k| |R_k| / |R_{k-1}|, safety factor
100), is below ``options.newton_tolerance * max(scale, |y|)`` in the max norm (by default
0.1 min(rtol, atol), see :class:`~solvers.api.TimeOptions`); a linear problem thus
costs one factorisation per step. A problem may also provide the optional method
``newton_matrix(a0, y, t)`` returning a_0 M - dF/dy directly (see :class:`SemiDiscreteProblem`).

Local error control (Milne's device)
------------------------------------
The predictor y^P is the polynomial of degree k through the k + 1 previous values, extrapolated
to t_{n+1} (for the very first step: explicit Euler from y_0 and M y'_0 = F(y_0, 0)). Both the
predictor and the corrector make a local error proportional to y^{(k+1)} h^{k+1}:

    y^C - y(t_{n+1}) ~ C_C y^{(k+1)},   y^P - y(t_{n+1}) ~ C_P y^{(k+1)},

and the constants C_C, C_P follow from the node positions alone (they are computed exactly by
applying both formulas to the monomial (t - t_{n+1})^{k+1}). Hence the corrector's error is

    LTE = C_C / (C_C - C_P) * (y^C - y^P)

(for constant steps: 1/3 for BDF1 with a linear predictor, 1/2 with the explicit Euler predictor,
2/11 for BDF2 with a quadratic predictor). The step is accepted when the weighted RMS norm

    err = sqrt(mean((LTE_i / (atol * scale + rtol * |y_i|))^2))

is at most 1; the next step is h * clip(0.9 * err^(-1/(k+1)), 0.2, 2) (no growth right after a
rejection). A Newton failure (no convergence in ``max_newton_iterations`` or a non-finite value)
rejects the step and divides it by 4. Below the minimum step, 1e-12 * t_end, the integrator
raises :class:`~solvers.errors.SolverDiverged` naming the time and step.

Landing on output times, events
-------------------------------
Steps are shortened to land *exactly* (bit for bit) on every output time in (0, t_end] and on
t_end; when a full step would leave a sliver, the remaining interval is split in two equal steps.
``stop_event(y)`` is evaluated after every accepted step; when it changes sign from negative to
>= 0 the last step is re-solved from the same history with shortened step sizes (Illinois
regula falsi on the step size) until the crossing time is located to 1e-9 of the step (or the
event function is zero to roundoff); the integration ends on the ``>= 0`` side of the crossing.
If the event function is already >= 0 at t = 0 the integration ends at once.

Callbacks (all optional): ``on_step(t, y, dt)`` after every accepted step, then
``on_output(t, y)`` when that step landed on an output time (and at t = 0 for an output time of 0).
The arrays passed are the integrator's own state: copy them to keep them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .api import TimeOptions
from .errors import SolverDiverged

__all__ = [
    "IntegrationResult",
    "LinearSolve",
    "SemiDiscreteProblem",
    "error_constant_ratio",
    "integrate",
    "lagrange_derivative_weights",
    "lagrange_weights",
    "splu_solve",
]

logger = logging.getLogger(__name__)

LinearSolve = Callable[[sp.spmatrix, np.ndarray], np.ndarray]

_SAFETY = 0.9
_MAX_GROWTH = 2.0  # < 1 + sqrt(2): zero-stability of variable-step BDF2
_MIN_SHRINK = 0.2
_NEWTON_FAIL_SHRINK = 0.25
_MIN_STEP_FRACTION = 1e-12  # minimum step as a fraction of t_end
_EVENT_REL_TOL = 1e-9  # event time tolerance as a fraction of the step
_EVENT_MAX_ITER = 60


@runtime_checkable
class SemiDiscreteProblem(Protocol):
    """A semi-discrete system M dy/dt = F(y, t) with a constant mass matrix and exact Jacobian.

    Attributes
    ----------
    mass: scipy.sparse matrix (n, n), constant (consistent or lumped), non-singular.
    scale: typical magnitude of y (e.g. c_max in mol/m^3); the absolute tolerance is
        ``atol * scale`` and Newton's tolerance is relative to it.

    Optional method (not part of the protocol check): ``newton_matrix(a0, y, t)`` returning
    a0 * M - dF/dy (any matrix the ``linear_solve`` in use accepts); :func:`integrate` then calls
    it instead of forming the matrix by sparse arithmetic (the radial solver does, to save
    ~100 us per Newton iteration).
    """

    mass: sp.spmatrix
    scale: float

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(y, t), shape (n,), in units of [mass] * [y] / s."""
        ...

    def jacobian(self, y: np.ndarray, t: float) -> sp.spmatrix:
        """dF/dy at (y, t), exact, sparse (n, n)."""
        ...


@dataclass
class IntegrationResult:
    """Outcome of :func:`integrate`.

    ``t`` [s] and ``y`` final state; ``steps_accepted``/``steps_rejected`` (Newton failures and
    error-test failures, event-location re-solves excluded); ``newton_iterations`` over all
    attempts; ``linear_solves`` (= Jacobian evaluations); ``stopped_by_event``; ``last_step`` [s].
    """

    t: float
    y: np.ndarray
    steps_accepted: int = 0
    steps_rejected: int = 0
    newton_iterations: int = 0
    linear_solves: int = 0
    stopped_by_event: bool = False
    last_step: float = 0.0


def splu_solve(matrix: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix x = rhs`` with scipy's sparse LU (SuperLU); the default ``linear_solve``."""
    return splu(sp.csc_matrix(matrix)).solve(rhs)


def lagrange_weights(nodes: Sequence[float], at: float) -> np.ndarray:
    """Weights w_j with p(at) = sum_j w_j y_j for the interpolating polynomial through (nodes, y).

    w_j = prod_{m != j} (at - x_m) / (x_j - x_m). (Plain Python: at most 4 nodes, called every step.)
    """
    x = [float(v) for v in nodes]
    w = []
    for j, xj in enumerate(x):  # loops over <= 4 polynomial nodes, not over mesh entities
        num = den = 1.0
        for m, xm in enumerate(x):
            if m != j:
                num *= at - xm
                den *= xj - xm
        w.append(num / den)
    return np.array(w)


def lagrange_derivative_weights(nodes: Sequence[float]) -> np.ndarray:
    """Weights a_j with p'(nodes[0]) = sum_j a_j y_j (the BDF coefficients, 1/[nodes] units).

    For nodes x_0, ..., x_k: a_0 = sum_{m>0} 1/(x_0 - x_m) and, for j > 0,
    a_j = prod_{m != 0, j} (x_0 - x_m) / prod_{m != j} (x_j - x_m).
    """
    x = [float(v) for v in nodes]
    a = [sum(1.0 / (x[0] - xm) for xm in x[1:])]
    for j in range(1, len(x)):  # k <= 2
        num = den = 1.0
        for m, xm in enumerate(x):
            if m != j:
                den *= x[j] - xm
                if m != 0:
                    num *= x[0] - xm
        a.append(num / den)
    return np.array(a)


def error_constant_ratio(t_new: float, past: Sequence[float], order: int, euler_predictor: bool) -> float:
    """C_C / (C_C - C_P) of Milne's device for BDF-``order`` at ``t_new`` with history ``past``.

    ``past`` lists previous times newest first (at least ``order`` of them, ``order + 1`` unless
    ``euler_predictor``). Both constants come from applying the corrector and the predictor to
    phi(t) = ((t - t_new) / h)^(k+1), whose exact value at t_new is 0.
    """
    k = order
    h = t_new - past[0]
    s = (np.asarray(past, dtype=float) - t_new) / h  # scaled past nodes (negative)
    phi = s ** (k + 1)
    a = lagrange_derivative_weights(np.concatenate(([0.0], s[:k])))
    e_c = -float(np.dot(a[1:], phi[:k])) / a[0]
    if euler_predictor:  # y_P = y_n + h y'_n, phi'(s) = (k+1) s^k, step 1 in scaled time
        e_p = float(phi[0] + (k + 1) * s[0] ** k)
    else:
        e_p = float(np.dot(lagrange_weights(s[: k + 1], 0.0), phi[: k + 1]))
    return e_c / (e_c - e_p)


@dataclass
class _Attempt:
    y: np.ndarray | None
    newton_iterations: int
    reason: str = ""


def _newton(
    problem: SemiDiscreteProblem,
    mass: sp.csc_matrix,
    a0: float,
    history_term: np.ndarray,
    y_pred: np.ndarray,
    t_new: float,
    options: TimeOptions,
    scale: float,
    solve: LinearSolve,
) -> _Attempt:
    """Solve R(y) = M (a0 y + history_term) - F(y, t_new) = 0 by Newton from ``y_pred``.

    Converged when the next update is estimated below ``newton_tolerance * max(scale, |y|)`` (max norm):
    the update just made (|dy_k|), its contraction r = |dy_k| / |dy_{k-1}| (r / (1 - r) |dy_k|),
    or the residual decrease (|dy_k| |R_k| / |R_{k-1}|, with a safety factor 100), whichever is
    available first; the last one lets a (nearly) linear step stop after a single factorisation.
    """
    newton_matrix = getattr(problem, "newton_matrix", None)
    y = y_pred.copy()

    def residual_at(y_: np.ndarray) -> np.ndarray:
        return mass @ (a0 * y_ + history_term) - problem.rhs(y_, t_new)

    residual = residual_at(y)
    if not np.all(np.isfinite(residual)):
        return _Attempt(None, 0, "non-finite residual at the predictor")
    res_norm = float(np.max(np.abs(residual))) if residual.size else 0.0
    if res_norm == 0.0:
        return _Attempt(y, 0)
    previous = math.inf
    for it in range(1, options.max_newton_iterations + 1):
        matrix = newton_matrix(a0, y, t_new) if newton_matrix is not None else a0 * mass - problem.jacobian(y, t_new)
        dy = np.asarray(solve(matrix, -residual)).reshape(y.shape)
        if not np.all(np.isfinite(dy)):
            return _Attempt(None, it, "non-finite Newton update")
        y += dy
        size = float(np.max(np.abs(dy)))
        tol = options.newton_tolerance * max(scale, float(np.max(np.abs(y))))
        rate = size / previous if previous > 0 else 0.0
        if size <= tol or (it > 1 and rate < 1.0 and rate / (1.0 - rate) * size <= tol):
            return _Attempt(y, it)
        if it > 2 and rate >= 1.0:
            return _Attempt(None, it, f"Newton diverging (contraction rate {rate:.3g})")
        residual = residual_at(y)
        if not np.all(np.isfinite(residual)):
            return _Attempt(None, it, "non-finite residual")
        new_norm = float(np.max(np.abs(residual)))
        if 100.0 * size * new_norm / res_norm <= tol:
            return _Attempt(y, it)
        res_norm, previous = new_norm, size
    n_max = options.max_newton_iterations
    return _Attempt(None, n_max, f"no convergence in {n_max} Newton iterations")


def _validate(y0: np.ndarray, t_end: float, options: TimeOptions, scale: float, n: int) -> None:
    if not (np.isfinite(t_end) and t_end > 0):
        raise ValueError(f"t_end must be a positive finite time in s, got {t_end!r}")
    if options.order not in (1, 2):
        raise ValueError(f"TimeOptions.order must be 1 or 2 (BDF1/BDF2), got {options.order!r}")
    if not options.rtol > 0 or options.atol < 0:
        raise ValueError(f"need rtol > 0 and atol >= 0, got rtol={options.rtol!r}, atol={options.atol!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"problem.scale must be a positive typical magnitude of y, got {scale!r}")
    if y0.ndim != 1 or y0.size != n:
        raise ValueError(f"y0 must be a vector of length {n} (the mass matrix size), got shape {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise SolverDiverged(
            "the initial state y0 contains NaN or inf; check the initial condition", time=0.0, step=0.0
        )


def _output_schedule(output_times: Sequence[float], t_end: float) -> np.ndarray:
    """The sorted, unique output times in [0, t_end] (others are ignored with a warning)."""
    raw = np.asarray(list(output_times), dtype=float)
    ignored = raw[(raw < 0) | (raw > t_end * (1 + 1e-14))]
    if ignored.size:
        logger.warning("ignoring %d output time(s) outside [0, t_end = %.6g s]: %s", ignored.size, t_end, ignored)
    return np.unique(np.clip(raw[(raw >= 0) & (raw <= t_end * (1 + 1e-14))], 0.0, t_end))


def _first_step(
    problem: SemiDiscreteProblem,
    solve: LinearSolve,
    mass: sp.csc_matrix,
    y: np.ndarray,
    t_end: float,
    options: TimeOptions,
    scale: float,
) -> tuple[np.ndarray, float]:
    """(y'_0 from M y'_0 = F(y_0, 0), the first step size): ``options.initial_step`` or
    min(1e-3 t_end, 1 / ||y'_0||_WRMS) (one step of size 1/||y'_0|| changes y by one error weight)."""
    ydot0 = np.asarray(solve(mass, problem.rhs(y, 0.0))).reshape(y.shape)
    if not np.all(np.isfinite(ydot0)):
        raise SolverDiverged(
            "F(y0, 0) is not finite; check the initial state and the material laws", time=0.0, step=0.0
        )
    if options.initial_step is not None:
        return ydot0, float(options.initial_step)
    weight0 = options.atol * scale + options.rtol * np.abs(y)
    d1 = float(np.sqrt(np.mean((ydot0 / weight0) ** 2))) if y.size else 0.0
    return ydot0, 1e-3 * t_end if d1 == 0 else min(1e-3 * t_end, 1.0 / d1)


def _after_newton_failure(trial: _Attempt, t: float, h: float, h_min: float) -> float:
    """The next step size after a Newton failure (divided by 4), or SolverDiverged below h_min."""
    logger.debug("t = %.6g s: step %.3g s rejected (%s)", t, h, trial.reason)
    if h * _NEWTON_FAIL_SHRINK < h_min:
        raise SolverDiverged(
            f"time stepping failed at t = {t:.6g} s with step {h:.3g} s (minimum {h_min:.3g} s): "
            f"{trial.reason}. The discrete problem has no solution beyond this time; check the "
            "material laws (e.g. D(theta) NaN or negative outside its range) and the loading",
            time=t,
            step=h,
        )
    return h * _NEWTON_FAIL_SHRINK


def _after_error_test_failure(err: float, order: int, t: float, h: float, h_min: float) -> float:
    """The next step size after a failed error test (err > 1 or NaN), or SolverDiverged below h_min."""
    factor = _MIN_SHRINK if not np.isfinite(err) else max(_MIN_SHRINK, _SAFETY * err ** (-1.0 / (order + 1)))
    if h * factor < h_min:
        raise SolverDiverged(
            f"local error test keeps failing at t = {t:.6g} s: the step fell to {h * factor:.3g} s "
            f"(minimum {h_min:.3g} s, error norm {err:.3g}). The solution is blowing up or is not "
            "smooth in time; check the material laws and the loading, or loosen rtol/atol",
            time=t,
            step=h,
        )
    logger.debug("t = %.6g s: step %.3g s rejected by the error test (err = %.3g)", t, h, err)
    return h * factor


class _OutputCursor:
    """The output times still to report, in order; ``on_output(t, y)`` for each one reached."""

    def __init__(self, times: np.ndarray, close: float, on_output: Callable[[float, np.ndarray], None] | None):
        self.times, self.close, self.on_output = times, close, on_output  # close: "reached" tolerance [s]
        self.next = 0

    def target(self, t_end: float) -> float:
        """The next time to land on exactly: the next output time, else t_end."""
        return float(self.times[self.next]) if self.next < self.times.size else t_end

    def report_due(self, t: float, y: np.ndarray) -> None:
        """Report every output time within ``close`` of ``t`` (the state y at t)."""
        while self.next < self.times.size and self.times[self.next] - t <= self.close:
            if self.on_output is not None:
                self.on_output(t, y)
            self.next += 1


def _step_towards(t: float, h: float, target: float) -> tuple[float, bool]:
    """(step, lands): the whole remaining interval when h reaches ``target`` (bit-exact landing),
    half of it when a full step would leave a sliver, else h."""
    remaining = target - t
    if h >= remaining * (1.0 - 1e-10):
        return remaining, True
    return (0.5 * remaining if 2.0 * h > remaining else h), False


def _predict(times: list[float], states: list[np.ndarray], ydot0: np.ndarray, k: int, h: float, t_new: float) -> np.ndarray:
    """The predictor: explicit Euler from y_0 on the first step, else the degree-k polynomial
    through the k + 1 newest states, extrapolated to ``t_new``."""
    if len(times) == 1:
        return states[0] + h * ydot0
    w = lagrange_weights(times[: k + 1], t_new)
    return sum(w[j] * states[j] for j in range(k + 1))


def _error_norm(lte: np.ndarray, y_new: np.ndarray, y_old: np.ndarray, options: TimeOptions, scale: float) -> float:
    """Weighted RMS norm of the local error estimate, weights atol scale + rtol max(|y_new|, |y_old|)."""
    if not lte.size:
        return 0.0
    weight = options.atol * scale + options.rtol * np.maximum(np.abs(y_new), np.abs(y_old))
    return float(np.sqrt(np.mean((lte / weight) ** 2)))


def integrate(
    problem: SemiDiscreteProblem,
    y0: np.ndarray,
    t_end: float,
    *,
    options: TimeOptions = TimeOptions(),
    output_times: Sequence[float] = (),
    on_step: Callable[[float, np.ndarray, float], None] | None = None,
    on_output: Callable[[float, np.ndarray], None] | None = None,
    stop_event: Callable[[np.ndarray], float] | None = None,
    linear_solve: LinearSolve | None = None,
) -> IntegrationResult:
    """Integrate ``M dy/dt = F(y, t)`` from t = 0 (state ``y0``) to ``t_end`` [s] (see module doc).

    Parameters
    ----------
    problem: a :class:`SemiDiscreteProblem`.
    y0: initial state (n,).
    t_end: final time [s] > 0.
    options: BDF order, tolerances (``rtol``, ``atol`` relative to ``problem.scale``), step
        bounds [s] and Newton settings.
    output_times: times [s] to land on exactly; those in (0, t_end] are hit, 0 is reported at
        the start, others are ignored with a warning.
    on_step: ``on_step(t, y, dt)`` after every accepted step.
    on_output: ``on_output(t, y)`` at every output time (after ``on_step``).
    stop_event: ``g(y)``; the run stops where g first becomes >= 0 (crossing located in time).
    linear_solve: ``linear_solve(A, b) -> x`` for the Newton systems (default: :func:`splu_solve`).

    Raises
    ------
    SolverDiverged: Newton failure or error-test failure at the minimum step, or NaN in y0.
    """
    options = options or TimeOptions()
    solve = linear_solve or splu_solve
    mass = sp.csc_matrix(problem.mass)
    scale = float(problem.scale)
    y = np.array(y0, dtype=float, copy=True)
    _validate(y, t_end, options, scale, mass.shape[0])
    t = 0.0
    h_min = _MIN_STEP_FRACTION * t_end
    h_max = t_end if options.max_step is None else min(float(options.max_step), t_end)
    if h_max <= 0:
        raise ValueError(f"TimeOptions.max_step must be positive, got {options.max_step!r}")

    outputs = _OutputCursor(_output_schedule(output_times, t_end), h_min, on_output)
    result = IntegrationResult(t=t, y=y)
    outputs.report_due(t, y)
    if stop_event is not None and float(stop_event(y)) >= 0.0:
        logger.info("stop event already satisfied at t = 0; nothing to integrate")
        result.stopped_by_event = True
        return result

    ydot0, h = _first_step(problem, solve, mass, y, t_end, options, scale)
    h = max(min(h, h_max), h_min)

    times: list[float] = [t]  # newest first
    states: list[np.ndarray] = [y.copy()]
    just_rejected = False

    def attempt(h_try: float, t_new: float) -> tuple[_Attempt, int, np.ndarray]:
        """Predict and correct one step from the stored history; returns (attempt, order, y_pred)."""
        k = 1 if len(times) < 3 else options.order
        a = lagrange_derivative_weights(np.array([t_new] + times[:k]))
        history_term = sum(a[j + 1] * states[j] for j in range(k))
        y_pred = _predict(times, states, ydot0, k, h_try, t_new)
        return _newton(problem, mass, float(a[0]), history_term, y_pred, t_new, options, scale, solve), k, y_pred

    while t < t_end:
        target = outputs.target(t_end)
        h, landing = _step_towards(t, min(h, h_max), target)
        t_new = target if landing else t + h

        trial, k, y_pred = attempt(h, t_new)
        result.newton_iterations += trial.newton_iterations
        result.linear_solves += trial.newton_iterations
        if trial.y is None:
            result.steps_rejected += 1
            just_rejected = True
            h = _after_newton_failure(trial, t, h, h_min)
            continue

        y_new = trial.y
        ratio = error_constant_ratio(t_new, times[: k + 1], k, euler_predictor=len(times) == 1)
        err = _error_norm(ratio * (y_new - y_pred), y_new, states[0], options, scale)
        if not err <= 1.0:  # also catches NaN
            result.steps_rejected += 1
            just_rejected = True
            h = _after_error_test_failure(err, k, t, h, h_min)
            continue

        fired = False
        if stop_event is not None:
            g_old, g_new = float(stop_event(states[0])), float(stop_event(y_new))
            if g_new >= 0.0:
                t_new, y_new, h = _locate_event(attempt, stop_event, t, h, g_old, g_new, y_new, result)
                landing, fired = False, True

        t = t_new
        times.insert(0, t)
        states.insert(0, y_new.copy())
        del times[3:], states[3:]
        y = y_new
        result.steps_accepted += 1
        result.last_step = h
        if on_step is not None:
            on_step(t, y, h)
        if landing:
            outputs.report_due(t, y)
        if fired:
            result.stopped_by_event = True
            break

        growth = _MAX_GROWTH if err == 0 else min(_MAX_GROWTH, _SAFETY * err ** (-1.0 / (k + 1)))
        if just_rejected:
            growth = min(growth, 1.0)
        just_rejected = False
        h = max(h * growth, h_min)

    result.t, result.y = t, y
    return result


def _locate_event(
    attempt: Callable[[float, float], tuple[_Attempt, int, np.ndarray]],
    stop_event: Callable[[np.ndarray], float],
    t: float,
    h: float,
    g_old: float,
    g_new: float,
    y_new: np.ndarray,
    result: IntegrationResult,
) -> tuple[float, np.ndarray, float]:
    """Shorten the last step so that it ends where g crosses zero (Illinois regula falsi on h).

    Returns (t_stop, y_stop, h_stop) on the g >= 0 side of the crossing.
    """
    lo, g_lo = 0.0, g_old
    hi, g_hi, y_hi = h, g_new, y_new
    g_hi_true = g_new  # g_lo/g_hi may be halved by the Illinois modification; this one is not
    zero = 64 * np.finfo(float).eps * max(abs(g_old), abs(g_new))
    side = 0
    for _ in range(_EVENT_MAX_ITER):
        if hi - lo <= _EVENT_REL_TOL * h or g_hi_true <= zero:
            break
        trial_h = hi - g_hi * (hi - lo) / (g_hi - g_lo)
        if not lo < trial_h < hi:
            trial_h = 0.5 * (lo + hi)
        trial, _, _ = attempt(trial_h, t + trial_h)
        result.newton_iterations += trial.newton_iterations
        result.linear_solves += trial.newton_iterations
        if trial.y is None:
            raise SolverDiverged(
                f"Newton failed while locating the stop event at t = {t + trial_h:.6g} s ({trial.reason})",
                time=t,
                step=trial_h,
            )
        g = float(stop_event(trial.y))
        if g >= 0.0:
            hi, g_hi, y_hi, g_hi_true = trial_h, g, trial.y, g
            if side == +1:
                g_lo *= 0.5
            side = +1
        else:
            lo, g_lo = trial_h, g
            if side == -1:
                g_hi *= 0.5
            side = -1
    return t + hi, y_hi, hi
