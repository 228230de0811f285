"""From the state c(t) to the outputs: scalars every step, full fields at output times.

Scalars (one row per accepted step; :data:`solvers.api.SCALAR_COLUMNS`):

- DOD = (integral c_h dx - c0 V_h) / ((c_max - c0) V_h), with integral c_h dx = 1^T M c (exact);
- theta_mean = integral c_h dx / (c_max V_h); theta_surface_max = max over sphere vertices of
  c / c_max; theta_center = c(0) / c_max (the vertex at the origin);
- von_mises_max, hydrostatic_min/max over the vertices, from the recovered vertex stresses, for
  the rows the time loop's cadence asks for (:class:`solvers.driver.ScalarQueue` batches them so
  that the elasticity back-substitutions run many right-hand sides at once), else NaN.

Stress invariants of sigma (Voigt xx, yy, zz, yz, xz, xy):

    von Mises = sqrt( ((s_xx - s_yy)^2 + (s_yy - s_zz)^2 + (s_zz - s_xx)^2) / 2
                      + 3 (s_yz^2 + s_xz^2 + s_xy^2) ),
    hydrostatic = tr(sigma) / 3,   max principal = largest eigenvalue of sigma,

and the total volumetric strain tr(eps(u)) (swelling included).
"""

from __future__ import annotations

import math

import numpy as np

from models import LithiationModel

from ..api import FieldFrame
from .elasticity import ElasticityProblem
from .mesh import OctantMesh

__all__ = ["NativePost", "max_principal", "voigt_to_tensor", "von_mises"]


def von_mises(stress: np.ndarray) -> np.ndarray:
    """von Mises stress (n, ...) [Pa] of Voigt stresses (n, 6, ...)."""
    s = stress
    normal = (s[:, 0] - s[:, 1]) ** 2 + (s[:, 1] - s[:, 2]) ** 2 + (s[:, 2] - s[:, 0]) ** 2
    return np.sqrt(0.5 * normal + 3.0 * (s[:, 3:] ** 2).sum(axis=1))


def voigt_to_tensor(voigt: np.ndarray) -> np.ndarray:
    """Symmetric tensors (n, 3, 3) from Voigt rows (n, 6) ordered xx, yy, zz, yz, xz, xy."""
    t = np.empty((voigt.shape[0], 3, 3))
    t[:, 0, 0], t[:, 1, 1], t[:, 2, 2] = voigt[:, 0], voigt[:, 1], voigt[:, 2]
    t[:, 1, 2] = t[:, 2, 1] = voigt[:, 3]
    t[:, 0, 2] = t[:, 2, 0] = voigt[:, 4]
    t[:, 0, 1] = t[:, 1, 0] = voigt[:, 5]
    return t


def max_principal(stress: np.ndarray) -> np.ndarray:
    """Largest principal stress (n,) [Pa] of Voigt stresses (n, 6)."""
    return np.linalg.eigvalsh(voigt_to_tensor(stress))[:, -1]


