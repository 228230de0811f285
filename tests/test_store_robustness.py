"""The run store against kills mid-reset, failed forced reruns, full disks, damaged files and umasks."""

from __future__ import annotations

import errno
import os
import shutil
import stat

import pytest

from orchestrator import store as store_module
from orchestrator.cli import main
from orchestrator.runner import run_one
from orchestrator.spec import study_from_dict
from orchestrator.store import Run, RunStore

STUDY = {
    "spec_version": 1,
    "name": "robust",
    "backend": "radial",
    "model": {
        "particle": {"radius": "1 um"},
        "material": "Si",
        "loading": {"specific_current": "0.2 A/g", "stop": {"dod": 0.3}},
    },
    "outputs": {"fields_at": {"dod": [0.3]}},
    "numerics": {"mesh": {"radial_nodes": 40}},
}

SPEC_YAML = """\
spec_version: 1
name: robust-cli
backend: radial
model:
  particle: {radius: 1 um}
  material: Si
  loading: {specific_current: 0.2 A/g, stop: {dod: 0.3}}
outputs: {fields_at: {dod: [0.3]}}
numerics: {mesh: {radial_nodes: 40}}
sweep: {grid: {model.particle.radius: [1 um, 1.5 um]}}
"""


@pytest.fixture
def run(tmp_path) -> Run:
    [spec] = study_from_dict(STUDY).runs()
    return RunStore(tmp_path / "runs").prepare(spec)


@pytest.fixture
def done_run(run) -> Run:
    assert run_one(run.path, show_progress=False) == "done"
    return run


def _snapshot(run: Run) -> dict[str, bytes]:
    files = ["scalars.csv", "fields.pvd", "provenance.json", *(f"fields/{p.name}" for p in (run.path / "fields").iterdir())]
    return {name: (run.path / name).read_bytes() for name in files}


