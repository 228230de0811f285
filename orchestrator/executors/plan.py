"""Which runs an executor should (re)run: skip-if-done, resume of stale runs, --force, --resubmit-failed.

The run directory is the source of truth. A run is

* ``done``: skipped unless ``force``;
* ``running`` with a live claim (:mod:`orchestrator.claims`), a SLURM task still in the queue,
  a live process or a fresh heartbeat: skipped (someone is on it); otherwise run again (resumed);
* ``failed``: run again locally; for batch submission only with ``resubmit_failed``;
* ``pending``: run, unless it is already waiting in the scheduler queue (``queued``);
* damaged (``status.json`` unreadable): reported, and treated as ``failed``.

The plan is advisory: ``run_one`` re-checks each run when it claims it, so runs finished or
claimed by another process meanwhile are skipped then.

``only_failed`` (``--resubmit-failed``) selects the failed runs and nothing else.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from ..store import STALE_AFTER_S, Run

__all__ = ["Decision", "Plan", "decide", "job_ended", "local_process_alive", "plan_runs"]


@dataclass(frozen=True)
class Decision:
    """What to do with one run and why (``reason`` is shown to the user)."""

    run: Run
    state: str
    execute: bool
    reason: str


@dataclass
class Plan:
    """The decisions for a list of runs, in input order."""

    decisions: list[Decision] = field(default_factory=list)

    @property
    def to_run(self) -> list[Run]:
        """Runs to execute."""
        return [d.run for d in self.decisions if d.execute]

    @property
    def skipped(self) -> list[Decision]:
        """Decisions not to execute."""
        return [d for d in self.decisions if not d.execute]

    def summary(self) -> str:
        """E.g. ``"3 to run (2 pending, 1 stale); skipped: 5 done, 1 failed"``."""
        run = Counter(d.reason.split(":")[0] for d in self.decisions if d.execute)
        skip = Counter(d.reason.split(":")[0] for d in self.decisions if not d.execute)
        text = f"{len(self.to_run)} to run"
        if run:
            text += " (" + ", ".join(f"{n} {k}" for k, n in sorted(run.items())) + ")"
        if skip:
            text += "; skipped: " + ", ".join(f"{n} {k}" for k, n in sorted(skip.items()))
        return text


def decide(
    run: Run,
    *,
    force: bool = False,
    include_failed: bool = True,
    only_failed: bool = False,
    stale_after_s: float = STALE_AFTER_S,
    queued_jobs: Container[str] | None = None,
    job_ended: bool = False,
) -> Decision:
    """The decision for one run (see the module docstring).

    ``queued_jobs``: job ids the scheduler still lists (pending or running); a pending or failed
    run whose ``slurm_job`` (set at submission, cleared when the run starts) is among them is
    waiting in the queue and is not submitted twice, even with ``force``. ``None`` = the queue
    could not be read: such a run is then assumed queued (never run one directory twice).
    Local execution passes an empty set (a leftover job id does not block a local run).
    ``job_ended``: the SLURM task that was running this ``running`` run has left the queue (see
    :func:`job_ended`), so its process is gone even if the heartbeat is still fresh.
    """
    status = run.read_status()
    if status.get("damaged"):  # reported, then treated as a failed (resumable) run
        include = include_failed or only_failed
        return Decision(run, "failed", include, f"damaged: {status.get('error')}" + ("; rerun" if include else ""))
    state = str(status.get("state", "pending"))
    job = status.get("slurm_job")
    if job and state in ("pending", "failed"):  # sent to SLURM and maybe still waiting there
        if queued_jobs is None:
            return Decision(run, state, False, f"queued: SLURM job {job} (queue unreadable; --force resubmits)")
        if str(job) in queued_jobs:
            return Decision(run, state, False, f"queued: SLURM job {job}")
    if only_failed:
        if state == "failed":
            return Decision(run, state, True, "failed: resubmitted")
        return Decision(run, state, False, f"{state}: not failed")
    in_queue = bool(job) and queued_jobs is not None and str(job) in queued_jobs
    # a task the scheduler still lists is alive whatever its heartbeat says (long set-up, slow file system)
    stale = state == "running" and (job_ended or (not in_queue and run.is_stale(stale_after_s)))
    if force:
        if state == "running" and not stale:
            return Decision(run, state, False, f"running: pid {status.get('pid')} on {status.get('host')}")
        return Decision(run, state, True, f"{state}: forced")
    if state == "done":
        return Decision(run, state, False, "done: use --force to rerun")
    if state == "running":
        if stale:
            why = "its SLURM job ended" if job_ended else "no heartbeat"
            return Decision(run, state, True, f"stale: {why}, resumed")
        return Decision(run, state, False, f"running: pid {status.get('pid')} on {status.get('host')}")
    if state == "failed":
        if include_failed:
            return Decision(run, state, True, "failed: rerun")
        return Decision(run, state, False, "failed: use --resubmit-failed")
    return Decision(run, state, True, "pending")


def local_process_alive(status: dict) -> bool:
    """True when ``status`` names a process on this host that is still alive."""
    if status.get("host") != socket.gethostname() or not status.get("pid"):
        return False
    try:
        os.kill(int(status["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True  # exists but not ours, or unparsable: assume alive (never run twice)
    return True


def job_ended(status: dict, job: str | None, queue: Container[str] | None) -> bool:
    """Whether a ``running`` run's SLURM task ``job`` has left a readable ``queue``.

    SLURM ends every process of a finished task, so a run still ``running`` after its task left
    the queue was killed (time limit, OOM, node failure) -- unless a live local process runs it.
    """
    if status.get("state") != "running" or not job or queue is None:
        return False
    return str(job) not in queue and not local_process_alive(status)


def plan_runs(runs: Iterable[Run], **options: object) -> Plan:
    """:func:`decide` for every run (same keyword options)."""
    return Plan([decide(run, **options) for run in runs])  # type: ignore[arg-type]
