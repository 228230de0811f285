"""Discovery, the server hand-shake, the worker's retries and SLURM batch scripts, against a FAKE
COMSOL installation made here in a temporary folder (a bash script; NOT COMSOL).

The fake answers what COMSOL's launcher answers, the way MPh's own tests fake it:

* ``comsol mphserver --version`` -> ``COMSOL Multiphysics 6.2.0.290``;
* ``comsol mphserver -login auto ...`` -> prints ``COMSOL Multiphysics server 6.2 (Build: 290)
  started listening on port NNNN`` and waits for ``close`` on stdin (or, with
  ``FAKE_COMSOL_LICENCE=fail``, prints a FlexNet licence error and exits 0, as COMSOL does);
* ``comsol compile X.java`` -> ``X.class`` (with ``FAKE_COMSOL_COMPILE=silent-fail``: a compiler
  error, no class, exit code 0); ``comsol batch ... -batchlog L`` -> a batch log and,
  unless ``FAKE_COMSOL_BATCH=error`` (then an exception in the log and exit code 0), copies the
  result files found in ``$FAKE_COMSOL_RESULTS`` next to the output file.

Every start is appended to ``$FAKE_COMSOL_CALLS``. mph is never imported in this (the test)
process: the worker, a child process, imports it.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from solvers.comsol import available, batch, discovery, solve
from solvers.comsol.client import WorkerFailed, backoff_delays, worker_env
from solvers.comsol.server import ComsolServer, LicenceError, ServerStartError, parse_port
from solvers.errors import BackendUnavailable

FAKE = r"""#!/bin/bash
# FAKE COMSOL launcher for octant's tests -- not COMSOL.
echo "$$ $*" >> "${FAKE_COMSOL_CALLS:-/dev/null}"
cmd="$1"; shift
case "$cmd" in
  mphserver)
    if [ "$1" = "--version" ]; then echo "COMSOL Multiphysics 6.2.0.290"; exit 0; fi
    sleep "${FAKE_COMSOL_DELAY:-0}"
    if [ "${FAKE_COMSOL_LICENCE:-}" = "fail" ]; then
      echo "COMSOL Multiphysics server 6.2"
      echo "License error: -15,570. Cannot connect to license server system."
      echo "The license server manager (lmgrd) has not been started yet."
      exit 0
    fi
    port=2036
    while [ $# -gt 0 ]; do
      if [ "$1" = "-port" ]; then port="$2"; shift; fi
      shift
    done
    if [ "$port" = "0" ]; then port=$((20000 + RANDOM % 20000)); fi
    echo $$ > "${FAKE_COMSOL_PIDFILE:-/dev/null}"
    echo "${FAKE_COMSOL_BANNER:-Starting COMSOL server}"
    echo "COMSOL Multiphysics server 6.2 (Build: 290) started listening on port $port"
    echo "Use the console command 'close' to exit the application."
    while read -r line; do
      if [ "$line" = "close" ]; then exit 0; fi
    done
    exit 0 ;;
  compile)
    java="$1"
    if [ "${FAKE_COMSOL_COMPILE:-}" = "silent-fail" ]; then echo "OctantModel.java:3: cannot find symbol"; exit 0; fi
    touch "${java%.java}.class"; exit 0 ;;
  batch)
    out=""; log=""; np=""
    while [ $# -gt 0 ]; do
      case "$1" in
        -outputfile) out="$2"; shift ;;
        -batchlog) log="$2"; shift ;;
        -np) np="$2"; shift ;;
      esac
      shift
    done
    echo "Running: batch with $np cores" > "$log"
    if [ "${FAKE_COMSOL_BATCH:-}" = "error" ]; then
      echo "ERROR: Undefined variable." >> "$log"
      echo "Exception:" >> "$log"
      echo "    com.comsol.util.exceptions.FlException: Undefined variable D_Li" >> "$log"
      exit 0
    fi
    cp "$FAKE_COMSOL_RESULTS"/mesh.mphtxt "$FAKE_COMSOL_RESULTS"/fields.txt "$(dirname "$out")"/
    echo "Solution time: 1 s" >> "$log"
    exit 0 ;;
  *) echo "fake comsol: unknown command $cmd" >&2; exit 2 ;;