class NativePost:
    """Scalars and field frames of the native solver for one model, mesh and elasticity system.

    ``mesh`` is the mesh of the concentration field (the octant mesh, or its 8x split when the
    transport lives on the P2 node set); fields are written on it.
    """

    def __init__(
        self,
        model: LithiationModel,
        mesh: OctantMesh,
        integral_weights: np.ndarray,
        elasticity: ElasticityProblem,
        *,
        domain: np.ndarray | None = None,
    ):
        self.model = model
        self.mesh = mesh
        self.weights = integral_weights  # 1^T M: integral of each vertex basis function [m^3]
        self.volume = float(integral_weights.sum())
        self.elasticity = elasticity
        self.omega = model.material.partial_molar_volume
        self._last: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self.stresses_free = False  # each evaluation is a back-substitution: sampled at a cadence
        self.theta_min = math.inf
        self._domain_setup(domain)

    def _domain_setup(self, domain: np.ndarray | None) -> None:
        """Per-domain quantities: the Li the particle can take from c0 (sum_d V_d,h (c_max,d - c0)), the
        vertex c_max (volume-weighted over the elements around a vertex) and the cell array ``material`` (DESIGN.md section 5: the index into the run's materials list)."""
        materials = self.model.domain_materials
        self.domain = np.zeros(self.mesh.n_tets, dtype=np.int64) if domain is None else np.asarray(domain, dtype=np.int64)
        self.domain_volumes = np.bincount(self.domain, weights=self.mesh.volumes, minlength=len(materials))
        self.domain_volumes *= self.volume / self.domain_volumes.sum()  # exactly 1^T M 1
        self.insertable = float(sum((m.c_max - self.model.c0) * v for m, v in zip(materials, self.domain_volumes)))
        c_max_e = np.array([m.c_max for m in materials])[self.domain]
        tets, vol = self.mesh.tets.ravel(), np.repeat(self.mesh.volumes, 4)
        self.vertex_c_max = np.bincount(tets, weights=vol * np.repeat(c_max_e, 4), minlength=self.mesh.n_points) / np.bincount(
            tets, weights=vol, minlength=self.mesh.n_points
        )
        self.c_max_total = float(sum(m.c_max * v for m, v in zip(materials, self.domain_volumes)))

    def _eigen_field(self, c: np.ndarray) -> np.ndarray:
        """The eigen field of the elasticity solves: Omega (c - c_ref), or c - c_ref with per-element Omega."""
        x = c - self.model.c_ref
        return x if self.elasticity.per_element else self.omega * x

    def dod(self, c: np.ndarray) -> float:
        """Depth of discharge [-] of the vertex concentrations ``c`` [mol/m^3]:
        integral (c - c0) dx / sum_d V_d (c_max,d - c0)."""
        return (float(self.weights @ c) - self.model.c0 * self.volume) / self.insertable

    def mechanics(self, c: np.ndarray) -> dict[str, np.ndarray]:
        """Displacement, strain and stress at the vertices for ``c`` (cached for the last state)."""
        if self._last is not None and np.array_equal(self._last[0], c):
            return self._last[1]
        el = self.elasticity
        ev = self._eigen_field(c)
        u = el.displacement(ev)
        strain, stress = el.nodal_fields(u, ev)
        out = {
            "displacement": u[: self.mesh.n_points],
            "strain": strain,
            "stress": stress,
            "von_mises": von_mises(stress),
            "hydrostatic": stress[:, :3].sum(axis=1) / 3.0,
        }
        self._last = (c.copy(), out)
        return out

    def stress_extrema(self, times: list[float], states: list[np.ndarray]) -> np.ndarray:
        """(k, 3): max von Mises, min and max hydrostatic [Pa] over the vertices for each state:
        one multi-right-hand-side solve with the stored factorisation."""
        el = self.elasticity
        cs = np.column_stack(states)
        ev = self._eigen_field(cs)
        _, stress = el.nodal_fields(el.displacements(ev), ev)  # (n, 6, k)
        hydro = stress[:, :3].sum(axis=1) / 3.0
        return np.column_stack([von_mises(stress).max(axis=0), hydro.min(axis=0), hydro.max(axis=0)])

    def base_row(self, t: float, c: np.ndarray) -> dict[str, float]:
        """One row of :data:`solvers.api.SCALAR_COLUMNS` at ``t`` [s] with NaN stress extrema."""
        sphere, center = self.mesh.sphere_vertices, self.mesh.center
        return {
            "time_s": float(t),
            "dod": self.dod(c),
            "theta_mean": float(self.weights @ c) / self.c_max_total,
            "theta_surface_max": float((c[sphere] / self.vertex_c_max[sphere]).max()),
            "theta_center": float(c[center] / self.vertex_c_max[center]),
            "von_mises_max": math.nan,
            "hydrostatic_min": math.nan,
            "hydrostatic_max": math.nan,
            "plastic_strain_max": 0.0,
        }

    def accept(self, t: float, c: np.ndarray, dt: float) -> None:
        """Mechanics hook of the time loop, called with every accepted state (linear elasticity
        keeps no history); records the smallest theta reached (``theta_min``, undershoot check)."""
        self.theta_min = min(self.theta_min, float((c / self.vertex_c_max).min()))

    def frame(self, t: float, c: np.ndarray) -> FieldFrame:
        """All point fields of :data:`solvers.api.FIELD_UNITS` at the mesh vertices."""
        mech = self.mechanics(c)
        c = np.array(c, dtype=float, copy=True)
        return FieldFrame(
            time=float(t),
            dod=self.dod(c),
            points=self.mesh.points,
            cells={"tetra": self.mesh.tets},
            cell_data={"material": [self.domain.copy()]} if len(self.model.domain_materials) > 1 else {},
            point_data={
                "c": c,
                "theta": c / self.vertex_c_max,
                "displacement": mech["displacement"].copy(),
                "stress": mech["stress"].copy(),
                "von_mises": mech["von_mises"].copy(),
                "hydrostatic": mech["hydrostatic"].copy(),
                "volumetric_strain": mech["strain"][:, :3].sum(axis=1),
                "max_principal_stress": max_principal(mech["stress"]),
                "plastic_strain": mech["plastic_strain"].copy() if "plastic_strain" in mech else np.zeros(self.mesh.n_points),
            },
        )
