"""run_one: backend choice recorded in provenance, failures recorded and never half-done."""

from pathlib import Path

import pytest

from orchestrator import RunStore, load_study, run_one
from orchestrator.runner import resolve_backend

SPEC = """
spec_version: 1
name: runner-test
backend: {backend}
model:
  particle: {{radius: 2 um}}
  material: {material}
  loading: {{specific_current: 0.5 A/g, stop: {{dod: 0.6}}}}
outputs:
  fields_at: {{dod: [0.02, 0.3, 0.6]}}
numerics:
  mesh: {{size: coarse}}
"""

# D is finite and positive on theta in [0, 1.2] (so the spec validates) but NaN past 1.21, which the
# surface reaches with so slow a diffusion: the solve must stop with SolverDiverged after the DOD 0.02
# frame was written.
DIVERGING = "{base: Si, diffusivity: {law: expression, expr: '1e-18*sqrt(1.21 - theta)'}}"


def prepare(tmp_path: Path, backend: str, material: str = "Si"):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(backend=backend, material=material))
    [spec] = load_study(path).runs()
    return RunStore(tmp_path / "runs").prepare(spec)


def test_auto_falls_back_to_native_and_says_why(tmp_path):
    name, why = resolve_backend("auto")
    assert name == "native" and "COMSOL not available" in why
    run = prepare(tmp_path, "auto")
    assert run_one(run.path, show_progress=False) == "done"
    provenance = run.provenance
    assert provenance["backend"] == "native"
    assert "COMSOL not available" in provenance["backend_reason"]
    assert provenance["solver"]["dofs"]["u"] > 0
    assert {"octant_version", "git_commit", "python", "libraries", "host", "wall_time_s"} <= set(provenance)


@pytest.mark.parametrize("backend", ["radial", "native"])
def test_diverging_solve_fails_keeps_fields_and_logs(tmp_path, backend):
    run = prepare(tmp_path, backend, DIVERGING)
    assert run_one(run.path, show_progress=False) == "failed"
    status = run.status
    assert status["state"] == "failed"
    assert status["error"].startswith("SolverDiverged: ")
    assert "at t = " in status["error"] and "step" in status["error"]  # names the time and the step size
    steps = run.field_steps()
    assert len(steps) >= 1 and all(p.exists() for _, p in steps)  # the frames written before the failure stay
    assert "failed" in run.log_path.read_text()


def test_comsol_backend_without_comsol_fails_with_hint(tmp_path):
    run = prepare(tmp_path, "comsol")
    assert run_one(run.path, show_progress=False) == "failed"
    assert "PATH" in run.status["error"]


def test_rerun_after_failure_starts_clean_and_appends_the_log(tmp_path):
    run = prepare(tmp_path, "radial", DIVERGING)
    run_one(run.path, show_progress=False)
    (run.path / "fields" / "9999.vtu").write_text("left over")
    assert run_one(run.path, show_progress=False) == "failed"
    assert not (run.path / "fields" / "9999.vtu").exists()  # results are this attempt's only
    log = run.log_path.read_text()
    assert log.count("backend radial") == 2  # both attempts' logs are kept, each under its header
    assert "===== octant attempt 1:" in log and "===== octant attempt 2:" in log
    assert log.index("attempt 1:") < log.index("attempt 2:")
    assert run.status["attempts"] == 2
