"""Run prepared run directories in parallel on this machine (``octant run SPEC -j N``).

A spawn-based process pool runs :func:`orchestrator.runner.run_one` in worker processes. Runs that
are already ``done`` are skipped (``force`` reruns them), runs left ``running`` by a dead process
are resumed (see :mod:`.plan`). One failed run never stops the others: ``run_one`` records solver
failures itself, and a worker that dies outright (segfault, ``os._exit``, OOM kill) only fails
the run it was executing -- the runs that were in flight next to it are retried one by one in a
fresh pool to find the culprit.

Progress: on a terminal, a rich overall bar with one row per run in flight and a line per
finished run; otherwise plain log lines (``logging``), one per finished run.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..claims import STALE_AFTER_S, break_if_dead, read_claim
from ..errors import StoreError, SubmissionError, raise_interrupted
from ..store import Run
from ..labels import format_changes
from .plan import plan_runs

__all__ = ["LocalReport", "RunOutcome", "run_local"]

log = logging.getLogger(__name__)

WORKER_DIED = (
    "the worker process running this run died abruptly (killed by a signal such as the OOM "
    "killer, a segfault, or os._exit) before the run could record its own result; "
    "rerun it alone with 'octant run-one {path}' to see the crash"
)
INTERRUPTED = "interrupted (Ctrl-C): its worker was stopped; rerun the study to resume this run"
#: seconds the workers get to record an interruption themselves before they are killed
INTERRUPT_GRACE_S = 5.0


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run: ``state`` is ``done``, ``failed`` or ``skipped``."""

    path: Path
    study: str
    run_id: str
    state: str
    label: str = ""
    detail: str = ""
    wall_s: float = 0.0

    @property
    def log_path(self) -> Path:
        """The run's ``log.txt``."""
        return self.path / "log.txt"


@dataclass
class LocalReport:
    """Outcomes of a local execution, in input order."""

    outcomes: list[RunOutcome] = field(default_factory=list)
    jobs: int = 1
    wall_s: float = 0.0

    def _with(self, state: str) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.state == state]

    @property
    def done(self) -> list[RunOutcome]:
        """Runs that finished ``done`` in this execution."""
        return self._with("done")

    @property
    def failed(self) -> list[RunOutcome]:
        """Runs that ended ``failed`` in this execution."""
        return self._with("failed")

    @property
    def skipped(self) -> list[RunOutcome]:
        """Runs not executed (already done, running elsewhere, ...)."""
        return self._with("skipped")

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return not self.failed

    @property
    def exit_code(self) -> int:
        """0 when every executed run is done, 1 when any failed."""
        return 0 if self.ok else 1

    @property
    def runs_per_s(self) -> float:
        """Executed runs per second of wall time."""
        executed = len(self.done) + len(self.failed)
        return executed / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> str:
        """A few lines: counts, wall time, and each failed run with its error and log."""
        executed = len(self.done) + len(self.failed)
        lines = [
            f"{len(self.done)} done, {len(self.failed)} failed, {len(self.skipped)} skipped "
            f"of {len(self.outcomes)} run(s) in {self.wall_s:.1f} s"
            + (f" with {self.jobs} worker(s)" if executed else "")
        ]
        reasons = sorted({o.detail.split(":")[0] for o in self.skipped})
        if "done" in reasons:
            lines.append("  runs already done were skipped (--force reruns them)")
        for o in self.failed:
            lines.append(f"  failed {o.study}/{o.run_id} {o.label}: {o.detail}  (log: {o.log_path})")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ worker side
_in_task = False  # worker side: whether a run is executing (SIGTERM then interrupts it)


def _on_sigterm(signum: int, frame: object) -> None:
    if _in_task:
        raise_interrupted(signum, frame)  # run_one records the run as interrupted
    os._exit(130)  # idle: nothing to record


