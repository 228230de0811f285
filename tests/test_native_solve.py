"""Native backend end to end: solve(model, outputs, numerics, sink) and the sink contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import ExpressionDiffusivity, LithiationModel, StopCondition, get_preset
from solvers import get_backend
from solvers.api import FIELD_UNITS, SCALAR_COLUMNS, MeshOptions, Numerics, OutputRequest, TimeOptions
from solvers.errors import SolverDiverged, SolverError
from solvers.api import MemorySink as ListSink

R = 4.11e-6


def _numerics(n=3, **kwargs):
    mesh = MeshOptions(element_size=math.pi * R / (4 * n) * (1 + 1e-9))
    return Numerics(mesh=mesh, **kwargs)


def _model(stop=None, material=None):
    return LithiationModel(
        radius=R, material=material or get_preset("Si"), specific_current=100.0, stop=stop or StopCondition("dod", 1.0)
    )


@pytest.fixture(scope="module")
def full_run():
    model = _model()
    sink = ListSink()
    outputs = OutputRequest(dods=(0.25, 0.5, 1.0), every=60, stress_every_dod=0.0)
    stats = get_backend("native").solve(model, outputs, _numerics(), sink)
    return model, outputs, sink, stats


def test_backend_available():
    ok, why = get_backend("native").available()
    assert ok and "native" in why


def test_scalars_contract(full_run):
    model, _, sink, stats = full_run
    assert len(sink.rows) == stats.steps_accepted + 1
    assert all(tuple(row) == SCALAR_COLUMNS for row in sink.rows)
    t = np.array([row["time_s"] for row in sink.rows])
    dod = np.array([row["dod"] for row in sink.rows])
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert t[-1] == model.full_lithiation_time
    # galvanostatic + exact conservation: DOD is linear in time, 1 exactly at the end
    assert np.abs(dod - t / model.full_lithiation_time).max() < 1e-10
    assert dod[-1] == pytest.approx(1.0, abs=1e-12)
    assert stats.extra["mass_balance_rel_error"] < 1e-8
    vm = np.array([row["von_mises_max"] for row in sink.rows])
    assert vm[0] == pytest.approx(0.0, abs=1e-3) and np.all(np.isfinite(vm)) and vm.max() > 1e8
    assert all(row["hydrostatic_min"] <= row["hydrostatic_max"] for row in sink.rows)
    assert len(sink.progress_calls) == stats.steps_accepted + 1


def test_fields_contract(full_run):
    model, outputs, sink, stats = full_run
    targets = outputs.target_times(model)
    at_targets = [f for f in sink.frames if f.time in set(targets.tolist())]
    assert [f.time for f in at_targets] == targets.tolist()  # landed exactly
    assert [round(f.dod, 12) for f in at_targets] == [0.25, 0.5, 1.0]
    every = [f for f in sink.frames if f.time not in set(targets.tolist())]
    assert len(every) == stats.extra["fields_written"] - 3 > 0
    rows_by_time = {row["time_s"]: row for row in sink.rows}
    for frame in sink.frames:
        n = len(frame.points)
        assert set(frame.cells) == {"tetra"} and frame.cells["tetra"].max() == n - 1
        assert set(frame.point_data) == set(FIELD_UNITS)
        for name, (_, comps) in FIELD_UNITS.items():
            assert frame.point_data[name].shape == ((n,) if comps == 1 else (n, comps))
            assert np.all(np.isfinite(frame.point_data[name]))
        assert np.allclose(frame.point_data["theta"], frame.point_data["c"] / model.c_max)
        row = rows_by_time[frame.time]
        assert frame.point_data["von_mises"].max() == pytest.approx(row["von_mises_max"], rel=1e-9)
        assert frame.point_data["theta"].max() >= row["theta_surface_max"] - 1e-12
    last = sink.frames[-1].point_data
    # theta above 1 at the surface is kept (pure Fick, not clipped) and reported
    assert last["theta"].max() > 1.0
    assert any("theta exceeded 1" in note for note in stats.notes)


def test_stats(full_run):
    _, _, sink, stats = full_run
    assert stats.backend == "native"
    n = len(sink.frames[0].points)
    assert stats.dofs["c"] == n and stats.dofs["u"] > 3 * n
    assert {"mesh", "assembly", "factorisation", "transient", "total"} <= set(stats.timings_s)
    assert stats.newton_iterations >= stats.steps_accepted > 10
    # whichever direct/iterative solver ``auto`` picks on this machine (PARDISO comes with the
    # README's `all` extra, CHOLMOD only with the optional apt + pip step)
    from solvers.native.linalg import resolve_method

    assert stats.extra["linear_solver"] == resolve_method("auto", stats.dofs["u"])
    assert stats.extra["linear_solver"] in ("cholmod", "pardiso", "superlu", "amg")
    assert stats.as_dict()["backend"] == "native"


def test_stop_at_surface_theta():
    model = _model(StopCondition("surface_theta", 0.5))
    sink = ListSink()
    stats = get_backend("native").solve(model, OutputRequest(dods=(0.9,)), _numerics(), sink)
    assert stats.extra["stop_reason"] == "surface_theta"
    assert sink.rows[-1]["theta_surface_max"] == pytest.approx(0.5, abs=1e-6)
    assert sink.rows[-2]["theta_surface_max"] < 0.5
    assert not sink.frames and any("not written" in note for note in stats.notes)


def test_stop_at_time_without_stresses():
    t_stop = 3600.0
    model = _model(StopCondition("time", t_stop))
    sink = ListSink()
    numerics = _numerics(time=TimeOptions(rtol=1e-3))
    outputs = OutputRequest(times=(1800.0, 7200.0), stress_every_dod=None)
    stats = get_backend("native").solve(model, outputs, numerics, sink)
    assert sink.rows[-1]["time_s"] == t_stop and stats.extra["stop_reason"] == "time"
    assert all(math.isnan(row["von_mises_max"]) for row in sink.rows)
    assert [f.time for f in sink.frames] == [1800.0]  # 7200 s is after the stop
    assert any("after the stop time" in note for note in stats.notes)
    assert np.isfinite(sink.frames[0].point_data["von_mises"]).all()  # fields always carry stresses


def test_diverging_law_raises_with_time_and_keeps_sent_fields():
    material = get_preset("Si").with_(diffusivity=ExpressionDiffusivity(expr="2e-15*sqrt(0.3-theta)"))
    model = _model(StopCondition("dod", 0.5), material)
    sink = ListSink()
    with pytest.raises(SolverDiverged) as info:
        get_backend("native").solve(model, OutputRequest(dods=(0.02,)), _numerics(), sink)
    assert info.value.time is not None and info.value.time > model.time_at_dod(0.02)
    assert len(sink.frames) == 1 and sink.frames[0].dod == pytest.approx(0.02)
    assert len(sink.rows) > 2 and sink.rows[-1]["time_s"] <= info.value.time  # pending rows were flushed


def test_bad_displacement_order():
    with pytest.raises(SolverError, match="displacement_order"):
        get_backend("native").solve(_model(), OutputRequest(), Numerics(displacement_order=3), ListSink())
