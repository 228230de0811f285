"""Start and stop a COMSOL server process (``comsol mphserver``) and read the port it listens on.

The hand-shake is MPh's (``mph/server.py``): start ``comsol mphserver -login auto -graphics
-autosave off [-np N] [-port P]``, read its standard output line by line until a line like::

    COMSOL Multiphysics server 6.2 (Build: 290) started listening on port 2036

then connect a client to that port (``mph.Client(port=...)``, in the worker process). To stop it,
write ``close`` to its standard input, and kill it if it has not exited after a grace period.
On Linux the server exits with code 0 even after an error, so a server that ends without printing
a port line has failed; its last lines are the message. A licence problem (no free licence, an
unreachable licence server) is recognised from that output and raised as :class:`LicenceError`,
which the caller may retry.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from solvers.errors import SolverError

from .discovery import ComsolInstall

__all__ = ["ComsolServer", "LicenceError", "ServerStartError", "is_licence_problem", "parse_port"]

log = logging.getLogger(__name__)

_PORT = re.compile(r"^COMSOL.*\(.*\).*?\bport\s+(\d{2,5})\b")
_PORT_MPH = re.compile(r"^COMSOL.* \(.*\) .*?(\d{4,5}).*$")  # MPh's own pattern, the fallback
_LICENCE = re.compile(r"(?i)licen[cs]e|FlexNet|lmgrd|-15,\d+|no such feature|checkout")


class ServerStartError(SolverError):
    """The COMSOL server did not start; ``log`` holds its output."""

    def __init__(self, message: str, log_text: str = ""):
        super().__init__(message)
        self.log = log_text


class LicenceError(ServerStartError):
    """COMSOL could not get a licence (retryable: tokens may free up)."""


def parse_port(line: str) -> int | None:
    """The port number of a server's "listening on port" line, else ``None``."""
    text = line.strip()
    match = _PORT.match(text) or _PORT_MPH.match(text)
    return int(match.group(1)) if match else None


def is_licence_problem(text: str) -> bool:
    """Whether COMSOL output ``text`` reports a licence problem."""
    return bool(_LICENCE.search(text))


@dataclass
class ComsolServer:
    """A running ``comsol mphserver`` process; use :meth:`start`, then :meth:`stop` (or ``with``)."""

    process: subprocess.Popen
    port: int
    install: ComsolInstall
    cores: int | None = None
    output: deque = field(default_factory=lambda: deque(maxlen=400))

    @classmethod
    def start(
        cls,
        install: ComsolInstall,
        *,
        cores: int | None = None,
        port: int | None = 0,
        timeout: float = 120.0,
        extra_args: list[str] | None = None,
    ) -> ComsolServer:
        """Start a server and wait (at most ``timeout`` s) for its port line.

        ``port=0`` lets COMSOL pick a free port (avoids collisions between parallel runs);
        ``None`` uses COMSOL's default (2036 and up). Raises :class:`LicenceError` or
        :class:`ServerStartError` with the server output attached.
        """
        args = install.server_command + ["-login", "auto", "-graphics", "-autosave", "off"]
        if cores:
            args += ["-np", str(int(cores))]
        if port is not None:
            args += ["-port", str(int(port))]
        args += list(extra_args or [])
        log.info("starting COMSOL server: %s", " ".join(args))
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise ServerStartError(f"cannot run {args[0]}: {exc.strerror}; is COMSOL still installed there?") from None
        lines: deque = deque(maxlen=400)
        found: list[int] = []
        ready = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.rstrip()
                if line:
                    lines.append(line)
                    log.debug("comsol server: %s", line)
                if not found:
                    port_number = parse_port(line)
                    if port_number:
                        found.append(port_number)
                        ready.set()
            ready.set()

        reader = threading.Thread(target=pump, name="comsol-server-output", daemon=True)
        reader.start()
        t0 = time.monotonic()
        ready.wait(timeout)
        if not found:
            text = "\n".join(lines)
            if not reader.is_alive():  # output closed: the process is exiting; let it be reaped
                try:
                    process.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    pass
            still_running = process.poll() is None
            if still_running:
                _terminate(process, grace=5.0)
            if is_licence_problem(text):
                raise LicenceError(f"COMSOL server could not get a licence:\n{text}", text)
            why = f"no port line within {timeout:g} s" if still_running else f"it exited (code {process.returncode})"
            raise ServerStartError(
                f"COMSOL server did not start ({why}); last output:\n{text or '(none)'}\n"
                "Check that 'comsol mphserver' runs in a terminal and that a licence is available.",
                text,
            )
        log.info("COMSOL server listening on port %d (%.1f s)", found[0], time.monotonic() - t0)
        return cls(process=process, port=found[0], install=install, cores=cores, output=lines)

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the server to close (``close`` on stdin); kill it if it is still running after ``timeout`` s."""
        if not self.running():
            return
        try:
            assert self.process.stdin is not None
            self.process.stdin.write("close\n")
            self.process.stdin.flush()
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("COMSOL server on port %d did not close in %g s; killing it", self.port, timeout)
            _terminate(self.process, grace=5.0)

    @property
    def log_text(self) -> str:
        """The server output seen so far."""
        return "\n".join(self.output)

    def __enter__(self) -> ComsolServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(process: subprocess.Popen, grace: float) -> None:
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)
