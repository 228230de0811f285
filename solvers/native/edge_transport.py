"""Lumped-mass, edge-based P1 transport: the positivity-minded native scheme, M dc/dt = F(c).

On a tetrahedral mesh with P1 hat functions phi_i, the Galerkin stiffness of a constant D is
D K_ij with K_ij = sum_T |T| grad phi_i . grad phi_j, and its rows sum to zero, so

    -(K c)_i = sum_{edges e = (i, j)} w_e (c_j - c_i),    w_e = -K_ij        (exact rewrite).

For D(theta) the scheme uses the edge coefficient D_e = (D(theta_i) + D(theta_j)) / 2 (the law is
evaluated once per node, not per quadrature point) and the lumped mass m_i = integral phi_i dx:

    m_i dc_i/dt = b_i + sum_e w_e D_e (c_j - c_i),    b_i = J integral_S phi_i ds,

a second-order consistent discretisation (it is the Galerkin scheme for constant D). Li is
conserved exactly (each edge flux leaves one node and enters the other). With the lumped mass
a backward Euler step is monotone when every w_e >= 0 (an M-matrix); the mapped octant meshes have
some w_e < 0 (obtuse dihedral angles), with |sum of negative w_e| ~ 8% of the positive ones, so
undershoots are small but not excluded: ``theta_min`` is reported by the solver.

Jacobian (exact), with q_e = w_e D_e (c_j - c_i), D' = dD/dtheta at the nodes (symbolic, from
the law's expression), F_i += q_e, F_j -= q_e:

    dq_e/dc_i = w_e (D'_i (c_j - c_i) / (2 c_max) - D_e),
    dq_e/dc_j = w_e (D'_j (c_j - c_i) / (2 c_max) + D_e).

Per-element materials: ``domains`` (one index per element) selects the law (and c_max) of each
element; the edge weights are split per domain (w_e^d from the elements of domain d) and
F = sum_d sum_e w_e^d D_e^d (c_j - c_i), with D^d evaluated at theta_d = c / c_max_d.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from models.laws import DiffusivityLaw

from .assembly import assemble_vector
from .basis import barycentric_gradients
from .krylov import NewtonSystem
from .mesh import OctantMesh
from .transport import MassInventory

__all__ = ["LumpedTransport", "law_value_and_derivative"]

_LOCAL_EDGES = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]], dtype=np.int64)


def law_value_and_derivative(law, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, dD/dtheta) of a law at ``theta`` in one pass (symbolic derivative of its expression)."""
    expression = getattr(law, "expression", None)
    if expression is not None and hasattr(expression, "value_and_derivative"):
        return expression.value_and_derivative(theta)
    return np.asarray(law(theta), dtype=float), np.asarray(law.derivative(theta), dtype=float)


