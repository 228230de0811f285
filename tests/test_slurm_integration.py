"""``octant submit/status/collect`` against a real slurmctld + slurmd on localhost.

The cluster (``tests/slurm_cluster.py``) has MaxArraySize = 4, so the 5-run sweep below is split
into two array jobs. Two of its runs use a diffusivity law that validates but makes the radial
solver fail (D = 1e-19 sqrt(1.21 - theta) validates on [0, 1.2] but is NaN once the surface overshoots 1.21), to check that failures are recorded
with their logs and that ``--resubmit-failed`` resubmits exactly those.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.executors import slurm_commands as sc
from orchestrator.executors.manifest import list_submissions, read_manifest
from orchestrator.executors.status import collect_status, slurm_index
from orchestrator.store import RunStore
from slurm_cluster import LocalSlurmCluster, missing_binaries, slurm_cluster  # noqa: F401

pytestmark = pytest.mark.slurm

BROKEN = "{base: Si, name: broken, diffusivity: {law: expression, expr: '1e-19*sqrt(1.21 - theta)'}}"
SPEC = f"""\
spec_version: 1
name: slurm-it
backend: radial
model:
  particle: {{radius: 2 um}}
  material: Si
  loading: {{specific_current: 0.2 A/g, stop: {{dod: 0.5}}}}
outputs:
  fields_at: {{dod: [0.25, 0.5]}}
sweep:
  zip:
    model.material: [Si, Si, Si, {BROKEN}, {BROKEN}]
    model.particle.radius: [1 um, 2 um, 3 um, 1 um, 2 um]
