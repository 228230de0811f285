"""Stress-driven diffusion in the native solver: the P1 transport system plus the hydrostatic drift.

Flux J = -D (grad c - beta c grad sigma_h), beta = Omega / (R T) (:mod:`models.constitutive`), with
sigma_h the vertex hydrostatic stress of the mechanics (P1 interpolant). On element T, with the
constant gradient s_T = grad sigma_h|_T, the weak form of :mod:`.transport` gains

    F_i += (grad phi_i . s_T) Pbar_T,   Pbar_T = beta integral_T D(theta_h) c_h dx
                                               ~ beta |T| sum_q w_q D(theta_q) c_q,

so Li moves up the hydrostatic-stress gradient; the rows still sum to zero (conservative).

Solution: monolithic Newton on c with sigma_h = sigma_h(c) recomputed from the mechanics at every
residual (one back-substitution for linear elasticity; a Newton solve from the accepted history
for elastoplastic runs). The Jacobian uses the local free-sphere relation d sigma_h = -k dc,
k = 2 E Omega / (9 (1 - nu)) (E, nu at the element's mean theta): exact in the gradient for
linear elasticity and radial profiles, where the coupled model equals the uncoupled one with
D_eff = D (1 + A theta); otherwise Newton converges linearly (the stepper's contraction test).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models import LithiationModel
from models.constants import GAS_CONSTANT

from .krylov import NewtonSystem
from .transport import OctantTransport

__all__ = ["StressDrivenOctantTransport"]


class StressDrivenOctantTransport:
    """``base`` (:class:`~.transport.OctantTransport`) plus the drift; ``hydrostatic(c)`` returns the
    vertex sigma_h [Pa] of the vertex concentration ``c`` [mol/m^3]."""

    def __init__(self, base: OctantTransport, model: LithiationModel, hydrostatic: Callable[[np.ndarray], np.ndarray]):
        self.base = base
        self.mass, self.scale = base.mass, base.scale
        self.hydrostatic = hydrostatic
        self.beta = model.material.partial_molar_volume / (GAS_CONSTANT * model.temperature)
        m = model.material
        self._k = lambda theta: 2.0 * m.youngs_modulus_at(theta) * m.partial_molar_volume / (
            9.0 * (1.0 - m.poisson_ratio_at(theta))
        )
        self._cache: tuple[np.ndarray, tuple] | None = None

    def __getattr__(self, name):  # amount(), volume, ones_mass, ... of the base system
        return getattr(self.base, name)

    def _terms(self, y: np.ndarray):
        """(Pbar (m,), dPbar/dc_k (m, 4), grad phi_i . s_T (m, 4), k_T (m,)), cached for the last y."""
        if self._cache is not None and np.array_equal(self._cache[0], y):
            return self._cache[1]
        b = self.base
        rule = b.rule
        ce = y[b.tets]
        theta = (ce @ rule.lambdas.T) / b.c_max  # (m, nq)
        d = np.asarray(b.law(theta), dtype=float)
        dd = np.asarray(b.law.derivative(theta), dtype=float)
        wv = b.vol[:, None] * rule.weights[None, :] * self.beta
        pbar = np.sum(wv * d * theta * b.c_max, axis=1)
        dp = ((dd * theta + d) * wv) @ rule.lambdas  # (m, 4)
        sigma = self.hydrostatic(y)
        s = np.einsum("mkd,mk->md", b.grads, sigma[b.tets])
        flux_dir = np.einsum("mid,md->mi", b.grads, s)
        out = (pbar, dp, flux_dir, self._k(theta.mean(axis=1)))
        self._cache = (y.copy(), out)
        return out

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(c) + drift [mol/s] per test function."""
        pbar, _, flux_dir, _ = self._terms(y)
        b = self.base
        return b.rhs(y, t) + np.bincount(b.tets.ravel(), weights=(flux_dir * pbar[:, None]).ravel(), minlength=b.n)

    def _drift_blocks(self, y: np.ndarray) -> np.ndarray:
        """Element blocks (m, 4, 4) of the drift's contribution to dF/dc."""
        pbar, dp, flux_dir, k = self._terms(y)
        return flux_dir[:, :, None] * dp[:, None, :] - (pbar * k)[:, None, None] * self.base.gram

    def jacobian(self, y: np.ndarray, t: float):
        """dF/dc with the local elastic estimate of d sigma_h / dc."""
        blocks = self._drift_blocks(y)
        return self.base.jacobian(y, t) + self.base.pattern.matrix(blocks)

    def newton_matrix(self, a0: float, y: np.ndarray, t: float) -> NewtonSystem:
        """a0 M - dF/dc with the drift, on the base transport's fixed pattern (one assembly)."""
        blocks = self._drift_blocks(y)
        return NewtonSystem(matrix=self.base.pattern.matrix(self.base.newton_blocks(a0, y) - blocks), a0=float(a0))
