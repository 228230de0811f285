"""From a radial concentration profile to the output contract: scalar rows and field frames.

Linear elasticity with constant E and nu (the default): stresses come from the closed form of
:func:`models.analytical.radial_stresses` (exact for the piecewise-linear c of the P1 solution), so
they cost O(N) per call and are evaluated every step. Elastoplastic runs, and E or nu laws of theta,
use the P2 radial finite elements of :mod:`.mechanics`: history-dependent, solved and committed in
:meth:`RadialPost.accept` at every accepted state (the time loop's mechanics hook); the scalar rows
and frames of accepted states read what ``accept`` computed.
In Cartesian components on the x axis (the points (r, 0, 0) of the frame) the stress tensor is
diag(sigma_r, sigma_t, sigma_t): Voigt (xx, yy, zz, yz, xz, xy) = (sigma_r, sigma_t, sigma_t, 0, 0, 0),
its principal values are sigma_r and sigma_t (twice), and the displacement is (u_r, 0, 0).
"""

from __future__ import annotations

import math

import numpy as np

from models import LithiationModel
from models.analytical import radial_stresses

from ..api import FieldFrame
from ..driver import MechanicsState
from .mechanics import RadialMechanics

__all__ = ["RadialPost"]


class RadialPost:
    """Scalars and fields of a radial profile for one model on fixed nodes ``r`` [m].

    ``weights`` are the volume weights w_i = int phi_i r^2 dr [m^3/sr] of the P1 space, so that
    int f dV / int dV = w . f / (R^3 / 3) for a P1 field f.
    """

    def __init__(self, model: LithiationModel, nodes: np.ndarray, weights: np.ndarray):
        self.model = model
        self.nodes = np.asarray(nodes, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.volume = float(self.nodes[-1] ** 3 / 3.0)
        m = model.material
        self.fe: RadialMechanics | None = None
        if model.mechanics.plastic or not m.constant_elasticity:
            self.fe = RadialMechanics(
                self.nodes,
                youngs_modulus=m.youngs_modulus,
                poisson_ratio=m.poisson_ratio,
                partial_molar_volume=m.partial_molar_volume,
                c_max=model.c_max,
                c_ref=model.c_ref,
                yield_stress=model.yield_stress if model.mechanics.plastic else None,
                hardening_modulus=model.mechanics.hardening_modulus,
            )
            self._elastic = {}
        else:
            e, nu = m.elastic_constants()
            self._elastic = {"E": e, "nu": nu, "Omega": m.partial_molar_volume, "c_ref": model.c_ref}
        self._trial: tuple[np.ndarray, MechanicsState] | None = None
        self._accepted: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._extrema: dict[float, tuple[float, float, float, float]] = {}
        self._lines = np.stack([np.arange(self.nodes.size - 1), np.arange(1, self.nodes.size)], axis=1)
        self._points = np.zeros((self.nodes.size, 3))
        self._points[:, 0] = self.nodes
        self.stresses_free = True  # closed form, O(N): every scalar row carries the stresses

    def dod(self, c: np.ndarray) -> float:
        """Depth of discharge int (c - c0) dV / ((c_max - c0) V) [-]."""
        m = self.model
        return float(self.weights @ (c - m.c0)) / ((m.c_max - m.c0) * self.volume)

    def _fe_state(self, c: np.ndarray) -> MechanicsState:
        """The (trial) finite-element state for ``c`` from the committed history, cached."""
        if self._trial is None or not np.array_equal(self._trial[0], c):
            self._trial = (np.array(c, dtype=float, copy=True), self.fe.solve(c))
        return self._trial[1]

    def stresses(self, c: np.ndarray) -> dict[str, np.ndarray]:
        """Nodal sigma_r, sigma_t, von_mises, hydrostatic [Pa], u [m], volumetric_strain and
        plastic_strain [-] of ``c`` (the last accepted state if ``c`` is it, else a trial solve from
        the committed history)."""
        if self._accepted is not None and np.array_equal(self._accepted[0], c):
            return self._accepted[1]
        if self.fe is None:
            out = radial_stresses(self.nodes, c, **self._elastic)
            out["plastic_strain"] = np.zeros_like(out["u"])
            return out
        return self.fe.nodal_fields(self._fe_state(c))

    def hydrostatic(self, c: np.ndarray) -> np.ndarray:
        """Nodal hydrostatic stress [Pa] of ``c`` (trial state; the stress-driven diffusion term)."""
        return self.stresses(c)["hydrostatic"]

    def base_row(self, t: float, c: np.ndarray) -> dict[str, float]:
        """One row of :data:`solvers.api.SCALAR_COLUMNS` at time ``t`` [s], NaN stress extrema."""
        c_max = self.model.c_max
        return {
            "time_s": float(t),
            "dod": self.dod(c),
            "theta_mean": float(self.weights @ c) / (c_max * self.volume),
            "theta_surface_max": float(c[-1]) / c_max,
            "theta_center": float(c[0]) / c_max,
            "von_mises_max": math.nan,
            "hydrostatic_min": math.nan,
            "hydrostatic_max": math.nan,
            "plastic_strain_max": self._extrema[float(t)][3] if float(t) in self._extrema else 0.0,
        }

    def stress_extrema(self, times: list[float], states: list[np.ndarray]) -> np.ndarray:
        """(k, 3): max von Mises, min and max hydrostatic stress [Pa] of each profile."""
        out = np.empty((len(states), 3))
        for k, (t, c) in enumerate(zip(times, states)):  # a few profiles of O(N) work each
            if float(t) in self._extrema:  # computed by accept() (history-dependent mechanics)
                out[k] = self._extrema.pop(float(t))[:3]
                continue
            s = self.stresses(c)
            out[k] = (np.max(s["von_mises"]), np.min(s["hydrostatic"]), np.max(s["hydrostatic"]))
        return out

    def scalar_row(self, t: float, c: np.ndarray) -> dict[str, float]:
        """One row of :data:`solvers.api.SCALAR_COLUMNS` at time ``t`` [s], stresses included."""
        row = self.base_row(t, c)
        row.update(zip(("von_mises_max", "hydrostatic_min", "hydrostatic_max"), self.stress_extrema([t], [c])[0]))
        return {k: float(v) for k, v in row.items()}

    def accept(self, t: float, c: np.ndarray, dt: float) -> None:
        """Mechanics hook of the time loop: solve and commit the state of every accepted step
        (history of elastoplastic runs); nothing to do for the closed form."""
        if self.fe is None:
            return
        state = self._fe_state(c)
        self.fe.commit(state)
        self._trial = None
        fields = self.fe.nodal_fields(state)
        self._accepted = (np.array(c, dtype=float, copy=True), fields)
        self._extrema[float(t)] = (
            float(np.max(fields["von_mises"])),
            float(np.min(fields["hydrostatic"])),
            float(np.max(fields["hydrostatic"])),
            float(np.max(fields["plastic_strain"])),
        )

    def frame(self, t: float, c: np.ndarray) -> FieldFrame:
        """The :class:`FieldFrame` at ``t`` [s]: points (r, 0, 0), ``line`` cells, all point arrays."""
        s = self.stresses(c)
        n = c.size
        displacement = np.zeros((n, 3))
        displacement[:, 0] = s["u"]
        stress = np.zeros((n, 6))
        stress[:, 0] = s["sigma_r"]
        stress[:, 1] = s["sigma_t"]
        stress[:, 2] = s["sigma_t"]
        return FieldFrame(
            time=float(t),
            dod=self.dod(c),
            points=self._points.copy(),
            cells={"line": self._lines.copy()},
            point_data={
                "c": c.copy(),
                "theta": c / self.model.c_max,
                "displacement": displacement,
                "stress": stress,
                "von_mises": s["von_mises"],
                "hydrostatic": s["hydrostatic"],
                "volumetric_strain": s["volumetric_strain"],
                "max_principal_stress": np.maximum(s["sigma_r"], s["sigma_t"]),
                "plastic_strain": s["plastic_strain"].copy(),
            },
        )
