"""Errors raised by the orchestrator (spec, store, submission).

All derive from :class:`models.errors.OctantError` and from the builtin that fits, so callers can
catch either. The CLI prints their message without a traceback and exits non-zero.
"""

from models.errors import OctantError

__all__ = ["OctantError", "RunNotFound", "SpecError", "StoreError", "SubmissionError"]


class SpecError(OctantError, ValueError):
    """A study spec is invalid. The message names the file, the field path, the value and what is expected."""


class StoreError(OctantError, RuntimeError):
    """The run store cannot do what was asked (unsafe name, unreadable run directory, ...)."""


class RunNotFound(StoreError, LookupError):
    """No stored run matches the given id, prefix or path."""


class SubmissionError(OctantError, RuntimeError):
    """A batch submission (sbatch, ...) failed."""
