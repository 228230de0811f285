"""Submission directories: manifests, job scripts and the submission record.

A SLURM submission of study ``S`` lives in ``runs/S/.slurm/<submission id>/``::

    submission.json          what was submitted: options, chunks, job ids, run dirs
    chunk-000.manifest       one absolute run directory per line (array task i owns lines
    chunk-000.sbatch         i*pack+1 .. (i+1)*pack) and the job script that reads it
    logs/<job>_<task>.out    SLURM stdout / stderr of each array task
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..store import atomic_write_text

log = logging.getLogger(__name__)

__all__ = [
    "SUBMISSIONS_DIRNAME",
    "ChunkRecord",
    "Submission",
    "list_submissions",
    "new_submission_id",
    "read_manifest",
    "write_manifest",
]

#: Folder under ``runs/<study>/`` that holds the SLURM submissions (dot: not a run directory).
SUBMISSIONS_DIRNAME = ".slurm"


def new_submission_id() -> str:
    """A sortable, unique submission id: UTC timestamp plus 4 random hex digits."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)


def write_manifest(path: Path, run_dirs: list[Path]) -> None:
    """Write ``run_dirs`` (absolute, one per line) to ``path`` atomically."""
    lines = []
    for run_dir in run_dirs:
        text = str(Path(run_dir).resolve())
        if "\n" in text:
            raise StoreError(f"run directory {text!r} contains a newline; cannot list it in a manifest")
        lines.append(text)
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_manifest(path: Path) -> list[Path]:
    """The run directories listed in a manifest file, in order."""
    try:
        return [Path(line) for line in path.read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise StoreError(f"cannot read manifest {path}: {exc}") from None


@dataclass
class ChunkRecord:
    """One ``sbatch --array`` call: its script, manifest, size and (once submitted) job id."""

    index: int
    script: str
    manifest: str
    n_runs: int
    n_tasks: int
    licenses: list[str] = field(default_factory=list)
    job_id: str | None = None
    array: bool = True

    def task_job_id(self, line: int, pack: int) -> str | None:
        """``<job>_<task>`` of the run on manifest line ``line`` (0-based), or the job id of a
        single-run (non-array) job; None before submission."""
        if self.job_id is None:
            return None
        return f"{self.job_id}_{line // pack}" if self.array else self.job_id


@dataclass
class Submission:
    """The record of one submission (``submission.json`` in its directory)."""

    id: str
    study: str
    path: Path
    created: float
    options: dict[str, Any]
    chunks: list[ChunkRecord] = field(default_factory=list)
    mode: str = "default"

    @property
    def record_path(self) -> Path:
        """``submission.json`` of this submission."""
        return self.path / "submission.json"

    @property
    def log_dir(self) -> Path:
        """Where SLURM writes the ``%A_%a.out``/``.err`` files."""
        return self.path / "logs"

    @property
    def job_ids(self) -> list[str]:
        """Job ids of the submitted chunks."""
        return [c.job_id for c in self.chunks if c.job_id]

    def save(self) -> None:
        """Write ``submission.json`` atomically."""
        data = asdict(self)
        data["path"] = str(self.path)
        atomic_write_text(self.record_path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> Submission:
        """Read a submission directory's record."""
        record = Path(path) / "submission.json"
        try:
            data = json.loads(record.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read submission record {record}: {exc}") from None
        chunks = [ChunkRecord(**c) for c in data.pop("chunks", [])]
        data["path"] = Path(path)
        return cls(chunks=chunks, **data)


def list_submissions(study_dir: Path) -> list[Submission]:
    """Readable submissions of a study, oldest first (unreadable records are skipped with a warning)."""
    root = Path(study_dir) / SUBMISSIONS_DIRNAME
    if not root.is_dir():
        return []
    out = []
    for sub in sorted(p for p in root.iterdir() if (p / "submission.json").is_file()):
        try:
            out.append(Submission.load(sub))
        except StoreError as exc:  # one damaged record must not hide the others: report it and go on
            log.warning("skipped an unreadable submission record: %s", exc)
            continue
    return out
