"""The generated sbatch scripts (golden files), chunking, options and dry runs: no cluster needed.

Golden files live in ``tests/golden/slurm/``; temp paths, the interpreter, the repository root
and the submission id are normalised. ``OCTANT_UPDATE_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from orchestrator.errors import SubmissionError
from orchestrator.executors.manifest import Submission, list_submissions, read_manifest
from orchestrator.executors.slurm import COMSOL_LICENSE, _with_license, comsol_script_factory, submit_study
from orchestrator.executors.slurm_commands import _expand_array_id
from orchestrator.executors.slurm_script import SlurmOptions, package_root, render_array_script
from orchestrator.spec import study_from_dict
from orchestrator.store import RunStore

GOLDEN = Path(__file__).parent / "golden" / "slurm"


def _study(n_radii: int = 3, backend: str = "radial", name: str = "golden"):
    radii = [f"{1 + i} um" for i in range(n_radii)]
    return study_from_dict(
        {
            "spec_version": 1,
            "name": name,
            "backend": backend,
            "model": {
                "particle": {"radius": "2 um"},
                "material": "Si",
                "loading": {"specific_current": "0.1 A/g", "stop": {"dod": 0.5}},
            },
            "outputs": {"fields_at": {"dod": [0.5]}},
            "sweep": {"grid": {"model.particle.radius": radii}},
        }
    )


def _normalise(text: str, runs_root: Path) -> str:
    text = text.replace(str(runs_root), "<RUNS>")
    text = text.replace(sys.executable, "<PYTHON>")
    text = text.replace(str(package_root()), "<REPO>")
    return re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{4}", "<SUBMISSION>", text)


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("OCTANT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} missing: run with OCTANT_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"{name} differs from its golden file (OCTANT_UPDATE_GOLDEN=1 updates it)"


def _dry_scripts(tmp_path: Path, options: SlurmOptions, **study_kw) -> list[str]:
    store = RunStore(tmp_path / "runs")
    result = submit_study(_study(**study_kw).runs(), store, options, dry_run=True)
    assert not (tmp_path / "runs").exists(), "a dry run must not write anything"
    return [_normalise(text, store.root) for _, text in result.scripts]


def test_default_script_matches_golden(tmp_path):
    (script,) = _dry_scripts(tmp_path, SlurmOptions())
    _check_golden("default.sbatch", script)


def test_script_with_every_option_matches_golden(tmp_path):
    options = SlurmOptions(partition="debug", time="01:30:00", cpus=2, mem="4G", array_limit=3, pack=2)
    (script,) = _dry_scripts(tmp_path, options, n_radii=5)
    assert "#SBATCH --array=0-2%3" in script  # 5 runs, 2 per task -> 3 tasks, at most 3 at once
    _check_golden("options.sbatch", script)


def test_chunks_follow_max_array_size(tmp_path):
    scripts = _dry_scripts(tmp_path, SlurmOptions(max_array_size=2), n_radii=5)
    assert [re.search(r"--array=(\S+)", s).group(1) for s in scripts] == ["0-1", "0-1", "0-0"]
    _check_golden("chunked-000.sbatch", scripts[0])
    _check_golden("chunked-002.sbatch", scripts[2])


def test_comsol_array_script_requests_a_licence(tmp_path):
    text = render_array_script(
        study="alloy",
        manifest=tmp_path / "chunk-000.manifest",
        n_runs=3,
        log_dir=tmp_path / "logs",
        options=SlurmOptions(time="12:00:00", cpus=4),
        licenses=(COMSOL_LICENSE,),
        skip_done=False,
    )
    assert "#SBATCH --licenses=comsol:1" in text
    assert 'run-one "$RUN_DIR"' in text  # --force submissions rerun done runs
    _check_golden("comsol-array.sbatch", _normalise(text, tmp_path))


def test_comsol_runs_get_the_licence_in_a_dry_run(tmp_path):
    store = RunStore(tmp_path / "runs")
    specs = _study(backend="comsol", n_radii=2).runs()
    for spec in specs:
        store.prepare(spec)
    result = submit_study(specs, store, SlurmOptions(time="02:00:00"), dry_run=True)
    scripts = [text for _, text in result.scripts]
    assert scripts
    for text in scripts:
        assert text.count("-L comsol:1") + text.count("--licenses=comsol:1") == 1
    if comsol_script_factory() is not None:  # one 'comsol batch' job per run, calling this octant
        assert len(scripts) == 2
        for text in scripts:
            assert f"{sys.executable} -m orchestrator.cli" in text
            assert f"export PYTHONPATH={package_root()}" in text


def test_comsol_dry_run_before_prepare_prints_the_real_batch_script(tmp_path):
    """What a user checks before submitting is the job script that would run: golden file."""
    store = RunStore(tmp_path / "runs")
    result = submit_study(_study(backend="comsol", n_radii=1).runs(), store, SlurmOptions(time="02:00:00", cpus=4), dry_run=True)
    (text,) = [t for _, t in result.scripts]
    assert not (tmp_path / "runs").exists()
    assert '"$COMSOL" batch -np "$NP" -inputfile "$WORK/OctantModel.class"' in text
    assert text.count("--licenses=comsol:1") + text.count("-L comsol:1") == 1
    _check_golden("comsol-batch.sbatch", re.sub(r"\b[0-9a-f]{12}\b", "<RUN_ID>", _normalise(text, store.root)))


def test_comsol_script_refuses_whitespace_in_the_run_directory(tmp_path):
    store = RunStore(tmp_path / "my runs")
    with pytest.raises(SubmissionError, match="whitespace"):
        submit_study(_study(backend="comsol", n_radii=1).runs(), store, dry_run=True)


def test_licence_is_added_to_a_foreign_script_once():
    script = "#!/bin/bash\n#SBATCH --time=01:00:00\ncomsol batch -inputfile x.mph\n"
    with_licence = _with_license(script)
    assert with_licence.splitlines()[1] == "#SBATCH --licenses=comsol:1"
    assert _with_license(with_licence) == with_licence


def test_the_script_runs_the_right_slice_of_the_manifest(tmp_path):
    """Execute the generated script with bash for every task id (python replaced by echo)."""
    manifest = tmp_path / "chunk-000.manifest"
    runs = [f"/runs/s/{i:012x}" for i in range(5)]
    manifest.write_text("\n".join(runs) + "\n")
    text = render_array_script(
        study="s", manifest=manifest, n_runs=5, log_dir=tmp_path / "logs", options=SlurmOptions(pack=2), python="echo"
    )
    script = tmp_path / "job.sh"
    script.write_text(text)
    import subprocess

    seen = []
    for task in range(3):
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_JOB_ID": "7"}
        out = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=True).stdout
        seen.append([line.split()[-1] for line in out.splitlines() if "run-one" in line])
    assert seen == [runs[0:2], runs[2:4], runs[4:5]]


def test_the_script_fails_when_its_manifest_cannot_be_read(tmp_path):
    manifest = tmp_path / "chunk-000.manifest"
    text = render_array_script(
        study="s", manifest=manifest, n_runs=2, log_dir=tmp_path / "logs", options=SlurmOptions(), python="echo"
    )
    script = tmp_path / "job.sh"
    script.write_text(text)
    import subprocess

    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_JOB_ID": "7"}
    missing = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "cannot read the manifest" in missing.stderr and "run-one" not in missing.stdout
    manifest.write_text("/runs/s/000000000000\n")  # task 1 has no line: a truncated manifest
    short = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert short.returncode == 1 and "no runs on lines 2-2" in short.stderr


def test_submission_records_round_trip(tmp_path):
    store = RunStore(tmp_path / "runs")
    result = submit_study(_study().runs(), store, SlurmOptions(), dry_run=True)
    sub = result.submission
    sub.path.mkdir(parents=True)
    sub.save()
    (loaded,) = list_submissions(store.root / "golden")
    assert isinstance(loaded, Submission) and loaded.id == sub.id and loaded.chunks[0].n_runs == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time": "90 minutes"}, "--time"),
        ({"mem": "lots"}, "--mem"),
        ({"pack": 0}, "--pack"),
        ({"array_limit": 0}, "--array-limit"),
        ({"partition": "a b"}, "--partition"),
    ],
)
def test_bad_options_are_explained(kwargs, message):
    with pytest.raises(SubmissionError, match=message):
        SlurmOptions(**kwargs)


def test_squeue_array_ranges_are_expanded():
    assert _expand_array_id("12_[0-2,5%2]") == ["12_0", "12_1", "12_2", "12_5"]
    assert _expand_array_id("12_3") == ["12_3"]


def test_dry_run_cli_prints_scripts_without_submitting(tmp_path, capsys):
    from orchestrator.cli import main

    spec = tmp_path / "study.yaml"
    spec.write_text(
        "spec_version: 1\nname: clidry\nbackend: radial\n"
        "model: {particle: {radius: 2 um}, material: Si, loading: {specific_current: 0.1 A/g}}\n"
        "sweep: {grid: {model.particle.radius: [1 um, 2 um]}}\n"
    )
    runs = tmp_path / "runs"
    assert main(["submit", str(spec), "--dry-run", "--runs-dir", str(runs), "--time", "00:05:00"]) == 0
    out = capsys.readouterr().out
    assert out.count("#!/bin/bash") == 1 and "#SBATCH --array=0-1" in out and "would submit 2" in out
    assert not runs.exists()


def test_sweep_dry_run_lists_ids_values_and_store_state(tmp_path, capsys):
    from orchestrator.cli import main

    spec = tmp_path / "study.yaml"
    spec.write_text(
        "spec_version: 1\nname: table\nbackend: radial\n"
        "model: {particle: {radius: 2 um}, material: Si, loading: {specific_current: 0.1 A/g}}\n"
        "sweep: {grid: {model.particle.radius: [1 um, 2 um], model.material: [Si, Si8.5Sn0.5Sb]}}\n"
    )
    runs_dir = tmp_path / "runs"
    study = study_from_dict(__import__("yaml").safe_load(spec.read_text()))
    first = study.runs()[0]
    RunStore(runs_dir).prepare(first).mark_done()
    assert main(["sweep", str(spec), "--dry-run", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert f"{first.run_id}  done" in out
    assert out.count("  new  ") == 3 and "model.material=Si8.5Sn0.5Sb" in out and "total: 1 done, 3 new" in out
    manifest_free = list(runs_dir.glob("*/.slurm"))
    assert manifest_free == []


def test_read_manifest_lists_absolute_run_dirs(tmp_path):
    from orchestrator.executors.manifest import write_manifest

    path = tmp_path / "m"
    write_manifest(path, [tmp_path / "a", tmp_path / "b"])
    assert read_manifest(path) == [tmp_path / "a", tmp_path / "b"]


def test_status_without_any_slurm_tools_reads_the_run_dirs(tmp_path, monkeypatch, capsys):
    """squeue/sacct absent (PATH without them): status still reports every run, stale ones too."""
    import socket
    import subprocess

    from orchestrator.cli import main
    from orchestrator.executors.status import collect_status

    store = RunStore(tmp_path / "runs")
    first, second = (store.prepare(spec) for spec in _study(n_radii=2).runs())
    dead = subprocess.Popen(["true"])
    dead.wait()
    first.update_status(state="running", host=socket.gethostname(), pid=dead.pid, slurm_job="5_0")
    second.mark_failed("SolverDiverged: boom")
    monkeypatch.setenv("PATH", str(tmp_path))  # no squeue, no sacct
    rows = {r.run_id: r for r in collect_status(store, "golden")}
    assert rows[first.run_id].stale and rows[first.run_id].scheduler_state is None
    assert rows[second.run_id].state == "failed" and rows[second.run_id].error == "SolverDiverged: boom"
    assert main(["status", "golden", "--runs-dir", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "stale" in out and "error: SolverDiverged: boom" in out and "total: 1 failed, 1 stale" in out
    with pytest.raises(Exception, match="no study 'other'"):
        collect_status(store, "other")


def test_submit_without_sbatch_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SubmissionError, match="sbatch not found"):
        submit_study(_study(n_radii=1).runs(), RunStore(tmp_path / "runs"), SlurmOptions())


def test_cluster_fixture_skips_without_slurm_but_fails_under_ci(tmp_path):
    """Without the binaries the fixture skips with the reason; with CI=true it is an error."""
    import subprocess

    tests_dir = Path(__file__).resolve().parent
    test = tmp_path / "test_uses_cluster.py"
    test.write_text("from slurm_cluster import slurm_cluster  # noqa: F401\n\n\ndef test_x(slurm_cluster):\n    pass\n")
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": f"{tests_dir}{os.pathsep}{package_root()}"}
    argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test)]
    for ci, outcome in (("", "1 skipped"), ("true", "1 error")):
        proc = subprocess.run(argv, env={**env, "CI": ci}, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert outcome in proc.stdout, proc.stdout
        assert "SLURM binaries missing" in proc.stdout and "slurm-setup.sh" in proc.stdout
