"""The sbatch job-array script octant writes for one chunk of runs, and its options.

Each array task reads its slice of a manifest file (one absolute run directory per line; task
``i`` owns lines ``i*pack+1 .. (i+1)*pack``) and calls ``octant run-one RUN_DIR`` for each, with
the absolute interpreter that submitted and ``PYTHONPATH`` pointing at the imported octant, so
the job imports the same code whether or not octant is pip-installed on the node.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import SubmissionError

__all__ = ["SlurmOptions", "package_root", "render_array_script"]

_TIME_RE = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")
_MEM_RE = re.compile(r"^\d+[KMGT]?$", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.,:-]+$")


@dataclass(frozen=True)
class SlurmOptions:
    """Resources and layout of a submission.

    ``time`` is SLURM's ``[D-]HH:MM:SS``; ``mem`` e.g. ``4G`` (per node); ``array_limit`` is the
    ``%L`` throttle (at most L tasks at once); ``pack`` runs per array task (run one after the
    other); ``max_array_size`` the cluster's MaxArraySize (tasks per sbatch call).
    """

    partition: str | None = None
    time: str | None = None
    cpus: int | None = None
    mem: str | None = None
    array_limit: int | None = None
    pack: int = 1
    max_array_size: int = 1001

    def __post_init__(self) -> None:
        if self.partition is not None and not _NAME_RE.match(self.partition):
            raise SubmissionError(f"--partition {self.partition!r} is not a valid partition name (see 'sinfo')")
        if self.time is not None and not _TIME_RE.match(self.time):
            raise SubmissionError(
                f"--time {self.time!r} is not a SLURM time limit; write HH:MM:SS or D-HH:MM:SS, e.g. 02:00:00"
            )
        if self.mem is not None and not _MEM_RE.match(self.mem):
            raise SubmissionError(f"--mem {self.mem!r} is not a SLURM memory size; write e.g. 4000M or 4G")
        for name in ("cpus", "array_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SubmissionError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if self.pack < 1:
            raise SubmissionError(f"--pack must be at least 1 run per array task, got {self.pack}")
        if self.max_array_size < 1:
            raise SubmissionError(f"MaxArraySize must be at least 1, got {self.max_array_size}")

    @property
    def runs_per_chunk(self) -> int:
        """How many runs one sbatch array call can hold."""
        return self.max_array_size * self.pack


def package_root() -> Path:
    """The directory that holds the imported ``orchestrator`` package (goes on PYTHONPATH)."""
    return Path(__file__).resolve().parents[2]


def render_array_script(
    *,
    study: str,
    manifest: Path,
    n_runs: int,
    log_dir: Path,
    options: SlurmOptions,
    licenses: tuple[str, ...] = (),
    python: str | None = None,
    pythonpath: Path | None = None,
    skip_done: bool = True,
) -> str:
    """The sbatch script of one array chunk of ``n_runs`` runs listed in ``manifest``.

    ``python`` defaults to ``sys.executable``, ``pythonpath`` to :func:`package_root`;
    ``skip_done`` passes ``--if-not-done`` to ``run-one`` (a run finished meanwhile, e.g. by a
    local ``octant run``, is not redone; ``--force`` submissions pass False).
    """
    if n_runs < 1:
        raise SubmissionError("an array chunk needs at least one run")
    n_tasks = -(-n_runs // options.pack)
    if n_tasks > options.max_array_size:
        raise SubmissionError(f"{n_tasks} array tasks exceed MaxArraySize={options.max_array_size}; split into chunks")
    if any(ch.isspace() for ch in str(log_dir)):
        raise SubmissionError(
            f"the submission directory {log_dir} contains whitespace, which #SBATCH lines cannot "
            "quote; use a --runs-dir without spaces"
        )
    python = python or sys.executable
    pythonpath = pythonpath or package_root()
    array = f"0-{n_tasks - 1}" + (f"%{options.array_limit}" if options.array_limit else "")
    directives = [
        f"--job-name=octant-{study}",
        f"--array={array}",
        f"--output={log_dir}/%A_%a.out",
        f"--error={log_dir}/%A_%a.err",
        f"--chdir={log_dir.parent}",
        "--ntasks=1",
    ]
    if options.partition:
        directives.append(f"--partition={options.partition}")
    if options.time:
        directives.append(f"--time={options.time}")
    if options.cpus:
        directives.append(f"--cpus-per-task={options.cpus}")
    if options.mem:
        directives.append(f"--mem={options.mem}")
    if licenses:
        directives.append(f"--licenses={','.join(licenses)}")
    q = shlex.quote
    lines = [
        "#!/bin/bash",
        *(f"#SBATCH {d}" for d in directives),
        "",
        f"# octant: {n_runs} run(s) of study {study!r}, {options.pack} per array task.",
        "# Task i runs lines i*PACK+1 .. (i+1)*PACK of the manifest, one 'octant run-one' each;",
        "# each run records its own state in <run dir>/status.json and log.txt.",
        "set -u",
        f"export PYTHONPATH={q(str(pythonpath))}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"PYTHON={q(python)}",
        f"MANIFEST={q(str(manifest))}",
        f"PACK={options.pack}",
        "FIRST=$(( SLURM_ARRAY_TASK_ID * PACK + 1 ))",
        "LAST=$(( FIRST + PACK - 1 ))",
        "# an unreadable manifest or an empty slice fails the task (never a silent exit 0)",
        'RUNS=$(sed -n "${FIRST},${LAST}p" "$MANIFEST") || { echo "octant: cannot read the manifest $MANIFEST" >&2; exit 1; }',
        'if [ -z "$RUNS" ]; then echo "octant: no runs on lines ${FIRST}-${LAST} of $MANIFEST" >&2; exit 1; fi',
        "STATUS=0",
        "while IFS= read -r RUN_DIR; do",
        '    [ -n "$RUN_DIR" ] || continue',
        '    echo "octant: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname): $RUN_DIR"',
        f'    "$PYTHON" -m orchestrator.cli run-one{" --if-not-done" if skip_done else ""} "$RUN_DIR" || STATUS=1',
        'done <<< "$RUNS"',
        'exit "$STATUS"',
        "",
    ]
    return "\n".join(lines)
