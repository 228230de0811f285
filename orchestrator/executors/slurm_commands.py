"""Thin wrappers around the SLURM command-line tools (sbatch, scontrol, squeue, sacct, scancel).

Submission commands raise :class:`~orchestrator.errors.SubmissionError` with the tool's own
message and a hint; query commands (squeue, sacct, scontrol show config) never raise: the run
directories are the source of truth and the scheduler is a secondary source that may be missing
or fail (``sacct`` exits 1 when accounting is disabled).
"""

from __future__ import annotations

import getpass
import logging
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import SubmissionError

__all__ = [
    "DEFAULT_MAX_ARRAY_SIZE",
    "cancel",
    "max_array_size",
    "release",
    "sacct_states",
    "sbatch",
    "squeue_states",
]

log = logging.getLogger(__name__)

#: SLURM's own default MaxArraySize, used when ``scontrol show config`` cannot be read.
DEFAULT_MAX_ARRAY_SIZE = 1001

_TIMEOUT_S = 60.0


def _run(argv: Sequence[str], timeout_s: float = _TIMEOUT_S) -> subprocess.CompletedProcess[str] | None:
    """Run a SLURM tool; ``None`` when it is not installed or does not answer in time."""
    if shutil.which(argv[0]) is None:
        log.debug("%s is not installed", argv[0])
        return None
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("%s failed: %s", argv[0], exc)
        return None


def max_array_size(default: int = DEFAULT_MAX_ARRAY_SIZE) -> int:
    """The cluster's ``MaxArraySize`` (array indices run 0..MaxArraySize-1); ``default`` if unknown."""
    proc = _run(["scontrol", "show", "config"])
    if proc is None or proc.returncode != 0:
        log.info("cannot read MaxArraySize from 'scontrol show config'; assuming %d", default)
        return default
    match = re.search(r"^\s*MaxArraySize\s*=\s*(\d+)", proc.stdout, flags=re.MULTILINE)
    if not match or int(match.group(1)) < 1:
        log.info("no MaxArraySize in 'scontrol show config'; assuming %d", default)
        return default
    return int(match.group(1))


def sbatch(script: Path, *, hold: bool = False) -> str:
    """Submit ``script`` with ``sbatch --parsable`` and return the job id.

    With ``hold`` the job is submitted held (``-H``) and starts only after :func:`release`.
    """
    if shutil.which("sbatch") is None:
        raise SubmissionError(
            "sbatch not found: this machine has no SLURM client. Submit from a login node, install "
            "slurm-client, or run locally with 'octant run SPEC -j N'"
        )
    argv = ["sbatch", "--parsable", *(["--hold"] if hold else []), str(script)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SubmissionError(
            f"sbatch did not answer within {_TIMEOUT_S:.0f} s for {script}; is slurmctld up? (check with 'sinfo')"
        ) from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
        raise SubmissionError(
            f"sbatch rejected {script}: {detail}. Check the partition/time/memory options and "
            "'sinfo'; the script is kept for inspection"
        )
    # --parsable prints "jobid" or "jobid;cluster"
    job_id = proc.stdout.strip().splitlines()[-1].split(";")[0].strip() if proc.stdout.strip() else ""
    if not job_id.isdigit():
        raise SubmissionError(f"sbatch returned no job id for {script} (output {proc.stdout!r})")
    return job_id


def release(job_id: str) -> None:
    """Release a held job (``scontrol release``); raise :class:`SubmissionError` on failure."""
    proc = _run(["scontrol", "release", job_id])
    if proc is None or proc.returncode != 0:
        detail = "" if proc is None else (proc.stderr or proc.stdout).strip()
        raise SubmissionError(f"could not release held job {job_id}: {detail or 'scontrol failed'}")


def cancel(job_id: str) -> bool:
    """Cancel a job (best effort); True when ``scancel`` succeeded."""
    proc = _run(["scancel", job_id])
    return proc is not None and proc.returncode == 0


def _base_job(job_id: str) -> str:
    """``"123_4"`` -> ``"123"`` (the array job of a task id)."""
    return job_id.split("_", 1)[0]


def squeue_states(job_ids: Iterable[str] | None = None) -> dict[str, str] | None:
    """Job id -> state (``PENDING``, ``RUNNING``, ...) of this user's jobs; ``None`` if squeue failed.

    Array tasks are keyed ``<array job>_<task>`` (``squeue -r`` lists one line per task; a
    compressed range such as ``123_[4-9%2]`` is expanded too). With ``job_ids``, only jobs whose
    array job is among them are returned.
    """
    wanted = {_base_job(j) for j in job_ids} if job_ids is not None else None
    if wanted is not None and not wanted:
        return {}
    proc = _run(["squeue", "-h", "-r", "-u", getpass.getuser(), "-o", "%i|%T"])
    if proc is None:
        return None
    if proc.returncode != 0:
        log.debug("squeue failed: %s", (proc.stderr or proc.stdout).strip())
        return None
    states: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if "|" not in line:
            continue
        job, state = (part.strip() for part in line.split("|", 1))
        if wanted is not None and _base_job(job) not in wanted:
            continue
        for expanded in _expand_array_id(job):
            states[expanded] = state
    return states


def _expand_array_id(job: str) -> list[str]:
    """``"12_[0-3,7%2]"`` -> ``["12_0", ..., "12_3", "12_7"]``; other ids unchanged."""
    match = re.fullmatch(r"(\d+)_\[([^\]]+)\]", job)
    if not match:
        return [job]
    base, spec = match.group(1), match.group(2).split("%", 1)[0]
    out: list[str] = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            if lo.isdigit() and hi.isdigit():
                out += [f"{base}_{i}" for i in range(int(lo), int(hi) + 1)]
        elif part.isdigit():
            out.append(f"{base}_{part}")
    return out


def sacct_states(job_ids: Iterable[str]) -> dict[str, str] | None:
    """Job id -> final state from ``sacct``; ``None`` when accounting is unavailable (common)."""
    wanted = sorted({_base_job(j) for j in job_ids})
    if not wanted:
        return {}
    proc = _run(["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ",".join(wanted)])
    if proc is None or proc.returncode != 0:
        if proc is not None:
            log.debug("sacct unavailable: %s", (proc.stderr or proc.stdout).strip())
        return None
    states: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if "|" in line:
            job, state = line.split("|", 1)
            states[job.strip()] = state.strip().split()[0] if state.strip() else ""
    return states
