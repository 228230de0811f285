"""Errors raised by the solver backends."""

from models.errors import OctantError

__all__ = ["BackendUnavailable", "MeshError", "SolverDiverged", "SolverError"]


class SolverError(OctantError, RuntimeError):
    """A solver failed."""


class BackendUnavailable(SolverError):
    """The requested backend cannot run here (e.g. no COMSOL found); the message says how to fix it."""


class SolverDiverged(SolverError):
    """The time stepper could not continue (Newton failure at the minimum step size, NaN, ...).

    Attributes: ``time`` [s] and ``step`` [s] at which it gave up.
    """

    def __init__(self, message: str, *, time: float | None = None, step: float | None = None):
        super().__init__(message)
        self.time = time
        self.step = step


class MeshError(SolverError, ValueError):
    """A mesh file is unreadable or is not a tetrahedral octant."""
