"""The ``octant`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function; ``main``
collects them, parses, runs the handler and turns :class:`OctantError` into a one-line message and a
non-zero exit code (never a traceback for user errors).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import signal
import sys
import threading

from models.errors import OctantError

from ..errors import raise_interrupted

__all__ = ["build_parser", "main", "os_error_message"]

_COMMAND_MODULES = ("core", "batch", "verify", "visual", "comsol", "migrate")

EXIT_FAILURE = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="octant",
        description="Simulations of Li insertion into anode particles: validate study specs, run them on the"
        " native, radial or COMSOL backend, sweep, submit to SLURM, render.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:  # all ship with octant: a missing one is a broken install and raises
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)  # the console shows what was asked for; run logs (log.txt) keep INFO
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.set_name("octant-console")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "octant-console"]:
        root.removeHandler(old)  # main() called again in the same process (tests, notebooks)
    root.addHandler(console)
    root.setLevel(min(level, logging.INFO))
    for noisy in ("matplotlib", "PIL", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def os_error_message(exc: OSError) -> str:
    """One paragraph for an operating-system error: what failed, on which file, and what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "the disk is full: free space (or use another --runs-dir) and rerun; finished runs are kept"
        " and interrupted ones resume",
        errno.EDQUOT: "the disk quota is exceeded: free space and rerun; finished runs are kept",
        errno.EROFS: "the file system is read-only: use a writable --runs-dir (or $OCTANT_RUNS_DIR)",
        errno.EACCES: "permission denied: use a run store you can write (--runs-dir or $OCTANT_RUNS_DIR)",
        errno.EPERM: "operation not permitted: use a run store you own (--runs-dir or $OCTANT_RUNS_DIR)",
    }
    hint = hints.get(exc.errno or -1, "check the path and the file system, then rerun")
    return f"{reason}{where}: {hint}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    previous = _handle_sigterm()
    try:
        return int(args.func(args) or 0)
    except OctantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (scancel, time limit): runs were marked interrupted
        print(f"interrupted{f' ({exc})' if str(exc) else ''}; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except MemoryError:
        print("error: out of memory; reduce the mesh (numerics.mesh) or the sweep, or use a bigger machine", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # read-only store, full disk, permissions: a message, not a traceback
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _handle_sigterm():
    """Turn SIGTERM into :class:`Interrupted` (main thread only); return the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, raise_interrupted)
