"""Native solver: the P1 transport system (matrices, exact Jacobian, conservation, Crank)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from models import ConstantDiffusivity, ExponentialDiffusivity, StepDiffusivity
from models.analytical import crank_concentration
from solvers.api import TimeOptions
from solvers.native.assembly import SparsePattern, assemble_matrix
from solvers.native.krylov import FrozenKrylovSolver, right_preconditioned_gmres
from solvers.native.linalg import module_available
from solvers.native.mesh import generate_octant_mesh
from solvers.native.transport import OctantTransport
from solvers.stepping import integrate

R = 4.11e-6
C_MAX = 311_140.0
J = 3.3e-6
D = 2e-15


def test_sparse_pattern_matches_coo_assembly():
    rng = np.random.default_rng(3)
    mesh = generate_octant_mesh(R, 3)
    values = rng.standard_normal((mesh.n_tets, 4, 4))
    pattern = SparsePattern(mesh.tets, mesh.tets, (mesh.n_points, mesh.n_points))
    direct = assemble_matrix(mesh.tets, mesh.tets, values, (mesh.n_points, mesh.n_points))
    assert abs(pattern.matrix(values) - direct).max() < 1e-12


def test_mass_and_flux_vectors():
    mesh = generate_octant_mesh(R, 4)
    tr = OctantTransport(mesh, ConstantDiffusivity(D), C_MAX, J)
    ones = np.ones(mesh.n_points)
    assert ones @ tr.mass @ ones == pytest.approx(mesh.volume, rel=1e-13)
    assert abs(tr.mass - tr.mass.T).max() == 0.0
    assert tr.load.sum() == pytest.approx(J * mesh.sphere_area, rel=1e-13)
    assert np.all(tr.load[np.setdiff1d(np.arange(mesh.n_points), mesh.sphere_vertices)] == 0.0)
    # a uniform field has no diffusive flux: F = load exactly (rows of the stiffness sum to 0)
    assert np.allclose(tr.rhs(np.full(mesh.n_points, 0.3 * C_MAX), 0.0), tr.load, rtol=0, atol=1e-12 * J * R**2)
    # the diffusion of a linear field integrates to zero (sum_i F_i = J A_h)
    y = C_MAX * mesh.points[:, 0] / R
    assert tr.rhs(y, 0.0).sum() == pytest.approx(J * mesh.sphere_area, rel=1e-9)


@pytest.mark.parametrize("law", [StepDiffusivity(low=2e-17, high=2e-15), ExponentialDiffusivity(low=2e-17, high=2e-15)])
def test_jacobian_is_exact(law):
    mesh = generate_octant_mesh(R, 3)
    tr = OctantTransport(mesh, law, C_MAX, J)
    rng = np.random.default_rng(7)
    y = C_MAX * rng.uniform(0.2, 0.8, mesh.n_points)
    jac = tr.jacobian(y, 0.0)
    direction = rng.standard_normal(mesh.n_points)
    errors = []
    for eps in (4e-3, 2e-3, 1e-3):  # central differences: error O(eps^2)
        step = eps * C_MAX * direction
        fd = (tr.rhs(y + step, 0.0) - tr.rhs(y - step, 0.0)) / (2 * eps * C_MAX)
        errors.append(np.abs(fd - jac @ direction).max() / np.abs(jac @ direction).max())
    assert errors[-1] < 1e-4
    assert errors[0] / errors[-1] > 10, errors  # shrinks like eps^2 (~16)
    system = tr.newton_matrix(2.0, y, 0.0)
    assert abs(system.matrix - (2.0 * tr.mass - jac)).max() < 1e-12 * abs(jac).max()


def _krylov_systems(tr, mesh):
    """Newton systems of a moving front, a0 drifting and then jumping 100x (stale factor from the 2nd on)."""
    x = np.linalg.norm(mesh.points, axis=1) / R
    for k, a0 in enumerate((1e-3, 1.1e-3, 1.2e-3, 1e-1)):
        yield tr.newton_matrix(a0, C_MAX * np.clip(1.5 * (x - 0.3 - 0.02 * k), 0, 1), 0.0)


@pytest.mark.parametrize("factorisation", ["superlu", pytest.param("pardiso", marks=pytest.mark.skipif(
    not module_available("pypardiso"), reason="pypardiso not installed"))])
def test_frozen_krylov_solver_matches_direct_solve(factorisation):
    mesh = generate_octant_mesh(R, 5)
    tr = OctantTransport(mesh, StepDiffusivity(low=2e-17, high=2e-15), C_MAX, J)
    rng = np.random.default_rng(0)
    solver = FrozenKrylovSolver(factorisation=factorisation, rtol=1e-11)
    for system in _krylov_systems(tr, mesh):
        b = rng.standard_normal(mesh.n_points)
        expected = sp.linalg.spsolve(sp.csc_matrix(system.matrix), b)
        assert np.allclose(solver(system, b), expected, rtol=1e-7, atol=1e-7 * np.abs(expected).max())
    assert 2 <= solver.factorisations <= 4  # reused at least once; renewed when a0 jumps 100x
    assert solver.method == f"gmres+frozen {factorisation}"


def test_inexact_krylov_solve_meets_its_tolerance_and_conserves_the_total():
    """The Newton solves are inexact (relative residual <= rtol) but 1^T (b - A x) = 0 to rounding,
    so the Li total of every Newton iterate is exact."""
    mesh = generate_octant_mesh(R, 5)
    tr = OctantTransport(mesh, StepDiffusivity(low=2e-17, high=2e-15), C_MAX, J)
    rng = np.random.default_rng(1)
    solver = FrozenKrylovSolver(rtol=1e-2)
    for system in _krylov_systems(tr, mesh):
        b = rng.standard_normal(mesh.n_points)
        x = solver(system, b)
        residual = b - system.matrix @ x
        assert np.linalg.norm(residual) <= 1.2e-2 * np.linalg.norm(b)
        assert abs(residual.sum()) <= 1e-12 * np.abs(b).sum()
        assert np.allclose(np.asarray(system.matrix.sum(axis=0)).ravel(), system.a0 * tr.ones_mass, rtol=1e-9)


def test_right_preconditioned_gmres_converges_to_its_tolerance():
    rng = np.random.default_rng(2)
    a = sp.random(200, 200, density=0.03, random_state=3, format="csr") + 4.0 * sp.eye(200, format="csr")
    b = rng.standard_normal(200)
    exact = np.linalg.solve(a.toarray(), b)
    jacobi = a.diagonal()
    for rtol in (1e-2, 1e-6, 1e-12):
        x, its, converged = right_preconditioned_gmres(a, b, lambda v: v / jacobi, rtol=rtol, max_iterations=80)
        assert converged and np.linalg.norm(b - a @ x) <= rtol * np.linalg.norm(b)
    assert np.abs(x - exact).max() < 1e-10 * np.abs(exact).max()
    x, its, converged = right_preconditioned_gmres(a, b, lambda v: v, rtol=1e-12, max_iterations=3)
    assert not converged and its == 3


def test_mass_conservation_and_dod_with_nonlinear_law():
    mesh = generate_octant_mesh(R, 3)
    tr = OctantTransport(mesh, StepDiffusivity(low=2e-17, high=2e-15), C_MAX, J)
    t_end = 0.3 * C_MAX * mesh.volume / (J * mesh.sphere_area)  # DOD 0.3
    amounts = []
    res = integrate(
        tr,
        np.zeros(mesh.n_points),
        t_end,
        options=TimeOptions(rtol=1e-4),
        on_step=lambda t, y, dt: amounts.append((t, tr.amount(y))),
        linear_solve=FrozenKrylovSolver(),
    )
    t, a = np.array(amounts).T
    assert np.abs(a / (J * mesh.sphere_area * t) - 1).max() < 1e-8
    assert tr.amount(res.y) / (C_MAX * mesh.volume) == pytest.approx(0.3, rel=1e-10)


def test_crank_second_order_in_space():
    t_end = 0.1 * R**2 / D
    errors = []
    for n in (3, 6):
        mesh = generate_octant_mesh(R, n)
        tr = OctantTransport(mesh, ConstantDiffusivity(D), C_MAX, J)
        res = integrate(
            tr,
            np.zeros(mesh.n_points),
            t_end,
            options=TimeOptions(rtol=1e-7, atol=1e-9),
            linear_solve=FrozenKrylovSolver(),
        )
        exact = crank_concentration(np.linalg.norm(mesh.points, axis=1), t_end, D=D, J=J, R=R)
        err = res.y - exact
        errors.append(math.sqrt(tr.ones_mass @ err**2 / mesh.volume) / (J * R / D))
    order = math.log2(errors[0] / errors[1])
    assert errors[1] < 5e-3
    assert order > 1.7, (errors, order)
