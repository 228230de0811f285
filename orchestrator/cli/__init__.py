"""The ``octant`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function; ``main``
collects them, parses, runs the handler and turns :class:`OctantError` into a one-line message and a
non-zero exit code (never a traceback for user errors).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from models.errors import OctantError

__all__ = ["build_parser", "main"]

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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args) or 0)
    except OctantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
