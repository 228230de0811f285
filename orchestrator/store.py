"""The run store: ``runs/<study>/<run id>/``, the output contract of DESIGN.md section 5.

Layout of one run directory::

    spec.yaml          resolved run spec (SI), the input of ``octant run-one``
    run.json           study, run id, physics id, swept values
    status.json        state pending|running|done|failed, timestamps, heartbeat, error
    provenance.json    versions, git commit, host, backend used and why, solver statistics
    fields.pvd         ParaView time series -> fields/NNNN.vtu
    scalars.csv        one row per accepted time step
    log.txt, images/

Every whole-file write goes through :func:`atomic_write_text` / :func:`atomic_write_bytes` (temp file
in the same folder, fsync, rename), so a reader never sees half a file and a crash never leaves a
half-``done`` run: ``done`` is written last, after every result file is in place. ``scalars.csv`` is
appended line by line (one ``write`` of a full line each); readers drop an incomplete last line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from solvers.api import FIELD_UNITS, SCALAR_COLUMNS, SCALAR_DEFAULTS, FieldFrame

from .claims import STALE_AFTER_S, boot_id, read_claim, umask
from .errors import RunNotFound, StoreError
from .runspec import RUN_META, RunSpec
from .spec import NAME_PATTERN

__all__ = [
    "STATES",
    "Run",
    "RunStore",
    "StoreSink",
    "atomic_write_bytes",
    "atomic_write_text",
    "contained",
    "default_runs_dir",
    "status_owner_alive",
]

log = logging.getLogger(__name__)

STATES = ("pending", "running", "done", "failed")
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{12}$")
#: result files and folders of an attempt (what a forced rerun stages and swaps in)
RESULT_FILES = ("fields.pvd", "scalars.csv", "provenance.json")
RESULT_DIRS = ("fields", "images")
STAGING = ".staging"


def default_runs_dir() -> Path:
    """``$OCTANT_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("OCTANT_RUNS_DIR", "runs"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~umask())  # mkstemp creates 0600: give the mode a plain open() would
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable ({exc}); delete the run directory to rerun it") from None


