"""Spherically symmetric quasi-static mechanics by P2 finite elements in r: the radial solver's own
elastoplastic (and Li-dependent-stiffness) mechanics, an independent check of the 3D one.

Kinematics and equilibrium (small strain, spherical symmetry, u = u(r) e_r)
--------------------------------------------------------------------------
    eps_r = du/dr,  eps_t = u / r,   d sigma_r/dr + 2 (sigma_r - sigma_t)/r = 0,
    sigma_r(b) = 0 (free surface), u(0) = 0 for a solid sphere, sigma_r(a) = -p for a hollow one.

Weak form, for every admissible v:  int_a^b (sigma_r dv/dr + 2 sigma_t v / r) r^2 dr = p a^2 v(a).

The stress at each Gauss point comes from :func:`models.constitutive.return_mapping` on the diagonal
tensor (eps_r, eps_t, eps_t, 0, 0, 0) - the same function the 3D solver calls - so that
|sigma_t - sigma_r| <= sigma_Y(theta) is the J2 condition in spherical symmetry. With E, nu and
sigma_Y laws of theta evaluated at the Gauss points. The residual is solved by Newton with the
consistent tangent (Mandel normal block D):

    d sigma_r = D_rr d eps_r + (D_r2 + D_r3) d eps_t,  d sigma_t = D_tr d eps_r + (D_t2 + D_t3) d eps_t.

Elements: quadratic u on the transport's radial nodes (unknowns ordered vertex, midpoint, vertex,
... so the matrix is banded), 3-point Gauss-Legendre (r > 0 at every Gauss point).
Nodal outputs are convex weighted averages of the Gauss-point values (weights w_q phi_i(r_q) r_q^2),
so a recovered von Mises stress never exceeds the largest yield stress around the node.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_banded

from models.constitutive import return_mapping, von_mises
from models.laws import law_value

from ..driver import MechanicsState
from ..errors import SolverDiverged

__all__ = ["RadialMechanics"]

log = logging.getLogger(__name__)

_XI = 0.5 + 0.5 * np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)])
_WQ = np.array([5.0, 8.0, 5.0]) / 18.0
# P2 shape functions on [0, 1] (vertex a, midpoint, vertex b) and their xi-derivatives at the points
_N = np.stack([(1 - _XI) * (1 - 2 * _XI), 4 * _XI * (1 - _XI), _XI * (2 * _XI - 1)], axis=1)  # (3 q, 3 a)
_DN = np.stack([4 * _XI - 3, 4 - 8 * _XI, 4 * _XI - 1], axis=1)


class RadialMechanics:
    """Quasi-static spherically symmetric mechanics on radial nodes a = r_0 < ... < r_N = b [m].

    Parameters
    ----------
    nodes: radii [m]; r_0 = 0 (solid sphere, u(0) = 0) or r_0 = a > 0 (hollow, inner pressure).
    youngs_modulus, poisson_ratio: numbers or laws of theta (E [Pa], nu [-]).
    partial_molar_volume: Omega [m^3/mol]; eigenstrain (Omega/3)(c - c_ref) I.
    c_max, c_ref: [mol/m^3] (theta = c / c_max at the Gauss points, P1 from the nodes).
    yield_stress: sigma_Y [Pa], number or law of theta; ``None`` = linear elastic.
    hardening_modulus: H [Pa] (linear isotropic hardening).
    """

    def __init__(
        self,
        nodes: np.ndarray,
        *,
        youngs_modulus,
        poisson_ratio,
        partial_molar_volume: float,
        c_max: float,
        c_ref: float = 0.0,
        yield_stress=None,
        hardening_modulus: float = 0.0,
        rtol: float = 1e-10,
        max_iterations: int = 40,
    ):
        r = np.asarray(nodes, dtype=float)
        if r.ndim != 1 or r.size < 2 or np.any(np.diff(r) <= 0) or r[0] < 0:
            raise ValueError("radial mechanics needs increasing radii r_0 >= 0")
        self.nodes = r
        self.n_el = r.size - 1
        self.n_dofs = 2 * self.n_el + 1
        self.solid = r[0] == 0.0
        h = np.diff(r)
        self.rq = r[:-1, None] + h[:, None] * _XI[None, :]  # (m, 3)
        self.wq = h[:, None] * _WQ[None, :] * self.rq**2  # int f r^2 dr ~ sum f wq
        self.dN = _DN[None, :, :] / h[:, None, None]  # (m, q, a)
        self.N_r = _N[None, :, :] / self.rq[:, :, None]  # N_a / r
        self.dofs = 2 * np.arange(self.n_el)[:, None] + np.arange(3)[None, :]  # (m, 3)
        self.laws = (youngs_modulus, poisson_ratio, yield_stress)
        self.omega, self.c_max, self.c_ref = float(partial_molar_volume), float(c_max), float(c_ref)
        self.hardening = float(hardening_modulus)
        self.rtol, self.max_iterations = rtol, max_iterations
        m = self.n_el
        self.committed = MechanicsState(
            u=np.zeros(self.n_dofs), strain=np.zeros((m, 3, 6)), stress=np.zeros((m, 3, 6)),
            plastic_strain=np.zeros((m, 3, 6)), alpha=np.zeros((m, 3)), iterations=0,
        )
        # nodal recovery: convex weights w_q phi_i(r_q) r^2 (P1 hat functions of the vertices)
        w_a, w_b = self.wq * (1 - _XI), self.wq * _XI
        self._rec_rows = np.concatenate([np.repeat(np.arange(m), 3), np.repeat(np.arange(1, m + 1), 3)])
        self._rec_w = np.concatenate([w_a.ravel(), w_b.ravel()])
        self._rec_cols = np.concatenate([np.arange(3 * m), np.arange(3 * m)])
        rec = sp.csr_matrix((self._rec_w, (self._rec_rows, self._rec_cols)), shape=(m + 1, 3 * m))
        self._recovery = sp.diags(1.0 / np.asarray(rec.sum(axis=1)).ravel()) @ rec
        self.newton_iterations = 0
        self.solves = 0

    # -- pointwise ------------------------------------------------------------------------------
    def theta_at_points(self, c: np.ndarray) -> np.ndarray:
        """theta (m, 3) at the Gauss points of the P1 nodal concentration ``c`` [mol/m^3]."""
        c = np.asarray(c, dtype=float)
        return (c[:-1, None] * (1 - _XI) + c[1:, None] * _XI) / self.c_max

    def _strain(self, u: np.ndarray) -> np.ndarray:
        ue = u[self.dofs]  # (m, 3)
        eps = np.zeros(self.rq.shape + (6,))
        eps[..., 0] = np.einsum("mqa,ma->mq", self.dN, ue)
        eps[..., 1] = eps[..., 2] = np.einsum("mqa,ma->mq", self.N_r, ue) * 1.0
        return eps

    def _internal(self, stress: np.ndarray) -> np.ndarray:
        local = np.einsum("mq,mqa->ma", self.wq * stress[..., 0], self.dN) + 2.0 * np.einsum(
            "mq,mqa->ma", self.wq * stress[..., 1], self.N_r
        )
        f = np.zeros(self.n_dofs)
        np.add.at(f, self.dofs, local)
        return f

    def _tangent(self, d: np.ndarray) -> np.ndarray:
        """The tangent matrix in LAPACK band form (5, n_dofs) (u(0) = 0 imposed by an identity row)."""
        drr, drt = d[..., 0, 0], d[..., 0, 1] + d[..., 0, 2]
        dtr, dtt = d[..., 1, 0], d[..., 1, 1] + d[..., 1, 2]
        w, dn, nr = self.wq, self.dN, self.N_r
        ke = (
            np.einsum("mq,mqa,mqb->mab", w * drr, dn, dn)
            + np.einsum("mq,mqa,mqb->mab", w * drt, dn, nr)
            + 2.0 * np.einsum("mq,mqa,mqb->mab", w * dtr, nr, dn)
            + 2.0 * np.einsum("mq,mqa,mqb->mab", w * dtt, nr, nr)
        )
        rows = np.repeat(self.dofs, 3, axis=1).ravel()
        cols = np.tile(self.dofs, (1, 3)).ravel()
        band = np.zeros((5, self.n_dofs))
        np.add.at(band, (2 + rows - cols, cols), ke.ravel())
        if self.solid:
            band[:, 0] = 0.0
            band[2, 0] = 1.0
            band[1, 1] = band[0, 2] = 0.0  # row 0, columns 1 and 2
        return band

    # -- solve ----------------------------------------------------------------------------------
    def solve(self, c: np.ndarray, pressure: float = 0.0) -> MechanicsState:
        """Equilibrium for the nodal concentration ``c`` [mol/m^3] and inner pressure [Pa], from the
        committed history (not committed: call :meth:`commit` once the time step is accepted)."""
        theta = self.theta_at_points(c)
        e_law, nu_law, sy_law = self.laws
        kw = dict(
            youngs_modulus=law_value(e_law, theta),
            poisson_ratio=law_value(nu_law, theta),
            yield_stress=np.inf if sy_law is None else law_value(sy_law, theta),
            hardening_modulus=self.hardening,
        )
        ev = self.omega * (theta * self.c_max - self.c_ref)
        f_ext = np.zeros(self.n_dofs)
        if not self.solid:
            f_ext[0] = pressure * self.nodes[0] ** 2
        hist = self.committed
        u = hist.u.copy()
        for it in range(1, self.max_iterations + 1):
            eps = self._strain(u)
            res = return_mapping(eps, ev, hist.plastic_strain, hist.alpha, **kw)
            r = self._internal(res.stress) - f_ext
            if self.solid:
                r[0] = 0.0
            scale = self._force_scale(res.stress, ev, kw["youngs_modulus"], f_ext)
            if it > 1 and np.max(np.abs(r)) <= self.rtol * scale:
                break
            u -= solve_banded((2, 2), self._tangent(res.tangent), r, overwrite_ab=True, check_finite=False)
            self.solves += 1
        else:
            raise SolverDiverged(
                f"radial mechanics: Newton did not converge in {self.max_iterations} iterations"
                f" (residual {np.max(np.abs(r)):.3g} of scale {scale:.3g})"
            )
        self.newton_iterations += it - 1
        return MechanicsState(u, eps, res.stress, res.plastic_strain, res.alpha, it - 1)

    def _force_scale(self, stress, ev, e, f_ext) -> float:
        """A force magnitude to measure the residual against: |sigma| and E e_v integrated."""
        mag = np.abs(stress[..., :3]).max(axis=-1) + np.abs(e * ev)
        return float(np.sum(mag * self.wq) / self.nodes[-1] + np.abs(f_ext).max() + 1e-300)

    def commit(self, state: MechanicsState) -> None:
        """Make ``state`` the history of the next step."""
        self.committed = state

    def advance(self, c: np.ndarray, pressure: float = 0.0) -> MechanicsState:
        """Solve and commit (one accepted step)."""
        state = self.solve(c, pressure)
        self.commit(state)
        return state

    # -- outputs --------------------------------------------------------------------------------
    def recover(self, values: np.ndarray) -> np.ndarray:
        """Nodal values (N+1, ...) of Gauss-point values (m, 3, ...) (convex weights)."""
        flat = values.reshape(self.n_el * 3, -1)
        return (self._recovery @ flat).reshape((self.n_el + 1,) + values.shape[2:])

    def nodal_fields(self, state: MechanicsState) -> dict[str, np.ndarray]:
        """sigma_r, sigma_t, von_mises, hydrostatic [Pa], u [m], volumetric_strain, plastic_strain [-]
        at the nodes (u exact at the vertices, the others recovered from the Gauss points)."""
        stress = self.recover(state.stress)
        strain = self.recover(state.strain)
        return {
            "sigma_r": stress[:, 0],
            "sigma_t": stress[:, 1],
            "von_mises": von_mises(stress),
            "hydrostatic": stress[:, :3].sum(axis=1) / 3.0,
            "u": state.u[0::2].copy(),
            "volumetric_strain": strain[:, :3].sum(axis=1),
            "plastic_strain": self.recover(state.alpha),
        }
