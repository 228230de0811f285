"""Tests that need a REAL COMSOL installation (marked ``comsol``; skipped when none is found).

They solve a small case through mph in the worker process and through ``comsol compile`` /
``comsol batch``, and check the physics contract: DOD follows the galvanostatic loading (mass
conservation) and the fields have the run-store shape.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from models import LithiationModel, StopCondition, get_preset
from solvers.api import FIELD_UNITS, MeshOptions, Numerics, OutputRequest
from solvers.comsol import available, solve
from solvers.api import MemorySink as ListSink

OK, WHY = available()
pytestmark = [pytest.mark.comsol, pytest.mark.skipif(not OK, reason=f"no usable COMSOL: {WHY}")]

MODEL = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 0.2))


def test_solve_through_mph():
    sink = ListSink()
    stats = solve(MODEL, OutputRequest(dods=(0.1, 0.2)), Numerics(mesh=MeshOptions(size="coarse")), sink)
    assert stats.backend == "comsol" and stats.extra["comsol_version"]
    assert [round(f.dod, 2) for f in sink.frames] == [0.1, 0.2]
    last = sink.rows[-1]
    assert last["dod"] == pytest.approx(0.2, rel=1e-3)  # J from the discrete V and A: exact DOD
    assert last["theta_surface_max"] > last["theta_mean"] > last["theta_center"]
    for name, (_, ncomp) in FIELD_UNITS.items():
        values = np.asarray(sink.frames[-1].point_data[name])
        assert values.shape[0] == len(sink.frames[-1].points)
        assert (values.ndim == 1) if ncomp == 1 else values.shape[1] == ncomp


def test_exported_java_runs_in_comsol_batch(tmp_path):
    from solvers.comsol.builder import build_plan
    from solvers.comsol.discovery import select_install
    from solvers.comsol.java_export import write_java

    install, _ = select_install()
    plan = build_plan(MODEL, OutputRequest(dods=(0.2,)), Numerics(mesh=MeshOptions(size="coarse")), results_dir=str(tmp_path))
    source = write_java(tmp_path / "OctantModel.java", plan)
    comsol = str(install.executable)
    subprocess.run([comsol, "compile", str(source)], check=True, timeout=600)
    subprocess.run([comsol, "batch", "-inputfile", str(tmp_path / "OctantModel.class"), "-outputfile",
                    str(tmp_path / "out.mph"), "-batchlog", str(tmp_path / "batch.log")], check=True, timeout=3600)
    from solvers.comsol.batch import check_batch_log

    assert check_batch_log(tmp_path / "batch.log") == []
    assert (tmp_path / "fields.txt").exists() and (tmp_path / "mesh.mphtxt").exists()