class LumpedTransport(MassInventory):
    """Lumped-mass edge-based P1 transport on ``mesh`` (a :class:`solvers.stepping.SemiDiscreteProblem`).

    Parameters
    ----------
    mesh: the (possibly refined) octant mesh.
    law: D(theta) [m^2/s], or a sequence of laws indexed by ``domains``.
    c_max: maximum concentration [mol/m^3] (or one per law); ``scale`` is the largest.
    flux: inward surface flux J [mol/m^2/s] on the sphere faces.
    domains: per-element law index (m,), default all 0.
    """

    def __init__(
        self,
        mesh: OctantMesh,
        law: DiffusivityLaw | Sequence[DiffusivityLaw],
        c_max: float | Sequence[float],
        flux: float,
        *,
        domains: np.ndarray | None = None,
    ):
        self.mesh = mesh
        self.laws = list(law) if isinstance(law, (list, tuple)) else [law]
        self.c_maxes = np.broadcast_to(np.asarray(c_max, dtype=float), (len(self.laws),)).copy()
        self.c_max = float(self.c_maxes.max())
        self.scale = self.c_max
        self.flux = float(flux)
        n = mesh.n_points
        self.n = n
        tets = np.asarray(mesh.tets, dtype=np.int64)
        dom = np.zeros(len(tets), dtype=np.int64) if domains is None else np.asarray(domains, dtype=np.int64)
        grads, vol = barycentric_gradients(mesh.points, tets)
        a, b = tets[:, _LOCAL_EDGES[:, 0]], tets[:, _LOCAL_EDGES[:, 1]]
        k_ab = np.einsum("med,med->me", grads[:, _LOCAL_EDGES[:, 0]], grads[:, _LOCAL_EDGES[:, 1]]) * vol[:, None]
        lo, hi = np.minimum(a, b).ravel(), np.maximum(a, b).ravel()
        keys, inverse = np.unique(lo * n + hi, return_inverse=True)
        self.i, self.j = keys // n, keys % n
        ne = keys.size
        #: edge weights (n_domains, n_edges) [m]: w_e^d = -sum over elements of domain d of K_T,ij
        self.weights = np.stack(
            [-np.bincount(inverse, weights=np.where(np.repeat(dom, 6) == d, k_ab.ravel(), 0.0), minlength=ne)
             for d in range(len(self.laws))]
        )
        self._pattern(n, ne)
        self.ones_mass = np.bincount(tets.ravel(), weights=np.repeat(vol / 4.0, 4), minlength=n)
        self.mass = sp.diags(self.ones_mass, format="csr")
        faces = mesh.sphere_faces
        self.load = self.flux * assemble_vector(faces, np.repeat(mesh.sphere_face_areas[:, None] / 3.0, 3, axis=1), n)
        self._cache_y: np.ndarray | None = None
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _pattern(self, n: int, ne: int) -> None:
        """CSR pattern (diagonal + both edge directions) and the data slot of each entry."""
        rows = np.concatenate([np.arange(n), self.i, self.j])
        cols = np.concatenate([np.arange(n), self.j, self.i])
        keys, inverse = np.unique(rows * n + cols, return_inverse=True)
        self.indices = (keys % n).astype(np.int32)
        self.indptr = np.searchsorted(keys // n, np.arange(n + 1)).astype(np.int32)
        self.nnz = int(keys.size)
        self._slot_diag, self._slot_ij, self._slot_ji = inverse[:n], inverse[n : n + ne], inverse[n + ne :]

    # -- edge quantities --------------------------------------------------------------------------
    def _edge_terms(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sum_d w^d D_e^d (ne,), dq/dc_i (ne,), dq/dc_j (ne,)) at ``y``; cached for the last state.

        A law that is NaN/inf at some theta makes F non-finite; the stepper then rejects the step.
        """
        if self._cache_y is not None and np.array_equal(y, self._cache_y):
            return self._cache
        dc = y[self.j] - y[self.i]
        wd = np.zeros(self.i.size)
        dqi = np.zeros(self.i.size)
        dqj = np.zeros(self.i.size)
        for w, law, c_max in zip(self.weights, self.laws, self.c_maxes):  # one pass per material
            d, dp = law_value_and_derivative(law, y / c_max)
            de = 0.5 * (d[self.i] + d[self.j])
            wd += w * de
            half = 0.5 / c_max
            dqi += w * (dp[self.i] * half * dc - de)
            dqj += w * (dp[self.j] * half * dc + de)
        self._cache_y = y.copy()
        self._cache = (wd, dqi, dqj)
        return self._cache

    # -- SemiDiscreteProblem ----------------------------------------------------------------------
    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(c) [mol/s]: surface flux plus the edge fluxes."""
        wd, _, _ = self._edge_terms(y)
        q = wd * (y[self.j] - y[self.i])
        return self.load + np.bincount(self.i, q, self.n) - np.bincount(self.j, q, self.n)

    def _jacobian_data(self, y: np.ndarray) -> np.ndarray:
        _, dqi, dqj = self._edge_terms(y)
        diag = np.bincount(self.i, dqi, self.n) - np.bincount(self.j, dqj, self.n)
        data = np.empty(self.nnz)
        data[self._slot_diag] = diag
        data[self._slot_ij] = dqj
        data[self._slot_ji] = -dqi
        return data

    def jacobian(self, y: np.ndarray, t: float) -> sp.csr_matrix:
        """dF/dc (exact), sparse (n, n)."""
        return sp.csr_matrix((self._jacobian_data(y), self.indices, self.indptr), shape=(self.n, self.n))

    def newton_matrix(self, a0: float, y: np.ndarray, t: float) -> NewtonSystem:
        """a0 M - dF/dc on the fixed edge pattern."""
        data = -self._jacobian_data(y)
        data[self._slot_diag] += a0 * self.ones_mass
        return NewtonSystem(matrix=sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n)), a0=float(a0))
