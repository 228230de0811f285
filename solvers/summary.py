"""What every transient solver reports after a run: the notes that go into provenance.json."""

from __future__ import annotations

import numpy as np

from models import LithiationModel

from .stepping import IntegrationResult

__all__ = ["run_notes"]


def run_notes(
    model: LithiationModel,
    result: IntegrationResult,
    targets: np.ndarray,
    *,
    final_dod: float,
    theta_max: float,
    t_theta_max: float,
) -> list[str]:
    """Human-readable notes on how the run ended: unmet stops, unwritten outputs, theta above 1."""
    notes = []
    if model.stop.kind == "surface_theta" and not result.stopped_by_event:
        notes.append(f"surface theta never reached {model.stop.value!r}; stopped at DOD {final_dod:.6g}")
    if result.stopped_by_event:
        missed = targets[targets > result.t]
        if missed.size:
            notes.append(
                f"stopped at surface theta {model.stop.value!r} at t = {result.t:.6g} s (DOD {final_dod:.4g}); "
                f"{missed.size} later output time(s) not written: {missed.tolist()}"
            )
    if theta_max > 1.0:
        notes.append(f"theta exceeded 1 (pure Fick, not clipped): max theta = {theta_max:.6g} at t = {t_theta_max:.6g} s")
    return notes
