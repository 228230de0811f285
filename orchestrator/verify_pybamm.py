"""Cross-check against an independent peer: PyBaMM's finite-volume sphere (``octant verify --level full``).

The problem of the ``front`` case (the sharp two-phase law of issue 10, i.e. the Si preset's law: tanh
step D 1e-17 -> 2e-15 m^2/s, theta_f 0.85, width 0.02; R = 4.11 um, 0.1 A/g, constant inward flux)
solved by PyBaMM (:mod:`orchestrator.pybamm_reference`: 800 uniform finite-volume cells, IDAKLU,
rtol 1e-7) and by octant's radial and native backends with their **default numerics** (``Numerics()``:
radial 161 surface-graded nodes, native medium mesh n = 15, rtol 1e-4, atol 1e-6).

Rows, at DOD 0.25, 0.5 and 0.9 (the front reaches the centre at DOD ~0.899):

``pybamm:dod=D``     error = mean |theta - theta_PyBaMM(r)| over the radial nodes (radial) or the
                     vertices on the (1,1,1) diagonal (native); tolerance radial 0.01, native 0.02
                     (issue 10); the row also fails if theta < -0.01 in that frame. The detail gives
                     max |dtheta|, min theta and (native) the mean over all vertices by radius.
``pybamm:theta_min`` the smallest theta seen in the run (every vertex at every step for the native
                     solver; the frames and the centre at every step for the radial one) >= -0.01.
``pybamm:reference`` PyBaMM's own convergence: max over the DODs of mean |theta_800 - theta_1600|,
                     which must stay below a tenth of the smallest tolerance (0.001).

PyBaMM's profile is interpolated linearly in r / R, between its boundary values at the centre and the
surface (PyBaMM's extrapolations) and its cell centres. Optional: the case yields skip rows with the
reason when ``pybamm`` cannot be imported (``pip install 'octant[pybamm]'``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models import LithiationModel
from solvers.api import FieldFrame, MemorySink, Numerics, OutputRequest

from .errors import PeerError
from .pybamm_reference import PybammProfiles, pybamm_available, pybamm_profiles
from .verify import CaseResult, diagonal_mask

__all__ = ["CELLS", "CHECK_CELLS", "THETA_FLOOR", "ProfileError", "case_pybamm", "profile_error"]

log = logging.getLogger(__name__)

CELLS = 800  # the reference (issue 10)
CHECK_CELLS = 1600  # its convergence check
THETA_FLOOR = -0.01
_TARGETS = {"radial": 0.01, "native": 0.02}
_MESH = {"radial": "161 nodes (default)", "native": "medium n=15 (default)"}


@dataclass(frozen=True)
class ProfileError:
    """Agreement of one octant frame with a reference profile (theta [-])."""

    mean: float  # mean |dtheta| over the radial nodes / the (1,1,1) diagonal
    max: float  # max |dtheta| over the same points
    theta_min: float  # smallest theta of the frame (all points)
    all_points_mean: float  # mean |dtheta| over every point, by radius


def profile_error(frame: FieldFrame, x_ref: np.ndarray, theta_ref: np.ndarray, radius: float) -> ProfileError:
    """Compare ``frame`` with the reference theta(x = r / R) (``x_ref`` ascending from 0 to 1)."""
    x = np.linalg.norm(frame.points, axis=1) / radius
    theta = frame.point_data["theta"]
    diff = np.abs(theta - np.interp(x, x_ref, theta_ref))
    on = diagonal_mask(frame, radius)
    return ProfileError(float(diff[on].mean()), float(diff[on].max()), float(theta.min()), float(diff.mean()))


def _run(backend: str, model: LithiationModel, dods: Sequence[float]) -> tuple[MemorySink, float, float]:
    """(sink, wall time [s], smallest theta of the run) of ``backend`` with default numerics."""
    from solvers import get_backend

    sink = MemorySink()
    t0 = time.perf_counter()
    stats = get_backend(backend).solve(model, OutputRequest(dods=tuple(dods), stress_every_dod=None), Numerics(), sink)
    wall = time.perf_counter() - t0
    lows = [float(f.point_data["theta"].min()) for f in sink.frames]
    lows += [float(sink.column("theta_center").min())] if sink.rows else []
    lows += [float(stats.extra["theta_min"])] if "theta_min" in stats.extra else []
    return sink, wall, min(lows)


def _backend_rows(backend: str, model: LithiationModel, ref: PybammProfiles) -> list[CaseResult]:
    sink, wall, run_min = _run(backend, model, ref.dods)
    target, mesh = _TARGETS[backend], _MESH[backend]
    rows = []
    for k, (dod, frame) in enumerate(zip(ref.dods, sink.frames)):
        e = profile_error(frame, ref.x, ref.theta[k], model.radius)
        ok = e.mean <= target and e.theta_min >= THETA_FLOOR
        where = "diagonal" if backend == "native" else "radius"
        detail = f"mean {e.mean:.1e}, max {e.max:.1e} along the {where}, min theta {e.theta_min:+.4f}"
        if backend == "native":
            detail += f"; all vertices by radius: mean {e.all_points_mean:.1e}"
        rows.append(CaseResult(f"pybamm:dod={dod:g}", backend, mesh, e.mean, None, target, ok, detail))
    rows.append(
        CaseResult(
            "pybamm:theta_min", backend, mesh, max(0.0, -run_min), None, -THETA_FLOOR, run_min >= THETA_FLOOR,
            f"smallest theta over the run {run_min:+.4f}; {backend} {wall:.1f} s wall",
        )
    )
    return rows


def _reference_row(model: LithiationModel, ref: PybammProfiles) -> CaseResult:
    """PyBaMM at CELLS against CHECK_CELLS: the reference is converged far below the tolerances."""
    fine = pybamm_profiles(model, ref.dods, CHECK_CELLS)
    per_dod = [float(np.abs(t - np.interp(ref.x, fine.x, f)).mean()) for t, f in zip(ref.theta, fine.theta)]
    err, tol = max(per_dod), 0.1 * min(_TARGETS.values())
    detail = (
        f"mean |theta_{CELLS} - theta_{CHECK_CELLS}| at DOD "
        + ", ".join(f"{d:g}: {e:.1e}" for d, e in zip(ref.dods, per_dod))
        + f"; {CELLS} cells {ref.wall_s:.1f} s ({ref.steps} steps), {CHECK_CELLS} cells {fine.wall_s:.1f} s"
    )
    return CaseResult("pybamm:reference", "pybamm", f"{CELLS} cells", err, None, tol, err <= tol, detail)


def case_pybamm(backends: Sequence[str], model: LithiationModel, dods: Sequence[float]) -> list[CaseResult]:
    """Rows comparing the radial/native profiles of ``model`` (a galvanostatic run that reaches
    max(``dods``)) with PyBaMM's at ``dods``, after PyBaMM's own convergence row; skip rows (passed,
    ``skipped``) with the reason when pybamm cannot be imported; one failing row with PyBaMM's message
    when it is installed but cannot solve the problem (:class:`~orchestrator.errors.PeerError`)."""
    if pybamm_available() is None:
        reason = "skipped: pybamm is not installed (pip install 'octant[pybamm]')"
        return [CaseResult("pybamm", b, "-", 0.0, None, 0.0, True, reason, skipped=True) for b in backends]
    try:
        ref = pybamm_profiles(model, dods, CELLS)
        rows = [_reference_row(model, ref)]
    except PeerError as exc:  # installed but cannot give a reference: the cross-check was not done
        return [CaseResult("pybamm:reference", "pybamm", f"{CELLS} cells", math.inf, None, 0.0, False, str(exc))]
    for backend in backends:
        rows += _backend_rows(backend, model, ref)
    return rows
