"""Quasi-static linear elasticity with a swelling eigenstrain, P1 or P2 displacement.

Strong form on the octant Omega_h, for a concentration field c (P1, given at the vertices):

    div sigma = 0,   sigma = C : (eps(u) - eps*),   eps(u) = (grad u + grad u^T) / 2,
    eps* = (Omega_v / 3) (c - c_ref) I        (isotropic swelling; Omega_v = partial molar volume),
    C : e = lambda tr(e) I + 2 mu e,
    u . n = 0 and zero shear traction on the planes x_i = 0 (rollers), sigma n = 0 on the sphere.

Weak form: find u in V = {v in [P_k]^3 : v_i = 0 on x_i = 0} with, for all v in V,

    a(u, v) = integral C eps(u) : eps(v) dx = integral sigma* : eps(v) dx = l_c(v),
    sigma* = C eps* = K_b e_v I,   K_b = E / (3 (1 - 2 nu)) (bulk modulus),  e_v = Omega_v (c - c_ref),

so l_c(v) = K_b integral e_v div v dx. In components, with P2 basis functions phi_a and
d/dx_i = partial_i, the element stiffness block is

    K_e[(a, i), (b, j)] = integral lambda d_i phi_a d_j phi_b + mu d_j phi_a d_i phi_b
                          + mu delta_ij grad phi_a . grad phi_b,

exact with the degree-2 rule on straight tetrahedra (gradients of P2 functions are linear). The
load is linear in the vertex values of e_v: f = K_b L e_v with L[(a, i), k] = integral lambda_k
d_i phi_a, assembled once. Hence each quasi-static solve is u = K^{-1} (K_b L e_v) with K
factorised once (see :mod:`.linalg`).

Rollers are imposed by removing the constrained unknowns (node on x_i = 0 -> u_i fixed at 0); the
remaining matrix is symmetric positive definite (the rollers remove the rigid motions).

Several materials (inclusions): E, nu and the eigenstrain factor may be per-element arrays. The load
is then f = L_w x with L_w[(a, i), k] = sum_T K_T s_T integral_T lambda_k d_i phi_a (s_T the element's
factor on the eigen field x, e.g. x = c - c_ref and s_T = Omega_T, so e_v = Omega_T (c - c_ref) jumps at
interfaces while c stays continuous). Vertex stresses are volume-weighted averages over the elements
around a vertex of each element's own C_T (eps_T - e_v,T / 3 I): sigma = S_C u - k_v x I with S_C the
C-weighted strain-recovery operator and k_v the vertex average of K_T s_T.

Unknown numbering: ``3 * node + i`` (interleaved), nodes = vertices then P2 edge midpoints.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from .assembly import assemble_matrix
from .basis import barycentric_gradients, basis_gradients, gradient_coefficients, n_local
from .linalg import SpdSolver, factorize
from .mesh import OctantMesh
from .quadrature import tetrahedron_rule
from .topology import p2_connectivity

__all__ = ["ElasticityProblem", "lame_parameters"]

log = logging.getLogger(__name__)

_CHUNK = 8192  # elements per vectorised assembly block (bounds temporary memory)
#: Voigt order of the symmetric tensor components: xx, yy, zz, yz, xz, xy.
VOIGT: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def lame_parameters(youngs_modulus, poisson_ratio):
    """(lambda, mu, K_b) [Pa] from E [Pa] and nu [-] (floats, or per-element arrays)."""
    e, nu = np.asarray(youngs_modulus, dtype=float), np.asarray(poisson_ratio, dtype=float)
    if np.any(~((-1.0 < nu) & (nu < 0.5))) or np.any(~(e > 0)):
        raise ValueError(f"need E > 0 and -1 < nu < 0.5, got E = {e} Pa, nu = {nu}")
    lam = e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
    mu = e / (2.0 * (1.0 + nu))
    bulk = e / (3.0 * (1.0 - 2.0 * nu))
    if e.ndim == 0 and nu.ndim == 0:
        return float(lam), float(mu), float(bulk)
    return lam, mu, bulk


def _chunk(value, sl: slice):
    """A per-element coefficient restricted to the chunk ``sl``, broadcastable over (m, 3, 3, a, b)."""
    return value if np.ndim(value) == 0 else np.asarray(value)[sl][:, None, None, None, None]


class ElasticityProblem:
    """Assembled elasticity on an octant mesh, factorised once; solves for any vertex field e_v.

    Parameters
    ----------
    mesh: the octant mesh.
    youngs_modulus: E [Pa].  poisson_ratio: nu [-]. Floats, or per-element arrays (m,).
    order: displacement order (1 or 2).
    linear_solver: ``auto`` | ``cholmod`` | ``superlu`` | ``amg``.
    eigen_scale: None, or a per-element factor (m,) on the eigen field (e_v,T = eigen_scale_T x);
        with per-element materials the eigen field passed to the solves is x (e.g. c - c_ref).
    """

    def __init__(
        self,
        mesh: OctantMesh,
        youngs_modulus,
        poisson_ratio,
        *,
        order: int = 2,
        linear_solver: str = "auto",
        eigen_scale: np.ndarray | None = None,
    ):
        self.mesh = mesh
        self.order = order
        self.lam, self.mu, self.bulk = lame_parameters(youngs_modulus, poisson_ratio)
        self.per_element = np.ndim(self.lam) > 0 or eigen_scale is not None
        if self.per_element:
            ones = np.ones(mesh.n_tets)
            self.lam, self.mu, self.bulk = (np.broadcast_to(v, ones.shape) * ones for v in (self.lam, self.mu, self.bulk))
            scale = ones if eigen_scale is None else np.asarray(eigen_scale, dtype=float)
            self.load_weight = self.bulk * scale  # K_T s_T per element
        nl = n_local(order)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        if order == 2:
            self.conn, edges = p2_connectivity(mesh.tets, mesh.n_points)
            mid = 0.5 * (mesh.points[edges[:, 0]] + mesh.points[edges[:, 1]])
            self.nodes = np.vstack([mesh.points, mid])
        else:
            self.conn = np.asarray(mesh.tets, dtype=np.int64)
            self.nodes = mesh.points
        self.n_nodes = int(self.nodes.shape[0])
        self.n_dofs = 3 * self.n_nodes
        self.grad_lambda, self.vol = barycentric_gradients(mesh.points, mesh.tets)
        dofs = (3 * self.conn[:, :, None] + np.arange(3)[None, None, :]).reshape(-1, 3 * nl)
        self.stiffness = self._assemble_stiffness(dofs)
        self.load_operator = self._assemble_load(dofs)
        self.strain_operator = self._assemble_vertex_strain()
        if self.per_element:
            self.stress_operator = self._assemble_vertex_strain(stress=True)
            weights = np.bincount(mesh.tets.ravel(), weights=np.repeat(self.vol, 4), minlength=mesh.n_points)
            kw = np.bincount(mesh.tets.ravel(), weights=np.repeat(self.vol * self.load_weight, 4), minlength=mesh.n_points)
            self.vertex_load_weight = kw / weights  # vertex average of K_T s_T
        timings["assembly"] = time.perf_counter() - t0

        tol = 1e-6 * mesh.radius
        fixed = np.abs(self.nodes) <= tol  # (n_nodes, 3): node on x_i = 0 -> u_i = 0
        self.free = np.flatnonzero(~fixed.ravel())
        k_ff = self.stiffness[self.free][:, self.free]
        t1 = time.perf_counter()
        self.solver: SpdSolver = factorize(k_ff, linear_solver, near_nullspace=self._rigid_modes()[self.free])
        timings["factorisation"] = time.perf_counter() - t1
        self.timings = timings
        log.info(
            "elasticity P%d: %d unknowns (%d free), %s factorisation in %.2f s",
            order,
            self.n_dofs,
            self.free.size,
            self.solver.method,
            timings["factorisation"],
        )

    # -- assembly ---------------------------------------------------------------------------------
    def _assemble_stiffness(self, dofs: np.ndarray) -> sp.csr_matrix:
        """K from reference tensors: with grad phi_a = sum_k C_q[a, k] grad lambda_k at point q,

            integral d_i phi_a d_j phi_b = |T| sum_{k,l} M[k, l, a, b] d_i lambda_k d_j lambda_l,
            M[k, l, a, b] = sum_q w_q C_q[a, k] C_q[b, l]   (element independent),

        so the per-element work is one (9 m x 16) @ (16 x n_local^2) matrix product.
        """
        rule = tetrahedron_rule(2 * (self.order - 1))
        nl = n_local(self.order)
        ref = np.zeros((4, 4, nl, nl))
        for lam_q, w_q in zip(rule.lambdas, rule.weights):  # quadrature points
            coef = gradient_coefficients(self.order, lam_q)
            ref += w_q * np.einsum("ak,bl->klab", coef, coef)
        ref = ref.reshape(16, nl * nl)
        total = sp.csr_matrix((self.n_dofs, self.n_dofs))
        for lo in range(0, self.mesh.n_tets, _CHUNK):
            sl = slice(lo, lo + _CHUNK)
            gl, vol = self.grad_lambda[sl], self.vol[sl]
            m = gl.shape[0]
            # g2[m, i, j, k, l] = d_i lambda_k d_j lambda_l
            g2 = np.einsum("mki,mlj->mijkl", gl, gl).reshape(m * 9, 16)
            s = (g2 @ ref).reshape(m, 3, 3, nl, nl) * vol[:, None, None, None, None]  # s[m,i,j,a,b]
            lam, mu = _chunk(self.lam, sl), _chunk(self.mu, sl)
            ke = lam * s + mu * s.transpose(0, 2, 1, 3, 4)
            mu_t = mu if np.ndim(mu) == 0 else mu[:, :, 0]
            ke[:, [0, 1, 2], [0, 1, 2]] += mu_t * np.trace(s, axis1=1, axis2=2)[:, None]
            ke = ke.transpose(0, 3, 1, 4, 2)  # (m, a, i, b, j)
            d = dofs[sl]
            total = total + assemble_matrix(d, d, ke.reshape(m, 3 * nl, 3 * nl), (self.n_dofs, self.n_dofs))
        return total.tocsr()

    def _assemble_load(self, dofs: np.ndarray) -> sp.csr_matrix:
        """L (n_dofs, n_vertices) with L[(a, i), k] = integral lambda_k d_i phi_a (times K_T s_T per
        element with per-element materials)."""
        rule = tetrahedron_rule(self.order)
        nl = n_local(self.order)
        le = np.zeros((self.mesh.n_tets, nl, 3, 4))
        weight = self.vol * self.load_weight if self.per_element else self.vol
        for lam_q, w_q in zip(rule.lambdas, rule.weights):
            g = basis_gradients(self.order, lam_q, self.grad_lambda)
            le += (w_q * weight)[:, None, None, None] * g[:, :, :, None] * lam_q[None, None, None, :]
        return assemble_matrix(dofs, self.mesh.tets, le.reshape(-1, 3 * nl, 4), (self.n_dofs, self.mesh.n_points))

    def _assemble_vertex_strain(self, stress: bool = False) -> sp.csr_matrix:
        """S (6 n_vertices, n_dofs): volume-weighted average over the elements around each vertex
        of the strain at that corner (Voigt xx, yy, zz, yz, xz, xy; tensor, not engineering, shear).
        ``stress=True``: of C_T eps_T instead (2 mu_T eps + lambda_T tr(eps) I, per-element materials)."""
        mesh = self.mesh
        nl = n_local(self.order)
        weight_sum = np.bincount(mesh.tets.ravel(), weights=np.repeat(self.vol, 4), minlength=mesh.n_points)
        rows, cols, vals = [], [], []
        for k in range(4):  # element corners
            g = basis_gradients(self.order, np.eye(4)[k], self.grad_lambda)  # (m, nl, 3)
            vertex = mesh.tets[:, k]
            w = self.vol / weight_sum[vertex]  # (m,)
            shear = 2.0 * self.mu * w if stress else w
            for comp, (i, j) in enumerate(VOIGT):
                row = np.broadcast_to((6 * vertex + comp)[:, None], (mesh.n_tets, nl))
                rows += [row, row]
                cols += [3 * self.conn + i, 3 * self.conn + j]
                vals += [0.5 * shear[:, None] * g[:, :, j], 0.5 * shear[:, None] * g[:, :, i]]
                if stress and i == j:  # lambda_T tr(eps) on the normal components
                    for a in range(3):
                        rows.append(row)
                        cols.append(3 * self.conn + a)
                        vals.append((self.lam * w)[:, None] * g[:, :, a])
        data = np.concatenate([v.ravel() for v in vals])
        r = np.concatenate([x.ravel() for x in rows])
        c = np.concatenate([x.ravel() for x in cols])
        return sp.coo_matrix((data, (r, c)), shape=(6 * mesh.n_points, self.n_dofs)).tocsr()

    def _rigid_modes(self) -> np.ndarray:
        """The 6 rigid-body modes (n_dofs, 6): translations and infinitesimal rotations."""
        x = self.nodes - self.nodes.mean(axis=0)
        modes = np.zeros((self.n_nodes, 3, 6))
        for i in range(3):
            modes[:, i, i] = 1.0
        modes[:, 0, 3], modes[:, 1, 3] = -x[:, 1], x[:, 0]
        modes[:, 1, 4], modes[:, 2, 4] = -x[:, 2], x[:, 1]
        modes[:, 0, 5], modes[:, 2, 5] = x[:, 2], -x[:, 0]
        return modes.reshape(self.n_dofs, 6)

    # -- solves -----------------------------------------------------------------------------------
    def displacements(self, eigen_volumetric: np.ndarray) -> np.ndarray:
        """Unknown vectors (n_dofs, k) for k vertex fields e_v (n_vertices, k), in one multi-RHS solve
        (per-element materials: the fields x with e_v,T = eigen_scale_T x)."""
        rhs = self.load_operator @ eigen_volumetric
        if not self.per_element:
            rhs = self.bulk * rhs
        u = np.zeros((self.n_dofs, eigen_volumetric.shape[1]))
        u[self.free] = self.solver(rhs[self.free]).reshape(self.free.size, -1)
        return u

    def displacement(self, eigen_volumetric: np.ndarray) -> np.ndarray:
        """Displacement (n_nodes, 3) [m] for the vertex field e_v = Omega (c - c_ref) (n_vertices,)."""
        return self.displacements(np.asarray(eigen_volumetric, dtype=float)[:, None])[:, 0].reshape(-1, 3)

    def vertex_strain(self, displacement: np.ndarray) -> np.ndarray:
        """Total strain (n_vertices, 6) (Voigt, tensor shear) recovered at the vertices from the
        displacement (n_nodes, 3); for unknown vectors (n_dofs, k) it returns (n_vertices, 6, k)."""
        if displacement.ndim == 2 and displacement.shape[1] == 3 and displacement.shape[0] == self.n_nodes:
            return (self.strain_operator @ displacement.ravel()).reshape(-1, 6)
        return (self.strain_operator @ displacement).reshape(-1, 6, displacement.shape[1])

    def vertex_stress(self, strain: np.ndarray, eigen_volumetric: np.ndarray) -> np.ndarray:
        """Stress [Pa] = C (strain - e_v/3 I) at the vertices (Voigt xx, yy, zz, yz, xz, xy).

        ``strain`` (n, 6) with ``eigen_volumetric`` (n,), or (n, 6, k) with (n, k).
        """
        if self.per_element:
            raise ValueError("per-element materials: use vertex_stress_of(u, x) (stresses jump at interfaces)")
        trace = strain[:, :3].sum(axis=1)
        stress = 2.0 * self.mu * strain
        stress[:, :3] += (self.lam * trace - self.bulk * eigen_volumetric)[:, None]
        return stress

    def vertex_stress_of(self, u: np.ndarray, eigen_field: np.ndarray) -> np.ndarray:
        """Vertex stresses [Pa] (n, 6) or (n, 6, k) from unknown vectors ``u`` (n_dofs,) / (n_dofs, k)
        and the eigen fields (n,) / (n, k): works for one material and per-element materials."""
        u = np.asarray(u, dtype=float)
        if not self.per_element:
            strain = self.vertex_strain(u.reshape(-1, 3) if u.ndim == 1 else u)
            return self.vertex_stress(strain, eigen_field)
        x = np.asarray(eigen_field, dtype=float)
        stress = (self.stress_operator @ u).reshape((-1, 6) + u.shape[1:])
        stress[:, :3] -= (self.vertex_load_weight.reshape((-1,) + (1,) * (x.ndim - 1)) * x)[:, None]
        return stress