esac
"""


def make_fake_comsol(root: Path, folder: str = "comsol62") -> Path:
    """A fake installation in COMSOL's layout (launcher, ``bin/glnxa64/comsol`` + ``comsol.ini``
    naming a Java VM, ``plugins``, ``apiplugins``); returns its ``bin`` folder (to put on PATH)."""
    mp = root / folder / "multiphysics"
    arch = mp / "bin" / "glnxa64"
    arch.mkdir(parents=True)
    for d in ("plugins", "apiplugins", "java/glnxa64/jre/bin"):
        (mp / d).mkdir(parents=True)
    (mp / "java/glnxa64/jre/bin/java").write_text("#!/bin/sh\nexit 1\n")  # never started: mph only checks it exists
    for exe in (mp / "bin" / "comsol", arch / "comsol"):
        exe.write_text(FAKE)
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (arch / "comsol.ini").write_text("-vm\n../../java/glnxa64/jre/bin/java\n-Xss4M\n")
    return mp / "bin"


@pytest.fixture()
def fake_comsol(tmp_path, monkeypatch):
    bin_dir = make_fake_comsol(tmp_path / "install")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("OCTANT_COMSOL", raising=False)
    monkeypatch.setenv("FAKE_COMSOL_CALLS", str(tmp_path / "calls.txt"))
    monkeypatch.setenv("FAKE_COMSOL_PIDFILE", str(tmp_path / "server.pid"))
    # a failed solve keeps its work folder for inspection: keep those inside the test's tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    discovery.clear_cache()
    yield bin_dir
    discovery.clear_cache()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_no_comsol_means_unavailable_with_a_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("OCTANT_COMSOL", raising=False)
    discovery.clear_cache()
    if discovery.find_installs():
        pytest.skip("a COMSOL is installed in a standard folder on this machine")
    ok, why = available()
    assert not ok and "not on PATH" in why and "OCTANT_COMSOL" in why
    with pytest.raises(BackendUnavailable, match="put COMSOL's 'comsol' launcher on PATH"):
        solve(None, None, None, None)  # type: ignore[arg-type]
    discovery.clear_cache()


def test_discovery_finds_the_fake_on_path(fake_comsol):
    [install] = discovery.find_installs()
    assert install.name == "6.2" and (install.major, install.minor, install.patch, install.build) == (6, 2, 0, 290)
    assert install.version == "COMSOL Multiphysics 6.2.0.290"
    assert install.executable == (fake_comsol / "comsol").resolve()
    assert install.root == fake_comsol.parent and install.java_api
    ok, why = available()
    assert ok and "COMSOL 6.2" in why
    assert "mph" not in sys.modules, "the test process must never import mph"
    calls = Path(os.environ["FAKE_COMSOL_CALLS"]).read_text()
    assert "mphserver --version" in calls


def test_discovery_reports_an_incomplete_install(fake_comsol):
    (fake_comsol / "glnxa64" / "comsol.ini").unlink()
    discovery.clear_cache()
    [install] = discovery.find_installs()
    assert not install.java_api and "comsol.ini" in install.problem
    ok, why = available()
    assert not ok and "comsol.ini" in why


def test_discovery_rejects_an_install_whose_java_vm_is_missing(fake_comsol):
    """mph discards such an install; octant must not offer it either."""
    (fake_comsol.parent / "java" / "glnxa64" / "jre" / "bin" / "java").unlink()
    discovery.clear_cache()
    [install] = discovery.find_installs()
    assert not install.java_api and "Java VM" in install.problem
    assert not available()[0]


_MPH_PROBE = "import mph.discovery as d; b = d.backend('6.2'); print('ROOT', b['root'])"


@pytest.mark.skipif(importlib.util.find_spec("mph") is None, reason="mph is not installed (pip install mph)")
def test_mph_finds_the_chosen_install_under_a_non_standard_prefix(tmp_path, monkeypatch):
    """An install that mph's own search misses ($OCTANT_COMSOL under /opt-like prefixes): the
    worker's environment puts its bin first on PATH, and mph's discovery (run for real, in a child
    process) then finds exactly that install; without it, mph cannot locate it."""
    bin_dir = make_fake_comsol(tmp_path / "apps" / "site", folder="COMSOL-6.2-site")
    monkeypatch.setenv("PATH", os.defpath)
    monkeypatch.setenv("OCTANT_COMSOL", str(bin_dir / "comsol"))
    monkeypatch.setenv("FAKE_COMSOL_CALLS", str(tmp_path / "calls.txt"))
    discovery.clear_cache()
    try:
        install, why = discovery.select_install()
        assert install is not None and install.java_api, why
        plain = subprocess.run([sys.executable, "-c", _MPH_PROBE], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": ""})
        assert plain.returncode != 0 and "Could not find a supported Comsol installation" in plain.stderr  # the defect
        fixed = subprocess.run([sys.executable, "-c", _MPH_PROBE], capture_output=True, text=True, timeout=120,
                               env=worker_env(install))
        assert fixed.returncode == 0, fixed.stderr
        assert f"ROOT {bin_dir.parent}" in fixed.stdout
    finally:
        discovery.clear_cache()


def test_version_parsing():
    assert discovery.parse_version("COMSOL Multiphysics 5.3.1.229") == ("5.3a", 5, 3, 1, 229)
    assert discovery.parse_version("COMSOL 6.0") == ("6.0", 6, 0, 0, 0)
    with pytest.raises(ValueError):
        discovery.parse_version("command not found")
    assert parse_port("COMSOL Multiphysics server 6.2 (Build: 290) started listening on port 2036") == 2036
    assert parse_port("COMSOL Multiphysics server 5.6 (Build: 280) started listening on port 12345.") == 12345
    assert parse_port("COMSOL Multiphysics server 6.1 (Build: 357) started listening on port 2037 (IPv4)") == 2037
    assert parse_port("Starting COMSOL server") is None
    assert parse_port("COMSOL Multiphysics 6.2.0.290") is None


def test_server_handshake_and_stop(fake_comsol, tmp_path):
    [install] = discovery.find_installs()
    server = ComsolServer.start(install, cores=2, port=2099, timeout=20)
    try:
        assert server.port == 2099 and server.running()
        pid = int((tmp_path / "server.pid").read_text())
        assert _alive(pid)
        assert "listening on port 2099" in server.log_text
        started = Path(os.environ["FAKE_COMSOL_CALLS"]).read_text().splitlines()[-1]
        assert "mphserver -login auto -graphics -autosave off -np 2 -port 2099" in started
    finally:
        server.stop(timeout=10)
    assert not server.running() and server.process.returncode == 0
    assert not _alive(pid)
    with ComsolServer.start(install, port=0, timeout=20) as random_port:
        assert 20000 <= random_port.port < 40000


def test_licence_failure_is_recognised(fake_comsol, monkeypatch):
    monkeypatch.setenv("FAKE_COMSOL_LICENCE", "fail")
    [install] = discovery.find_installs()
    with pytest.raises(LicenceError, match="licence") as info:
        ComsolServer.start(install, timeout=20)
    assert "License error: -15,570" in info.value.log
    bad = discovery.ComsolInstall(install.executable.parent / "missing", install.root, "6.2", 6, 2, 0, 0, "", True)
    with pytest.raises(ServerStartError, match="cannot run"):
        ComsolServer.start(bad, timeout=5)


def test_server_that_exits_without_a_port_line(fake_comsol, tmp_path):
    """COMSOL exits 0 after errors on Linux: no port line means failure, with its output attached."""
    script = tmp_path / "comsol"
    script.write_text("#!/bin/bash\necho 'COMSOL Multiphysics server 6.2'\necho 'Error: could not create the Java VM'\nexit 0\n")
    script.chmod(0o755)
    [install] = discovery.find_installs()
    broken = discovery.ComsolInstall(script, install.root, "6.2", 6, 2, 0, 0, "", True)
    with pytest.raises(ServerStartError, match="exited \\(code 0\\)") as info:
        ComsolServer.start(broken, timeout=10)
    assert not isinstance(info.value, LicenceError)
    assert "could not create the Java VM" in info.value.log


def test_backoff_has_jitter_and_grows():
    import random

    delays = backoff_delays(4, 10.0, rng=random.Random(1))
    assert len(delays) == 3
    for k, d in enumerate(delays):
        assert 0.5 * 10 * 2**k <= d < 1.5 * 10 * 2**k
    assert backoff_delays(4, 10.0, rng=random.Random(1)) != backoff_delays(4, 10.0, rng=random.Random(2))


def _small_case():
    from models import LithiationModel, get_preset
    from solvers.api import Numerics, OutputRequest

    model = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0)
    return model, OutputRequest(dods=(0.5,)), Numerics()


class _NoSink:
    def write_scalars(self, row):  # pragma: no cover - must not be reached
        raise AssertionError("no results expected")

    write_fields = progress = write_scalars


def test_solve_retries_licence_errors_then_fails_with_the_log(fake_comsol, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_COMSOL_LICENCE", "fail")
    monkeypatch.setenv("OCTANT_COMSOL_RETRIES", "3")
    monkeypatch.setenv("OCTANT_COMSOL_RETRY_BASE_S", "0.05")
    model, outputs, numerics = _small_case()
    t0 = time.monotonic()
    with pytest.raises(WorkerFailed) as info:
        solve(model, outputs, numerics, _NoSink())
    err = info.value
    assert err.kind == "licence" and err.attempts == 3
    assert "failed after 3 attempt(s)" in str(err)
    assert "License error: -15,570" in str(err)  # the COMSOL log is attached
    starts = [line for line in Path(os.environ["FAKE_COMSOL_CALLS"]).read_text().splitlines() if "-login auto" in line]
    assert len(starts) == 3
    assert time.monotonic() - t0 < 60
    assert "mph" not in sys.modules


def test_solve_does_not_retry_a_client_failure_and_stops_the_server(fake_comsol, monkeypatch, tmp_path):
    """The fake server starts; mph (in the worker) cannot use the fake install -> 'client' error,
    not retried; the worker stops the server it started."""
    monkeypatch.setenv("OCTANT_COMSOL_RETRIES", "3")
    monkeypatch.setenv("OCTANT_COMSOL_RETRY_BASE_S", "0.05")
    model, outputs, numerics = _small_case()
    with pytest.raises(WorkerFailed) as info:
        solve(model, outputs, numerics, _NoSink())
    assert info.value.kind in ("client", "worker") and info.value.attempts == 1
    assert "listening on port" in str(info.value)
    pid = int((tmp_path / "server.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


# -- SLURM job scripts for comsol batch -----------------------------------------------------------
def _prepared_run(tmp_path):
    from orchestrator.spec import study_from_dict
    from orchestrator.store import RunStore

    spec = {
        "spec_version": 1, "name": "batch", "backend": "comsol",
        "model": {"particle": {"radius": "4.11 um"}, "material": "Si",
                  "loading": {"specific_current": "0.1 A/g", "stop": {"dod": 0.5}}},
        "outputs": {"fields_at": {"dod": [0.25, 0.5]}},
    }
    run_spec = study_from_dict(spec).runs()[0]
    return run_spec, RunStore(tmp_path / "runs").prepare(run_spec)


def test_batch_script_content(tmp_path):
    _, run = _prepared_run(tmp_path)
    script = batch.comsol_batch_script(run.path, partition="long", time="4:00:00", cpus=8, mem="16G")
    assert script.startswith("#!/bin/bash\n")
    for line in ("#SBATCH -L comsol:1", "#SBATCH --cpus-per-task=8", "#SBATCH --partition=long",
                 "#SBATCH --time=4:00:00", "#SBATCH --mem=16G"):
        assert line in script
    assert '-np "$NP"' in script and "NP=${SLURM_CPUS_PER_TASK:-8}" in script
    assert "-inputfile" in script and "-outputfile" in script and '-batchlog "$WORK/batch.log"' in script
    assert "--batch-log" in script and "--exit-code" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    with pytest.raises(ValueError, match="not a run directory"):
        batch.comsol_batch_script(tmp_path)


def test_batch_log_check():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "b.log"
        log.write_text("Running study\nSolution time: 3 s\nerror estimate 1e-3 was fine\n")
        assert batch.check_batch_log(log) == []
        log.write_text("Running\n/*** ERROR ***/\nException:\n\tcom.comsol.util.exceptions.FlException: Out of memory\n")
        assert len(batch.check_batch_log(log)) >= 2
        log.write_text("")
        assert "empty" in batch.check_batch_log(log)[0]
        assert "unreadable" in batch.check_batch_log(Path(d) / "none.log")[0]


BATCH_LOG_LINES = [
    ("Running study: Time Dependent", False),
    ("error estimate 1e-3 was fine", False),
    ("Solution time: 3 s (out of 10 s)", False),
    ("/*** ERROR ***/", True),
    ("ERROR: Undefined variable.", True),
    ("  Exception:", True),
    ("\tcom.comsol.util.exceptions.FlException: Undefined variable D_Li", True),
    ("Caused by: java.lang.OutOfMemoryError: Java heap space", True),
    ("java.lang.NullPointerException", True),
    ("License error: -4,132. The license server ...", True),
    ("FlexNet Licensing error: licence error -15", True),
    ("The solver ran out of memory during factorization", True),
    ("Error\r", True),
]


def test_python_and_the_job_script_grep_flag_the_same_lines(tmp_path):
    """One list of patterns (BATCH_ERROR_PATTERNS): check_batch_log and the script's grep agree."""
    log = tmp_path / "batch.log"
    log.write_text("\n".join(line for line, _ in BATCH_LOG_LINES) + "\n")
    python = batch.check_batch_log(log)
    assert python == [line.strip() for line, bad in BATCH_LOG_LINES if bad]
    grep = subprocess.run(f"grep -iE {batch._grep_args()} {log}", shell=True, capture_output=True, text=True)
    assert [line.strip() for line in grep.stdout.splitlines()] == python
    assert batch._grep_args() in batch.comsol_batch_script(tmp_path, prepared=False)  # the script uses this very list


