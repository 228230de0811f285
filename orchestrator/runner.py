"""Run one stored run: pick the backend, solve through the store, record status and provenance.

``run_one(run_dir)`` is what every executor calls (a local worker process, a SLURM array task via
``octant run-one RUN_DIR``). It claims the run first, so two processes never execute one run
at once. It never raises for a failed solve: the error text goes to ``status.json`` and the
traceback to ``log.txt`` (appended, one header line per attempt), and the run is ``failed``.
Fields written before a failure stay on disk, except in a forced rerun of a ``done`` run, which
is written aside and only replaces the old result when it succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from solvers import BackendUnavailable, get_backend

from . import claims
from .claims import STALE_AFTER_S
from .errors import OctantError
from .plausibility import log_warnings
from .progress import ProgressPrinter
from .provenance import collect_provenance
from .store import Run, status_owner_alive

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


def _log_header(run: Run, attempt: int, staged: bool) -> None:
    """Append the line that opens an attempt in log.txt (attempts append; no log is lost)."""
    how = " (forced rerun, written aside until it succeeds)" if staged else ""
    with open(run.log_path, "a", encoding="utf-8") as handle:
        handle.write(
            f"===== octant attempt {attempt}{how}: {datetime.now(timezone.utc).isoformat(timespec='seconds')}"
            f" on {socket.gethostname()} pid {os.getpid()} =====\n"
        )


def _report_overshoot(run: Run, root: Path) -> float | None:
    """The peak surface theta (never clipped; pure Fick allows > 1). The warning beyond 1.01 comes
    from :func:`~orchestrator.plausibility.log_warnings` with the other plausibility checks."""
    peaks = run.scalars(root)["theta_surface_max"]
    if not len(peaks):
        return None
    peak = float(peaks.max())
    if peak > 1.0:
        log.info("surface theta reached %.4f > 1 (pure Fick has no saturation; values are reported unclipped)", peak)
    return peak


_ALWAYS_FINITE = ("time_s", "dod", "theta_mean", "theta_surface_max", "theta_center")


def _check_finite(run: Run, root: Path) -> None:
    """A run whose scalars are infinite (or NaN where they are always computed) is not ``done``.

    Stress columns may hold NaN on steps where they are not evaluated (a DOD cadence).
    """
    bad = [
        name
        for name, values in run.scalars(root).items()
        if np.isinf(values).any() or (name in _ALWAYS_FINITE and np.isnan(values).any())
    ]
    if bad:
        raise OctantError(f"the solve produced non-finite values in scalars.csv columns {bad}; check the inputs")


@dataclass
class _Attempt:
    """One attempt at a claimed run: where it writes and what is known so far."""

    run: Run
    staged: bool  # a forced rerun of a done run: written into the staging folder, swapped in on success
    started: float = field(default_factory=time.perf_counter)
    used: str | None = None
    why: str | None = None
    sink: Any = None
    printer: ProgressPrinter | None = None

    @property
    def root(self) -> Path:
        return self.run.staging_dir if self.staged else self.run.path

    def wall(self) -> float:
        return round(time.perf_counter() - self.started, 3)


def _solve(a: _Attempt, backend: str | None, progress, show_progress: bool) -> None:
    """Solve the claimed run into ``a.root`` and write its provenance (raises on any failure)."""
    run = a.run
    spec = run.spec
    a.used, a.why = resolve_backend(backend or spec.backend)
    log.info("run %s/%s: backend %s (%s)", run.study, run.run_id, a.used, a.why)
    model = spec.model()
    log.info("model: %s", model.describe())
    module = get_backend(a.used)
    if show_progress:
        dod_stop = model.stop.value if model.stop.kind == "dod" else None
        a.printer = ProgressPrinter(f"{run.study}/{run.run_id}", model.stop_time_bound, dod_target=dod_stop)
    callbacks = [cb for cb in (a.printer, progress) if cb is not None]

    def on_progress(t: float, dod: float, dt: float) -> None:
        for cb in callbacks:
            cb(t, dod, dt)

    a.sink = run.sink(on_progress=on_progress, root=a.root)
    stats = module.solve(model, spec.outputs(), spec.numerics(), a.sink)
    a.sink.close()
    theta_peak = _report_overshoot(run, a.root)
    run.write_provenance(
        collect_provenance(
            backend=a.used, backend_reason=a.why, run_id=run.run_id, physics_id=spec.physics_id,
            solver=stats.as_dict(), theta_surface_peak=theta_peak, wall_time_s=a.wall(),
        ),
        root=a.root,
    )
    _check_finite(run, a.root)
    if not run.field_steps(a.root) and spec.outputs().target_times(model).size:
        raise OctantError("the solver returned without writing any field frame")


def _record_failure(a: _Attempt, exc: BaseException) -> None:
    """Record a failed or interrupted attempt; never raises (a full disk must not mask ``exc``)."""
    run = a.run
    interrupted = not isinstance(exc, Exception)
    if interrupted:
        message = f"interrupted ({exc or type(exc).__name__}); rerun the study to resume this run"
        log.error("run %s %s", run.run_id, message)
    else:
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, BackendUnavailable) or not isinstance(exc, OctantError):
            log.error("run %s failed:\n%s", run.run_id, traceback.format_exc())
        else:
            log.error("run %s failed: %s", run.run_id, message)
    if a.sink is not None:
        with contextlib.suppress(Exception):
            a.sink.close()
    steps = [
        lambda: run.write_provenance(
            collect_provenance(backend=a.used, backend_reason=a.why, run_id=run.run_id, error=message, wall_time_s=a.wall()),
            root=a.root,
        ),
        (lambda: run.update_status(rerun_error=message, rerun_finished=_utc_now(), interrupted=interrupted or None))
        if a.staged
        else (lambda: run.mark_failed(message, interrupted=interrupted)),
    ]
    if a.staged:  # the old result stays; the aborted rerun's files go
        steps.append(lambda: shutil.rmtree(a.root, ignore_errors=True))
    for step in steps:
        try:
            step()
        except Exception as record_exc:  # noqa: BLE001 - e.g. ENOSPC while recording
            log.error(
                "run %s: could not record the failure (%s: %s); the run's own error was: %s",
                run.run_id, type(record_exc).__name__, record_exc, message,
            )


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_one(
    run_dir: str | Path,
    *,
    backend: str | None = None,
    progress: Callable[[float, float, float], None] | None = None,
    show_progress: bool = True,
    if_not_done: bool = False,
    stale_after_s: float = STALE_AFTER_S,
) -> str:
    """Run the run stored in ``run_dir``; return ``done``, ``failed`` or ``skipped``.

    The run is claimed first (:mod:`orchestrator.claims`) and its state re-read under the claim:
    a run claimed by a live process is ``skipped``, and so is a ``done`` run with ``if_not_done``.
    A ``done`` run otherwise (``--force``) is rerun into a staging folder and swapped in on
    success; a failed or interrupted rerun keeps the old result. Ctrl-C / SIGTERM mark the run
    ``failed`` (``interrupted``, resumable) and propagate. ``backend`` overrides the spec's;
    ``progress(t, dod, dt)`` receives every step.
    """
    run = Run(run_dir)
    try:
        claim = claims.acquire(run.path, stale_after_s)
    except claims.ClaimHeld as exc:
        log.info("skipped: %s", exc)
        return "skipped"
    try:
        with claim.keep_alive():
            return _run_claimed(run, backend, progress, show_progress, if_not_done, stale_after_s)
    finally:
        with contextlib.suppress(OSError):
            claim.release()


def _run_claimed(run: Run, backend, progress, show_progress: bool, if_not_done: bool, stale_after_s: float) -> str:
    status = run.read_status()
    state = status.get("state", "pending")
    if state == "done" and if_not_done:
        log.info("%s/%s: already done (finished meanwhile?); skipped", run.study, run.run_id)
        return "skipped"
    if state == "running" and status.get("pid") != os.getpid() and status_owner_alive(status, stale_after_s):
        log.info("%s/%s: running in pid %s on %s; skipped", run.study, run.run_id, status.get("pid"), status.get("host"))
        return "skipped"
    a = _Attempt(run, staged=state == "done")
    handler = None
    try:
        number = run.mark_running(staged=a.staged)  # non-done before anything is deleted
        run.clear_results(a.root)
        _log_header(run, number, a.staged)
        handler = _attach_log(run)
        _solve(a, backend, progress, show_progress)
        if a.staged:
            run.swap_in(a.root)
        log_warnings(run)  # implausible theta or stresses: into log.txt (show and report repeat them)
        run.mark_done()
        log.info("run %s done in %.2f s (attempt %d)", run.run_id, a.wall(), number)
        return "done"
    except BaseException as exc:  # a failed run is recorded, never propagated; interrupts are re-raised
        _record_failure(a, exc)
        if not isinstance(exc, Exception):
            raise
        return "failed"
    finally:
        if a.printer is not None:
            a.printer.close()
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
