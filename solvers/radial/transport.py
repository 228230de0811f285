"""Fickian transport in a sphere, discretised in r: the semi-discrete system M dc/dt = F(c).

Weak form (spherical symmetry, the measure r^2 dr; the octant's factor pi/2 cancels everywhere)
--------------------------------------------------------------------------------------------
Find c(r, t) with, for every test function v,

    int_0^R dc/dt v r^2 dr = - int_0^R D(theta) dc/dr dv/dr r^2 dr + J R^2 v(R),   theta = c / c_max,

(inward flux J at r = R; r^2 makes the centre condition dc/dr = 0 natural). With P1 elements on
nodes 0 = r_0 < ... < r_N = R and element e = [r_a, r_b] of length h, dc/dr = (c_b - c_a)/h is
constant, so the stiffness term is a two-point flux with the *conductance*

    G_e = (1 / h^2) int_e D(theta_h(r)) r^2 dr        (3-point Gauss-Legendre),

F_a += G_e (c_b - c_a), F_b -= G_e (c_b - c_a), plus J R^2 at the surface node. The scheme is
conservative: the rows of the flux part sum to zero, so d/dt (1^T M c) = J R^2 exactly, and the
stepper (BDF is exact for linear functions of t) keeps the Li balance to roundoff/Newton tolerance.

Jacobian (exact): dF_a/dc_k = G_e (d_kb - d_ka) + (c_b - c_a) dG_e/dc_k with
dG_e/dc_k = (1 / h^2) int_e D'(theta_h) / c_max phi_k r^2 dr (D' = dD/dtheta from the law).

Mass: M_ij = int phi_i phi_j r^2 dr (exact), ``lumped`` (default) uses its row sums
m_i = int phi_i r^2 dr (same total mass, diagonal, monotone; the scheme is then the
finite-volume scheme on the dual cells). Both are second order in the mesh size.
The matrices are tridiagonal; :func:`tridiagonal_solve` solves them with LAPACK ``gtsv``.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.linalg.lapack import dgtsv

from models.laws import DiffusivityLaw

from ..errors import SolverError

__all__ = ["RadialTransport", "tridiagonal_solve"]

logger = logging.getLogger(__name__)

# 3-point Gauss-Legendre on [0, 1]: exact to degree 5 (the r^2-weighted P1 mass is degree 4)
_XI = 0.5 + 0.5 * np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)])
_WQ = np.array([5.0, 8.0, 5.0]) / 18.0


def tridiagonal_solve(matrix: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
    """Solve a tridiagonal sparse system with LAPACK ``dgtsv`` (partial pivoting)."""
    lower, diag, upper = matrix.diagonal(-1), matrix.diagonal(0), matrix.diagonal(1)
    _, _, _, x, info = dgtsv(lower, diag, upper, rhs)
    if info != 0:
        raise SolverError(f"tridiagonal solve failed (LAPACK dgtsv info = {info}): the Newton matrix is singular")
    return x


class RadialTransport:
    """The radial P1 transport system, a :class:`solvers.stepping.SemiDiscreteProblem`.

    Parameters
    ----------
    nodes: radii [m], 0 = r_0 < ... < r_N = R.
    diffusivity: D(theta) law [m^2/s] (``__call__`` and exact ``derivative``).
    c_max: concentration scale [mol/m^3] (theta = c / c_max; also the error-norm ``scale``).
    flux: inward surface flux J [mol/m^2/s] (constant in time).
    lumped: diagonal (lumped) mass matrix if True, consistent otherwise.

    Units: c in mol/m^3; rows of M and F carry the weight r^2 dr, i.e. mol/m and mol/m/s per
    steradian.
    """

    def __init__(
        self, nodes: np.ndarray, diffusivity: DiffusivityLaw, c_max: float, flux: float, *, lumped: bool = True
    ):
        r = np.asarray(nodes, dtype=float)
        if r.ndim != 1 or r.size < 3 or r[0] != 0.0 or np.any(np.diff(r) <= 0):
            raise SolverError("radial nodes must be a 1D increasing array from r = 0 with at least 3 nodes")
        self.nodes = r
        self.law = diffusivity
        self.c_max = float(c_max)
        self.scale = float(c_max)
        self.flux = float(flux)
        self.radius = float(r[-1])
        n = r.size
        self.size = n
        h = np.diff(r)
        self._h = h
        self._h2 = h**2
        self._cache: tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        # quadrature points (m, 3), their r^2 weights, and shape functions phi_a, phi_b there
        rq = r[:-1, None] + h[:, None] * _XI[None, :]
        self._wr2 = (h[:, None] * _WQ[None, :]) * rq**2  # int_e f r^2 dr ~ sum f * _wr2
        self._phi_a = np.broadcast_to(1.0 - _XI, rq.shape)
        self._phi_b = np.broadcast_to(_XI, rq.shape)
        # element mass blocks (exact): [[maa, mab], [mab, mbb]]
        maa = np.sum(self._wr2 * self._phi_a**2, axis=1)
        mab = np.sum(self._wr2 * self._phi_a * self._phi_b, axis=1)
        mbb = np.sum(self._wr2 * self._phi_b**2, axis=1)
        #: volume weights w_i = int phi_i r^2 dr [m^3/sr]: int f dV / (pi/2) = w . f for P1 f
        self.weights = np.zeros(n)
        np.add.at(self.weights, np.arange(n - 1), maa + mab)
        np.add.at(self.weights, np.arange(1, n), mab + mbb)
        if lumped:
            self._mass_diag, self._mass_lower = self.weights.copy(), np.zeros(n - 1)
        else:
            self._mass_diag = np.zeros(n)
            self._mass_diag[:-1] += maa
            self._mass_diag[1:] += mbb
            self._mass_lower = mab
        self.mass = sp.diags([self._mass_lower, self._mass_diag, self._mass_lower], [-1, 0, 1], format="csc")
        self._surface = np.zeros(n)
        self._surface[-1] = self.flux * self.radius**2

    @property
    def volume(self) -> float:
        """int r^2 dr over [0, R] = R^3 / 3 [m^3/sr]."""
        return self.radius**3 / 3.0

    def _element_state(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """theta at the quadrature points (m, 3), the conductances G_e (m,) and c_b - c_a (m,).

        The last evaluation is cached: Newton asks for F and dF/dc at the same state.
        """
        if self._cache is not None and np.array_equal(self._cache[0], c):
            return self._cache[1]
        theta = (c[:-1, None] * self._phi_a + c[1:, None] * self._phi_b) / self.c_max
        g = np.sum(self.law(theta) * self._wr2, axis=1) / self._h2
        state = (theta, g, c[1:] - c[:-1])
        self._cache = (c.copy(), state)
        return state

    def rhs(self, y: np.ndarray, t: float) -> np.ndarray:
        """F(c) [mol/(m s sr)]: diffusion fluxes between nodes plus J R^2 at the surface."""
        _, g, dc = self._element_state(y)
        q = g * dc
        f = self._surface.copy()
        f[:-1] += q
        f[1:] -= q
        return f

    def _jacobian_diagonals(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lower, diag, upper) of dF/dc: lower[i] = dF_{i+1}/dc_i, upper[i] = dF_i/dc_{i+1}."""
        theta, g, dc = self._element_state(y)
        dd = self.law.derivative(theta) * self._wr2 / (self.c_max * self._h2[:, None])
        dg_a = np.sum(dd * self._phi_a, axis=1)
        dg_b = np.sum(dd * self._phi_b, axis=1)
        # F_a += g dc, F_b -= g dc with dc = c_b - c_a
        d_aa = -g + dc * dg_a  # dF_a/dc_a
        d_ab = g + dc * dg_b  # dF_a/dc_b
        diag = np.zeros(self.size)
        diag[:-1] += d_aa
        diag[1:] -= d_ab
        return -d_aa, diag, d_ab

    def _dia(self, lower: np.ndarray, diag: np.ndarray, upper: np.ndarray) -> sp.dia_matrix:
        n = self.size
        data = np.zeros((3, n))
        data[0, 1:] = upper  # offset +1: data[0, j] sits at (j - 1, j)
        data[1] = diag
        data[2, :-1] = lower  # offset -1: data[2, j] sits at (j + 1, j)
        return sp.dia_matrix((data, [1, 0, -1]), shape=(n, n))

    def jacobian(self, y: np.ndarray, t: float) -> sp.dia_matrix:
        """dF/dc, exact (tridiagonal)."""
        return self._dia(*self._jacobian_diagonals(y))

    def newton_matrix(self, a0: float, y: np.ndarray, t: float) -> sp.dia_matrix:
        """a0 M - dF/dc (tridiagonal), built directly (the optional hook of :func:`solvers.stepping.integrate`)."""
        lower, diag, upper = self._jacobian_diagonals(y)
        return self._dia(a0 * self._mass_lower - lower, a0 * self._mass_diag - diag, a0 * self._mass_lower - upper)

    def amount(self, c: np.ndarray) -> float:
        """int (c) r^2 dr [mol/sr] of the P1 field (exact)."""
        return float(self.weights @ c)
