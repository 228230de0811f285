"""Post-processing of the native solver when mechanics has history or Li-dependent moduli.

:class:`QuadraturePost` is the :class:`~.postprocess.NativePost` of runs that use
:class:`~.plasticity.QuadratureMechanics`: the time loop's mechanics hook :meth:`accept` solves
and commits the mechanics of every accepted state, so the stresses of the scalar rows are those
``accept`` computed (``stresses_free``), the rows carry ``plastic_strain_max`` and the frames the
vertex ``plastic_strain``.
"""

from __future__ import annotations

import numpy as np

from models import LithiationModel
from models.constitutive import von_mises

from .elasticity import ElasticityProblem
from .mesh import OctantMesh
from ..driver import MechanicsState
from .plasticity import QuadratureMechanics
from .postprocess import NativePost

__all__ = ["QuadraturePost"]


class QuadraturePost(NativePost):
    """Scalars and frames from the quadrature-point mechanics (committed at every accepted step)."""

    def __init__(
        self,
        model: LithiationModel,
        mesh: OctantMesh,
        integral_weights: np.ndarray,
        elasticity: ElasticityProblem,
        mechanics: QuadratureMechanics,
    ):
        super().__init__(model, mesh, integral_weights, elasticity)
        self.quadrature = mechanics
        self.stresses_free = True  # computed by accept() at every accepted state
        self._trial: tuple[np.ndarray, MechanicsState] | None = None
        self._accepted: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._extrema: dict[float, tuple[float, float, float, float]] = {}

    def _state(self, c: np.ndarray) -> MechanicsState:
        if self._trial is None or not np.array_equal(self._trial[0], c):
            self._trial = (np.array(c, dtype=float, copy=True), self.quadrature.solve(c))
        return self._trial[1]

    def mechanics(self, c: np.ndarray) -> dict[str, np.ndarray]:
        """Vertex fields of ``c``: the accepted state's, or a trial solve from the committed history."""
        if self._accepted is not None and np.array_equal(self._accepted[0], c):
            return self._accepted[1]
        return self.quadrature.vertex_fields(self._state(c))

    def hydrostatic(self, c: np.ndarray) -> np.ndarray:
        """Vertex hydrostatic stress [Pa] of ``c`` (trial; the stress-driven diffusion term)."""
        return self.mechanics(c)["hydrostatic"]

    def accept(self, t: float, c: np.ndarray, dt: float) -> None:
        """Solve and commit the mechanics of an accepted state (the time loop's hook)."""
        state = self._state(c)
        self.quadrature.commit(state, c)
        self._trial = None
        fields = self.quadrature.vertex_fields(state)
        self._accepted = (np.array(c, dtype=float, copy=True), fields)
        self._extrema[float(t)] = (
            float(fields["von_mises"].max()),
            float(fields["hydrostatic"].min()),
            float(fields["hydrostatic"].max()),
            float(state.alpha.max()),  # at the quadrature points: vertex averaging lowers the surface peak
        )
        #: largest von Mises stress at the quadrature points [Pa] (where the yield condition holds)
        self.point_von_mises_max = max(getattr(self, "point_von_mises_max", 0.0), float(von_mises(state.stress).max()))

    def stress_extrema(self, times: list[float], states: list[np.ndarray]) -> np.ndarray:
        """(k, 3) extrema of accepted states (computed by :meth:`accept`), else from a trial solve."""
        out = np.empty((len(states), 3))
        for k, (t, c) in enumerate(zip(times, states)):  # a handful of states, not mesh entities
            if float(t) in self._extrema:
                out[k] = self._extrema.pop(float(t))[:3]
                continue
            f = self.mechanics(c)
            out[k] = (f["von_mises"].max(), f["hydrostatic"].min(), f["hydrostatic"].max())
        return out

    def base_row(self, t: float, c: np.ndarray) -> dict[str, float]:
        """A row with NaN stress extrema and the accepted state's max equivalent plastic strain."""
        row = super().base_row(t, c)
        row["plastic_strain_max"] = self._extrema[float(t)][3] if float(t) in self._extrema else 0.0
        return row
