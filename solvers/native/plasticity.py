"""Quadrature-point mechanics of the native solver: J2 elastoplasticity and Li-dependent stiffness.

Used instead of the factorise-once linear elasticity of :mod:`.elasticity` when the model is
``elastoplastic`` or when E or nu are laws of theta. Same displacement space (P2 by default, rollers
on the planes, free sphere) and unknown numbering as :class:`~.elasticity.ElasticityProblem`.

At the points of the degree-2 tetrahedron rule (4 per element) the total strain is
eps = B u (Mandel form, :mod:`models.constitutive`), theta is the P1 interpolant of c / c_max, and
:func:`models.constitutive.return_mapping` gives the stress, the updated history (plastic strain,
equivalent plastic strain alpha) and the consistent tangent D from the history of the last
accepted step. Equilibrium R(u) = sum_T sum_q |T| w_q B^T sigma = 0 is solved by Newton,

    K_t du = -R,   K_t = sum_T sum_q |T| w_q B^T D B,

at every accepted time step (the stress depends on the load history). The linear systems are
solved by conjugate gradients (inexact Newton, relative tolerance ``cg_rtol``, 1e-2: the same Newton
iterations as 1e-4 for Si at half the CG iterations) preconditioned with a
sparse Cholesky factorisation of an *earlier* SPD secant matrix (the elastic stiffness at first;
:attr:`models.constitutive.ReturnMapping.secant`: the consistent tangent without its softening
N (x) N term, so it is positive definite even where the tangent of perfect plasticity is singular).
K_t is never assembled: its action is the stored elastic K_e times v plus a correction
B^T (D - D_e) B v over the plastic-zone quadrature points only; a step with no yielding point is
one back-substitution with the elastic factor. The factorisation is renewed only when CG needs
more than ``refactor_iterations`` iterations (the plastic zone, or the Li-dependent moduli, changed
materially); statistics count both.

Vertex fields (stress, strain, equivalent plastic strain) are convex averages of the point values
(weights |T| w_q lambda_k(x_q)), so a recovered von Mises stress never exceeds the largest yield
stress around the vertex.
"""

from __future__ import annotations

import contextlib
import logging
import time as _time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg

from models import LithiationModel
from models.constitutive import elastic_tangent, from_mandel, return_mapping, to_mandel, von_mises
from models.laws import law_value

from ..driver import MechanicsState
from ..errors import SolverDiverged
from .assembly import SparsePattern, assemble_vector
from .basis import basis_gradients, n_local
from .elasticity import ElasticityProblem
from .linalg import SpdSolver, factorize
from .quadrature import tetrahedron_rule

__all__ = ["QuadratureMechanics"]

log = logging.getLogger(__name__)

_R2 = 1.0 / np.sqrt(2.0)


