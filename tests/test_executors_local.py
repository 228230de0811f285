"""The local executor (spawn process pool) and the run selection it shares with SLURM submission.

Real radial-backend runs (well under a second each) in real worker processes; one sweep point has
a diffusivity law that validates (finite and positive on theta in [0, 1.2]) but makes the solver fail
(D = 1e-19 sqrt(1.21 - theta) is NaN once the surface overshoots theta = 1.21, which so slow a
diffusion makes it do).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.cli import main
from orchestrator.errors import SubmissionError
from orchestrator.executors.local import WORKER_DIED, run_local
from orchestrator.executors.plan import decide
from orchestrator.spec import study_from_dict
from orchestrator.store import RunStore

BROKEN = {"base": "Si", "name": "broken", "diffusivity": {"law": "expression", "expr": "1e-19*sqrt(1.21 - theta)"}}


def _study(name: str, materials: list, radii: list[str], numerics: dict | None = None):
    return study_from_dict(
        {
            "spec_version": 1,
            "name": name,
            "backend": "radial",
            "model": {
                "particle": {"radius": "2 um"},
                "material": "Si",
                "loading": {"specific_current": "0.2 A/g", "stop": {"dod": 0.5}},
            },
            "outputs": {"fields_at": {"dod": [0.5]}},
            "numerics": numerics or {},
            "sweep": {"zip": {"model.material": materials, "model.particle.radius": radii}},
        }
    )


def _prepare(tmp_path, study):
    store = RunStore(tmp_path / "runs")
    return store, [store.prepare(spec) for spec in study.runs()]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Four runs (one broken) executed once with two workers."""
    tmp_path = tmp_path_factory.mktemp("local")
    store, runs = _prepare(tmp_path, _study("local", ["Si", "Si", "Si", BROKEN], ["1 um", "2 um", "3 um", "1 um"]))
    report = run_local([r.path for r in runs], jobs=2, live=False)
    return store, runs, report


def test_parallel_runs_finish_and_one_failure_does_not_stop_the_rest(executed):
    store, runs, report = executed
    assert [o.state for o in report.outcomes] == ["done", "done", "done", "failed"]
    assert report.exit_code == 1 and not report.ok and report.jobs == 2
    for run in runs[:3]:
        assert run.state == "done" and run.scalars()["dod"][-1] == pytest.approx(0.5, abs=1e-6)
    failed = runs[3]
    assert failed.state == "failed" and "SolverDiverged" in failed.status["error"]
    assert "SolverDiverged" in report.summary() and str(failed.log_path) in report.summary()


def test_done_runs_are_skipped_and_failed_ones_rerun(executed):
    store, runs, _ = executed
    finished = {r.run_id: r.status["finished"] for r in runs}
    report = run_local([r.path for r in runs], jobs=2, live=False)
    assert [o.state for o in report.outcomes] == ["skipped", "skipped", "skipped", "failed"]
    assert all("done" in o.detail for o in report.skipped)
    assert {r.run_id: r.status["finished"] for r in runs[:3]} == {k: finished[k] for k in list(finished)[:3]}


def test_force_reruns_done_runs(tmp_path):
    store, runs = _prepare(tmp_path, _study("forced", ["Si"], ["1 um"]))
    assert run_local([runs[0].path], live=False).done
    first = runs[0].status["started"]
    time.sleep(1.1)  # 1 s timestamp resolution
    assert run_local([runs[0].path], live=False).skipped
    report = run_local([runs[0].path], force=True, live=False)
    assert report.done and runs[0].status["started"] != first


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_stale_running_runs_are_resumed_and_live_ones_left_alone(tmp_path):
    store, (stale, live, old) = _prepare(tmp_path, _study("resume", ["Si", "Si", "Si"], ["1 um", "2 um", "3 um"]))
    now = datetime.now(timezone.utc)
    host = socket.gethostname()
    stale.update_status(state="running", host=host, pid=_dead_pid(), heartbeat=now.isoformat())
    live.update_status(state="running", host=host, pid=os.getpid(), heartbeat=now.isoformat())
    old_beat = (now - timedelta(hours=2)).isoformat()
    old.update_status(state="running", host="another-node", pid=1, heartbeat=old_beat)
    report = run_local([stale.path, live.path, old.path], jobs=2, live=False)
    assert [o.state for o in report.outcomes] == ["done", "skipped", "done"]
    assert "running" in report.outcomes[1].detail and live.state == "running"


def test_a_crashed_worker_only_fails_its_own_run(tmp_path):
    """SIGKILL the worker of one run whenever it runs: it fails, its neighbours still finish."""
    slow = {"mesh": {"radial_nodes": 4000}, "time": {"rtol": 1e-6}}
    store, (victim,) = _prepare(tmp_path, _study("crash", ["Si"], ["4 um"], numerics=slow))
    _, others = _prepare(tmp_path, _study("crash-ok", ["Si", "Si", "Si"], ["1 um", "2 um", "3 um"]))
    stop = threading.Event()
    killed: list[int] = []

    def killer() -> None:
        while not stop.is_set():
            status = victim.status
            pid = status.get("pid")
            if status.get("state") == "running" and pid and pid not in killed and pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        report = run_local([victim.path] + [r.path for r in others], jobs=2, live=False)
    finally:
        stop.set()
        thread.join()
    states = {o.run_id: o.state for o in report.outcomes}
    assert killed, "the victim never ran"
    assert states[victim.run_id] == "failed"
    assert victim.state == "failed" and "worker process" in victim.status["error"]
    assert WORKER_DIED.split("(")[0] in victim.log_path.read_text()
    assert all(states[r.run_id] == "done" for r in others)


