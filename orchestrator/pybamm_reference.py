"""PyBaMM's finite-volume sphere: an independent reference for octant's transport (``pybamm`` extra).

The galvanostatic insertion problem of a :class:`~models.LithiationModel` (one material, constant
inward flux J [mol/m^2/s], uniform initial theta_0), written as a PyBaMM model in dimensionless form

    x = r / R,  tau = t D_ref / R^2,  theta = c / c_max,  d(theta) = D(theta) / D_ref,
    d theta / d tau = x^-2 d/dx (x^2 d(theta) d theta/dx),
    d theta/dx = 0 at x = 0,   d(theta) d theta/dx = J R / (D_ref c_max) at x = 1,

with D_ref the law's largest value on theta in [0, 1]. D(theta) is translated node by node from the
law's text (the :mod:`models.expressions` grammar: ``+ - * / ^``, ``exp log tanh sqrt min max``
and ``theta``) into PyBaMM symbols, so PyBaMM evaluates and differentiates the
law itself (CasADi), independently of octant's generated code. The boundary condition is PyBaMM's
own Fickian-particle form (the flux over ``surf(d)``).

Discretisation: PyBaMM's ``FiniteVolume`` on ``cells`` uniform cells in spherical polar coordinates
(D at the faces by the arithmetic mean of the cell values); time: ``IDAKLUSolver`` (SUNDIALS IDAS
with the sparse KLU factorisation, analytic sparse Jacobian), rtol 1e-7, atol 1e-9 on theta,
stopping exactly at the output times (``t_eval`` = ``t_interp`` = the DOD times, so no interpolation).

Measured here (pybamm 26.10, 2 cores, the Si law: tanh step 1e-17 -> 2e-15 m^2/s, theta_f 0.85,
width 0.02, R = 4.11 um, 0.1 A/g): 800 cells in 4-6 s wall (13.5k IDAS steps), 1600 cells in 10 s.
CasADi's CVODES ('fast' mode) stops with CV_TOO_MUCH_WORK (its step cap: the sharp law needs
> 10^4 steps), which is why it looked stalled; the scipy BDF path takes > 13 CPU min at 800 cells.
The front reaches the centre at DOD 0.8992 (extrapolated; 0.9069 / 0.9011 / 0.8996 / 0.8993 with
200 / 400 / 800 / 1600 cells), so at DOD 0.9 the profile is sensitive to the arrival: mean
|theta_N - theta_3200| there is 0.065 / 0.023 / 1.5e-4 / 2e-5 for N = 200 / 400 / 800 / 1600.
A sharper law needs more cells there: width 0.01 gives 0.019 between 800 and 1600 cells and 0.0095
between 1600 and 3200 at DOD 0.9 (D_low 1e-18: 0.067 between 800 and 1600), so the verification
checks its reference against 1600 cells (``pybamm:reference``) rather than trusting 800.
"""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models import LithiationModel

from .errors import PeerError

__all__ = ["PybammProfiles", "law_to_pybamm", "pybamm_available", "pybamm_profiles"]

log = logging.getLogger(__name__)

RTOL = 1e-7
ATOL = 1e-9  # on theta [-]


def pybamm_available() -> str | None:
    """PyBaMM's version, or None when it cannot be imported."""
    try:
        import pybamm
    except ImportError:
        return None
    return str(pybamm.__version__)


@dataclass(frozen=True)
class PybammProfiles:
    """PyBaMM's theta profiles at the requested DODs.

    ``x``: r / R of the centre (0), the cell centres and the surface (1), (cells + 2,); ``theta``: one
    (cells + 2,) array per DOD on ``x`` (at 0 and 1 PyBaMM's boundary values, extrapolated with the
    boundary conditions); ``volume``: the cells' volume fractions x_{i+1/2}^3 - x_{i-1/2}^3 (summing
    to 1), so ``volume @ theta[k][1:-1]`` is the mean theta; ``wall_s``: PyBaMM's set-up and solve
    time [s]; ``steps``: IDAS steps (-1 if PyBaMM does not report them).
    """

    dods: tuple[float, ...]
    cells: int
    x: np.ndarray
    volume: np.ndarray
    theta: tuple[np.ndarray, ...]
    wall_s: float
    steps: int


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def law_to_pybamm(text: str, theta):
    """The law ``text`` (already checked by :func:`models.expressions.parse_expression`; laws are
    written in ``theta`` only) as a PyBaMM expression of the symbol ``theta``, in the law's SI units."""
    import pybamm

    functions = {
        "exp": pybamm.exp,
        "log": pybamm.log,
        "tanh": pybamm.tanh,
        "sqrt": pybamm.sqrt,
        "min": pybamm.minimum,
        "max": pybamm.maximum,
    }

    def build(node: ast.AST):
        if isinstance(node, ast.Constant):
            return pybamm.Scalar(float(node.value))
        if isinstance(node, ast.Name) and node.id == "theta":
            return theta
        if isinstance(node, ast.UnaryOp):
            return -build(node.operand) if isinstance(node.op, ast.USub) else build(node.operand)
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](build(node.left), build(node.right))
        if isinstance(node, ast.Call):
            return functions[node.func.id](*(build(a) for a in node.args))
        raise PeerError(f"cannot translate {type(node).__name__} of the law {text!r} to PyBaMM")

    return build(ast.parse(text.replace("^", "**"), mode="eval").body)