def _worker_init() -> None:
    """Workers ignore SIGINT (the parent decides) and stop on SIGTERM (see :meth:`_Pool._interrupt`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


def _execute(run_dir: str, backend: str | None, if_not_done: bool = True) -> tuple[str, float]:
    """Worker entry point: run one run directory, return (final state, wall seconds)."""
    global _in_task
    from ..runner import run_one

    started = time.perf_counter()
    _in_task = True
    try:
        state = run_one(run_dir, backend=backend, show_progress=False, if_not_done=if_not_done)
    except KeyboardInterrupt:
        os._exit(130)  # recorded by run_one; the parent is stopping the pool
    finally:
        _in_task = False
    return state, time.perf_counter() - started


# ------------------------------------------------------------------------------ progress
class _Progress:
    """Overall bar + rows for runs in flight on a terminal; plain log lines otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, live: bool | None = None):
        self.total = total
        self.finished = 0
        stream = stream if stream is not None else sys.stderr
        self.live = stream.isatty() if live is None else live
        self._rows: dict[str, Any] = {}
        self._bar = None
        if self.live and total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=stream),
            )
            self._overall = self._bar.add_task("all runs", total=total)
            self._bar.start()

    def started(self, run: Run, label: str) -> None:
        if self._bar is not None:
            if str(run.path) not in self._rows:  # a retry after a worker crash keeps its row
                self._rows[str(run.path)] = self._bar.add_task(f"  {run.run_id} {label}", total=None)
        else:
            log.debug("started %s/%s %s", run.study, run.run_id, label)

    def finished_run(self, outcome: RunOutcome) -> None:
        self.finished += 1
        line = (
            f"[{self.finished}/{self.total}] {outcome.state:<6} {outcome.study}/{outcome.run_id} "
            f"{outcome.label}  {outcome.wall_s:.2f} s"
        )
        if outcome.state == "failed":
            line += f"  error: {outcome.detail} (log: {outcome.log_path})"
        if self._bar is not None:
            row = self._rows.pop(str(outcome.path), None)
            if row is not None:
                self._bar.remove_task(row)
            self._bar.advance(self._overall)
            self._bar.console.print(line, markup=False, highlight=False)
        elif outcome.state == "failed":
            log.warning("%s", line)
        else:
            log.info("%s", line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# ------------------------------------------------------------------------------ driver
def _label(run: Run) -> str:
    """``a=1, b=2`` from the run's swept values (short keys)."""
    try:
        changes = run.changes
    except (StoreError, TypeError, ValueError) as exc:  # an unreadable run.json must not stop the executor
        log.warning("%s: no label for the progress line (%s)", run.path, exc)
        return ""
    return format_changes(changes) if changes else ""


def _outcome(run: Run, label: str, state: str, wall_s: float) -> RunOutcome:
    detail = ""
    status = run.read_status()
    if state == "skipped":  # found claimed or done when its worker tried to claim it
        claim = read_claim(run.path)
        if status.get("state") == "done":
            detail = "done: finished by another process"
        else:
            detail = f"running: claimed by {claim.describe() if claim else 'another process'}"
    elif state != "done":
        detail = str(status.get("error") or status.get("rerun_error") or "")
    return RunOutcome(run.path, run.study, run.run_id, state, label, detail, wall_s)


def _record_crash(run: Run) -> None:
    """Mark a run whose worker died as failed, in status.json and log.txt."""
    message = WORKER_DIED.format(path=run.path)
    try:
        with open(run.log_path, "a", encoding="utf-8") as fh:
            fh.write(f"octant local executor: {message}\n")
        if break_if_dead(run.path) and run.read_status().get("state") == "running":
            run.mark_failed(message)
    except OSError as exc:
        log.error("could not record the crash of %s: %s", run.path, exc)


def _record_interrupt(run: Run) -> None:
    """Mark a run whose worker was stopped by Ctrl-C as failed (interrupted), unless the worker did."""
    try:
        if break_if_dead(run.path) and run.read_status().get("state") == "running":
            run.mark_failed(INTERRUPTED, interrupted=True)
    except OSError as exc:
        log.error("could not record the interruption of %s: %s", run.path, exc)


class _Pool:
    """Runs a queue of runs through spawn process pools, isolating worker crashes."""

    def __init__(
        self, jobs: int, backend: str | None, progress: _Progress, labels: dict[Path, str], if_not_done: bool = True
    ):
        self.jobs = jobs
        self.backend = backend
        self.if_not_done = if_not_done
        self.progress = progress
        self.labels = labels
        self.outcomes: dict[Path, RunOutcome] = {}
        self._context = multiprocessing.get_context("spawn")

    def _finish(self, run: Run, state: str, wall_s: float) -> None:
        outcome = _outcome(run, self.labels[run.path], state, wall_s)
        self.outcomes[run.path] = outcome
        self.progress.finished_run(outcome)

    def run(self, runs: Sequence[Run]) -> None:
        """Execute every run; returns when all have an outcome."""
        queue: deque[Run] = deque(runs)
        while queue:
            suspects = self._batch(queue, self.jobs)
            for run in suspects:  # the pool broke: find the run that kills its worker
                if self._batch(deque([run]), 1):
                    _record_crash(run)
                    self._finish(run, "failed", 0.0)

    def _batch(self, queue: deque[Run], workers: int) -> list[Run]:
        """Drain ``queue`` through one pool; return the runs in flight if the pool broke."""
        started: dict[Future[tuple[str, float]], tuple[Run, float]] = {}
        with ProcessPoolExecutor(max_workers=workers, mp_context=self._context, initializer=_worker_init) as pool:
            try:
                while queue or started:
                    while queue and len(started) < workers:
                        run = queue.popleft()
                        try:
                            future = pool.submit(_execute, str(run.path), self.backend, self.if_not_done)
                        except BrokenProcessPool:
                            queue.appendleft(run)  # never started: back in line
                            raise
                        started[future] = (run, time.perf_counter())
                        self.progress.started(run, self.labels[run.path])
                    done, _ = wait(started, return_when=FIRST_COMPLETED)
                    broken = False
                    for future in done:
                        try:
                            state, wall = future.result()
                        except BrokenProcessPool:
                            broken = True  # keep it in `started`: it is a suspect
                            continue
                        except Exception as exc:  # noqa: BLE001 - an error outside run_one
                            run, t0 = started[future]
                            log.error("run %s raised in its worker: %s", run.path, exc)
                            try:
                                if break_if_dead(run.path):
                                    run.mark_failed(f"{type(exc).__name__}: {exc}")
                            except OSError as record_exc:
                                log.error("could not record it (%s)", record_exc)
                            state, wall = "failed", time.perf_counter() - t0
                        run, _ = started.pop(future)
                        self._finish(run, state, wall)
                    if broken:
                        return [r for r, _ in started.values()]
            except BrokenProcessPool:  # raised by submit() when a worker died meanwhile
                return [r for r, _ in started.values()]
            except KeyboardInterrupt:
                self._interrupt(pool, [r for r, _ in started.values()])
                raise
        return []

    def _interrupt(self, pool: ProcessPoolExecutor, in_flight: list[Run]) -> None:
        """Ctrl-C: stop the workers now and leave their runs ``failed`` (interrupted), resumable.

        Workers get SIGTERM, which ``run_one`` records itself; those still alive after
        :data:`INTERRUPT_GRACE_S` (stuck in compiled code) are killed and their runs recorded here.
        """
        processes = list(getattr(pool, "_processes", {}).values())
        for proc in processes:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        while time.monotonic() < deadline and any(read_claim(run.path) for run in in_flight):
            time.sleep(0.05)  # each worker records its run and releases the claim
        for proc in processes:  # workers survive an exception in a task: end them
            if proc.is_alive():
                proc.kill()
            proc.join(2.0)
        for run in in_flight:
            _record_interrupt(run)
        pool.shutdown(wait=False, cancel_futures=True)
        log.warning(
            "interrupted: %d run(s) in flight marked failed (interrupted); rerun the study to resume them",
            len(in_flight),
        )


def run_local(
    run_dirs: Iterable[str | Path],
    jobs: int = 1,
    force: bool = False,
    *,
    backend: str | None = None,
    stale_after_s: float = STALE_AFTER_S,
    live: bool | None = None,
) -> LocalReport:
    """Run prepared run directories with ``jobs`` worker processes.

    Skips ``done`` runs (``force`` reruns them) and runs being executed by a live process;
    resumes stale ``running`` runs; reruns ``failed`` ones. ``backend`` overrides the spec's
    backend; ``live`` forces the terminal display on/off (default: when stderr is a terminal).
    Never raises for a failed run: see :attr:`LocalReport.failed` and :attr:`LocalReport.exit_code`.
    """
    if jobs < 1:
        raise SubmissionError(f"-j/--jobs must be at least 1, got {jobs}")
    started = time.perf_counter()
    runs = [Run(p) for p in run_dirs]
    plan = plan_runs(runs, force=force, stale_after_s=stale_after_s, queued_jobs=())
    labels = {run.path: _label(run) for run in runs}
    for decision in plan.decisions:
        if decision.reason.startswith("damaged"):
            log.warning("%s: %s", decision.run.path, decision.reason)
    for decision in plan.skipped:
        run = decision.run
        log.debug("skip %s/%s %s: %s", run.study, run.run_id, labels[run.path], decision.reason)
    to_run = plan.to_run
    workers = max(1, min(jobs, len(to_run)))
    if to_run:
        log.info("running %d run(s) with %d worker(s): %s", len(to_run), workers, plan.summary())
    elif plan.skipped:
        log.info("nothing to run: %s", plan.summary())
    progress = _Progress(len(to_run), live=live)
    pool = _Pool(workers, backend, progress, labels, if_not_done=not force)
    try:
        pool.run(to_run)
    finally:
        progress.close()
    outcomes = []
    for decision in plan.decisions:
        run = decision.run
        if decision.execute:
            outcomes.append(pool.outcomes[run.path])
        else:
            outcomes.append(RunOutcome(run.path, run.study, run.run_id, "skipped", labels[run.path], decision.reason))
    return LocalReport(outcomes, jobs=workers, wall_s=time.perf_counter() - started)