"""
TIMEOUT_S = 120.0


def wait_final(store: RunStore, study: str, timeout_s: float = TIMEOUT_S) -> dict[str, str]:
    """Poll the run directories until every run is done or failed; run id -> state."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = {run.run_id: run.state for run in store.iter_runs(study)}
        if states and all(s in ("done", "failed") for s in states.values()):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"runs not finished after {timeout_s:.0f} s: {states}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def submitted(slurm_cluster, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """Submit the sweep once (throttled, 2 chunks) and wait until every run has finished."""
    root = tmp_path_factory.mktemp("slurm-it")
    spec = root / "study.yaml"
    spec.write_text(SPEC)
    runs = root / "runs"
    started = time.monotonic()
    argv = ["submit", str(spec), "--runs-dir", str(runs), "--array-limit", "2", "--time", "00:05:00"]
    argv += ["--partition", "debug", "--cpus", "1", "--mem", "500M"]  # accepted by the real slurmctld
    assert main(argv) == 0
    store = RunStore(runs)
    states = wait_final(store, "slurm-it")
    return {"spec": spec, "runs": runs, "store": store, "states": states, "wall_s": time.monotonic() - started}


def _broken(store: RunStore) -> set[str]:
    return {r.run_id for r in store.iter_runs("slurm-it") if r.changes["model.material"] != "Si"}


def test_cluster_reports_its_max_array_size(slurm_cluster):  # noqa: F811
    assert sc.max_array_size() == slurm_cluster.max_array_size == 4


def test_every_good_run_is_done_with_results(submitted):
    store = submitted["store"]
    broken = _broken(store)
    assert len(submitted["states"]) == 5 and len(broken) == 2
    for run in store.iter_runs("slurm-it"):
        if run.run_id in broken:
            continue
        assert run.state == "done", run.status
        scalars = run.scalars()
        assert scalars["dod"][-1] == pytest.approx(0.5, abs=1e-6)
        assert len(run.field_steps()) == 2
        assert run.provenance["backend"] == "radial"


def test_sweep_was_split_into_chunks_by_max_array_size(submitted):
    (sub,) = list_submissions(submitted["runs"] / "slurm-it")
    assert [c.n_tasks for c in sub.chunks] == [4, 1]
    assert all(c.job_id and c.job_id.isdigit() for c in sub.chunks)
    script = Path(sub.chunks[0].script).read_text()
    assert "#SBATCH --array=0-3%2" in script and "#SBATCH --job-name=octant-slurm-it" in script
    listed = [p for c in sub.chunks for p in read_manifest(Path(c.manifest))]
    assert sorted(p.name for p in listed) == sorted(submitted["states"])


def test_failed_runs_are_failed_with_their_logs(submitted):
    store = submitted["store"]
    index = slurm_index(submitted["runs"] / "slurm-it")
    for run_id in _broken(store):
        run = store.find(f"slurm-it/{run_id}")
        assert run.state == "failed"
        assert "SolverDiverged" in run.status["error"]
        assert "failed" in run.log_path.read_text()
        ref = index[str(run.path)]
        assert Path(ref.output).exists() and run_id in Path(ref.output).read_text()


def test_status_reads_run_dirs_and_the_queue(submitted, capsys):
    assert main(["status", "slurm-it", "--json", "--runs-dir", str(submitted["runs"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"done": 3, "failed": 2}
    for row in report["runs"]:
        assert row["slurm_job"] and "_" in row["slurm_job"]
        if row["state"] == "failed":
            assert row["log"].endswith("log.txt") and Path(row["log"]).exists()
    assert main(["status", "--runs-dir", str(submitted["runs"])]) == 0
    text = capsys.readouterr().out
    assert text.count("failed ") >= 2 and "log: " in text and "total: 3 done, 2 failed" in text


def test_collect_includes_the_failed_runs(submitted, capsys):
    assert main(["collect", "slurm-it", "--format", "json", "--runs-dir", str(submitted["runs"])]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5
    failed = [r for r in rows if r["state"] == "failed"]
    assert len(failed) == 2 and all(r["von_mises_max_Pa"] is None for r in failed)
    done = [r for r in rows if r["state"] == "done"]
    assert all(r["von_mises_max_Pa"] > 0 and r["final_dod"] == pytest.approx(0.5, abs=1e-6) for r in done)


def test_plain_resubmit_skips_done_and_failed_runs(submitted, capsys):
    assert main(["submit", str(submitted["spec"]), "--runs-dir", str(submitted["runs"])]) == 0
    out = capsys.readouterr().out
    assert "submitted 0" in out and "3 done" in out and "--resubmit-failed" in out
    assert len(list_submissions(submitted["runs"] / "slurm-it")) == 1


def test_resubmit_failed_reruns_only_those(submitted, capsys):
    store, runs = submitted["store"], submitted["runs"]
    broken = _broken(store)
    before = {r.run_id: dict(r.status) for r in store.iter_runs("slurm-it")}
    time.sleep(1.1)  # status timestamps have 1 s resolution
    argv = ["submit", str(submitted["spec"]), "--runs-dir", str(runs), "--resubmit-failed", "--pack", "2"]
    assert main(argv) == 0
    assert "submitted 2" in capsys.readouterr().out
    wait_final(store, "slurm-it")
    subs = list_submissions(runs / "slurm-it")
    assert len(subs) == 2
    (chunk,) = subs[1].chunks
    assert chunk.n_tasks == 1 and {p.name for p in read_manifest(Path(chunk.manifest))} == broken
    after = {r.run_id: dict(r.status) for r in store.iter_runs("slurm-it")}
    for run_id, status in after.items():
        if run_id in broken:
            assert status["state"] == "failed" and status["started"] != before[run_id]["started"]
        else:
            assert status == before[run_id], "a done run was touched by --resubmit-failed"
    rows = {r.run_id: r for r in collect_status(store, "slurm-it")}
    assert {rows[i].slurm_job for i in broken} == {f"{chunk.job_id}_0"}


def test_a_run_whose_job_ended_while_running_is_submitted_again(submitted, capsys):
    """'running' on another node with a fresh heartbeat, but its SLURM task has left the queue
    (killed by a time limit or the OOM killer): status calls it stale and a plain submit resumes it."""
    store, runs = submitted["store"], submitted["runs"]
    victim = next(r for r in store.iter_runs("slurm-it") if r.state == "done")
    victim.update_status(state="running", host="node-elsewhere", pid=1, heartbeat=victim.status["finished"])
    rows = {r.run_id: r for r in collect_status(store, "slurm-it")}
    assert rows[victim.run_id].stale and rows[victim.run_id].scheduler_state == "not queued"
    assert main(["submit", str(submitted["spec"]), "--runs-dir", str(runs)]) == 0
    assert "submitted 1" in capsys.readouterr().out
    wait_final(store, "slurm-it")
    assert victim.state == "done" and victim.status["host"] != "node-elsewhere"


def test_missing_binaries_are_named(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "sbatch" in missing_binaries()
