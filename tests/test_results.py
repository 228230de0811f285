"""orchestrator.results: load_run, field steps, nearest-step selection, profiles, clear errors."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pv = pytest.importorskip("pyvista")

from run_factory import AnalyticCase, analytic_study, shared_analytic_study, shared_real_study

from models.errors import OctantError
from orchestrator.errors import RunNotFound
from orchestrator.results import (
    InvalidSelection,
    MissingFieldsError,
    RunResult,
    UnknownFieldError,
    load_run,
    run_label,
)
from orchestrator.store import RunStore
from solvers.api import FIELD_UNITS, SCALAR_COLUMNS


@pytest.fixture(scope="module")
def octant_runs():
    return shared_analytic_study("octant")


@pytest.fixture(scope="module")
def radial_runs():
    return shared_real_study("radial")


@pytest.fixture(scope="module")
def native_runs():
    return shared_real_study("native")


@pytest.mark.parametrize("which", ["analytic-octant", "real-radial", "real-native"])
def test_pvd_reads_back_with_pyvista_reader(which, octant_runs, radial_runs, native_runs):
    _, runs = {"analytic-octant": octant_runs, "real-radial": radial_runs, "real-native": native_runs}[which]
    run = runs[0]
    reader = pv.PVDReader(str(run.path / "fields.pvd"))
    result = load_run(run.path)
    np.testing.assert_allclose(reader.time_values, result.times, rtol=1e-12)
    expected_times = [result.spec.model().time_at_dod(d) for d in (0.25, 0.5) + ((0.75,) if "octant" in which else ())]
    np.testing.assert_allclose(reader.time_values, expected_times, rtol=1e-9)
    for k in range(len(reader.time_values)):
        reader.set_active_time_point(k)
        grid = reader.read()[0]
        for name, (_, ncomp) in FIELD_UNITS.items():
            assert name in grid.point_data, f"{name} missing from step {k}"
            arr = np.asarray(grid.point_data[name])
            assert (arr.shape[1] if arr.ndim > 1 else 1) == ncomp
            assert np.isfinite(arr).all()


def test_load_run_by_path_id_and_prefix(octant_runs):
    root, runs = octant_runs
    run = runs[0]
    by_path = load_run(run.path)
    by_id = load_run(run.run_id, runs_dir=root)
    by_prefix = load_run(run.run_id[:6], runs_dir=root)
    assert by_path.path == by_id.path == by_prefix.path == run.path
    assert isinstance(by_path, RunResult)
    assert by_path.state == "done" and by_path.status["state"] == "done"
    assert "backend" in by_path.provenance
    with pytest.raises(RunNotFound):
        load_run("ffffffffffff", runs_dir=root)
    with pytest.raises(RunNotFound, match="not a run directory"):
        load_run(root)


def test_times_dods_scalars(octant_runs):
    _, runs = octant_runs
    result = load_run(runs[0].path)
    np.testing.assert_allclose(result.dods, [0.25, 0.5, 0.75], rtol=1e-9)
    assert set(result.scalars) == set(SCALAR_COLUMNS)
    assert result.scalars["time_s"].size == 41 + 3 - 1  # linspace incl. 0.75, plus 0.25 and 0.5
    assert np.all(np.diff(result.scalars["time_s"]) > 0)


def test_labels_name_material_and_sweep(octant_runs):
    _, runs = octant_runs
    labels = sorted(load_run(r.path).label for r in runs)
    assert labels == ["Si", "Si8.5Sn0.5Sb"]
    assert run_label("Si", {"model.material": "Si", "model.particle.radius": "1 um"}) == "Si, radius=1 um"
    assert run_label("Si", {"model.loading.specific_current": 0.5}) == "Si, specific_current=0.5"


def test_field_nearest_step(octant_runs):
    _, runs = octant_runs
    result = load_run(runs[0].path)
    grid = result.field("theta", dod=0.3)
    assert isinstance(grid, pv.UnstructuredGrid)
    assert grid.field_data["dod"][0] == pytest.approx(0.25)
    assert grid.active_scalars_name == "theta"
    assert result.field(time=result.times[2] * 0.97).field_data["dod"][0] == pytest.approx(0.75)
    assert result.field().field_data["dod"][0] == pytest.approx(0.75)  # default: last step
    assert result.step(index=1).dod == pytest.approx(0.5)
    with pytest.raises(InvalidSelection):
        result.field("theta", time=1.0, dod=0.5)


def test_missing_field_name_is_a_clear_error(octant_runs):
    _, runs = octant_runs
    result = load_run(runs[0].path)
    with pytest.raises(UnknownFieldError) as info:
        result.field("temperature")
    assert isinstance(info.value, KeyError) and isinstance(info.value, OctantError)
    assert "temperature" in str(info.value) and "von_mises" in str(info.value)


def test_run_without_fields_raises_missing_fields(tmp_path):
    runs = analytic_study(tmp_path, name="nofields", with_fields=False, dods=(0.25,))
    result = load_run(runs[0].path)
    assert not result.has_fields and result.times.size == 0
    with pytest.raises(MissingFieldsError) as info:
        result.field("theta")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, OctantError)
    assert "no stored fields" in str(info.value)


def test_deleted_step_file_raises_missing_fields(tmp_path):
    runs = analytic_study(tmp_path, name="broken", dods=(0.25, 0.5), divisions=3)
    (runs[0].path / "fields" / "0001.vtu").unlink()
    result = load_run(runs[0].path)
    result.field("theta", index=0)
    with pytest.raises(MissingFieldsError, match="missing"):
        result.field("theta", index=1)


def test_profiles_match_the_analytic_solution(octant_runs):
    """Sampling along the x axis and the diagonal reproduces the Crank profile (P1 interpolation error only)."""
    _, runs = octant_runs
    result = load_run(runs[0].path)  # Si, D = 3e-17: a steep profile
    step = result.step(dod=0.5)
    case = AnalyticCase(model=result.spec.model(), diffusivity=3e-17)
    for ray in ("x", "diagonal"):
        x, theta = result.profile("theta", index=step.index, ray=ray, n=101)
        assert x[0] == pytest.approx(0.0) and x[-1] == pytest.approx(1.0)
        exact = case.profile(x, step.time)[0] / result.spec.model().c_max
        assert np.max(np.abs(theta - exact)) < 0.03  # coarse mesh (n=6), theta spans 0.13..0.78
        assert np.max(np.abs(theta - exact)) > 0  # it is an interpolation, not the formula
    _, ta = result.profile("theta", index=step.index, ray="x", n=51)
    _, td = result.profile("theta", index=step.index, ray="diagonal", n=51)
    assert ta[-1] == pytest.approx(td[-1], rel=1e-6)  # both end on a surface vertex (same theta)
    with pytest.raises(InvalidSelection):
        result.profile("theta", ray="sideways")


def test_radial_run_profile_is_its_nodes(radial_runs):
    _, runs = radial_runs
    result = load_run(runs[0].path)
    assert result.is_radial()
    x, theta = result.profile("theta", dod=0.5)
    grid = result.field("theta", dod=0.5)
    assert len(x) == grid.n_points and np.all(np.diff(x) > 0)
    assert x[-1] == pytest.approx(1.0)
    assert theta[-1] == pytest.approx(float(np.max(grid.point_data["theta"])))


def test_field_range_spans_all_steps(octant_runs):
    _, runs = octant_runs
    result = load_run(runs[0].path)
    lo, hi = result.field_range("theta")
    per_step = [result.field_range("theta", [s]) for s in result.steps]
    assert lo == min(a for a, _ in per_step) and hi == max(b for _, b in per_step)
    assert per_step[0][1] < hi  # the surface fills up with time


def test_store_listing_sees_factory_runs(octant_runs, tmp_path):
    root, runs = octant_runs
    listed = [r.run_id for r in RunStore(root).iter_runs(runs[0].study)]
    assert sorted(listed) == sorted(r.run_id for r in runs)
    copy = tmp_path / "copy-study"
    shutil.copytree(runs[0].path, copy / runs[0].run_id)
    assert load_run(copy / runs[0].run_id).study == "copy-study"


def test_missing_pyvista_gives_an_install_hint(octant_runs, monkeypatch):
    import sys

    from orchestrator.results import MissingDependencyError

    _, runs = octant_runs
    result = load_run(runs[0].path)  # metadata and scalars need no pyvista
    assert result.scalars["dod"].size and result.dods.size == 3
    monkeypatch.setitem(sys.modules, "pyvista", None)  # makes `import pyvista` fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'octant\[render\]'") as info:
        result.field("theta")
    assert isinstance(info.value, ImportError)
