"""The 1D spherically symmetric backend: the fast path and the cross-check of the 3D solvers.

For a sphere (or its octant) under uniform surface flux the solution depends on r only. This
backend discretises the transport equation with P1 finite elements in r, with the exact r^2 weight
on a surface-graded mesh (:mod:`.mesh`, :mod:`.transport`), integrates it with the shared adaptive
BDF stepper (:mod:`solvers.stepping`), and evaluates the stresses in closed form from the profile
(Cheng & Verbrugge 2009, :func:`models.analytical.radial_stresses`; :mod:`.postprocess`).

Backend contract (:mod:`solvers.api`): ``available()`` and ``solve(model, outputs, numerics, sink)``.
Numerics used: ``mesh.radial_nodes`` (or ``mesh.element_size``/``mesh.size``), ``mesh.surface_grading``,
``time`` (tolerances, order, step bounds). Others do not apply: the displacement and stresses are
closed-form functions of the profile (evaluated at every step unless
``outputs.stress_every_dod`` is None), and the tridiagonal Newton systems are solved by LAPACK ``gtsv`` whatever ``linear_solver``.
"""

from .driver import solve
from .mesh import DEFAULT_NODES, graded_nodes, node_count
from .postprocess import RadialPost
from .transport import RadialTransport, tridiagonal_solve

__all__ = [
    "DEFAULT_NODES",
    "RadialPost",
    "RadialTransport",
    "available",
    "graded_nodes",
    "node_count",
    "solve",
    "tridiagonal_solve",
]


def available() -> tuple[bool, str]:
    """The radial backend needs only numpy and scipy: always available."""
    return True, "radial backend: numpy/scipy only"
