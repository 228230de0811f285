"""Plausibility warnings on a stored run's results, shown in its log, ``octant show`` and the report.

Two checks, both on the scalars (every step) and the stored fields (every output step):

- theta = c/c_max outside [THETA_LOW, THETA_HIGH] = [-0.01, 1.01]. Pure Fickian transport has no
  saturation, so a surface theta slightly above 1 is expected and reported unclipped (DESIGN.md
  section 3); beyond 1 % it signals a time step or mesh too coarse for the front (an undershoot
  below 0 near the centre is the usual sign of a coarse mesh under a steep front).
- von Mises stress above a bound for the chosen mechanics:
  * ``elastic`` (linear elasticity): :data:`ELASTIC_STRESS_BOUND` = 30 GPa. Assumption, chosen
    here: this is above the ideal (theoretical) strength of crystalline Si, about E/10 to E/4 for
    E = 80 GPa, so no real particle carries it. A linear-elastic result above it (the paper's
    sharp-front Si reaches ~50 GPa) is qualitative only; the elastoplastic model applies.
  * ``elastoplastic`` (J2): :data:`YIELD_FACTOR` x (the largest yield stress of the run on theta in
    [0, 1], plus H x the largest stored equivalent plastic strain with linear hardening H): the
    return mapping keeps von Mises at or below the current yield stress; 10 % covers nodal
    averaging of the quadrature-point stresses.

Warnings are plain sentences; :func:`run_warnings` never raises for a damaged run (it says so).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from models.errors import OctantError

__all__ = ["ELASTIC_STRESS_BOUND", "THETA_HIGH", "THETA_LOW", "YIELD_FACTOR", "log_warnings", "run_warnings"]

log = logging.getLogger(__name__)

THETA_LOW, THETA_HIGH = -0.01, 1.01
#: Plausibility bound of the von Mises stress for linear-elastic runs [Pa] (see the module docstring).
ELASTIC_STRESS_BOUND = 30e9
#: Elastoplastic runs: warn above this multiple of the yield stress (plus hardening).
YIELD_FACTOR = 1.1
PLASTIC_STRAIN = "plastic_strain"


def _field_extremes(run: Any) -> dict[str, tuple[float, float]]:
    """(min, max) of theta and von Mises over every stored field step (meshio; no pyvista needed)."""
    import meshio

    out: dict[str, tuple[float, float]] = {}
    for _, path in run.field_steps():
        mesh = meshio.read(path)
        for name in ("theta", "von_mises", PLASTIC_STRAIN):
            if name in mesh.point_data:
                values = np.asarray(mesh.point_data[name], dtype=float)
                values = values[np.isfinite(values)]
                if values.size:
                    lo, hi = out.get(name, (np.inf, -np.inf))
                    out[name] = (min(lo, float(values.min())), max(hi, float(values.max())))
    return out


def _stress_bound(spec: Any, fields: dict[str, tuple[float, float]], eps_p_scalar: float) -> tuple[float, str]:
    """(bound [Pa], what it is) for the run's mechanics (see the module docstring)."""
    model = spec.model()
    mechanics = getattr(model, "mechanics", None)
    if getattr(mechanics, "plastic", False):
        law = mechanics.yield_stress if mechanics.yield_stress is not None else model.material.yield_stress
        peak = _law_max(law)
        if peak is not None:
            hardening = float(getattr(mechanics, "hardening_modulus", 0.0) or 0.0)
            eps_p = max(fields.get(PLASTIC_STRAIN, (0.0, 0.0))[1], eps_p_scalar)
            bound = YIELD_FACTOR * (peak + hardening * eps_p)
            extra = f" + H x max eps_p {eps_p:.3g}" if hardening > 0 else ""
            return bound, f"{YIELD_FACTOR} x (the yield stress {peak / 1e9:.3g} GPa{extra})"
    return ELASTIC_STRESS_BOUND, f"{ELASTIC_STRESS_BOUND / 1e9:.0f} GPa, beyond any real particle's strength"


def _law_max(value: Any) -> float | None:
    """The largest value of a number or a law of theta on [0, 1] (None when there is none)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return float(np.max(value(np.linspace(0.0, 1.0, 101))))


def run_warnings(run: Any) -> list[str]:
    """Plausibility warnings for a stored :class:`~orchestrator.store.Run` (see the module docstring)."""
    warnings: list[str] = []
    try:
        scalars = run.scalars()
        fields = _field_extremes(run)
        spec = run.spec
    except (OctantError, OSError, ValueError) as exc:
        return [f"results could not be checked for plausibility: {exc}"]
    lows = [v for v in (fields.get("theta", (np.nan,))[0], *scalars.get("theta_center", [])) if np.isfinite(v)]
    highs = [v for v in (fields.get("theta", (np.nan, np.nan))[1], *scalars.get("theta_surface_max", [])) if np.isfinite(v)]
    if lows and min(lows) < THETA_LOW:
        warnings.append(
            f"theta fell to {min(lows):.4f} < {THETA_LOW} (an undershoot: the mesh or time step is too coarse"
            " for the lithiation front; refine numerics.mesh or lower numerics.time.rtol)"
        )
    if highs and max(highs) > THETA_HIGH:
        warnings.append(
            f"theta reached {max(highs):.4f} > {THETA_HIGH} (pure Fick has no saturation: c exceeds c_max;"
            " values are reported unclipped)"
        )
    vm = [v for v in (fields.get("von_mises", (np.nan, np.nan))[1], *scalars.get("von_mises_max", [])) if np.isfinite(v)]
    if vm:
        plastic = [v for v in scalars.get("plastic_strain_max", []) if np.isfinite(v)]
        bound, what = _stress_bound(spec, fields, max(plastic, default=0.0))
        if max(vm) > bound:
            warnings.append(
                f"von Mises stress reached {max(vm) / 1e9:.3g} GPa > {bound / 1e9:.3g} GPa ({what}):"
                " the stresses are not physically plausible for this mechanics model"
            )
    return warnings


def log_warnings(run: Any) -> list[str]:
    """Log every warning of :func:`run_warnings` at WARNING level (into the run's log.txt); return them."""
    warnings = run_warnings(run)
    for text in warnings:
        log.warning("run %s: %s", run.run_id, text)
    return warnings
