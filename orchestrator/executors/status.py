"""Status of stored runs: the run directories first, the SLURM queue/accounting second.

``status.json`` of each run is authoritative. The SLURM job of a run comes from its status (set at
submission) or, once ``octant run-one`` has reset the status, from the submission records
(``runs/<study>/.slurm/*/submission.json`` + manifests). ``squeue`` (and ``sacct`` when
accounting exists) then add the scheduler's view; both may be missing or fail without harm.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..spec import check_name
from ..store import STALE_AFTER_S, Run, RunStore
from . import slurm_commands as sc
from ..labels import format_changes
from .manifest import list_submissions, read_manifest
from .plan import job_ended

__all__ = ["RunStatus", "SlurmRef", "collect_status", "format_status_table", "slurm_index", "state_counts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlurmRef:
    """Where a run was sent: ``<job>_<task>`` and the task's stdout/stderr files."""

    job: str
    submission: str
    output: str | None = None
    error: str | None = None


@dataclass
class RunStatus:
    """One row of ``octant status``."""

    study: str
    run_id: str
    state: str
    changes: dict[str, Any]
    path: str
    error: str | None = None
    log: str | None = None
    stale: bool = False
    slurm_job: str | None = None
    slurm_output: str | None = None
    scheduler_state: str | None = None
    started: str | None = None
    finished: str | None = None
    host: str | None = None
    pid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def slurm_index(study_dir: Path) -> dict[str, SlurmRef]:
    """Run directory -> its latest SLURM task, from the study's submission records."""
    index: dict[str, SlurmRef] = {}
    for sub in list_submissions(study_dir):  # oldest first: later submissions win
        pack = int(sub.options.get("pack", 1) or 1)
        for chunk in sub.chunks:
            if not chunk.job_id:
                continue
            try:
                run_dirs = read_manifest(Path(chunk.manifest))
            except StoreError as exc:  # status still lists the runs, without their SLURM job ids
                log.warning("%s; the runs of job %s are shown without their SLURM job ids", exc, chunk.job_id)
                continue
            for line, run_dir in enumerate(run_dirs):
                task = chunk.task_job_id(line, pack) or chunk.job_id
                if chunk.array:
                    out, err = sub.log_dir / f"{task}.out", sub.log_dir / f"{task}.err"
                else:  # a per-run COMSOL batch script logs into the run directory
                    out = err = run_dir / "comsol" / f"slurm-{task}.out"
                index[str(run_dir)] = SlurmRef(job=task, submission=sub.id, output=str(out), error=str(err))
    return index


def _row(run: Run, ref: SlurmRef | None, stale_after_s: float) -> RunStatus:
    try:
        status = run.status
    except StoreError as exc:
        status = {"state": "failed", "error": f"status.json unreadable: {exc}"}
    try:
        changes = run.changes
    except StoreError:
        changes = {}
    state = str(status.get("state", "pending"))
    job = status.get("slurm_job") or (ref.job if ref else None)
    output = status.get("slurm_output") or (ref.output if ref else None)
    log_file = str(run.log_path) if run.log_path.exists() else output
    return RunStatus(
        study=run.study,
        run_id=run.run_id,
        state=state,
        changes=changes,
        path=str(run.path),
        error=status.get("error"),
        log=log_file,
        stale=state == "running" and run.is_stale(stale_after_s),
        slurm_job=str(job) if job else None,
        slurm_output=output,
        started=status.get("started"),
        finished=status.get("finished"),
        host=status.get("host"),
        pid=status.get("pid"),
    )


def collect_status(
    store: RunStore,
    study: str | None = None,
    *,
    query_scheduler: bool = True,
    stale_after_s: float = STALE_AFTER_S,
) -> list[RunStatus]:
    """Status rows of every run of ``study`` (or of all studies), sorted by study and run id."""
    if study is not None:
        check_name(study)  # no path tricks in a study name
    studies = [study] if study else store.studies()
    if study and not (store.root / study).is_dir():
        known = ", ".join(store.studies()) or "none"
        raise StoreError(f"no study {study!r} in {store.root} (studies there: {known})")
    rows: list[RunStatus] = []
    for name in studies:
        index = slurm_index(store.root / name)
        for run in store.iter_runs(name):
            rows.append(_row(run, index.get(str(run.path)), stale_after_s))
    if query_scheduler:
        _add_scheduler_states(rows)
    return rows


def _add_scheduler_states(rows: Iterable[RunStatus]) -> None:
    """Fill ``scheduler_state`` from squeue, then sacct, for rows with a SLURM job (best effort)."""
    rows = [r for r in rows if r.slurm_job]
    if not rows:
        return
    jobs = [r.slurm_job for r in rows if r.slurm_job]
    queue = sc.squeue_states(jobs)
    missing = [r for r in rows if queue is None or r.slurm_job not in queue]
    acct = sc.sacct_states([r.slurm_job for r in missing if r.slurm_job]) if missing else {}
    for row in rows:
        if queue is not None and row.slurm_job in queue:
            row.scheduler_state = queue[row.slurm_job]
            row.stale = False  # the scheduler still runs it, whatever the heartbeat says
        elif acct and row.slurm_job in acct:
            row.scheduler_state = acct[row.slurm_job]
        elif queue is not None:
            row.scheduler_state = "not queued"
        if job_ended({"state": row.state, "host": row.host, "pid": row.pid}, row.slurm_job, queue):
            row.stale = True  # its task left the queue: the process running it is gone


def state_counts(rows: Iterable[RunStatus]) -> dict[str, int]:
    """state -> number of runs (``stale`` counted apart from ``running``)."""
    return dict(Counter("stale" if r.stale else r.state for r in rows))


def format_status_table(rows: list[RunStatus]) -> str:
    """A plain-text table: one line per run, failed runs with their error and log path."""
    if not rows:
        return "no runs"
    lines = []
    header = f"{'study':<20} {'run id':<12} {'state':<8} {'slurm job':<12} {'queue':<11} swept values"
    lines.append(header)
    for r in rows:
        changes = format_changes(r.changes)
        state = "stale" if r.stale else r.state
        lines.append(
            f"{r.study:<20.20} {r.run_id:<12} {state:<8} {r.slurm_job or '-':<12} "
            f"{r.scheduler_state or '-':<11} {changes}"
        )
        if r.state == "failed":
            lines.append(f"    error: {r.error or '(none recorded)'}")
            lines.append(f"    log: {r.log or '(no log)'}")
        elif r.stale:
            lines.append(
                "    stale: the process running it is gone (no heartbeat, or its SLURM job ended);"
                " 'octant submit' or 'octant run' picks it up again"
            )
    counts = state_counts(rows)
    lines.append("total: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f" ({len(rows)} runs)")
    return "\n".join(lines)
