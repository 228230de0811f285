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

from models import LithiationModel

from ..api import Numerics, OutputRequest, ResultSink, SolveStats
from ..errors import SolverError
from .driver import solve as _solve
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


def solve(model: LithiationModel, outputs: OutputRequest, numerics: Numerics, sink: ResultSink) -> SolveStats:
    """:func:`.driver.solve`, refusing models with inclusions (they break the spherical symmetry)."""
    if model.inclusions:
        raise SolverError(
            f"the radial backend is spherically symmetric and cannot model the {len(model.inclusions)} inclusion(s)"
            " of this particle; use the native (or comsol) backend, or remove model.particle.inclusions"
        )
    return _solve(model, outputs, numerics, sink)
