"""A real single-node SLURM cluster on localhost for the integration tests.

:class:`LocalSlurmCluster` starts a private ``munged``, ``slurmctld`` and ``slurmd`` with every
config, socket, state and log file under one temporary directory (the recipe in
``RECIPES.md``: no systemd, daemons stopped by the PID in their pid files). It picks free TCP
ports, so it can run next to another instance (e.g. two engineers' test sessions on one machine).

The session-scoped pytest fixture :func:`slurm_cluster` starts it once, exports ``SLURM_CONF``
for the whole session and stops it at the end. When the binaries (``.ci/slurm-setup.sh``
installs them) are missing, or we are not root, the tests that use it are skipped with the
reason -- except under ``CI=true``, where that is a failure.

To use it from another test module, import the fixture into ``tests/conftest.py``::

    from slurm_cluster import slurm_cluster  # noqa: F401  (session-scoped SLURM cluster)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = [
    "REQUIRED_BINARIES",
    "LocalSlurmCluster",
    "SlurmClusterError",
    "missing_binaries",
    "slurm_cluster",
]

log = logging.getLogger(__name__)

#: Binaries the cluster needs; ``.ci/slurm-setup.sh`` installs them with apt-get.
REQUIRED_BINARIES: tuple[str, ...] = (
    "/usr/sbin/munged",
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
    "sbatch",
    "squeue",
    "scontrol",
    "sinfo",
    "scancel",
    "runuser",
)


class SlurmClusterError(RuntimeError):
    """The local SLURM cluster could not be started; the message carries the daemon logs."""


def missing_binaries() -> list[str]:
    """Names from :data:`REQUIRED_BINARIES` that are not installed (absolute or on ``PATH``)."""
    missing = []
    for name in REQUIRED_BINARIES:
        found = os.access(name, os.X_OK) if name.startswith("/") else shutil.which(name)
        if not found:
            missing.append(name)
    return missing


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _real_memory_mb(cap: int = 8000) -> int:
    """RealMemory for slurm.conf: at most ``cap`` MB and below the machine's memory (else the
    node is drained for "Low RealMemory")."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError):
        return 1000
    return int(max(500, min(cap, 0.8 * total)))