def test_a_kill_during_reset_never_leaves_a_done_run_without_results(done_run, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-reset")

    monkeypatch.setattr(store_module.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        done_run.reset()
    assert done_run.state == "pending"  # marked non-done before anything was deleted


def test_a_failed_forced_rerun_keeps_the_old_result(done_run):
    before = _snapshot(done_run)
    assert run_one(done_run.path, backend="comsol", show_progress=False) == "failed"  # no COMSOL here
    status = done_run.status
    assert status["state"] == "done" and "COMSOL" in status["rerun_error"] and status["attempts"] == 2
    assert _snapshot(done_run) == before
    assert not done_run.staging_dir.exists()
    assert done_run.log_path.read_text().count("===== octant attempt") == 2


def test_an_interrupted_forced_rerun_keeps_the_old_result(done_run):
    before = _snapshot(done_run)

    def ctrl_c(t, dod, dt):
        if dod > 0.1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_one(done_run.path, show_progress=False, progress=ctrl_c)
    assert done_run.status["state"] == "done" and "interrupted" in done_run.status["rerun_error"]
    assert _snapshot(done_run) == before


def test_a_successful_forced_rerun_replaces_the_result(done_run):
    first = done_run.status["started"]
    (done_run.path / "images").mkdir()
    (done_run.path / "images" / "old.png").write_bytes(b"stale picture")
    assert run_one(done_run.path, show_progress=False) == "done"
    status = done_run.status
    assert status["state"] == "done" and status["attempts"] == 2 and status.get("rerun_started") is None
    assert status["started"] >= first
    assert not (done_run.path / "images").exists() and not done_run.staging_dir.exists()
    assert done_run.scalars()["dod"][-1] == pytest.approx(0.3, abs=1e-6) and len(done_run.field_steps()) == 1


def test_an_interrupted_run_is_marked_at_once_and_resumes(run):
    def ctrl_c(t, dod, dt):
        if dod > 0.1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_one(run.path, show_progress=False, progress=ctrl_c)
    assert run.status["state"] == "failed" and run.status["interrupted"]
    assert run_one(run.path, show_progress=False, if_not_done=True) == "done"
    assert run.status["attempts"] == 2


def test_a_full_disk_while_recording_a_failure_does_not_mask_the_error(run, monkeypatch, caplog):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Run, "mark_failed", full)
    monkeypatch.setattr(Run, "write_provenance", full)
    assert run_one(run.path, backend="comsol", show_progress=False) == "failed"
    text = caplog.text
    assert "could not record the failure" in text and "No space left" in text
    assert "BackendUnavailable" in text  # the run's own error is still reported


def test_a_damaged_status_does_not_abort_a_sweep(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC_YAML)
    runs_dir = tmp_path / "runs"
    assert main(["run", str(spec), "--runs-dir", str(runs_dir)]) == 0
    first, second = RunStore(runs_dir).iter_runs("robust-cli")
    (first.path / "status.json").write_text('{"state": "do')  # torn by a crash or a full disk
    capsys.readouterr()
    assert main(["sweep", str(spec), "-j", "2", "--runs-dir", str(runs_dir)]) == 0
    assert first.state == "done" and second.state == "done"
    assert main(["show", first.run_id, "--runs-dir", str(runs_dir)]) == 0
    (second.path / "status.json").write_text("\x00\x00")
    assert main(["run", str(spec), "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "unreadable" in out and second.state == "done"


def test_files_respect_the_umask(done_run):
    old = os.umask(0o022)
    try:
        assert run_one(done_run.path, show_progress=False) == "done"  # a forced rerun writes everything again
        names = ["spec.yaml", "status.json", "provenance.json", "fields.pvd", "scalars.csv", "log.txt", "run.json"]
        names += [f"fields/{p.name}" for p in (done_run.path / "fields").iterdir()]
        for name in names:
            mode = stat.S_IMODE((done_run.path / name).stat().st_mode)
            assert mode == 0o644, f"{name}: {oct(mode)}"
        os.umask(0o002)
        done_run.update_status(note="group-writable")
        assert stat.S_IMODE((done_run.path / "status.json").stat().st_mode) == 0o664
    finally:
        os.umask(old)


def test_cli_turns_os_errors_into_one_paragraph(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC_YAML)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", str(spec), "--runs-dir", str(blocker / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and str(blocker) in err
    assert len(err.strip().splitlines()) == 1


def test_cli_reports_a_full_disk_without_a_traceback(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC_YAML)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "runs"))

    monkeypatch.setattr(store_module, "atomic_write_bytes", full)
    assert main(["run", str(spec), "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert "error: No space left on device" in err and "disk is full" in err and "Traceback" not in err
    shutil.rmtree(tmp_path / "runs", ignore_errors=True)


def test_the_native_solver_beats_during_set_up():
    from solvers import get_backend
    from solvers.api import MemorySink

    study = {**STUDY, "backend": "native", "numerics": {"mesh": {"size": "coarse"}}}
    study["model"] = {**STUDY["model"], "loading": {"specific_current": "0.2 A/g", "stop": {"dod": 0.01}}}
    [spec] = study_from_dict(study).runs()
    sink = MemorySink()
    get_backend("native").solve(spec.model(), spec.outputs(), spec.numerics(), sink)
    assert sink.heartbeats >= 3  # after meshing, assembly and factorisation, before any progress


def test_report_and_fields_stay_inside_the_store(done_run, tmp_path, capsys):
    runs_dir = done_run.path.parents[1]
    outside = tmp_path / "outside"
    (outside / done_run.run_id).mkdir(parents=True)
    (outside / done_run.run_id / "spec.yaml").write_text((done_run.path / "spec.yaml").read_text())
    study = os.path.relpath(outside, runs_dir)  # ../outside
    assert main(["report", study, "--runs-dir", str(runs_dir), "--no-3d"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "unsafe study name" in err
    assert not (outside / "report.html").exists()
    pvd = done_run.path / "fields.pvd"
    pvd.write_text(pvd.read_text().replace('file="fields/0000.vtu"', 'file="../../../../../../etc/passwd"'))
    with pytest.raises(store_module.StoreError, match="outside"):
        done_run.field_steps()
    assert main(["show", str(done_run.path)]) == 1
    assert "points outside" in capsys.readouterr().err
