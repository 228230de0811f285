"""The octant CLI: exit codes, messages without tracebacks, the run/show cycle."""

import json
import subprocess
import sys
from pathlib import Path


from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_validate_example(capsys):
    assert main(["validate", str(ROOT / "studies" / "si-vs-alloy.yaml")]) == 0
    out = capsys.readouterr().out
    assert "2 run(s)" in out and "Si8.5Sn0.5Sb" in out and "35.79 h" in out


def test_validate_error_is_one_message_and_nonzero(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("spec_version: 1\nname: x\nmodel: {particle: {radius: 3 kg}}\n")
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "validate", str(spec)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "model.particle.radius" in proc.stderr and "'3 kg'" in proc.stderr
    assert "model.material: required field is missing" in proc.stderr


def test_missing_spec_file(capsys, tmp_path):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert "no such spec file" in capsys.readouterr().err


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert "model" in schema["properties"]


def test_show_unknown_run(capsys, tmp_path):
    assert main(["show", "abcdef", "--runs-dir", str(tmp_path)]) == 1
    assert "no run" in capsys.readouterr().err
