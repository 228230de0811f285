"""Solver backends: turn a :class:`models.LithiationModel` into fields and scalars.

``native`` (3D P1/P2 FEM on the octant), ``radial`` (1D spherically symmetric, fast path and
cross-check) and ``comsol`` (COMSOL Multiphysics through mph). Each backend module exposes
``available()`` and ``solve(model, outputs, numerics, sink)``; see :mod:`solvers.api`.
"""

from importlib import import_module
from types import ModuleType

from .api import (
    FIELD_UNITS,
    SCALAR_COLUMNS,
    FieldFrame,
    MemorySink,
    MeshOptions,
    Numerics,
    OutputRequest,
    ResultSink,
    SolveStats,
    TimeOptions,
)
from .errors import BackendUnavailable, MeshError, SolverDiverged, SolverError

__all__ = [
    "BACKENDS",
    "FIELD_UNITS",
    "SCALAR_COLUMNS",
    "BackendUnavailable",
    "FieldFrame",
    "MemorySink",
    "MeshError",
    "MeshOptions",
    "Numerics",
    "OutputRequest",
    "ResultSink",
    "SolveStats",
    "SolverDiverged",
    "SolverError",
    "TimeOptions",
    "get_backend",
]

BACKENDS: tuple[str, ...] = ("native", "radial", "comsol")


def get_backend(name: str) -> ModuleType:
    """The backend module ``solvers.<name>`` (imported lazily)."""
    if name not in BACKENDS:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return import_module(f"solvers.{name}")
