"""Quasi-static linear elasticity with a swelling eigenstrain, P1 or P2 displacement.

Strong form on the octant Omega_h, for a concentration field c:

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
load is linear in the nodal values of e_v: f = L e_v, assembled once (K_b included). Hence each
quasi-static solve is u = K^{-1} (L e_v) with K factorised once (see :mod:`.linalg`).

The eigenstrain field e_v is given at the *field nodes*: the mesh vertices (e_v P1 on the
elements), or, with ``refined`` (:mod:`.refine`), all P2 nodes, with e_v piecewise linear on the
8 sub-tetrahedra of each element (the space of the refined transport). The load operator is
exact for either: L[(a, i), n] = K_b sum over (sub-)elements s of integral_s N_n d_i phi_a.

Stress recovery at the field nodes (:mod:`.recovery`, sparse operators built once): the strain
and stress of each element are evaluated at its field nodes and averaged with the weights of the
field nodes' P1 hat functions (vol/4 per corner of each (sub-)element), so that
sum_n w_n sigma_n = integral sigma dx exactly (the strain is linear on each element and e_v linear
on each (sub-)element).

Per-element materials (the hook for multi-material particles): ``youngs_modulus``,
``poisson_ratio`` and ``eigen_scale`` may be arrays with one value per element; ``eigen_scale``
multiplies the nodal field e_v inside each element (e.g. a per-domain Omega_d with
e_v = c - c_ref). The element blocks, the load and the recovered stresses use them.

Rollers are imposed by removing the constrained unknowns (node on x_i = 0 -> u_i fixed at 0); the
remaining matrix is symmetric positive definite (the rollers remove the rigid motions).

Unknown numbering: ``3 * node + i`` (interleaved), nodes = vertices then P2 edge midpoints.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from .assembly import SymmetricBlockPattern, assemble_matrix
from .basis import barycentric_gradients, gradient_coefficients, n_local
from .linalg import SpdSolver, factorize
from .mesh import OctantMesh
from .quadrature import tetrahedron_rule
from .recovery import NodalRecovery
from .refine import NODE_BARYCENTRIC, SUBTETS, RefinedMesh
from .topology import p2_connectivity

__all__ = ["ElasticityProblem", "lame_parameters"]

log = logging.getLogger(__name__)


def lame_parameters(youngs_modulus, poisson_ratio):
    """(lambda, mu, K_b) [Pa] from E [Pa] and nu [-] (floats, or arrays of per-element values)."""
    e, nu = np.asarray(youngs_modulus, dtype=float), np.asarray(poisson_ratio, dtype=float)
    if not (np.all(-1.0 < nu) and np.all(nu < 0.5)) or not np.all(e > 0):
        raise ValueError(f"need E > 0 and -1 < nu < 0.5, got E = {e} Pa, nu = {nu}")
    lam = e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
    mu = e / (2.0 * (1.0 + nu))
    bulk = e / (3.0 * (1.0 - 2.0 * nu))
    if e.ndim == 0 and nu.ndim == 0:
        return float(lam), float(mu), float(bulk)
    return lam, mu, bulk


def _subtet_load_reference() -> np.ndarray:
    """R[v, a, k, n] (3, 10, 4, 10): integral over the 8 children of variant v of N_n times the
    coefficient of grad lambda_k in grad phi_a, per unit parent volume (degree-2 rule per child)."""
    rule = tetrahedron_rule(2)
    ref = np.zeros((3, 10, 4, 10))
    for v in range(3):
        for child in SUBTETS[v]:  # 8 children x 4 points: reference data, not mesh entities
            corners = NODE_BARYCENTRIC[child]  # (4, 4) parent-barycentric coordinates
            for xi, w in zip(rule.lambdas, rule.weights):
                coef = gradient_coefficients(2, xi @ corners)  # (10, 4)
                for j, node in enumerate(child):
                    ref[v, :, :, node] += (w / 8.0) * xi[j] * coef
    return ref


def _per_element(value, m: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (m,))


class ElasticityProblem:
    """Assembled elasticity on an octant mesh, factorised once; solves for any nodal field e_v.

    Parameters
    ----------
    mesh: the octant mesh.
    youngs_modulus: E [Pa], a float or one value per element.
    poisson_ratio: nu [-], a float or one value per element.
    order: displacement order (1 or 2).
    linear_solver: ``auto`` | ``cholmod`` | ``pardiso`` | ``superlu`` | ``amg``.
    refined: the 8x split of ``mesh`` (:func:`.refine.refine_octant_mesh`): e_v is then given at
        all P2 nodes (order 2 only); default: at the vertices.
    eigen_scale: per-element factor of e_v (default 1).
    factor: a reusable factorisation of this mesh's reduced stiffness (see :mod:`.linalg`).
    """

    def __init__(
        self,
        mesh: OctantMesh,
        youngs_modulus,
        poisson_ratio,
        *,
        order: int = 2,
        linear_solver: str = "auto",
        refined: RefinedMesh | None = None,
        eigen_scale=None,
        factor: SpdSolver | None = None,
    ):
        self.mesh = mesh
        self.order = order
        if refined is not None and order != 2:
            raise ValueError("a refined (P2-node) eigenstrain field needs displacement order 2")
        m = mesh.n_tets
        lam, mu, bulk = lame_parameters(youngs_modulus, poisson_ratio)
        self.lam, self.mu, self.bulk = lam, mu, bulk  # floats when uniform
        self.lam_e, self.mu_e, self.bulk_e = (_per_element(x, m) for x in (lam, mu, bulk))
        self.scale_e = _per_element(1.0 if eigen_scale is None else eigen_scale, m)
        #: per-element materials: the eigen field of the solves is x with e_v,T = eigen_scale_T x
        self.per_element = np.ndim(lam) > 0 or eigen_scale is not None
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        if order == 2:
            self.conn, edges = (refined.conn, refined.edges) if refined else p2_connectivity(mesh.tets, mesh.n_points)
            mid = 0.5 * (mesh.points[edges[:, 0]] + mesh.points[edges[:, 1]])
            self.nodes = np.vstack([mesh.points, mid])
        else:
            self.conn = np.asarray(mesh.tets, dtype=np.int64)
            self.nodes = mesh.points
        self.n_nodes = int(self.nodes.shape[0])
        self.n_dofs = 3 * self.n_nodes
        self.grad_lambda, self.vol = barycentric_gradients(mesh.points, mesh.tets)
        self._setup_field(refined)
        tol = 1e-6 * mesh.radius
        fixed = np.abs(self.nodes) <= tol  # (n_nodes, 3): node on x_i = 0 -> u_i = 0
        self.free = np.flatnonzero(~fixed.ravel())
        k_ff = self._assemble_stiffness()
        self.load_operator = self._assemble_load()
        timings["assembly"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        if factor is None:
            # K is symmetric: its CSC view K^T is K, so CHOLMOD/SuperLU get it without a CSC copy
            factor = factorize(k_ff.T, linear_solver, near_nullspace=self._rigid_modes()[self.free])
        self.solver: SpdSolver = factor
        del k_ff  # rebuilt on demand (:attr:`stiffness_free`): not held through a whole run
        self._stiffness_free: sp.csr_matrix | None = None
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

    # -- field nodes and recovery weights ---------------------------------------------------------
    def _setup_field(self, refined: RefinedMesh | None) -> None:
        """Field nodes (vertices or P2 nodes), their local positions and P1-hat recovery weights."""
        mesh = self.mesh
        if refined is None:
            self.field_local = np.eye(4)
            self.field_conn = np.asarray(mesh.tets, dtype=np.int64)
            weights = np.repeat(self.vol[:, None] / 4.0, 4, axis=1)
            self.n_field = mesh.n_points
            self.variant = None
        else:
            self.field_local = NODE_BARYCENTRIC
            self.field_conn = self.conn
            counts = np.stack([np.bincount(SUBTETS[v].ravel(), minlength=10) for v in range(3)])
            weights = self.vol[:, None] / 32.0 * counts[refined.variant]  # vol/8 per child, /4 per corner
            self.n_field = self.n_nodes
            self.variant = refined.variant
        total = np.bincount(self.field_conn.ravel(), weights=weights.ravel(), minlength=self.n_field)
        self.field_weights = total  # integral of each field node's P1 hat function [m^3]
        self._corner_weights = weights
        self._recovery: NodalRecovery | None = None

    @property
    def recovery(self) -> NodalRecovery:
        """The nodal strain/stress recovery operators (:mod:`.recovery`), built on first use."""
        if self._recovery is None:
            self._recovery = NodalRecovery(
                self.order,
                self.conn,
                self.grad_lambda,
                self.field_local,
                self.field_conn,
                self._corner_weights,
                self.lam_e,
                self.mu_e,
                self.bulk_e * self.scale_e,
                self.n_nodes,
                self.n_field,
            )
        return self._recovery

    # -- assembly ---------------------------------------------------------------------------------
    def _assemble_stiffness(self) -> sp.csr_matrix:
        """K restricted to the free unknowns, from reference tensors: with grad phi_a = sum_k
        C_q[a, k] grad lambda_k at point q,

            integral d_i phi_a d_j phi_b = |T| sum_{k,l} M[k, l, a, b] d_i lambda_k d_j lambda_l,
            M[k, l, a, b] = sum_q w_q C_q[a, k] C_q[b, l]   (element independent),

        so that, with the material folded into the small per-element tensor

            H[k, l, i, j] = |T| (lambda g_ki g_lj + mu g_kj g_li + mu delta_ij g_k . g_l),
            g_ki = d_i lambda_k,

        the block (a, b) of every element is K_e[(a, i), (b, j)] = sum_{k,l} M[k, l, a, b]
        H[k, l, i, j]: one (n_pairs x 16) @ (16 x 9) product per element over the local pairs a <= b only
        (K_e is symmetric), summed on :class:`.assembly.SymmetricBlockPattern`.
        """
        rule = tetrahedron_rule(2 * (self.order - 1))
        nl = n_local(self.order)
        ref = np.zeros((4, 4, nl, nl))
        for lam_q, w_q in zip(rule.lambdas, rule.weights):  # quadrature points
            coef = gradient_coefficients(self.order, lam_q)
            ref += w_q * np.einsum("ak,bl->klab", coef, coef)
        pairs = np.triu_indices(nl)
        ref = np.ascontiguousarray(ref[:, :, pairs[0], pairs[1]].reshape(16, -1).T)  # (n_pairs, 16)
        gl = self.grad_lambda
        gg = np.einsum("mki,mlj->mklij", gl, gl)  # (m, 4, 4, 3, 3)
        lam, mu = self.vol * self.lam_e, self.vol * self.mu_e  # (m,)
        h = lam[:, None, None, None, None] * gg + mu[:, None, None, None, None] * gg.transpose(0, 1, 2, 4, 3)
        h[..., [0, 1, 2], [0, 1, 2]] += (mu[:, None, None] * np.trace(gg, axis1=3, axis2=4))[..., None]
        del gg
        blocks = np.matmul(ref, h.reshape(-1, 16, 9))  # (m, n_pairs, 9): element-major, as the pattern reads
        del h
        pattern = SymmetricBlockPattern(self.conn, self.n_nodes, 3, pairs)
        upper = pattern.upper_blocks(blocks)
        del blocks
        self._stiffness_blocks = (pattern, upper)
        return pattern.csr(upper, self.free)

    @property
    def stiffness_free(self) -> sp.csr_matrix:
        """K restricted to the free unknowns (CSR, symmetric), built on first use from the summed
        blocks (the factorisation does not need it kept; the elastoplastic tangent does)."""
        if self._stiffness_free is None:
            pattern, upper = self._stiffness_blocks
            self._stiffness_free = pattern.csr(upper, self.free)
        return self._stiffness_free

    @property
    def stiffness(self) -> sp.csr_matrix:
        """The full stiffness matrix K (n_dofs, n_dofs), rollers not applied (diagnostics)."""
        pattern, data = self._stiffness_blocks
        return pattern.csr(data)

    def _assemble_load(self) -> sp.csr_matrix:
        """L (n_dofs, n_field) with L[(a, i), n] = K_b s_e integral N_n d_i phi_a (N_n: field hat).

        With grad phi_a = sum_k C[a, k] grad lambda_k, the element block is
        |T| K_b s_e sum_k R[a, k, n] d_i lambda_k with the element-independent
        R[a, k, n] = (1/|T|) integral C[a, k] N_n dx (quadrature on the element, or on the 8
        children for the refined field): one (3 m x 4) @ (4 x n_local p) product per variant.
        """
        nl, p = n_local(self.order), self.field_local.shape[0]
        m = self.mesh.n_tets
        if self.variant is None:
            rule = tetrahedron_rule(self.order)
            ref = sum(w * np.einsum("ak,n->akn", gradient_coefficients(self.order, x), x) for x, w in zip(rule.lambdas, rule.weights))
            refs, groups = ref[None], [slice(None)]
        else:
            refs = _subtet_load_reference()  # (3, 10, 4, 10)
            groups = [np.flatnonzero(self.variant == v) for v in range(3)]
        le = np.empty((m, 3, nl, p))  # (element, i, a, n)
        gl = self.grad_lambda.transpose(0, 2, 1)  # (m, 3, 4): d_i lambda_k
        for ref, sel in zip(refs, groups):
            block = gl[sel].reshape(-1, 4) @ ref.transpose(1, 0, 2).reshape(4, nl * p)
            le[sel] = block.reshape(-1, 3, nl, p)
        le *= (self.vol * self.bulk_e * self.scale_e)[:, None, None, None]
        dofs = (3 * self.conn[:, None, :] + np.arange(3)[None, :, None]).reshape(m, 3 * nl)
        return assemble_matrix(dofs, self.field_conn, le.reshape(m, 3 * nl, p), (self.n_dofs, self.n_field))

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
        """Unknown vectors (n_dofs, k) for k nodal fields e_v (n_field, k), in one multi-RHS solve."""
        rhs = self.load_operator @ eigen_volumetric
        u = np.zeros((self.n_dofs, eigen_volumetric.shape[1]))
        u[self.free] = self.solver(rhs[self.free]).reshape(self.free.size, -1)
        return u

    def displacement(self, eigen_volumetric: np.ndarray) -> np.ndarray:
        """Displacement (n_nodes, 3) [m] for the nodal field e_v = Omega (c - c_ref) (n_field,)."""
        return self.displacements(np.asarray(eigen_volumetric, dtype=float)[:, None])[:, 0].reshape(-1, 3)

    # -- recovery ---------------------------------------------------------------------------------
    def nodal_fields(self, displacement: np.ndarray, eigen_volumetric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(strain, stress) at the field nodes (Voigt, tensor shear): (n_field, 6) for one state
        (displacement (n_nodes, 3) or (n_dofs,), e_v (n_field,)), (n_field, 6, k) for unknown
        vectors (n_dofs, k) with e_v (n_field, k)."""
        single = displacement.ndim == 1 or (displacement.ndim == 2 and displacement.shape == (self.n_nodes, 3))
        u = np.asarray(displacement, dtype=float).reshape(self.n_nodes, 3, -1)
        ev = np.asarray(eigen_volumetric, dtype=float).reshape(self.n_field, -1)
        strain, stress = self.recovery.fields(u, ev)
        return (strain[:, :, 0], stress[:, :, 0]) if single else (strain, stress)

    def vertex_stress_of(self, u: np.ndarray, eigen_field: np.ndarray) -> np.ndarray:
        """Nodal stresses [Pa] (n, 6) or (n, 6, k) from unknown vectors ``u`` (n_dofs,) / (n_dofs, k)
        and the eigen fields (n,) / (n, k); one material or per-element materials."""
        u = np.asarray(u, dtype=float)
        if u.ndim == 1:
            return self.nodal_fields(u, np.asarray(eigen_field, dtype=float))[1]
        return self.nodal_fields(u, eigen_field)[1]

    def vertex_strain(self, displacement: np.ndarray) -> np.ndarray:
        """Total strain at the field nodes (see :meth:`nodal_fields`), (n, 6) or (n, 6, k)."""
        if displacement.ndim == 2 and displacement.shape == (self.n_nodes, 3):
            zeros = np.zeros(self.n_field)
        else:
            zeros = np.zeros((self.n_field, np.asarray(displacement).reshape(self.n_dofs, -1).shape[1]))
        return self.nodal_fields(displacement, zeros)[0]

    def vertex_stress(self, strain: np.ndarray, eigen_volumetric: np.ndarray) -> np.ndarray:
        """Stress [Pa] = C (strain - e_v/3 I) at the field nodes for a uniform material
        (Voigt xx, yy, zz, yz, xz, xy); ``strain`` (n, 6) with ``eigen_volumetric`` (n,), or
        (n, 6, k) with (n, k). Per-element materials: use :meth:`nodal_fields`."""
        if np.ndim(self.mu) or np.ndim(self.lam) or np.ptp(self.scale_e) > 0:
            raise ValueError("vertex_stress needs a uniform material; use nodal_fields(u, e_v)")
        trace = strain[:, :3].sum(axis=1)
        stress = 2.0 * self.mu * strain
        stress[:, :3] += (self.lam * trace - self.bulk * self.scale_e[0] * eigen_volumetric)[:, None]
        return stress
