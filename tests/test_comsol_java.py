"""The exported COMSOL ``.java`` model file: golden file, layout, and compilation with ``javac``.

``javac`` compiles it against ``tests/java_stubs`` (compile-only stubs of the COMSOL API, NOT
COMSOL): that checks it is valid Java and that every call chain type-checks against the declared
API. Regenerate the golden file with ``OCTANT_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from models import LithiationModel, get_preset
from orchestrator.cli import main
from solvers.api import Numerics, OutputRequest
from solvers.comsol.builder import build_plan
from solvers.comsol.java_export import java_class_name, render_java, write_java

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "comsol" / "OctantModel.java"
STUBS = HERE / "java_stubs"
JAVAC = shutil.which("javac")
needs_javac = pytest.mark.skipif(JAVAC is None, reason="javac not found (install a JDK, e.g. openjdk-17-jdk-headless)")

MODEL = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0)


def golden_source() -> str:
    plan = build_plan(MODEL, OutputRequest(dods=(0.25, 0.5, 1.0)), Numerics(), results_dir="/scratch/octant/run")
    return render_java(plan, "OctantModel", header="Golden file of tests/test_comsol_java.py (Si defaults).")


def test_matches_golden_file():
    text = golden_source()
    if os.environ.get("OCTANT_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"no golden file {GOLDEN}; run with OCTANT_UPDATE_GOLDEN=1 to create it"
    assert text == GOLDEN.read_text(encoding="utf-8"), "the exported .java changed; review and regenerate with OCTANT_UPDATE_GOLDEN=1"


def test_layout_of_an_exported_file():
    text = golden_source()
    assert text.count("import com.comsol.model.*;") == 1 and "import com.comsol.model.util.*;" in text
    assert "public class OctantModel {" in text
    assert '    Model model = ModelUtil.create("Model");' in text
    assert "  public static Model run() {" in text and "  public static void main(String[] args) {" in text
    assert "run2" not in text  # small model: one method
    statements = [line for line in text.splitlines() if line.startswith("    model.")]
    assert all(s.endswith(";") for s in statements) and len(statements) > 90


def test_large_models_are_split_into_methods():
    plan = build_plan(MODEL, OutputRequest(dods=(0.5,)), Numerics(), results_dir="/r")
    text = render_java(plan, "Split", max_method_bytes=2500)
    methods = re.findall(r"public static Model (run\d*)\(", text)
    assert methods[0] == "run" and len(methods) > 3
    for k, name in enumerate(methods[1:], start=2):
        assert name == f"run{k}"
        assert f"    run{k}(model);" in text
    bodies = re.split(r"public static Model run\d*\(", text)[1:]
    assert all(len(b.encode()) < 2500 + 400 for b in bodies)
    # no statement is lost or duplicated by the split
    assert [line.strip() for line in text.splitlines() if line.startswith("    model.")] == [c.java() + ";" for c in plan.calls]


def test_class_names():
    assert java_class_name("out/My_Model1.java") == "My_Model1"
    for bad in ("1model.java", "my-model.java", "class.java"):
        with pytest.raises(ValueError, match="Java class name"):
            java_class_name(bad)


@needs_javac
@pytest.mark.parametrize("split", [60_000, 3000])
def test_compiles_against_the_api_stubs(tmp_path, split):
    plan = build_plan(MODEL, OutputRequest(dods=(0.25, 0.5, 1.0)), Numerics(), results_dir=str(tmp_path))
    source = write_java(tmp_path / "OctantModel.java", plan, max_method_bytes=split)
    proc = subprocess.run(
        [JAVAC, "-d", str(tmp_path / "classes"), "-sourcepath", str(STUBS), str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "classes" / "OctantModel.class").exists()


@needs_javac
def test_stubs_catch_a_wrong_call(tmp_path):
    """The compile check can fail: a chain the API does not have is a javac error."""
    bad = tmp_path / "Bad.java"
    bad.write_text(
        "import com.comsol.model.*;\nimport com.comsol.model.util.*;\npublic class Bad {\n"
        "  public static Model run() {\n    Model model = ModelUtil.create(\"Model\");\n"
        '    model.component("comp1").physics("tds").create("fl1", "FluxBoundary", "2");\n    return model;\n  }\n}\n'
    )
    proc = subprocess.run([JAVAC, "-d", str(tmp_path), "-sourcepath", str(STUBS), str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "incompatible types" in proc.stderr


def test_export_java_command(tmp_path, capsys):
    spec = HERE.parent / "studies" / "quick.yaml"
    if not spec.exists():
        pytest.skip(f"{spec} not found")
    out = tmp_path / "job" / "QuickModel.java"
    assert main(["export-java", str(spec), "-o", str(out), "--results-dir", str(tmp_path / "res")]) == 0
    text = out.read_text()
    assert "public class QuickModel {" in text
    assert f'"{(tmp_path / "res").as_posix()}/fields.txt"' in text
    assert "study quick, run " in text
    assert main(["export-java", str(spec), "-o", str(tmp_path / "bad-name.java")]) == 1
    assert "Java class name" in capsys.readouterr().err