# --------------------------------------------------------------------------------------------------
class StoreSink:
    """A :class:`solvers.api.ResultSink` writing into a run directory.

    Fields go to ``fields/NNNN.vtu`` (VTK XML unstructured grid via meshio, written to a temp file and
    renamed) and ``fields.pvd`` is rewritten atomically after each frame; scalars are appended to
    ``scalars.csv``. ``progress`` refreshes the heartbeat at most every ``heartbeat_s`` seconds and
    forwards to an optional callback (progress bar / log lines).
    """

    def __init__(self, run: Run, *, on_progress=None, heartbeat_s: float = 10.0, root: Path | None = None):
        self.run = run
        self.root = Path(root) if root is not None else run.path  # a staging folder for a forced rerun
        self.root.mkdir(parents=True, exist_ok=True)
        self.frames: list[tuple[float, float, str]] = []
        self._on_progress = on_progress
        self._heartbeat_s = heartbeat_s
        self._last_beat = 0.0
        self._scalars = open(self.root / "scalars.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._scalars.write(",".join(SCALAR_COLUMNS) + "\n")
        self._scalars.flush()

    def write_scalars(self, row: dict[str, float]) -> None:
        row = {**SCALAR_DEFAULTS, **row}
        missing = [c for c in SCALAR_COLUMNS if c not in row]
        if missing:
            raise StoreError(f"scalar row lacks columns {missing}")
        self._scalars.write(",".join(repr(float(row[c])) for c in SCALAR_COLUMNS) + "\n")
        self._scalars.flush()

    def write_fields(self, frame: FieldFrame) -> None:
        import meshio

        for name, values in frame.point_data.items():
            if name in FIELD_UNITS and np.asarray(values).shape[0] != len(frame.points):
                raise StoreError(f"field {name!r} has {np.asarray(values).shape[0]} values for {len(frame.points)} points")
        index = len(self.frames)
        relative = f"fields/{index:04d}.vtu"
        target = self.root / relative
        target.parent.mkdir(exist_ok=True)
        mesh = meshio.Mesh(
            points=np.asarray(frame.points, dtype=float),
            cells=[(kind, np.asarray(conn)) for kind, conn in frame.cells.items()],
            point_data={k: np.asarray(v, dtype=float) for k, v in frame.point_data.items()},
            cell_data={k: [np.asarray(a) for a in v] for k, v in frame.cell_data.items()},
        )
        tmp = target.with_name(f".{target.name}.tmp.vtu")
        meshio.write(tmp, mesh, file_format="vtu")
        os.replace(tmp, target)
        self.frames.append((float(frame.time), float(frame.dod), relative))
        self._write_pvd()

    def _write_pvd(self) -> None:
        entries = "\n".join(
            f'    <DataSet timestep="{t!r}" group="" part="0" file={quoteattr(f)}/>' for t, _, f in self.frames
        )
        text = (
            '<?xml version="1.0"?>\n'
            '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
            "  <Collection>\n"
            f"{entries}\n"
            "  </Collection>\n"
            "</VTKFile>\n"
        )
        atomic_write_text(self.root / "fields.pvd", text)

    def progress(self, time_s: float, dod: float, step: float) -> None:
        self.heartbeat()
        if self._on_progress is not None:
            self._on_progress(time_s, dod, step)

    def heartbeat(self) -> None:
        """Refresh the run's heartbeat (at most every ``heartbeat_s`` s); solvers call it during set-up too."""
        now = time.monotonic()
        if now - self._last_beat >= self._heartbeat_s:
            self._last_beat = now
            self.run.heartbeat()

    def close(self) -> None:
        if not self._scalars.closed:
            self._scalars.close()


# --------------------------------------------------------------------------------------------------
class Run:
    """One run directory. Cheap to create; reads files on demand."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        if not (self.path / "spec.yaml").exists():
            raise RunNotFound(f"{self.path} is not a run directory (no spec.yaml)")

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, state={self.state!r})"

    # identity ----------------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def study(self) -> str:
        return self.path.parent.name

    @cached_property
    def spec(self) -> RunSpec:
        """The stored run spec (read and validated once per Run object; spec.yaml never changes)."""
        return RunSpec.from_yaml(self.path / "spec.yaml")

    @property
    def meta(self) -> dict[str, Any]:
        return _read_json(self.path / RUN_META)

    @property
    def changes(self) -> dict[str, Any]:
        return dict(self.meta.get("changes", {}))

    # status ------------------------------------------------------------------------------------
    @property
    def status(self) -> dict[str, Any]:
        """status.json; a damaged one (torn by a crash or a full disk) reads as a ``failed`` run with
        ``damaged: True`` and the reason in ``error``, so it is reported and rerun, never fatal."""
        try:
            data = _read_json(self.path / "status.json")
        except StoreError as exc:
            return {"state": "failed", "error": str(exc), "damaged": True}
        if not isinstance(data, dict) or data.get("state", "pending") not in STATES:
            return {"state": "failed", "error": f"{self.path / 'status.json'}: no valid state", "damaged": True}
        return data or {"state": "pending"}

    @property
    def state(self) -> str:
        return str(self.status.get("state", "pending"))

    def read_status(self) -> dict[str, Any]:
        """The same as :attr:`status` (never raises)."""
        return self.status

    def update_status(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into status.json (atomically) and return the new status.

        A damaged status.json is replaced (its content is lost; the run is being rewritten anyway).
        """
        status = self.read_status()
        if status.pop("damaged", False):
            log.warning("%s: replacing a damaged status.json", self.path)
            status = {"state": status["state"]}
        status.update(fields)
        _write_json(self.path / "status.json", status)
        return status

    def mark_running(self, *, staged: bool = False) -> int:
        """Start an attempt: count it (``attempts``) and record who runs it; return its number.

        ``staged`` (a forced rerun of a ``done`` run, written aside): the state stays ``done``, so
        the old result remains valid until the new one is swapped in.
        """
        now = _now()
        attempt = int(self.read_status().get("attempts") or 0) + 1
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "boot_id": boot_id(), "heartbeat": now}
        job = _slurm_job_from_env()
        if job:
            owner["slurm_job"] = job
        if staged:
            self.update_status(attempts=attempt, rerun_started=now, rerun_error=None, **owner)
        else:
            self.update_status(
                state="running", attempts=attempt, started=now, finished=None, error=None, interrupted=None, **owner
            )
        return attempt

    def mark_done(self) -> None:
        rerun = self.read_status().get("rerun_started")
        extra = {"started": rerun, "rerun_started": None} if rerun else {}  # a staged rerun was swapped in
        self.update_status(
            state="done", finished=_now(), heartbeat=_now(), error=None, interrupted=None, rerun_error=None, **extra
        )

    def mark_failed(self, error: str, *, interrupted: bool = False) -> None:
        self.update_status(state="failed", finished=_now(), heartbeat=_now(), error=str(error), interrupted=interrupted or None)

    def heartbeat(self) -> None:
        self.update_status(heartbeat=_now())

    def is_stale(self, timeout_s: float = STALE_AFTER_S) -> bool:
        """True for a ``running`` run whose executing process is gone.

        With a claim file (see :mod:`orchestrator.claims`): its owner is dead on this host, or has not
        renewed it for ``timeout_s`` seconds on another host. Without one (a run from before claims, or
        a process killed after releasing it): the status' local PID is gone or its heartbeat is older
        than ``timeout_s``.
        """
        status = self.read_status()
        if status.get("state") != "running":
            return False
        claim = read_claim(self.path)
        if claim is not None:
            return not claim.owner_alive(timeout_s)
        return not status_owner_alive(status, timeout_s)

    # results -----------------------------------------------------------------------------------
    def write_provenance(self, data: dict[str, Any], root: Path | None = None) -> None:
        _write_json(Path(root or self.path) / "provenance.json", data)

    @property
    def provenance(self) -> dict[str, Any]:
        return _read_json(self.path / "provenance.json")

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def images_dir(self) -> Path:
        return self.path / "images"

    def sink(self, **kwargs: Any) -> StoreSink:
        """A fresh result sink (truncates scalars.csv; fields are replaced frame by frame)."""
        return StoreSink(self, **kwargs)

    def scalars(self, root: Path | None = None) -> dict[str, np.ndarray]:
        """Columns of scalars.csv (under ``root``, default the run) as float arrays (empty if none yet)."""
        path = Path(root or self.path) / "scalars.csv"
        if not path.exists():
            return {c: np.empty(0) for c in SCALAR_COLUMNS}
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:
            return {c: np.empty(0) for c in SCALAR_COLUMNS}
        header = lines[0].split(",")
        rows, bad = [], []
        for number, line in enumerate(lines[1:], start=2):
            parts = line.split(",")
            try:
                if len(parts) != len(header):
                    raise ValueError
                rows.append([float(p) for p in parts])
            except ValueError:
                bad.append(number)
        damaged = [n for n in bad if n != len(lines)]  # an incomplete LAST line is normal (a crash, a live run)
        if damaged:
            log.warning(
                "%s: %d malformed line(s) skipped (line %s); the file is damaged: rerun the run (octant run --force)",
                path, len(damaged), ", ".join(map(str, damaged[:5])) + (", ..." if len(damaged) > 5 else ""),
            )
        table = np.array(rows, dtype=float).reshape(-1, len(header))
        return {name: table[:, i] for i, name in enumerate(header)}

    def field_steps(self, root: Path | None = None) -> list[tuple[float, Path]]:
        """(time [s], vtu path) of every stored field frame, from fields.pvd (under ``root``, default the run).

        Raises :class:`StoreError` if fields.pvd names a file outside the run directory (a
        tampered or foreign file: ``../../etc/passwd`` is never followed).
        """
        root = Path(root or self.path)
        pvd = root / "fields.pvd"
        if not pvd.exists():
            return []
        text = pvd.read_text(encoding="utf-8")
        steps = re.findall(r'<DataSet\s+timestep="([^"]+)"[^>]*file="([^"]+)"', text)
        return [(float(t), contained(root, f, what=f"{pvd}: data set")) for t, f in steps]

    def reset(self) -> None:
        """Remove results (fields, scalars, provenance, images, staging) before a rerun; keep spec and log.

        The status is made non-``done`` first, so a kill in the middle never leaves a ``done`` run
        without results; ``created``, ``attempts`` and the SLURM fields are kept. The log is kept:
        attempts append to it.
        """
        old = self.read_status()
        kept = {k: v for k, v in old.items() if k.startswith("slurm_") or k in ("attempts", "created")}
        kept.setdefault("created", _now())
        if old.get("damaged"):
            log.warning("%s: replacing a damaged status.json", self.path)
        _write_json(self.path / "status.json", {**kept, "state": "pending"})
        self.clear_results()

    def clear_results(self, root: Path | None = None) -> None:
        """Delete the result files under ``root`` (default: the run directory) and leftover staging."""
        root = Path(root) if root is not None else self.path
        for name in RESULT_DIRS:
            shutil.rmtree(root / name, ignore_errors=True)
        for name in RESULT_FILES:
            (root / name).unlink(missing_ok=True)
        if root == self.path:
            for leftover in self.path.glob(f"{STAGING}*"):
                shutil.rmtree(leftover, ignore_errors=True)

    @property
    def staging_dir(self) -> Path:
        """Where a forced rerun of a ``done`` run writes its results until they are swapped in."""
        return self.path / STAGING

    def swap_in(self, staging: Path) -> None:
        """Replace the run's results by those in ``staging`` (a forced rerun that succeeded).

        The state is set to ``running`` for the few renames, so a crash in between leaves a
        resumable run, never a ``done`` run with mixed results; the caller marks it done after.
        """
        self.update_status(state="running")
        retired = self.path / f"{STAGING}.old"
        shutil.rmtree(retired, ignore_errors=True)
        retired.mkdir()
        for name in (*RESULT_FILES, *RESULT_DIRS):
            if (self.path / name).exists():
                os.rename(self.path / name, retired / name)
        for name in (*RESULT_FILES, *RESULT_DIRS):
            if (staging / name).exists():
                os.rename(staging / name, self.path / name)
        shutil.rmtree(retired, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def contained(root: Path, relative: str | Path, *, what: str = "path") -> Path:
    """``root / relative`` resolved, refusing anything that escapes ``root`` (``..``, absolute, symlinks)."""
    root = Path(root).resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise StoreError(f"{what} {str(relative)!r} points outside {root}; refusing to follow it")
    return target


def _slurm_job_from_env() -> str | None:
    """``<array job>_<task>`` (as ``squeue -r`` lists it) or the job id, inside a SLURM job."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None


def status_owner_alive(status: dict[str, Any], timeout_s: float = STALE_AFTER_S) -> bool:
    """Whether the process a ``running`` status names may still run it (no claim file to ask).

    A local PID that is gone (or a different boot) means dead; otherwise a heartbeat older than
    ``timeout_s`` does.
    """
    if status.get("host") == socket.gethostname() and status.get("pid"):
        if status.get("boot_id") and boot_id() and status["boot_id"] != boot_id():
            return False
        try:
            os.kill(int(status["pid"]), 0)
        except ProcessLookupError:
            return False
        except (PermissionError, ValueError, OverflowError):
            pass
    beat = status.get("heartbeat") or status.get("started")
    if not beat:
        return False
    try:
        age = (datetime.now(timezone.utc) - datetime.fromisoformat(str(beat))).total_seconds()
    except ValueError:
        return False
    return age <= timeout_s


# --------------------------------------------------------------------------------------------------
class RunStore:
    """All runs under a root folder (default ``./runs``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root if root is not None else default_runs_dir()).resolve()

    def run_dir(self, study: str, run_id: str) -> Path:
        """The directory of a run; refuses anything that could escape the store."""
        if not isinstance(study, str) or not re.match(NAME_PATTERN, study):
            raise StoreError(f"unsafe study name {study!r}: use letters, digits, '.', '_', '-' (no '/', no '..')")
        if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
            raise StoreError(f"invalid run id {run_id!r}: expected 12 lowercase hex digits")
        path = (self.root / study / run_id).resolve()
        if self.root not in path.parents:
            raise StoreError(f"{path} is outside the run store {self.root}")
        return path

    def prepare(self, run: RunSpec) -> Run:
        """Create the run directory with spec.yaml, run.json and a pending status (idempotent)."""
        path = self.run_dir(run.study, run.run_id)
        path.mkdir(parents=True, exist_ok=True)
        if not (path / "spec.yaml").exists():
            atomic_write_text(path / "spec.yaml", run.to_yaml())
        meta_path = path / RUN_META
        meta = _read_json(meta_path)
        if not meta or (run.changes and meta.get("changes") != run.changes):
            _write_json(meta_path, run.meta())
        if not (path / "status.json").exists():
            _write_json(path / "status.json", {"state": "pending", "created": _now()})
        return Run(path)

    def studies(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and re.match(NAME_PATTERN, p.name))

    def iter_runs(self, study: str | None = None) -> Iterator[Run]:
        """Every run (of one study, or all), sorted by study then run id.

        A study name that could leave the store (``..``, ``/``) is refused (StoreError).
        """
        if study is not None and (not isinstance(study, str) or not re.match(NAME_PATTERN, study)):
            raise StoreError(f"unsafe study name {study!r}: use letters, digits, '.', '_', '-' (no '/', no '..')")
        for name in [study] if study else self.studies():
            folder = self.root / name
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if RUN_ID_PATTERN.match(path.name) and (path / "spec.yaml").exists():
                    yield Run(path)

    def find(self, ref: str | Path) -> Run:
        """A run by directory path, ``study/id``, run id or unique id prefix (>= 4 characters)."""
        ref_text = str(ref)
        candidate = Path(ref_text)
        if (candidate / "spec.yaml").exists():
            return Run(candidate)
        if "/" in ref_text and ref_text.count("/") == 1 and not candidate.is_absolute():
            study, run_id = ref_text.split("/")
            path = self.run_dir(study, run_id)
            if (path / "spec.yaml").exists():
                return Run(path)
        if re.fullmatch(r"[0-9a-f]{4,12}", ref_text):
            matches = [r for r in self.iter_runs() if r.run_id.startswith(ref_text)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise RunNotFound(
                    f"run id prefix {ref_text!r} is ambiguous: {', '.join(m.study + '/' + m.run_id for m in matches)}"
                )
        if re.fullmatch(r"[0-9a-f]{1,3}", ref_text):
            raise RunNotFound(
                f"run id prefix {ref_text!r} is too short: a prefix needs at least 4 characters (run ids are 12 hex"
                " digits; see octant status)"
            )
        raise RunNotFound(
            f"no run {ref_text!r} in {self.root} (give a run directory, a run id or a unique id prefix of 4+"
            " characters; see octant status)"
        )
