"""Exclusive claims on run directories: one process executes a run at a time, also on NFS.

A claim is a small JSON file ``<run dir>/claim.json`` naming its owner (host, PID, the PID's start
time, the kernel boot id, a random token). It is created atomically, complete, with ``link()``
(a temp file is written first, then hard-linked to the claim name; ``link`` fails if the name
exists, and is atomic on NFS, where ``O_EXCL`` was not always), falling back to
``open(O_CREAT | O_EXCL)`` where hard links are not supported.

The owner renews the claim (its modification time) every :data:`RENEW_S` seconds from a thread
(:meth:`Claim.keep_alive`), so a long meshing or factorisation never looks dead. A claim is stale,
and may be taken over, when its owner

* ran on this host during this boot and its PID is gone (or now belongs to another process),
* ran on this host during an earlier boot (the machine rebooted), or
* ran on another host and has not renewed for ``stale_after_s`` seconds.

Take-over renames the stale file to a private name and checks that it moved the very claim it
judged stale; if another process replaced it in between, the live claim is put back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import StoreError

__all__ = [
    "CLAIM_NAME",
    "RENEW_S",
    "STALE_AFTER_S",
    "Claim",
    "ClaimHeld",
    "ClaimInfo",
    "acquire",
    "boot_id",
    "break_if_dead",
    "process_start",
    "read_claim",
]

log = logging.getLogger(__name__)

CLAIM_NAME = "claim.json"
RENEW_S = 30.0
STALE_AFTER_S = 600.0


class ClaimHeld(StoreError):
    """The run is claimed by a live owner (the message names it)."""


def boot_id() -> str:
    """The kernel's boot id (changes at every boot); empty where unknown."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """Start time of process ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22); empty if unknown."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class ClaimInfo:
    """The owner recorded in a claim file and the file's age [s] (since its last renewal)."""

    host: str
    pid: int
    boot_id: str
    pid_start: str
    token: str
    acquired: str
    age_s: float

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} (claimed {self.acquired}, renewed {self.age_s:.0f} s ago)"

    def owner_alive(self, stale_after_s: float = STALE_AFTER_S) -> bool:
        """Whether the owner may still be running (see the module docstring)."""
        if self.host == socket.gethostname() and self.boot_id and self.boot_id == boot_id():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except (PermissionError, OverflowError, ValueError):
                pass  # exists, owned by another user
            return not self.pid_start or process_start(self.pid) in ("", self.pid_start)
        if self.host == socket.gethostname() and self.boot_id and boot_id() and self.boot_id != boot_id():
            return False  # this machine rebooted since
        return self.age_s <= stale_after_s


def read_claim(run_dir: Path) -> ClaimInfo | None:
    """The claim of ``run_dir``, or None when there is none (or it vanished while reading)."""
    path = Path(run_dir) / CLAIM_NAME
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return _parse(text, mtime, path)


def _parse(text: str, mtime: float, path: Path) -> ClaimInfo:
    age = max(0.0, time.time() - mtime)
    try:
        data: dict[str, Any] = json.loads(text)
        return ClaimInfo(
            host=str(data["host"]), pid=int(data["pid"]), boot_id=str(data.get("boot_id", "")),
            pid_start=str(data.get("pid_start", "")), token=str(data["token"]),
            acquired=str(data.get("acquired", "")), age_s=age,
        )
    except (ValueError, KeyError, TypeError):
        # damaged (e.g. a full disk): nobody can prove ownership; dead once it is old
        log.warning("%s: damaged claim file; treated as stale after %s s", path, STALE_AFTER_S)
        return ClaimInfo(host="?", pid=-1, boot_id="", pid_start="", token="", acquired="?", age_s=age)


def _write_private(folder: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=".claim.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _create(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists; True on success."""
    tmp = _write_private(path.parent, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    try:  # no hard links here: O_EXCL (a reader may briefly see an empty file: treated as held)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def _take_over(path: Path, stale: ClaimInfo) -> None:
    """Remove the stale claim ``stale`` at ``path``; put back a live one that replaced it meanwhile."""
    moved = path.with_name(f".claim.broken.{secrets.token_hex(6)}")
    try:
        os.rename(path, moved)
    except FileNotFoundError:
        return  # someone else removed it
    try:
        got = _parse(moved.read_text(encoding="utf-8"), moved.stat().st_mtime, moved)
        if got.token != stale.token:  # not the claim judged stale: restore it
            with contextlib.suppress(FileExistsError):
                os.link(moved, path)
    finally:
        moved.unlink(missing_ok=True)


class Claim:
    """A claim this process holds on a run directory."""

    def __init__(self, run_dir: Path, token: str):
        self.path = Path(run_dir) / CLAIM_NAME
        self.token = token
        self.lost = False

    def owned(self) -> bool:
        """True while the claim file is still ours."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8")).get("token") == self.token
        except (OSError, ValueError, AttributeError):
            return False

    def renew(self) -> None:
        """Refresh the claim's modification time (the lease); notes a lost claim."""
        if not self.owned():
            if not self.lost:
                log.error("%s: this process no longer holds the claim (taken over as stale?)", self.path)
            self.lost = True
            return
        with contextlib.suppress(OSError):
            os.utime(self.path)

    def release(self) -> None:
        """Remove the claim file if it is still ours."""
        if self.owned():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @contextlib.contextmanager
    def keep_alive(self, every_s: float = RENEW_S) -> Iterator[Claim]:
        """Renew the claim every ``every_s`` seconds from a daemon thread while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every_s):
                try:
                    self.renew()
                except Exception as exc:  # noqa: BLE001 - a lease thread must never die loudly
                    log.debug("claim renewal failed: %s", exc)

        thread = threading.Thread(target=beat, name="octant-claim-lease", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)


def acquire(run_dir: str | Path, stale_after_s: float = STALE_AFTER_S) -> Claim:
    """Claim ``run_dir`` for this process; raise :class:`ClaimHeld` if a live owner has it."""
    run_dir = Path(run_dir)
    path = run_dir / CLAIM_NAME
    token = secrets.token_hex(8)
    data = json.dumps({
        "host": socket.gethostname(), "pid": os.getpid(), "boot_id": boot_id(),
        "pid_start": process_start(os.getpid()), "token": token,
        "acquired": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }).encode()
    for _ in range(5):
        if _create(path, data):
            return Claim(run_dir, token)
        try:
            info = _parse(path.read_text(encoding="utf-8"), path.stat().st_mtime, path)
        except FileNotFoundError:
            continue  # released meanwhile: try again
        if info.owner_alive(stale_after_s) and (info.token or info.age_s <= 60):
            raise ClaimHeld(f"{run_dir} is being run by {info.describe()}")
        log.warning("%s: taking over the stale claim of %s", run_dir, info.describe())
        _take_over(path, info)
    raise ClaimHeld(f"{run_dir}: could not claim the run (other processes keep claiming it)")


def break_if_dead(run_dir: str | Path, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Remove ``run_dir``'s claim if its owner is dead; True if there is no claim left."""
    info = read_claim(Path(run_dir))
    if info is None:
        return True
    if info.owner_alive(stale_after_s) and info.token:
        return False
    _take_over(Path(run_dir) / CLAIM_NAME, info)
    return read_claim(Path(run_dir)) is None