def _discretised(model: LithiationModel, cells: int):
    """(PyBaMM model discretised on ``cells`` uniform cells, its particle submesh, D_ref [m^2/s])."""
    import pybamm

    if model.inclusions:
        raise PeerError("the PyBaMM reference is a one-material sphere; this model has inclusions")
    law = model.material.diffusivity
    d_ref = float(law.bounds()[1])
    theta = pybamm.Variable("theta", domain="particle")
    diff = law_to_pybamm(law.expression.text, theta) / d_ref
    flux = model.surface_flux() * model.radius / (d_ref * model.c_max)
    pm = pybamm.BaseModel("octant lithiation (dimensionless)")
    pm.rhs = {theta: pybamm.div(diff * pybamm.grad(theta))}
    pm.boundary_conditions = {
        theta: {"left": (pybamm.Scalar(0), "Neumann"), "right": (flux / pybamm.surf(diff), "Neumann")}
    }
    pm.initial_conditions = {theta: pybamm.Scalar(float(model.initial_theta))}
    pm.variables = {
        "theta": theta,
        "centre": pybamm.boundary_value(theta, "left"),
        "surface": pybamm.boundary_value(theta, "right"),
    }
    # PyBaMM names the radial coordinate of a "particle" domain "r" (here r / R)
    x = pybamm.SpatialVariable("r", domain=["particle"], coord_sys="spherical polar")
    geometry = {"particle": {x: {"min": pybamm.Scalar(0), "max": pybamm.Scalar(1)}}}
    mesh = pybamm.Mesh(geometry, {"particle": pybamm.Uniform1DSubMesh}, {x: int(cells)})
    pybamm.Discretisation(mesh, {"particle": pybamm.FiniteVolume()}).process_model(pm)
    return pm, mesh["particle"], d_ref


def pybamm_profiles(model: LithiationModel, dods: Sequence[float], cells: int = 800) -> PybammProfiles:
    """theta(r) from PyBaMM's finite-volume sphere at each DOD of ``dods`` (galvanostatic ``model``).

    Raises :class:`~orchestrator.errors.PeerError` when PyBaMM is missing, the model has inclusions
    or the integration fails.
    """
    try:
        import pybamm
    except ImportError as exc:
        raise PeerError("pybamm is not installed (pip install 'octant[pybamm]')") from exc
    t0 = time.perf_counter()
    pm, submesh, d_ref = _discretised(model, cells)
    scale = d_ref / model.radius**2  # tau per second
    times = np.array([0.0] + [model.time_at_dod(float(d)) * scale for d in dods])
    solver = pybamm.IDAKLUSolver(rtol=RTOL, atol=ATOL)
    try:
        solution = solver.solve(pm, times, t_interp=times)
    except pybamm.SolverError as exc:
        raise PeerError(f"PyBaMM's IDAKLU solver failed on {cells} cells: {exc}") from exc
    if len(solution.t) != len(times) or not np.allclose(solution.t, times, rtol=1e-12, atol=0.0):
        raise PeerError(f"PyBaMM stopped at tau = {float(solution.t[-1]):.4g} of {times[-1]:.4g}")
    values = np.vstack(
        [solution["centre"].entries, np.asarray(solution["theta"].entries), solution["surface"].entries]
    )  # (cells + 2, len(times))
    edges = np.asarray(submesh.edges)
    steps = int(solution.solver_statistics.number_of_steps) if hasattr(solution, "solver_statistics") else -1
    wall = time.perf_counter() - t0
    log.info("PyBaMM FV %d cells: %.1f s, %d steps", cells, wall, steps)
    return PybammProfiles(
        dods=tuple(float(d) for d in dods),
        cells=int(cells),
        x=np.concatenate(([0.0], np.asarray(submesh.nodes), [1.0])),
        volume=np.diff(edges**3),
        theta=tuple(values[:, k + 1].copy() for k in range(len(dods))),
        wall_s=wall,
        steps=steps,
    )
