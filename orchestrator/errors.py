"""Errors raised by the orchestrator (spec, store, submission).

All derive from :class:`models.errors.OctantError` and from the builtin that fits, so callers can
catch either. The CLI prints their message without a traceback and exits non-zero.
"""

from models.errors import OctantError

__all__ = [
    "Interrupted",
    "OctantError",
    "PeerError",
    "RunNotFound",
    "SpecError",
    "StoreError",
    "SubmissionError",
    "raise_interrupted",
]


class SpecError(OctantError, ValueError):
    """A study spec is invalid. The message names the file, the field path, the value and what is expected."""


class StoreError(OctantError, RuntimeError):
    """The run store cannot do what was asked (unsafe name, unreadable run directory, ...)."""


class RunNotFound(StoreError, LookupError):
    """No stored run matches the given id, prefix or path."""


class SubmissionError(OctantError, RuntimeError):
    """A batch submission (sbatch, ...) failed."""


class PeerError(OctantError, RuntimeError):
    """An independent peer code (PyBaMM) cannot represent or solve a verification problem."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (Ctrl-C, ``scancel``, a SLURM time limit): stop and record the run as interrupted."""


def raise_interrupted(signum: int, frame: object = None) -> None:
    """A signal handler turning SIGTERM (or SIGINT) into :class:`Interrupted`."""
    import signal

    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")
