"""Fickian transport on the octant with P1 elements: the semi-discrete system M dc/dt = F(c).

Weak form: find c_h(t) in P1 with, for every vertex basis function phi_i,

    integral phi_i dc_h/dt dx = - integral D(theta_h) grad phi_i . grad c_h dx + J integral_S phi_i ds,

theta_h = c_h / c_max, S the sphere faces (inward flux J), no flux on the symmetry planes.

Matrices and vectors (vectorised over elements T):

- consistent mass M_ij = sum_T |T| (1 + delta_ij) / 20 (exact for P1);
- flux load b_i = J sum_{faces f with i} |f| / 3;
- diffusion: P1 gradients are constant on T, so with g_T = grad c_h|_T
      F_i = b_i - sum_T (grad phi_i . g_T) Dbar_T,   Dbar_T = integral_T D(theta_h) dx
          ~= |T| sum_q w_q D(theta_h(x_q))                       (tetrahedron rule, see below);
- exact Jacobian of that discrete F (Newton converges quadratically):
      dF_i/dc_k = - sum_T [ Dbar_T grad phi_i . grad phi_k
                           + (grad phi_i . g_T) |T| sum_q w_q D'(theta_q) lambda_k(x_q) / c_max ],
  D' = dD/dtheta from the law (exact).

Several materials (inclusions): ``domains`` gives each element its domain d; the law D_d is evaluated at
theta = c / c_max,d of that domain, and dD/dc = D_d'(theta) / c_max,d (one vectorised evaluation per
domain). c stays one continuous P1 field across the interfaces.

Conservation: sum_i phi_i = 1, so the diffusion rows sum to zero and d/dt (1^T M c) = J A_h
exactly; with V_h = 1^T M 1 and J = i_m rho V_h / (F A_h) the DOD reaches 1 exactly at
capacity / i_m (BDF is exact for linear functions of time).

The Newton matrix a0 M - dF/dc of the stepper is assembled directly on the shared P1 pattern
(``newton_matrix``); :class:`~.krylov.FrozenKrylovSolver` factorises it now and then to
precondition GMRES.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from models.laws import DiffusivityLaw

from .assembly import SparsePattern, assemble_vector
from .basis import barycentric_gradients
from .krylov import NewtonSystem
from .mesh import OctantMesh
from .quadrature import tetrahedron_rule

__all__ = ["MassInventory", "OctantTransport"]

log = logging.getLogger(__name__)


class MassInventory:
    """Li inventory diagnostics of a P1 transport system with ``ones_mass`` = 1^T M (per vertex, m^3)."""

    ones_mass: np.ndarray

    def amount(self, y: np.ndarray) -> float:
        """integral c_h dx [mol] over the mesh (exact for P1, consistent or lumped mass)."""
        return float(self.ones_mass @ y)

    @property
    def volume(self) -> float:
        """V_h = integral 1 dx [m^3]."""
        return float(self.ones_mass.sum())


class OctantTransport(MassInventory):
    """P1 transport system on an octant mesh (a :class:`solvers.stepping.SemiDiscreteProblem`).

    Parameters
    ----------
    mesh: the octant mesh.
    law: D(theta) [m^2/s] with an exact ``derivative``; or one law per domain (with ``domain``).
    c_max: maximum concentration [mol/m^3] (theta = c / c_max; also the scale of c); or one per domain.
    flux: inward surface flux J [mol/m^2/s] on the sphere faces.
    quadrature_degree: degree of the rule for integral_T D(theta_h) (2: 4 points, 5: 14 points).
    domains: (m,) domain index of every element (several materials); None: one material.
    """

    def __init__(
        self,
        mesh: OctantMesh,
        law: DiffusivityLaw | Sequence[DiffusivityLaw],
        c_max: float | Sequence[float],
        flux: float,
        *,
        quadrature_degree: int = 2,
        domains: np.ndarray | None = None,
    ):
        self.mesh = mesh
        laws = list(law) if isinstance(law, (list, tuple)) else [law]
        c_maxes = [float(v) for v in np.atleast_1d(c_max)]
        if len(laws) != len(c_maxes):
            raise ValueError(f"{len(laws)} diffusivity laws but {len(c_maxes)} c_max values")
        self.law = laws[0]
        self.c_max = c_maxes[0]
        self.scale = max(c_maxes)
        dom = np.zeros(mesh.n_tets, dtype=np.int64) if domains is None else np.asarray(domains, dtype=np.int64)
        self._groups = [(lw, cm, np.flatnonzero(dom == d)) for d, (lw, cm) in enumerate(zip(laws, c_maxes))]
        self.flux = float(flux)
        self.tets = np.asarray(mesh.tets, dtype=np.int64)
        self.grads, self.vol = barycentric_gradients(mesh.points, self.tets)
        self.rule = tetrahedron_rule(quadrature_degree)
        n = mesh.n_points
        self.n = n
        self.pattern = SparsePattern(self.tets, self.tets, (n, n))
        # G[T, i, k] = grad phi_i . grad phi_k (constant per element)
        self.gram = np.einsum("mid,mkd->mik", self.grads, self.grads)
        local_mass = (np.eye(4) + 1.0)[None, :, :] / 20.0 * self.vol[:, None, None]
        self._mass_data = local_mass
        self.mass = self.pattern.matrix(local_mass)
        faces = mesh.sphere_faces
        self.load = self.flux * assemble_vector(faces, np.repeat(mesh.sphere_face_areas[:, None] / 3.0, 3, axis=1), n)
        self.ones_mass = np.asarray(self.mass.sum(axis=0)).ravel()  # 1^T M: integral of phi_i
        self._cache_y: np.ndarray | None = None
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # -- quadrature of D -------------------------------------------------------------------------
    def _element_terms(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Dbar (m,), dDbar/dc_k (m, 4), g_T (m, 3)) at state ``y``, cached for the last state.

        A law that is NaN/inf at some theta makes F non-finite; the stepper then rejects the step
        and, at the minimum step, raises :class:`~solvers.errors.SolverDiverged` with the time.
        """
        if self._cache_y is not None and np.array_equal(y, self._cache_y):
            return self._cache
        ce = y[self.tets]  # (m, 4)
        d, dprime = self._coefficients(ce @ self.rule.lambdas.T)  # (m, nq): D and dD/dc
        dbar = self.vol * (d @ self.rule.weights)
        ddbar = self.vol[:, None] * ((dprime * self.rule.weights[None, :]) @ self.rule.lambdas)
        g = np.einsum("mkd,mk->md", self.grads, ce)
        self._cache_y = y.copy()
        self._cache = (dbar, ddbar, g)
        return self._cache

    def _coefficients(self, c_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """D [m^2/s] and dD/dc at the quadrature concentrations ``c_q`` (m, nq), each domain with its
        own law at theta = c / c_max,d (one vectorised call per domain)."""
        if len(self._groups) == 1:
            theta = c_q / self.c_max
            return np.asarray(self.law(theta), dtype=float), np.asarray(self.law.derivative(theta), dtype=float) / self.c_max
        d, dprime = np.empty_like(c_q), np.empty_like(c_q)
        for law, c_max, idx in self._groups:
            theta = c_q[idx] / c_max
            d[idx] = law(theta)
            dprime[idx] = law.derivative(theta) / c_max
        return d, dprime

    # -- SemiDiscreteProblem ---------------------------------------------------------------------
    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(c) [mol/s] (per test function): surface flux minus diffusion."""
        dbar, _, g = self._element_terms(y)
        local = -np.einsum("mid,md->mi", self.grads, g) * dbar[:, None]
        return self.load + assemble_vector(self.tets, local, self.n)

    def _jacobian_blocks(self, y: np.ndarray) -> np.ndarray:
        dbar, ddbar, g = self._element_terms(y)
        flux_dir = np.einsum("mid,md->mi", self.grads, g)  # grad phi_i . g_T
        return -(dbar[:, None, None] * self.gram + flux_dir[:, :, None] * ddbar[:, None, :])

    def jacobian(self, y: np.ndarray, t: float) -> sp.csr_matrix:
        """dF/dc (exact), sparse (n, n)."""
        return self.pattern.matrix(self._jacobian_blocks(y))

    def newton_blocks(self, a0: float, y: np.ndarray) -> np.ndarray:
        """Element blocks (m, 4, 4) of a0 M - dF/dc."""
        return a0 * self._mass_data - self._jacobian_blocks(y)

    def newton_matrix(self, a0: float, y: np.ndarray, t: float) -> NewtonSystem:
        """a0 M - dF/dc, assembled in one pass on the fixed P1 pattern."""
        return NewtonSystem(matrix=self.pattern.matrix(self.newton_blocks(a0, y)), a0=float(a0))
