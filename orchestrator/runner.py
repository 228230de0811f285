"""Run one stored run: pick the backend, solve through the store, record status and provenance.

``run_one(run_dir)`` is what every executor calls (a local worker process, a SLURM array task via
``octant run-one RUN_DIR``). It never raises for a failed solve: the error text goes to
``status.json`` and the traceback to ``log.txt``, and the run is ``failed``. Fields written before a
failure stay on disk.
"""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import Callable

from solvers import BackendUnavailable, get_backend

from .errors import OctantError
from .plausibility import log_warnings
from .progress import ProgressPrinter
from .provenance import collect_provenance
from .store import Run

__all__ = ["ProgressPrinter", "resolve_backend", "run_one"]

log = logging.getLogger(__name__)


def resolve_backend(requested: str) -> tuple[str, str]:
    """(backend to use, why). ``auto`` means COMSOL where it is found, else native."""
    if requested != "auto":
        return requested, f"requested backend {requested!r}"
    try:
        available, reason = get_backend("comsol").available()
    except ImportError as exc:  # the COMSOL backend's own imports failed
        available, reason = False, f"COMSOL backend unusable ({exc})"
    if available:
        return "comsol", f"auto: COMSOL found ({reason})"
    return "native", f"auto: COMSOL not available ({reason}); used the native solver"


def _attach_log(run: Run) -> logging.Handler:
    handler = logging.FileHandler(run.log_path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def _report_overshoot(run: Run) -> float | None:
    """The peak surface theta (never clipped; pure Fick allows > 1). The warning beyond 1.01 comes
    from :func:`~orchestrator.plausibility.log_warnings` with the other plausibility checks."""
    peaks = run.scalars()["theta_surface_max"]
    if not len(peaks):
        return None
    peak = float(peaks.max())
    if peak > 1.0:
        log.info("surface theta reached %.4f > 1 (pure Fick has no saturation; values are reported unclipped)", peak)
    return peak


def run_one(
    run_dir: str | Path,
    *,
    backend: str | None = None,
    progress: Callable[[float, float, float], None] | None = None,
    show_progress: bool = True,
) -> str:
    """Run the run stored in ``run_dir``; return its final state (``done`` or ``failed``).

    ``backend`` overrides the spec's backend; ``progress(t, dod, dt)`` receives every step.
    """
    run = Run(run_dir)
    run.reset()
    run.mark_running()
    handler = _attach_log(run)
    started = time.perf_counter()
    used, why = None, None
    printer = None
    sink = None
    try:
        spec = run.spec
        used, why = resolve_backend(backend or spec.backend)
        log.info("run %s/%s: backend %s (%s)", run.study, run.run_id, used, why)
        model = spec.model()
        log.info("model: %s", model.describe())
        module = get_backend(used)
        if show_progress:
            dod_stop = model.stop.value if model.stop.kind == "dod" else None
            printer = ProgressPrinter(f"{run.study}/{run.run_id}", model.stop_time_bound, dod_target=dod_stop)
        callbacks = [cb for cb in (printer, progress) if cb is not None]

        def on_progress(t: float, dod: float, dt: float) -> None:
            for cb in callbacks:
                cb(t, dod, dt)

        sink = run.sink(on_progress=on_progress)
        stats = module.solve(model, spec.outputs(), spec.numerics(), sink)
        sink.close()
        wall = time.perf_counter() - started
        theta_peak = _report_overshoot(run)
        run.write_provenance(
            collect_provenance(
                backend=used,
                backend_reason=why,
                run_id=run.run_id,
                physics_id=spec.physics_id,
                solver=stats.as_dict(),
                theta_surface_peak=theta_peak,
                wall_time_s=round(wall, 3),
            )
        )
        if not run.field_steps() and spec.outputs().target_times(model).size:
            raise OctantError("the solver returned without writing any field frame")
        log_warnings(run)  # implausible theta or stresses: into log.txt (show and report repeat them)
        run.mark_done()
        log.info("run %s done in %.2f s", run.run_id, wall)
        return "done"
    except Exception as exc:  # a failed run is recorded, never propagated
        if sink is not None:
            sink.close()
        wall = time.perf_counter() - started
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, BackendUnavailable) or not isinstance(exc, OctantError):
            log.error("run %s failed:\n%s", run.run_id, traceback.format_exc())
        else:
            log.error("run %s failed: %s", run.run_id, message)
        try:
            run.write_provenance(
                collect_provenance(backend=used, backend_reason=why, run_id=run.run_id, error=message, wall_time_s=round(wall, 3))
            )
        finally:
            run.mark_failed(message)
        return "failed"
    finally:
        if printer is not None:
            printer.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