def _one_blas_thread():
    """Context limiting BLAS/OpenMP to one thread (a no-op without the optional threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def strain_operator(order: int, lambdas: np.ndarray, grad_lambda: np.ndarray) -> np.ndarray:
    """B (m, nq, 6, 3 n_local): Mandel strain at the points ``lambdas`` (nq, 4) from the element's
    unknowns (node a, component i) -> column 3 a + i."""
    m = grad_lambda.shape[0]
    nl = n_local(order)
    b = np.zeros((m, lambdas.shape[0], 6, nl, 3))
    for q, lam in enumerate(lambdas):
        g = basis_gradients(order, lam, grad_lambda)  # (m, nl, 3)
        for i in range(3):
            b[:, q, i, :, i] = g[:, :, i]
        for comp, (i, j) in zip((3, 4, 5), ((1, 2), (0, 2), (0, 1))):
            b[:, q, comp, :, i] = _R2 * g[:, :, j]
            b[:, q, comp, :, j] = _R2 * g[:, :, i]
    return b.reshape(m, lambdas.shape[0], 6, 3 * nl)


class QuadratureMechanics:
    """History-dependent (or Li-dependent) mechanics on the unknowns of ``elasticity``.

    ``elasticity`` supplies the mesh, displacement space, fixed unknowns and a factorised elastic
    stiffness (the first preconditioner); ``model`` the material laws, the constitutive options
    and c_ref. ``rtol``: Newton tolerance on the residual relative to the internal-force scale.
    """

    def __init__(
        self,
        elasticity: ElasticityProblem,
        model: LithiationModel,
        *,
        rtol: float = 1e-6,
        max_iterations: int = 30,
        refactor_iterations: int = 25,
        cg_rtol: float = 1e-2,
        linear_solver: str = "auto",
    ):
        t0 = _time.perf_counter()
        el = elasticity
        self.el, self.model = el, model
        rule = tetrahedron_rule(2)
        self.lambdas = rule.lambdas
        self.wv = el.vol[:, None] * rule.weights[None, :]  # (m, nq) [m^3]
        self.B = strain_operator(el.order, rule.lambdas, el.grad_lambda)
        nl = n_local(el.order)
        self.dofs = (3 * el.conn[:, :, None] + np.arange(3)[None, None, :]).reshape(-1, 3 * nl)
        self.pattern = SparsePattern(self.dofs, self.dofs, (el.n_dofs, el.n_dofs))
        self.free = el.free
        self.tets = np.asarray(el.mesh.tets, dtype=np.int64)
        m, nq = self.wv.shape
        self.committed = MechanicsState(
            u=np.zeros(el.n_dofs), strain=np.zeros((m, nq, 6)), stress=np.zeros((m, nq, 6)),
            plastic_strain=np.zeros((m, nq, 6)), alpha=np.zeros((m, nq)), iterations=0,
        )
        mech, mat = model.mechanics, model.material
        self.laws = (mat.youngs_modulus, mat.poisson_ratio, model.yield_stress if mech.plastic else None)
        self.hardening = mech.hardening_modulus
        self.omega, self.c_max, self.c_ref = mat.partial_molar_volume, model.c_max, model.c_ref
        self.rtol, self.max_iterations = rtol, max_iterations
        self.refactor_iterations, self.linear_solver = refactor_iterations, linear_solver
        self.cg_rtol = cg_rtol
        self.preconditioner: SpdSolver = el.solver
        self.recovery = self._recovery_operator()
        self._increment: tuple[np.ndarray, np.ndarray] | None = None  # last accepted (du, d e_v)
        self._committed_ev: np.ndarray | None = None  # e_v (m, nq) of the committed state
        lam, mu = np.asarray(el.lam_e), np.asarray(el.mu_e)  # the moduli of the factorised K_e
        e0 = mu * (3.0 * lam + 2.0 * mu) / (lam + mu)
        self.d_elastic = elastic_tangent(e0, lam / (2.0 * (lam + mu)))[:, None]  # (m, 1, 6, 6)
        self.d_scale = float(np.max(np.abs(self.d_elastic)))
        self.stats = {"newton_iterations": 0, "cg_iterations": 0, "factorisations": 0, "solves": 0, "elastic_solves": 0,
                      "factorisation_s": 0.0, "setup_s": _time.perf_counter() - t0}

    def _recovery_operator(self) -> sp.csr_matrix:
        """(n_vertices, m nq) convex averaging of point values to the vertices."""
        m, nq = self.wv.shape
        w = self.wv[:, :, None] * self.lambdas[None, :, :]  # (m, nq, 4)
        rows = np.broadcast_to(self.tets[:, None, :], w.shape).ravel()
        cols = np.broadcast_to(np.arange(m * nq).reshape(m, nq)[:, :, None], w.shape).ravel()
        mat = sp.csr_matrix((w.ravel(), (rows, cols)), shape=(self.el.mesh.n_points, m * nq))
        return sp.diags(1.0 / np.asarray(mat.sum(axis=1)).ravel()) @ mat

    # -- pointwise --------------------------------------------------------------------------------
    def theta_at_points(self, c: np.ndarray) -> np.ndarray:
        """theta (m, nq) at the quadrature points of the vertex field ``c`` [mol/m^3]."""
        return (np.asarray(c, dtype=float)[self.tets] @ self.lambdas.T) / self.c_max

    def _material(self, theta: np.ndarray) -> dict:
        e_law, nu_law, sy_law = self.laws
        return dict(
            youngs_modulus=law_value(e_law, theta),
            poisson_ratio=law_value(nu_law, theta),
            yield_stress=np.inf if sy_law is None else law_value(sy_law, theta),
            hardening_modulus=self.hardening,
        )

    def _strain(self, u: np.ndarray) -> np.ndarray:
        return from_mandel(np.einsum("mqkd,md->mqk", self.B, u[self.dofs]))

    def _forces(self, stress: np.ndarray) -> np.ndarray:
        local = np.einsum("mqkd,mqk->md", self.B, self.wv[:, :, None] * to_mandel(stress))
        return assemble_vector(self.dofs, local, self.el.n_dofs)

    def _tangent(self, d: np.ndarray) -> sp.csr_matrix:
        wd = self.wv[:, :, None, None] * d
        ke = np.einsum("mqkd,mqkl,mqle->mde", self.B, wd, self.B, optimize=True)
        k = self.pattern.matrix(ke)
        return k[self.free][:, self.free]

    # -- solve ------------------------------------------------------------------------------------
    def _tangent_operator(self, d: np.ndarray):
        """(K_t on the free unknowns as a LinearOperator, True when K_t is the elastic stiffness).

        Matrix-free, nothing assembled: K_t v = K_e v + sum_{points p} |T| w_q B_p^T (D_p - D_e) B_p v
        with the stored elastic stiffness K_e; the correction runs only over the points whose
        tangent differs from the elastic one (the plastic zone), gathered once per Newton iteration.
        """
        diff = d - self.d_elastic
        pts = np.nonzero(np.any(np.abs(diff) > 1e-12 * self.d_scale, axis=(-2, -1)))
        k_e, free, n = self.el.stiffness_free, self.free, self.el.n_dofs
        if pts[0].size == 0:
            return k_e, True
        b = self.B[pts]  # (p, 6, 3 n_local)
        wd = self.wv[pts][:, None, None] * diff[pts]  # (p, 6, 6)
        dofs = self.dofs[pts[0]]  # (p, 3 n_local)

        def matvec(v: np.ndarray) -> np.ndarray:
            full = np.zeros(n)
            full[free] = np.ravel(v)
            strain = np.einsum("pkd,pd->pk", b, full[dofs])
            local = np.einsum("pkd,pk->pd", b, np.einsum("pkl,pl->pk", wd, strain))
            return k_e @ np.ravel(v) + np.bincount(dofs.ravel(), local.ravel(), minlength=n)[free]

        return LinearOperator(k_e.shape, matvec=matvec, dtype=float), False

    def _linear_solve(self, res, rhs: np.ndarray) -> np.ndarray:
        """K_t du = rhs: one back-substitution when the step is elastic everywhere (and the factor is
        still the elastic one); else CG on the matrix-free tangent, preconditioned by the stored
        factorisation; when CG is slow, factorise the current secant matrix and retry once (then
        accept the secant step: modified Newton)."""
        k, elastic = self._tangent_operator(res.tangent)
        if elastic and self.preconditioner is self.el.solver:
            self.stats["solves"] += 1
            self.stats["elastic_solves"] += 1
            return self.preconditioner(rhs)
        for attempt in range(2):
            count = {"n": 0}

            def tick(_x):
                count["n"] += 1

            precond = LinearOperator(k.shape, matvec=self.preconditioner, dtype=float)
            du, info = cg(k, rhs, rtol=self.cg_rtol, atol=0.0, M=precond, maxiter=self.refactor_iterations, callback=tick)
            self.stats["cg_iterations"] += count["n"]
            if info == 0:
                break
            t0 = _time.perf_counter()  # the tangent drifted too far from the factorised one
            self.preconditioner = factorize(self._tangent(res.secant), self.linear_solver)
            self.stats["factorisations"] += 1
            self.stats["factorisation_s"] += _time.perf_counter() - t0
        else:
            du = self.preconditioner(rhs)
        self.stats["solves"] += 1
        return du

    def solve(self, c: np.ndarray) -> MechanicsState:
        """Equilibrium for the vertex concentration ``c`` [mol/m^3] from the committed history (not
        committed: :meth:`commit` it once the time step is accepted).

        Runs with one BLAS thread when threadpoolctl is installed: the CG loop's small dense
        kernels gain nothing from threads, and on a shared machine spin-waiting BLAS threads made
        it several times slower (measured: 53 s -> 11 s for Si to DOD 0.01 on the coarse mesh).
        """
        with _one_blas_thread():
            return self._solve(c)

    def _solve(self, c: np.ndarray) -> MechanicsState:
        theta = self.theta_at_points(c)
        kw = self._material(theta)
        ev = self.omega * (theta * self.c_max - self.c_ref)
        hist = self.committed
        swelling = np.zeros_like(hist.stress)
        swelling[..., :3] = (kw["youngs_modulus"] * np.abs(ev))[..., None]
        scale = max(float(np.max(np.abs(self._forces(swelling)))), 1e-300)  # force scale of the eigenstrain
        u, state = self._initial_guess(ev, kw)
        for it in range(1, self.max_iterations + 1):
            res, r = state
            norm = np.max(np.abs(r))
            log.debug("mechanics Newton %d: residual %.3e of %.3e", it, norm, scale)
            if norm <= self.rtol * scale:
                break
            du = self._linear_solve(res, -r)
            for _ in range(6):  # backtracking on the residual (large plastic increments)
                trial = u.copy()
                trial[self.free] += du
                new_state = self._evaluate(trial, ev, kw)
                if np.max(np.abs(new_state[1])) < norm or _ == 5:
                    break
                du *= 0.5
            u, state = trial, new_state
        else:
            raise SolverDiverged(
                f"native mechanics: Newton did not converge in {self.max_iterations} iterations"
                f" (residual {np.max(np.abs(r)):.3g} of scale {scale:.3g})"
            )
        self.stats["newton_iterations"] += it - 1
        return MechanicsState(u, self._strain(u), res.stress, res.plastic_strain, res.alpha, it - 1)

    def _initial_guess(self, ev: np.ndarray, kw: dict):
        """(u, evaluated state) to start Newton from: the committed u, or the committed u plus the
        last accepted increment scaled by the projection of the new swelling increment on the last
        one (a secant predictor), whichever has the smaller residual."""
        hist = self.committed
        start = (hist.u.copy(), self._evaluate(hist.u, ev, kw))
        if self._increment is None:
            return start
        du, dev = self._increment
        s = float(np.clip(np.vdot(ev - self._committed_ev, dev) / max(np.vdot(dev, dev), 1e-300), 0.0, 4.0))
        u = hist.u + s * du
        guess = (u, self._evaluate(u, ev, kw))
        better = np.max(np.abs(guess[1][1])) < np.max(np.abs(start[1][1]))
        return guess if better else start

    def _evaluate(self, u: np.ndarray, ev: np.ndarray, kw: dict):
        """(return mapping at u, free residual) from the committed history."""
        hist = self.committed
        res = return_mapping(self._strain(u), ev, hist.plastic_strain, hist.alpha, **kw)
        return res, self._forces(res.stress)[self.free]

    def commit(self, state: MechanicsState, c: np.ndarray | None = None) -> None:
        """Make ``state`` (solved for the vertex concentration ``c``) the history of the next step;
        with ``c``, its increment also seeds the next step's initial guess."""
        if c is not None:
            ev = self.omega * (self.theta_at_points(c) * self.c_max - self.c_ref)
            if self._committed_ev is not None:
                self._increment = (state.u - self.committed.u, ev - self._committed_ev)
            self._committed_ev = ev
        self.committed = state

    # -- outputs ----------------------------------------------------------------------------------
    def recover(self, values: np.ndarray) -> np.ndarray:
        """Vertex values (n_vertices, ...) of point values (m, nq, ...)."""
        m, nq = self.wv.shape
        flat = values.reshape(m * nq, -1)
        return (self.recovery @ flat).reshape((self.el.mesh.n_points,) + values.shape[2:])

    def vertex_fields(self, state: MechanicsState) -> dict[str, np.ndarray]:
        """displacement (n, 3) [m], stress and strain (n, 6), von_mises, hydrostatic [Pa],
        plastic_strain [-] at the vertices."""
        stress = self.recover(state.stress)
        strain = self.recover(state.strain)
        return {
            "displacement": state.u.reshape(-1, 3)[: self.el.mesh.n_points].copy(),
            "strain": strain,
            "stress": stress,
            "von_mises": von_mises(stress),
            "hydrostatic": stress[:, :3].sum(axis=1) / 3.0,
            "plastic_strain": self.recover(state.alpha),
        }