def _run_script(script: str, tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "job.sh"
    path.write_text(script)
    octant = f"{sys.executable} -m orchestrator.cli"
    full = {**os.environ, **env, "OCTANT": octant, "SLURM_CPUS_PER_TASK": "3",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(["bash", str(path)], capture_output=True, text=True, timeout=300, env=full)


def test_batch_job_with_an_error_in_the_log_fails_the_run(fake_comsol, tmp_path):
    from orchestrator.store import Run

    _, run = _prepared_run(tmp_path)
    proc = _run_script(batch.comsol_batch_script(run.path), tmp_path, {"FAKE_COMSOL_BATCH": "error"})
    assert proc.returncode != 0, proc.stdout + proc.stderr  # although 'comsol batch' exited 0
    status = Run(run.path).status
    assert status["state"] == "failed" and "Undefined variable" in status["error"]
    assert (run.path / "comsol" / "OctantModel.java").exists()
    assert "batch with 3 cores" in (run.path / "comsol" / "batch.log").read_text()


def test_a_stale_class_never_runs_after_a_failed_compile(fake_comsol, tmp_path):
    """'comsol compile' exits 0 without writing the class: the old class is gone and batch never runs."""
    from orchestrator.store import Run

    _, run = _prepared_run(tmp_path)
    work = run.path / "comsol"
    work.mkdir()
    (work / "OctantModel.class").write_text("stale class of an earlier job")
    proc = _run_script(batch.comsol_batch_script(run.path), tmp_path, {"FAKE_COMSOL_COMPILE": "silent-fail"})
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert not (work / "OctantModel.class").exists()
    assert " batch " not in Path(os.environ["FAKE_COMSOL_CALLS"]).read_text()
    status = Run(run.path).status
    assert status["state"] == "failed" and "wrote no OctantModel.class" in status["error"]


def test_batch_script_refuses_whitespace_in_paths(tmp_path):
    (tmp_path / "my runs" / "abc").mkdir(parents=True)
    with pytest.raises(ValueError, match="whitespace"):
        batch.comsol_batch_script(tmp_path / "my runs" / "abc", prepared=False)
    with pytest.raises(ValueError, match="whitespace"):
        batch.comsol_batch_script(tmp_path, prepared=False, partition="a b")


def test_batch_job_success_stores_the_results(fake_comsol, tmp_path):
    from test_comsol_import import write_synthetic_export

    from orchestrator.store import Run
    from solvers.comsol.builder import study_times

    run_spec, run = _prepared_run(tmp_path)
    model = run_spec.model()
    stored, field_times = study_times(model, run_spec.outputs())
    write_synthetic_export(tmp_path / "results", model, stored)
    proc = _run_script(batch.comsol_batch_script(run.path), tmp_path, {"FAKE_COMSOL_RESULTS": str(tmp_path / "results")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    done = Run(run.path)
    assert done.state == "done"
    assert [round(t, 6) for t, _ in done.field_steps()] == [round(t, 6) for t in field_times]
    assert done.provenance["backend"] == "comsol"


def test_worker_keeps_the_heartbeat_while_comsol_works(fake_comsol, monkeypatch, tmp_path):
    from solvers.comsol.builder import build_plan
    from solvers.comsol.client import run_worker

    monkeypatch.setenv("FAKE_COMSOL_LICENCE", "fail")
    monkeypatch.setenv("FAKE_COMSOL_DELAY", "2")
    model, outputs, numerics = _small_case()
    plan = build_plan(model, outputs, numerics, results_dir=str(tmp_path / "res"))
    [install] = discovery.find_installs()
    beats = []
    with pytest.raises(WorkerFailed, match="licence"):
        run_worker(plan, install, tmp_path / "work", attempts=1, heartbeat=lambda: beats.append(time.monotonic()), heartbeat_s=0.3)
    assert len(beats) >= 3
    assert (tmp_path / "work" / "request.json").exists() and (tmp_path / "work" / "worker-1.log").exists()
