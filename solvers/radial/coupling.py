"""Stress-driven diffusion in the radial solver: the transport system with the hydrostatic-stress drift.

Flux J = -D (dc/dr - beta c d sigma_h/dr), beta = Omega / (R T) (:mod:`models.constitutive`). In the
P1 weak form of :mod:`.transport` the drift adds, on element e = [r_a, r_b] of length h, with
sigma_h P1 on the same nodes,

    F_a -= P_e (sigma_b - sigma_a),   F_b += P_e (sigma_b - sigma_a),
    P_e = (beta / h^2) int_e D(theta_h) c_h r^2 dr          (3-point Gauss-Legendre),

so Li moves up the hydrostatic-stress gradient (toward tension). The scheme stays conservative.

Solution: monolithic Newton on c, sigma_h = sigma_h(c) re-evaluated from the mechanics (closed form,
or the finite-element state from the accepted history) at every residual. The Jacobian uses the
local free-sphere relation d sigma_h = -k d c, k = 2 E Omega / (9 (1 - nu)) (E, nu at the element
mean theta): it is exact for linear elasticity with constant E, nu (where sigma_h = k (c_mean - c)
and the coupled problem *is* the uncoupled one with D_eff = D (1 + A theta)), and a close
approximation otherwise (Newton then converges linearly; the stepper's contraction test applies).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from models import LithiationModel
from models.constants import GAS_CONSTANT

from .transport import RadialTransport

__all__ = ["StressDrivenTransport"]

_XI = 0.5 + 0.5 * np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)])
_WQ = np.array([5.0, 8.0, 5.0]) / 18.0


class StressDrivenTransport:
    """``base`` transport plus the stress-driven drift (a :class:`solvers.stepping.SemiDiscreteProblem`).

    ``hydrostatic(c)`` returns the nodal sigma_h [Pa] for a nodal concentration ``c`` [mol/m^3].
    """

    def __init__(self, base: RadialTransport, model: LithiationModel, hydrostatic: Callable[[np.ndarray], np.ndarray]):
        self.base = base
        self.mass, self.scale, self.size = base.mass, base.scale, base.size
        self.hydrostatic = hydrostatic
        self.law = base.law
        self.c_max = base.c_max
        self.beta = model.material.partial_molar_volume / (GAS_CONSTANT * model.temperature)
        r = base.nodes
        h = np.diff(r)
        rq = r[:-1, None] + h[:, None] * _XI[None, :]
        self._w = h[:, None] * _WQ[None, :] * rq**2 * self.beta / h[:, None] ** 2
        m = model.material
        self._k = lambda theta: 2.0 * m.youngs_modulus_at(theta) * m.partial_molar_volume / (
            9.0 * (1.0 - m.poisson_ratio_at(theta))
        )

    def __getattr__(self, name):  # amount(), weights, volume, ... of the base system
        return getattr(self.base, name)

    def _drift(self, c: np.ndarray):
        theta = (c[:-1, None] * (1 - _XI) + c[1:, None] * _XI) / self.c_max
        d = self.law(theta)
        p = np.sum(d * theta * self.c_max * self._w, axis=1)
        g = (self.law.derivative(theta) * theta + d) * self._w  # d(D c)/dc at the points
        dp_a, dp_b = np.sum(g * (1 - _XI), axis=1), np.sum(g * _XI, axis=1)
        sigma = self.hydrostatic(c)
        return p, dp_a, dp_b, sigma[1:] - sigma[:-1], self._k(theta.mean(axis=1))

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(c) + drift [mol/(m s sr)]."""
        p, _, _, ds, _ = self._drift(y)
        f = self.base.rhs(y, t)
        f[:-1] -= p * ds
        f[1:] += p * ds
        return f

    def _drift_jacobian(self, y: np.ndarray) -> sp.dia_matrix:
        p, dp_a, dp_b, ds, k = self._drift(y)
        n = self.size
        diag = np.zeros(n)
        diag[:-1] += -dp_a * ds - p * k
        diag[1:] += dp_b * ds - p * k
        lower = dp_a * ds + p * k  # dF_b/dc_a
        upper = -dp_b * ds + p * k  # dF_a/dc_b
        data = np.zeros((3, n))
        data[0, 1:], data[1], data[2, :-1] = upper, diag, lower
        return sp.dia_matrix((data, [1, 0, -1]), shape=(n, n))

    def jacobian(self, y: np.ndarray, t: float) -> sp.spmatrix:
        """dF/dc with the local elastic estimate of d sigma_h/dc (exact for constant E, nu)."""
        return (self.base.jacobian(y, t) + self._drift_jacobian(y)).todia()

    def newton_matrix(self, a0: float, y: np.ndarray, t: float) -> sp.spmatrix:
        """a0 M - dF/dc (tridiagonal)."""
        return (self.base.newton_matrix(a0, y, t) - self._drift_jacobian(y)).todia()