def test_progress_lines_are_plain_log_lines_off_a_terminal(tmp_path, caplog):
    store, runs = _prepare(tmp_path, _study("lines", ["Si", "Si"], ["1 um", "2 um"]))
    with caplog.at_level(logging.INFO, logger="orchestrator.executors.local"):
        run_local([r.path for r in runs], jobs=2, live=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[")]
    assert sorted(line[:5] for line in lines) == ["[1/2]", "[2/2]"]
    assert all("done" in line and "radius=" in line for line in lines)


def test_the_live_display_runs_too(tmp_path):
    import io

    store, runs = _prepare(tmp_path, _study("live", ["Si"], ["1 um"]))
    from orchestrator.executors.local import _Progress

    stream = io.StringIO()
    progress = _Progress(1, stream=stream, live=True)
    report = run_local([runs[0].path], live=False)
    progress.started(runs[0], "radius=1 um")
    progress.finished_run(report.outcomes[0])
    progress.close()
    assert "[1/1] done" in stream.getvalue()


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(SubmissionError, match="at least 1"):
        run_local([], jobs=0)


def test_sweep_command_runs_locally_and_reports_failures(tmp_path, capsys):
    spec = tmp_path / "study.yaml"
    spec.write_text(
        "spec_version: 1\nname: cli-sweep\nbackend: radial\n"
        "model: {particle: {radius: 2 um}, material: Si, loading: {specific_current: 0.2 A/g, stop: {dod: 0.3}}}\n"
        "outputs: {fields_at: {dod: [0.3]}}\n"
        "sweep: {grid: {model.material: [Si, {base: Si, name: broken, diffusivity: "
        "{law: expression, expr: '1e-19*sqrt(1.21 - theta)'}}]}}\n"
    )
    argv = ["sweep", str(spec), "-j", "2", "--runs-dir", str(tmp_path / "runs")]
    assert main(argv) == 1
    assert "1 done, 1 failed" in capsys.readouterr().out


# ------------------------------------------------------------------------------ plan
def test_plan_rules(tmp_path):
    store, (run,) = _prepare(tmp_path, _study("plan", ["Si"], ["1 um"]))
    assert decide(run, queued_jobs=()).execute  # pending
    run.update_status(slurm_job="12_0")
    assert not decide(run, queued_jobs={"12_0"}).execute  # waiting in the queue
    assert not decide(run, queued_jobs=None).execute  # queue unknown: never twice
    assert decide(run, queued_jobs={"13_0"}).execute  # the job is gone
    run.update_status(state="failed", slurm_job=None, error="boom")
    assert decide(run, queued_jobs=()).execute
    assert not decide(run, include_failed=False, queued_jobs=()).execute
    assert decide(run, only_failed=True, queued_jobs=()).execute
    run.update_status(state="failed", slurm_job="14_0")
    assert not decide(run, only_failed=True, queued_jobs={"14_0"}).execute  # resubmitted already
    run.update_status(state="done", slurm_job=None)
    assert not decide(run, queued_jobs=()).execute
    assert decide(run, force=True, queued_jobs=()).execute
    assert not decide(run, only_failed=True, queued_jobs=()).execute


def test_a_running_run_whose_slurm_task_ended_is_stale(tmp_path):
    from orchestrator.executors.plan import job_ended

    store, (run,) = _prepare(tmp_path, _study("ended", ["Si"], ["1 um"]))
    run.update_status(state="running", host="node-elsewhere", pid=1, heartbeat=datetime.now(timezone.utc).isoformat())
    assert not decide(run, queued_jobs=()).execute  # fresh heartbeat, remote host: trusted
    assert decide(run, queued_jobs=(), job_ended=True).reason.startswith("stale: its SLURM job ended")
    assert job_ended(run.status, "5_0", {"6_0"})
    assert not job_ended(run.status, "5_0", {"5_0"})  # still in the queue
    assert not job_ended(run.status, "5_0", None)  # queue unreadable: no conclusion
    run.update_status(host=socket.gethostname(), pid=os.getpid())
    assert not job_ended(run.status, "5_0", set())  # a live local process runs it


def test_a_running_run_still_in_the_slurm_queue_is_never_stale(tmp_path):
    store, (run,) = _prepare(tmp_path, _study("queued", ["Si"], ["1 um"]))
    silent = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()  # e.g. a long factorisation
    run.update_status(state="running", host="node-elsewhere", pid=1, heartbeat=silent, slurm_job="9_0")
    assert run.is_stale()
    assert not decide(run, queued_jobs={"9_0"}).execute  # squeue lists it: not resubmitted
    assert decide(run, queued_jobs={"8_0"}).reason.startswith("stale")  # gone from the queue


def test_run_one_inside_a_slurm_task_records_its_job(tmp_path, monkeypatch):
    from orchestrator.store import Run

    store, (run,) = _prepare(tmp_path, _study("jobid", ["Si"], ["1 um"]))
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "41")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    Run(run.path).mark_running()
    assert run.status["slurm_job"] == "41_3" and run.status["attempts"] == 1
