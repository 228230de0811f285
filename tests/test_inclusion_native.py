"""A particle with Sn and Sb inclusions through the native solver: total-capacity DOD and flux, mass
balance, the cell array 'domain', material names, and a peak von Mises above pure Si's (Figs. S26/S27)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gmsh", reason="inclusion meshes need gmsh (pip install gmsh)")

from models import BarInclusion, LithiationModel, SphereInclusion, StopCondition, get_preset  # noqa: E402
from solvers import native  # noqa: E402
from solvers.api import MemorySink, MeshOptions, Numerics, OutputRequest, TimeOptions  # noqa: E402

R, UM = 4.11e-6, 1e-6
SI, SN, SB = get_preset("Si"), get_preset("Sn"), get_preset("Sb")
CAPACITY = 0.6 * 3.6e6  # 0.6 Ah/g


@pytest.fixture(scope="module", autouse=True)
def _mesh_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("OCTANT_MESH_CACHE", str(tmp_path_factory.mktemp("meshes")))
    yield
    mp.undo()


def _run(inclusions):
    model = LithiationModel(R, SI, 100.0, stop=StopCondition("capacity", CAPACITY), inclusions=tuple(inclusions))
    numerics = Numerics(mesh=MeshOptions(size="coarse", surface_grading=1.0), time=TimeOptions(rtol=1e-3))
    sink = MemorySink()
    stats = native.solve(model, OutputRequest(capacities=(CAPACITY,), stress_every_dod=0.02), numerics, sink)
    return model, sink, stats


@pytest.fixture(scope="module")
def pure_si():
    return _run(())


def _arrangement(sphere_material, bar_material):
    return [
        SphereInclusion(sphere_material, (2.2 * UM, 0.9 * UM, 0.9 * UM), 0.6 * UM),
        SphereInclusion(sphere_material, (0.0, 0.0, 2.6 * UM), 0.6 * UM),
        BarInclusion(bar_material, (0.8 * UM, 2.6 * UM, 0.8 * UM), (2.4 * UM, 2.6 * UM, 0.8 * UM), 0.4 * UM),
    ]


@pytest.fixture(scope="module")
def with_inclusions():
    return _run(_arrangement(SN, SB))


def test_dod_flux_and_outputs_from_the_total_capacity(with_inclusions) -> None:
    model, sink, stats = with_inclusions
    assert stats.extra["materials"] == ["Si", "Sn", "Sb"]
    assert stats.extra["stop_reason"] == "capacity"
    assert sink.column("time_s")[-1] == pytest.approx(CAPACITY / 100.0)
    # DOD = inserted Li / sum_d V_d (c_max,d - c0): linear in time, CAPACITY / particle capacity at the end
    assert sink.rows[-1]["dod"] == pytest.approx(CAPACITY / model.particle_capacity, rel=1e-6)
    assert stats.extra["mass_balance_rel_error"] < 1e-8
    frame = sink.frames[-1]
    domain = frame.cell_data["material"][0]
    assert domain.shape == (frame.cells["tetra"].shape[0],) and set(np.unique(domain)) == {0, 1, 2}
    c = frame.point_data["c"]
    assert np.all(np.isfinite(c)) and np.all(np.isfinite(frame.point_data["von_mises"]))


def test_inclusions_raise_the_peak_von_mises_above_pure_si(pure_si, with_inclusions) -> None:
    peak_si = np.nanmax(pure_si[1].column("von_mises_max"))
    peak_inc = np.nanmax(with_inclusions[1].column("von_mises_max"))
    assert peak_inc > 1.05 * peak_si
    # control: the same gmsh mesh with Si "inclusions" gives pure Si's peak, so the rise is the Sn/Sb
    # material mismatch, not the finer mesh around the inclusions (measured with the consistent-mass
    # transport: 44.0, 43.9, 50.1 GPa; with the lumped default on these coarse meshes: 40.6 and
    # 42.6 GPa for pure Si and the control, against 43.2 GPa from the radial solver, 801 nodes)
    si_copy = SI.with_(name="Si (inclusion)")
    _, control, _ = _run(_arrangement(si_copy, si_copy))
    peak_control = np.nanmax(control.column("von_mises_max"))
    assert peak_control == pytest.approx(peak_si, rel=0.06)
    assert peak_inc > 1.05 * peak_control
