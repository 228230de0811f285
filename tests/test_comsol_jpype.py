"""The worker's argument conversion through JPype, against a recording Java proxy (NOT COMSOL).

``tests/java_stubs`` declares the COMSOL API (compile-only) and ``octant.testing.RecordingProxy``
implements it with a ``java.lang.reflect.Proxy`` that records which Java overload each call
resolved to. A child process (the test process never starts a JVM) compiles them, starts a JVM
with JPype, and replays the model plan with :func:`solvers.comsol.worker.to_java` -- the same
replay the worker does on mph's ``model.java``. COMSOL overloads ``set`` for int, boolean, double,
String and arrays, so the explicit Java types matter: a bare Python int is ambiguous in JPype.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
STUBS = HERE / "java_stubs"
JAVAC = shutil.which("javac")
pytestmark = [
    pytest.mark.skipif(JAVAC is None, reason="javac not found (install a JDK)"),
    pytest.mark.skipif(importlib.util.find_spec("jpype") is None, reason="JPype not installed (pip install jpype1)"),
]

SCRIPT = r"""
import json, sys
import jpype
sys.path.insert(0, sys.argv[2])
jpype.startJVM(classpath=[sys.argv[1]], convertStrings=False)
from models import LithiationModel, get_preset
from solvers.api import Numerics, OutputRequest
from solvers.comsol.builder import apply_plan, build_plan
from solvers.comsol.worker import to_java
proxy = jpype.JClass("octant.testing.RecordingProxy")
model = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0)
if sys.argv[3] == "options":  # inclusions, elastoplasticity with hardening, stress-driven diffusion
    sys.path.insert(0, sys.argv[2] + "/tests")
    from test_comsol_options import paper_model
    model = paper_model(hardening=2e9, stress_driven_diffusion=True)
plan = build_plan(model, OutputRequest(dods=(0.5,)), Numerics(), results_dir="/r")
out = {"n_plan": len(plan.calls)}
try:
    apply_plan(plan, proxy.model(), convert=lambda v: v)
    out["raw"] = "ok"
except Exception as exc:
    out["raw"] = str(exc)
apply_plan(plan, proxy.model(), convert=to_java)
out["calls"] = [str(c) for c in proxy.calls()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("classes")
    sources = [str(p) for p in STUBS.rglob("*.java")]
    subprocess.run([JAVAC, "-d", str(out), *sources], check=True, capture_output=True, timeout=180)
    return out


def _replay(classes: Path, case: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(classes), str(HERE.parent), case], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def replay(classes) -> dict:
    return _replay(classes, "plain")


def test_option_calls_resolve_to_the_intended_overloads(classes):
    """Booleans, ints and arrays of the inclusion/plasticity/migration calls keep their Java types."""
    calls = _replay(classes, "options")["calls"]
    for expected in (
        "GeomFeature.set(String,boolean)",               # set("selresult", true), set("intbnd", true)
        "PropFeature.set(String,boolean)",               # prop("TransportMechanism").set("Migration", true)
        "PhysicsFeature.setIndex(String,int,int)",       # sp1 setIndex("z", 1, 0)
        "SelectionFeature.set(String,boolean)",          # Adjacent set("exterior", true)
        "PhysicsFeature.create(String,String,int)",      # lemm1 create("plsty1", "Plasticity", 3)
    ):
        assert expected in calls, expected


def test_every_call_resolves_to_the_intended_overload(replay):
    calls = replay["calls"]
    from models import LithiationModel, get_preset
    from solvers.api import Numerics, OutputRequest
    from solvers.comsol.builder import apply_plan, build_plan
    from solvers.comsol.recording import RecordingModel

    plan = build_plan(LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0),
                      OutputRequest(dods=(0.5,)), Numerics(), results_dir="/r")
    double = RecordingModel()
    apply_plan(plan, double)
    assert len(calls) == len(double.calls)  # the same call chains, one Java call each
    for expected in (
        "ModelNodeList.create(String,boolean)",          # component().create("comp1", true)
        "GeomList.create(String,int)",                   # geom().create("geom1", 3)
        "GeomObjectSelectionFeature.set(String[])",      # selection("input").set("sph1", "blk1")
        "SelectionFeature.set(String,int)",              # set("entitydim", 2)
        "SelectionFeature.set(String,String[])",         # set("input", {...})
        "PhysicsFeature.set(String,String[])",           # D_c tensor
        "PhysicsFeature.setIndex(String,boolean,int)",   # setIndex("species", true, 0)
        "PhysicsFeature.setIndex(String,String,int)",    # setIndex("J0", "J_in", 0)
        "Physics.create(String,String,int)",             # create("fl1", "FluxBoundary", 2)
        "MeshFeature.set(String,int)",                   # set("hauto", 5)
        "StudyFeature.set(String,boolean)",              # set("usertol", true)
        "ExportFeature.set(String,String[])",            # set("expr", {...})
        "Study.run()",
    ):
        assert expected in calls, expected


def test_untyped_python_ints_are_ambiguous_in_jpype(replay):
    """Why to_java casts explicitly (as mph does): without it JPype cannot choose an overload."""
    assert "Ambiguous overloads" in replay["raw"]
