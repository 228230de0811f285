"""The root of octant's exceptions.

Every error octant raises on purpose is an :class:`OctantError`; the concrete classes live with the
layer that raises them (``solvers.errors``, ``orchestrator.errors``) and also inherit the builtin
that fits, so ``except ValueError`` keeps working for callers that do not know octant.
"""

__all__ = ["ModelError", "OctantError"]


class OctantError(Exception):
    """Base class of all octant errors. Messages say what is wrong and what to do about it."""


class ModelError(OctantError, ValueError):
    """A physically inconsistent model definition (e.g. a non-positive radius)."""
