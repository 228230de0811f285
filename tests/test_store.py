"""Run store: layout, atomic writes, status life cycle, safety of names."""

import json
import os

import numpy as np
import pytest

from orchestrator import RunNotFound, RunStore, StoreError, load_study
from orchestrator.store import Run, atomic_write_text
from solvers.api import SCALAR_COLUMNS, FieldFrame

SPEC = """
spec_version: 1
name: store-test
backend: radial
model:
  particle: {radius: 2 um}
  material: Si
  loading: {specific_current: 0.1 A/g}
sweep:
  grid: {model.material: [Si, Si8.5Sn0.5Sb]}
"""


@pytest.fixture
def store_and_runs(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    runs = load_study(spec).runs()
    store = RunStore(tmp_path / "runs")
    return store, runs


def test_prepare_layout_and_idempotence(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    assert run.path == store.root / "store-test" / runs[0].run_id
    assert {p.name for p in run.path.iterdir()} == {"spec.yaml", "run.json", "status.json"}
    assert run.state == "pending"
    run.mark_done()
    again = store.prepare(runs[0])
    assert again.state == "done"  # preparing again never resets a stored run
    assert again.spec.run_id == runs[0].run_id
    assert again.changes == {"model.material": "Si"}


def test_stored_spec_reproduces_the_id(store_and_runs):
    store, runs = store_and_runs
    for spec in runs:
        run = store.prepare(spec)
        assert run.spec.run_id == spec.run_id == run.run_id


def test_hand_edited_spec_is_detected(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    text = (run.path / "spec.yaml").read_text().replace("2.0e-06", "3.0e-06")
    (run.path / "spec.yaml").write_text(text)
    with pytest.raises(Exception, match="no longer hashes"):
        run.spec


def test_status_life_cycle(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    run.mark_running()
    assert run.state == "running" and run.status["pid"] == os.getpid()
    assert not run.is_stale(60)
    run.mark_failed("boom")
    assert run.state == "failed" and run.status["error"] == "boom"
    run.mark_running()
    run.update_status(pid=2**22 + 12345)  # no such process on this host
    assert run.is_stale(1e9)


@pytest.mark.parametrize("study,run_id", [("..", "0123456789ab"), ("a/b", "0123456789ab"), ("/abs", "0123456789ab"),
                                          ("ok", "../../etc"), ("ok", "0123456789AB"), ("ok", "0123")])
def test_names_cannot_escape(tmp_path, study, run_id):
    with pytest.raises(StoreError):
        RunStore(tmp_path).run_dir(study, run_id)


def test_atomic_write_survives_exception_mid_write(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    atomic_write_text(target, '{"state": "running"}')

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", explode)
    with pytest.raises(OSError):
        atomic_write_text(target, '{"state": "done"}' + "x" * 100000)
    assert json.loads(target.read_text()) == {"state": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temp file left behind


def test_failure_during_result_write_never_marks_done(store_and_runs, monkeypatch):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    run.mark_running()
    sink = run.sink()
    import meshio

    def broken_write(*args, **kwargs):
        raise OSError("quota exceeded")

    monkeypatch.setattr(meshio, "write", broken_write)
    frame = FieldFrame(time=1.0, dod=0.1, points=np.zeros((2, 3)), cells={"line": np.array([[0, 1]])},
                       point_data={"c": np.zeros(2)})
    with pytest.raises(OSError):
        sink.write_fields(frame)
    assert run.state == "running"
    assert not (run.path / "fields.pvd").exists()
    assert not list((run.path / "fields").glob("*.vtu"))


def test_sink_writes_contract(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    sink = run.sink()
    for i in range(3):
        sink.write_scalars({c: float(i) for c in SCALAR_COLUMNS})
    points = np.array([[0, 0, 0], [1e-6, 0, 0], [2e-6, 0, 0]], dtype=float)
    for t in (10.0, 20.0):
        sink.write_fields(FieldFrame(time=t, dod=t / 100, points=points, cells={"line": np.array([[0, 1], [1, 2]])},
                                     point_data={"c": np.arange(3.0) * t, "stress": np.ones((3, 6))}))
    sink.close()
    scalars = run.scalars()
    assert list(scalars) == list(SCALAR_COLUMNS)
    np.testing.assert_array_equal(scalars["dod"], [0, 1, 2])
    steps = run.field_steps()
    assert [t for t, _ in steps] == [10.0, 20.0]
    import meshio

    mesh = meshio.read(steps[1][1])
    np.testing.assert_allclose(mesh.point_data["c"], [0, 20, 40])
    assert mesh.point_data["stress"].shape == (3, 6)


def test_truncated_scalar_line_is_ignored(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    (run.path / "scalars.csv").write_text(",".join(SCALAR_COLUMNS) + "\n" + ",".join(["1"] * len(SCALAR_COLUMNS)) + "\n1,2,3")
    assert len(run.scalars()["dod"]) == 1


def test_find_by_prefix_path_and_study_id(store_and_runs):
    store, runs = store_and_runs
    prepared = [store.prepare(r) for r in runs]
    target = prepared[1]
    assert store.find(target.run_id[:6]).path == target.path
    assert store.find(str(target.path)).path == target.path
    assert store.find(f"{target.study}/{target.run_id}").path == target.path
    with pytest.raises(RunNotFound):
        store.find("ffffffffffff")
    assert [r.run_id for r in store.iter_runs("store-test")] == sorted(r.run_id for r in runs)


def test_run_requires_spec(tmp_path):
    with pytest.raises(RunNotFound):
        Run(tmp_path)


def test_reset_keeps_spec(store_and_runs):
    store, runs = store_and_runs
    run = store.prepare(runs[0])
    (run.path / "scalars.csv").write_text("x")
    (run.path / "fields").mkdir()
    run.mark_done()
    run.reset()
    assert run.state == "pending"
    assert not (run.path / "scalars.csv").exists() and not (run.path / "fields").exists()
    assert (run.path / "spec.yaml").exists()
