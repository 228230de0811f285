"""Parent side of the COMSOL backend: run the worker process, retry what is worth retrying.

:func:`run_worker` writes ``request.json`` into a work folder, starts
``python -m solvers.comsol.worker request.json`` (the only process that imports mph), waits, and
reads ``response.json``. Licence problems and server start failures are retried up to
``attempts`` times with exponential back-off plus random jitter (so that array jobs that all lost a
licence do not retry in lockstep); any other failure, or the last retry, raises
:class:`~solvers.errors.SolverError` with the COMSOL server output attached.

Tuning without code changes: ``OCTANT_COMSOL_RETRIES`` (attempts, default 3) and
``OCTANT_COMSOL_RETRY_BASE_S`` (first back-off in seconds, default 20).
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from solvers.errors import SolverError

from .builder import ModelPlan, plan_to_json
from .discovery import ComsolInstall

__all__ = ["RETRYABLE", "WorkerFailed", "WorkerResult", "backoff_delays", "run_worker", "worker_env"]

log = logging.getLogger(__name__)

#: Error kinds of the worker that are retried.
RETRYABLE = frozenset({"licence", "server"})
_LOG_TAIL = 60


class WorkerFailed(SolverError):
    """The COMSOL worker failed; ``kind`` says how (licence, server, client, model, worker, crash)."""

    def __init__(self, message: str, kind: str, attempts: int):
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


@dataclass
class WorkerResult:
    """What a successful worker reported."""

    comsol_version: str
    cores: int
    mesh_file: Path
    data_file: Path
    timings_s: dict[str, float] = field(default_factory=dict)
    attempts: int = 1
    log: str = ""


def backoff_delays(attempts: int, base_s: float, *, rng: random.Random | None = None) -> list[float]:
    """Waits [s] before retries 2..attempts: base * 2^k, times a random factor in [0.5, 1.5)."""
    rng = rng or random.Random()
    return [base_s * (2**k) * (0.5 + rng.random()) for k in range(max(attempts - 1, 0))]


def _tail(text: str, lines: int = _LOG_TAIL) -> str:
    parts = [line for line in text.splitlines() if line.strip()]
    return "\n".join(parts[-lines:])


def worker_env(install: ComsolInstall, base: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: this source tree first on PYTHONPATH (works without pip install),
    and the chosen installation's ``bin`` folder first on PATH.

    mph (1.4) finds installations only in ``/usr/local/comsol*``, ``~/.local/comsol*`` and through
    ``which comsol``; octant also accepts ``$OCTANT_COMSOL`` and ``/opt/comsol*``. With the chosen
    launcher first on PATH, mph's ``which comsol`` finds exactly the installation octant chose.
    """
    env = dict(os.environ if base is None else base)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    bin_dir = str(install.executable.parent)
    env["PATH"] = bin_dir + (os.pathsep + env["PATH"] if env.get("PATH") else "")
    return env


def _wait(process: subprocess.Popen, timeout_s: float | None, heartbeat, heartbeat_s: float) -> int | None:
    """Wait for ``process``, beating the heart; kill it after ``timeout_s``; return its exit code
    (``None`` after a timeout)."""
    started = last = time.monotonic()
    while True:
        try:
            return process.wait(timeout=min(1.0, heartbeat_s))
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if timeout_s is not None and now - started > timeout_s:
            process.kill()
            process.wait()
            return None
        if heartbeat is not None and now - last >= heartbeat_s:
            last = now
            heartbeat()


def run_worker(
    plan: ModelPlan,
    install: ComsolInstall,
    workdir: Path,
    *,
    cores: int | None = None,
    attempts: int | None = None,
    base_delay_s: float | None = None,
    timeout_s: float | None = None,
    heartbeat: Callable[[], None] | None = None,
    heartbeat_s: float = 30.0,
) -> WorkerResult:
    """Run the plan in a worker process (with retries); return its result or raise :class:`WorkerFailed`.

    ``heartbeat()`` is called every ``heartbeat_s`` seconds while COMSOL works (a COMSOL solve can
    take hours and the run store treats a run without heartbeat as stale); ``timeout_s`` bounds
    one attempt (``None``: no limit).
    """
    attempts = int(os.environ.get("OCTANT_COMSOL_RETRIES", "3")) if attempts is None else attempts
    base = float(os.environ.get("OCTANT_COMSOL_RETRY_BASE_S", "20")) if base_delay_s is None else base_delay_s
    attempts = max(1, attempts)
    delays = backoff_delays(attempts, base)
    workdir.mkdir(parents=True, exist_ok=True)
    request_path = workdir / "request.json"
    response_path = workdir / "response.json"
    request = {
        "plan": plan_to_json(plan),
        "executable": str(install.executable),
        "root": str(install.root),
        "version_text": install.version,
        "cores": cores,
        "response": str(response_path),
    }
    request_path.write_text(json.dumps(request, indent=1), encoding="utf-8")
    failures: list[str] = []
    for attempt in range(1, attempts + 1):
        response_path.unlink(missing_ok=True)
        worker_log = workdir / f"worker-{attempt}.log"
        log.info("COMSOL worker attempt %d/%d (log: %s)", attempt, attempts, worker_log)
        with worker_log.open("w", encoding="utf-8") as out:
            code = _wait(
                subprocess.Popen(
                    [sys.executable, "-m", "solvers.comsol.worker", str(request_path)],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=worker_env(install),
                ),
                timeout_s, heartbeat, heartbeat_s,
            )
        text = worker_log.read_text(encoding="utf-8", errors="replace")
        if response_path.exists():
            payload: dict[str, Any] = json.loads(response_path.read_text(encoding="utf-8"))
        else:
            why = "timed out" if code is None else f"exited with code {code}"
            payload = {"ok": False, "kind": "crash", "message": f"the COMSOL worker {why} without a response", "log": text}
        if payload.get("ok"):
            return WorkerResult(
                comsol_version=str(payload.get("comsol_version", install.name)),
                cores=int(payload.get("cores") or 0),
                mesh_file=Path(payload["mesh_file"]),
                data_file=Path(payload["data_file"]),
                timings_s={k: float(v) for k, v in payload.get("timings_s", {}).items()},
                attempts=attempt,
                log=str(payload.get("log", "")),
            )
        kind = str(payload.get("kind", "crash"))
        message = str(payload.get("message", "")).strip()
        failures.append(f"attempt {attempt}: {kind}: {message.splitlines()[0] if message else '?'}")
        if kind in RETRYABLE and attempt < attempts:
            wait = delays[attempt - 1]
            log.warning("COMSOL %s problem (attempt %d/%d); retrying in %.1f s: %s", kind, attempt, attempts, wait, message[:200])
            time.sleep(wait)
            continue
        comsol_log = _tail(str(payload.get("log", "")) or text)
        hint = {
            "licence": "COMSOL could not get a licence: check the licence server (lmstat) or wait for free tokens.",
            "server": "the COMSOL server did not start: run 'comsol mphserver' by hand to see why.",
            "client": "mph could not connect: check that mph supports this COMSOL version (pip install -U mph).",
            "model": "COMSOL rejected the model: see the statement above; export it with 'octant export-java' to inspect.",
        }.get(kind, "see the worker log")
        raise WorkerFailed(
            f"COMSOL run failed after {attempt} attempt(s) ({'; '.join(failures)}).\n{message}\n{hint}\n"
            f"--- COMSOL log (last {_LOG_TAIL} lines; full worker logs in {workdir}) ---\n{comsol_log}",
            kind,
            attempt,
        )
    raise AssertionError("unreachable")  # pragma: no cover
