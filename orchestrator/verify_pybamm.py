"""Cross-check against an independent peer: PyBaMM's finite-volume sphere (``octant verify --level full``).

The same problem as the ``front`` case (the sharp two-phase Si law, constant inward flux J, Si
R = 4.11 um, 0.1 A/g) written as a PyBaMM model in dimensionless form,

    x = r / R,  tau = t D_hi / R^2,  theta = c / c_max,  d(theta) = D(theta) / D_hi:
    d theta / d tau = div_x (d(theta) grad_x theta),  d theta/dx (0) = 0,
    d(theta) d theta/dx (1) = J R / (D_hi c_max),

discretised by PyBaMM's finite volumes on 200 uniform cells in spherical polar coordinates and
integrated by its own DAE/ODE solver. The octant radial and native solutions are compared with it
at DOD 0.25, 0.5 and 0.9 (the front reaching the centre): mean |dtheta| over the radial nodes /
the (1,1,1) diagonal, with the targets of issue 10 (radial 0.01, native 0.02). Optional: skipped
with a reason when ``pybamm`` is not importable (``pip install 'octant[pybamm]'``).
"""

from __future__ import annotations

import logging

import numpy as np

from solvers.api import FieldFrame, OutputRequest

__all__ = ["case_pybamm", "pybamm_profiles"]

log = logging.getLogger(__name__)

_CELLS = 200  # PyBaMM's scipy BDF path: 800 cells took > 13 CPU min here, 200 cells ~1 min
_TARGETS = {"radial": (161, 0.01), "native": (15, 0.02)}


def pybamm_profiles(model, dods) -> tuple[np.ndarray, list[np.ndarray]]:
    """(x nodes (cell centres, r / R), [theta at each DOD]) from PyBaMM for ``model``'s law."""
    import pybamm

    law = model.material.diffusivity
    d_hi = float(law.high) * float(getattr(law, "scale", 1.0))
    d_lo = float(law.low) * float(getattr(law, "scale", 1.0))
    flux_hat = model.surface_flux() * model.radius / (d_hi * model.c_max)
    t_full = model.full_lithiation_time * d_hi / model.radius**2
    pm = pybamm.BaseModel()
    theta = pybamm.Variable("theta", domain="particle")
    diff = (d_lo + (d_hi - d_lo) / 2 * (1 + pybamm.tanh((theta - law.theta_f) / law.width))) / d_hi
    pm.rhs = {theta: pybamm.div(diff * pybamm.grad(theta))}
    pm.boundary_conditions = {
        theta: {"left": (pybamm.Scalar(0), "Neumann"), "right": (flux_hat / pybamm.surf(diff), "Neumann")}
    }
    pm.initial_conditions = {theta: pybamm.Scalar(model.initial_theta)}
    pm.variables = {"theta": theta}
    x = pybamm.SpatialVariable("r", domain=["particle"], coord_sys="spherical polar")
    geometry = {"particle": {x: {"min": pybamm.Scalar(0), "max": pybamm.Scalar(1)}}}
    mesh = pybamm.Mesh(geometry, {"particle": pybamm.Uniform1DSubMesh}, {x: _CELLS})
    pybamm.Discretisation(mesh, {"particle": pybamm.FiniteVolume()}).process_model(pm)
    times = np.array([0.0] + [d * t_full for d in dods])
    solution = pybamm.ScipySolver(method="BDF", rtol=1e-7, atol=1e-9).solve(pm, times)
    nodes = mesh["particle"].nodes
    values = solution["theta"].entries  # (cells, times)
    return nodes, [values[:, k + 1] for k in range(len(dods))]


def case_pybamm(backends) -> list:
    """Rows comparing the radial/native profiles with PyBaMM's (or one skip row)."""
    from .verify import _FRONT_DODS, SHARP_LAW, CaseResult, _mesh_label, _model, _profile_error, _run
    from models import StopCondition

    try:
        import pybamm  # noqa: F401
    except ImportError:
        return [
            CaseResult(
                "pybamm", b, "-", 0.0, None, 0.0, True,
                "skipped: pybamm is not installed (pip install 'octant[pybamm]')",
            )
            for b in backends
        ]
    model = _model(SHARP_LAW, StopCondition("dod", _FRONT_DODS[-1]))
    x, thetas = pybamm_profiles(model, _FRONT_DODS)
    reference = [
        FieldFrame(time=0.0, dod=d, points=np.column_stack([x * model.radius, 0 * x, 0 * x]), cells={"line": np.zeros((0, 2), int)}, point_data={"theta": th})
        for d, th in zip(_FRONT_DODS, thetas)
    ]
    rows = []
    for backend in backends:
        size, target = _TARGETS[backend]
        sink, stats = _run(backend, model, OutputRequest(dods=_FRONT_DODS), size, rtol=1e-4)
        per_dod = [_profile_error(f, r) for f, r in zip(sink.frames, reference)]
        err = max(per_dod)
        detail = f"PyBaMM FV {_CELLS} cells; mean |dtheta| at DOD " + ", ".join(
            f"{d:g}: {e:.4f}" for d, e in zip(_FRONT_DODS, per_dod)
        )
        rows.append(CaseResult("pybamm", backend, _mesh_label(backend, size), err, None, target, err <= target, detail))
    return rows
