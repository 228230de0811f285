"""The run store under concurrency, crashes and Ctrl-C: claims, attempts, staged reruns, interrupts.

Real processes throughout (``python -m orchestrator.cli`` subprocesses, real signals) on the radial
backend, whose runs take about a second.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator import claims
from orchestrator.claims import ClaimHeld
from orchestrator.runner import run_one
from orchestrator.spec import study_from_dict
from orchestrator.store import Run, RunStore

REPO = Path(__file__).resolve().parents[1]

SPEC = """\
spec_version: 1
name: {name}
backend: radial
model:
  particle: {{radius: 2 um}}
  material: Si
  loading: {{specific_current: 0.2 A/g, stop: {{dod: {dod}}}}}
outputs: {{fields_at: {{dod: [{dod}]}}}}
numerics: {{time: {{rtol: {rtol}}}, mesh: {{radial_nodes: {nodes}}}}}
sweep: {{grid: {{model.particle.radius: [{radii}]}}}}
"""


def _spec(tmp_path: Path, name: str, n: int, *, dod: float = 0.5, rtol: float = 1e-4, nodes: int = 80) -> Path:
    radii = ", ".join(f"'{1 + 0.25 * i} um'" for i in range(n))
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, dod=dod, rtol=rtol, nodes=nodes, radii=radii))
    return path


def _octant(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _runs(store: Path, study: str) -> list[Run]:
    return list(RunStore(store).iter_runs(study))


# ------------------------------------------------------------------------------ claims
def test_a_claim_is_exclusive_and_released(tmp_path):
    claim = claims.acquire(tmp_path)
    with pytest.raises(ClaimHeld, match=f"pid {os.getpid()}"):
        claims.acquire(tmp_path)
    info = claims.read_claim(tmp_path)
    assert info.host == socket.gethostname() and info.boot_id == claims.boot_id() and info.owner_alive()
    claim.release()
    assert claims.read_claim(tmp_path) is None
    claims.acquire(tmp_path).release()


def _fake_claim(folder: Path, *, age_s: float = 0.0, **fields) -> None:
    data = {"host": socket.gethostname(), "pid": os.getpid(), "boot_id": claims.boot_id(), "pid_start": "",
            "token": "feedfacecafe", "acquired": "2026-01-01T00:00:00+00:00", **fields}
    path = folder / claims.CLAIM_NAME
    path.write_text(json.dumps(data))
    os.utime(path, (time.time() - age_s, time.time() - age_s))


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    ("fields", "age_s", "alive"),
    [
        ({}, 0.0, True),  # this very process
        ({"pid": None}, 0.0, False),  # a dead local process (pid filled in below)
        ({"boot_id": "another-boot"}, 0.0, False),  # this host rebooted since
        ({"host": "node-elsewhere", "pid": 1}, 60.0, True),  # renewed recently on another host
        ({"host": "node-elsewhere", "pid": 1}, 3600.0, False),  # silent for an hour on another host
    ],
)
def test_stale_claims_are_taken_over_and_live_ones_respected(tmp_path, fields, age_s, alive):
    if fields.get("pid", 0) is None:
        fields["pid"] = _dead_pid()
    _fake_claim(tmp_path, age_s=age_s, **fields)
    if alive:
        with pytest.raises(ClaimHeld):
            claims.acquire(tmp_path)
    else:
        claim = claims.acquire(tmp_path)
        assert claims.read_claim(tmp_path).token == claim.token


def test_take_over_puts_back_a_live_claim_that_replaced_the_stale_one(tmp_path):
    _fake_claim(tmp_path, host="node-elsewhere", pid=1, age_s=3600.0)
    stale = claims.read_claim(tmp_path)
    live = claims.acquire(tmp_path)  # someone else broke the stale claim and claimed meanwhile
    claims._take_over(tmp_path / claims.CLAIM_NAME, stale)  # a late racer acting on what it saw
    assert live.owned()


def test_run_one_skips_a_run_claimed_by_a_live_process(tmp_path):
    path = _spec(tmp_path, "claimed", 1)
    [spec] = study_from_dict(__import__("yaml").safe_load(path.read_text())).runs()
    run = RunStore(tmp_path / "runs").prepare(spec)
    claim = claims.acquire(run.path)
    assert run_one(run.path, show_progress=False) == "skipped"
    assert run.state == "pending" and not (run.path / "scalars.csv").exists()
    claim.release()
    assert run_one(run.path, show_progress=False) == "done"
    assert run.status["attempts"] == 1 and claims.read_claim(run.path) is None
    assert run_one(run.path, show_progress=False, if_not_done=True) == "skipped"  # re-checked under the claim


# ------------------------------------------------------------------------------ two sweeps at once
def test_two_concurrent_sweeps_run_every_run_exactly_once(tmp_path):
    spec = _spec(tmp_path, "twice", 6)
    store = tmp_path / "runs"
    procs = [_octant("run", str(spec), "-j", "2", "--runs-dir", str(store), cwd=tmp_path) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, out + err
        assert "Traceback" not in err
    runs = _runs(store, "twice")
    assert len(runs) == 6
    for run in runs:
        status = run.status
        assert status["state"] == "done" and status["attempts"] == 1, status
        dod = run.scalars()["dod"]
        assert dod[0] == 0.0 and dod[-1] == pytest.approx(0.5, abs=1e-6)
        assert run.log_path.read_text().count("===== octant attempt") == 1
        assert claims.read_claim(run.path) is None
        assert len(run.field_steps()) == 1


# ------------------------------------------------------------------------------ Ctrl-C
def _wait_running(store: Path, study: str, count: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(store, study) if store.exists() else []
        running = [r for r in runs if r.read_status().get("state") == "running" and (r.path / "scalars.csv").exists()]
        if len(running) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} run(s) never started")


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_promptly_and_leaves_resumable_interrupted_runs(tmp_path, jobs):
    # slow runs (tight tolerance, many nodes) so that Ctrl-C lands in the middle of them
    spec = _spec(tmp_path, f"sigint{jobs}", 2, dod=1.0, rtol=1e-8, nodes=4000)
    store = tmp_path / "runs"
    proc = _octant("run", str(spec), "-j", str(jobs), "--runs-dir", str(store), cwd=tmp_path)
    _wait_running(store, f"sigint{jobs}", jobs)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    latency = time.monotonic() - sent
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "interrupted" in err
    assert latency < 10.0, f"Ctrl-C took {latency:.1f} s"
    runs = _runs(store, f"sigint{jobs}")
    interrupted = [r for r in runs if r.status["state"] == "failed"]
    assert len(interrupted) == jobs
    assert all(r.status["interrupted"] and "interrupted" in r.status["error"] for r in interrupted)
    assert all(r.state != "running" and claims.read_claim(r.path) is None for r in runs)
    print(f"Ctrl-C with -j {jobs}: exit after {latency:.2f} s")


def test_sigterm_marks_a_single_run_at_once(tmp_path):
    spec = _spec(tmp_path, "sigterm", 1, dod=1.0, rtol=1e-8, nodes=4000)
    store = tmp_path / "runs"
    proc = _octant("run", str(spec), "--runs-dir", str(store), cwd=tmp_path)
    _wait_running(store, "sigterm", 1)
    proc.send_signal(signal.SIGTERM)  # scancel / a SLURM time limit
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    [run] = _runs(store, "sigterm")
    assert run.status["state"] == "failed" and "SIGTERM" in run.status["error"]
