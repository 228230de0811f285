"""Metrics of a radial lithiation profile: the Li-rich shell, the Li-poor core and the front between.

Used to check that a diffusivity law gives the paper's core-shell picture (Gao et al. 2023, Fig. 5:
"a distinct phase boundary between the Li-rich and Li-poor regions") and to document the presets.

For a profile theta(r) on 0 <= r <= R (increasing outward while Li is inserted):

- ``shell``: theta at the surface, the Li-rich end of the profile [-];
- ``core``: the largest theta in the core r/R <= ``core_radius`` (default 0.3) [-];
- ``front_width``: the 20-80 % width of the front in units of R, r_20 - r_80 ... more precisely
  (r at theta = core + 0.8 (shell - core)) - (r at theta = core + 0.2 (shell - core)), located on the
  outermost crossing of each level (linear interpolation between nodes);
- ``front_position``: r/R where theta crosses the mid level;
- ``spread``: max - min of theta over the particle (a uniform profile has spread 0);
- ``deviation``: max |theta - theta_mean| (theta_mean the volume average, trapezoidal in r^2 dr): how far
  the profile is from the uniform state at the same DOD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FrontMetrics", "front_metrics"]


@dataclass(frozen=True)
class FrontMetrics:
    """Shell, core and front metrics of one radial profile (dimensionless; lengths in units of R)."""

    shell: float
    core: float
    front_width: float
    front_position: float
    spread: float
    deviation: float


def _outermost_crossing(x: np.ndarray, theta: np.ndarray, level: float) -> float:
    """x where theta last crosses ``level`` going outward (linear interpolation); 0 if never below."""
    below = np.flatnonzero(theta < level)
    if below.size == 0:
        return 0.0
    i = int(below[-1])
    if i == x.size - 1:
        return float(x[-1])
    t0, t1 = theta[i], theta[i + 1]
    frac = (level - t0) / (t1 - t0) if t1 != t0 else 0.0
    return float(x[i] + frac * (x[i + 1] - x[i]))


def front_metrics(r: np.ndarray, theta: np.ndarray, *, core_radius: float = 0.3) -> FrontMetrics:
    """Metrics of the radial profile ``theta`` [-] at radii ``r`` (any unit; scaled by r.max()).

    ``r`` must be sorted ascending from the centre to the surface.
    """
    r = np.asarray(r, dtype=float)
    theta = np.asarray(theta, dtype=float)
    if r.ndim != 1 or r.shape != theta.shape or r.size < 3:
        raise ValueError("front_metrics needs 1D arrays r and theta of the same length (>= 3)")
    if np.any(np.diff(r) <= 0):
        raise ValueError("front_metrics needs r sorted strictly ascending (centre to surface)")
    x = r / r[-1]
    shell = float(theta[-1])
    core = float(theta[x <= core_radius].max())
    span = shell - core
    lo = _outermost_crossing(x, theta, core + 0.2 * span)
    hi = _outermost_crossing(x, theta, core + 0.8 * span)
    mid = _outermost_crossing(x, theta, core + 0.5 * span)
    weights = x**2
    mean = float(np.trapezoid(theta * weights, x) / np.trapezoid(weights, x))
    return FrontMetrics(
        shell=shell,
        core=core,
        front_width=float(hi - lo),
        front_position=mid,
        spread=float(theta.max() - theta.min()),
        deviation=float(np.abs(theta - mean).max()),
    )