def _read_pid(path: Path) -> int | None:
    """The PID in a daemon's pid file, or ``None`` when the file is missing or empty."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file (for error messages)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log file)"


@dataclass
class LocalSlurmCluster:
    """A running single-node SLURM cluster whose files all live under :attr:`root`.

    Start it with :meth:`start`, stop it with :meth:`stop`. :attr:`env` is the environment
    (``os.environ`` plus ``SLURM_CONF``) for running SLURM clients against it.
    """

    root: Path
    node_name: str
    ctld_port: int
    slurmd_port: int
    max_array_size: int
    cpus: int
    _stopped: bool = field(default=False, repr=False)

    @property
    def conf(self) -> Path:
        """The ``slurm.conf`` of this cluster."""
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` with ``SLURM_CONF`` pointing at this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    @property
    def pid_files(self) -> dict[str, Path]:
        """Daemon name -> pid file, in the order they are stopped."""
        return {
            "slurmd": self.root / "slurmd.pid",
            "slurmctld": self.root / "slurmctld.pid",
            "munged": self.root / "munge" / "munged.pid",
        }

    # ----------------------------------------------------------------------------- start
    @classmethod
    def start(
        cls,
        root: Path | None = None,
        *,
        max_array_size: int = 1001,
        cpus: int | None = None,
        timeout_s: float = 30.0,
    ) -> LocalSlurmCluster:
        """Write the configs, start munged, slurmctld and slurmd, and wait for the node to be idle.

        ``root`` defaults to a fresh ``/tmp/octant-slurm-*`` directory (it must be traversable
        by the ``munge`` user, which pytest's ``tmp_path`` is not). Raises
        :class:`SlurmClusterError` with the daemon logs when the node does not come up.
        """
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="octant-slurm-"))
        root = root.resolve()
        host = socket.gethostname().split(".")[0]
        cluster = cls(
            root=root,
            node_name=host,
            ctld_port=_free_port(),
            slurmd_port=_free_port(),
            max_array_size=max_array_size,
            cpus=cpus or os.cpu_count() or 1,
        )
        try:
            cluster._write_files()
            cluster._start_daemons()
            cluster.wait_idle(timeout_s)
        except BaseException:
            cluster.stop()  # the error message carries the daemon logs
            raise
        log.info("local SLURM cluster up under %s (node %s)", root, host)
        return cluster

    def _write_files(self) -> None:
        """Create the directory layout, a private munge key and ``slurm.conf``."""
        root = self.root
        root.chmod(0o755)
        for sub in ("state", "spool", "log", "munge"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        munge_dir = root / "munge"
        shutil.chown(munge_dir, "munge", "munge")
        munge_dir.chmod(0o755)  # munged insists that everyone can reach its socket
        key = munge_dir / "munge.key"
        key.write_bytes(os.urandom(128))
        shutil.chown(key, "munge", "munge")
        key.chmod(0o600)
        d = str(root)
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=octanttest",
                    f"SlurmctldHost={self.node_name}(127.0.0.1)",
                    f"SlurmctldPort={self.ctld_port}",
                    f"SlurmdPort={self.slurmd_port}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    f"AuthInfo=socket={d}/munge/munge.socket.2",
                    "MpiDefault=none",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SwitchType=switch/none",
                    "SchedulerType=sched/backfill",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "DefMemPerCPU=1000",
                    "ReturnToService=2",
                    f"MaxArraySize={self.max_array_size}",
                    "JobCompType=jobcomp/filetxt",
                    f"JobCompLoc={d}/log/jobcomp.txt",
                    f"SlurmctldPidFile={d}/slurmctld.pid",
                    f"SlurmdPidFile={d}/slurmd.pid",
                    f"SlurmdSpoolDir={d}/spool",
                    f"StateSaveLocation={d}/state",
                    f"SlurmctldLogFile={d}/log/slurmctld.log",
                    f"SlurmdLogFile={d}/log/slurmd.log",
                    f"NodeName={self.node_name} NodeAddr=127.0.0.1 CPUs={self.cpus} "
                    f"RealMemory={_real_memory_mb()} State=UNKNOWN",
                    "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "",
                ]
            )
        )

    def _run_daemon(self, argv: list[str], name: str) -> None:
        """Run a self-daemonising command; raise with its output and log when it fails."""
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise SlurmClusterError(
                f"{name} failed to start (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()}\n{self.logs()}"
            )

    def _start_daemons(self) -> None:
        """Start munged (as user munge), then slurmctld and slurmd (as root)."""
        m = self.root / "munge"
        self._run_daemon(
            [
                "runuser", "-u", "munge", "--", "/usr/sbin/munged",
                f"--socket={m}/munge.socket.2", f"--pid-file={m}/munged.pid",
                f"--log-file={m}/munged.log", f"--seed-file={m}/munged.seed",
                f"--key-file={m}/munge.key",
            ],
            "munged",
        )  # fmt: skip
        self._run_daemon(["/usr/sbin/slurmctld"], "slurmctld")
        self._run_daemon(["/usr/sbin/slurmd", "-N", self.node_name], "slurmd")

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until ``sinfo`` reports the node ``idle``; raise :class:`SlurmClusterError`."""
        deadline = time.monotonic() + timeout_s
        state = ""
        while time.monotonic() < deadline:
            proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True, text=True)
            state = proc.stdout.strip()
            if proc.returncode == 0 and state.startswith("idle"):
                return
            time.sleep(0.5)
        raise SlurmClusterError(
            f"the SLURM node did not become idle within {timeout_s:.0f} s (last state {state!r})\n{self.logs()}"
        )

    def logs(self) -> str:
        """The tails of the daemon logs, for error messages."""
        parts = []
        for name, path in (
            ("munged", self.root / "munge" / "munged.log"),
            ("slurmctld", self.root / "log" / "slurmctld.log"),
            ("slurmd", self.root / "log" / "slurmd.log"),
        ):
            parts.append(f"--- {name} ({path}) ---\n{_tail(path)}")
        return "\n".join(parts)

    # ------------------------------------------------------------------------------ stop
    def cancel_all(self) -> None:
        """Cancel every job this cluster knows about (best effort)."""
        proc = subprocess.run(["squeue", "-h", "-o", "%A"], env=self.env, capture_output=True, text=True)
        ids = sorted(set(proc.stdout.split())) if proc.returncode == 0 else []
        if ids:
            subprocess.run(["scancel", *ids], env=self.env, capture_output=True, timeout=30)

    def stop(self, *, remove: bool = True, timeout_s: float = 10.0) -> None:
        """Cancel jobs, stop slurmd, slurmctld and munged by PID; optionally delete :attr:`root`."""
        if self._stopped:
            return
        self._stopped = True
        if self.conf.exists() and _read_pid(self.pid_files["slurmctld"]):
            try:
                self.cancel_all()
            except (OSError, subprocess.SubprocessError) as exc:  # pragma: no cover
                log.warning("could not cancel the test cluster's jobs: %s", exc)
        for name, pid_file in self.pid_files.items():
            pid = _read_pid(pid_file)
            if pid is None or not _alive(pid):
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                log.warning("%s (pid %d) ignored SIGTERM; sending SIGKILL", name, pid)
                os.kill(pid, signal.SIGKILL)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def _unavailable_reason() -> str | None:
    """Why the cluster cannot run here, or ``None`` when it can."""
    missing = missing_binaries()
    if missing:
        return (
            f"SLURM binaries missing: {', '.join(missing)}; run .ci/slurm-setup.sh "
            "(apt-get install slurmctld slurmd slurm-client munge)"
        )
    if os.geteuid() != 0:
        return "the local SLURM test cluster must be started as root (munged runs as user munge)"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[LocalSlurmCluster]:
    """A running localhost SLURM cluster for the session, with ``SLURM_CONF`` exported.

    ``MaxArraySize`` is 4 so that a handful of runs already spans several array chunks.
    Skips with the reason when SLURM is not installed, except under ``CI=true`` (a failure).
    """
    reason = _unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the SLURM cluster cannot run: {reason}")
        pytest.skip(reason)
    for attempt in (1, 2):  # a second try with fresh ports if one was taken meanwhile
        try:
            cluster = LocalSlurmCluster.start(max_array_size=4)
            break
        except SlurmClusterError as exc:
            if attempt == 2:
                pytest.fail(f"could not start the local SLURM cluster: {exc}")
            log.warning("local SLURM cluster did not start, retrying: %s", exc)
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        cluster.stop()
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
