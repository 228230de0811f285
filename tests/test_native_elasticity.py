"""Native solver: P1/P2 elasticity with swelling eigenstrain, linear solvers, stress recovery."""

from __future__ import annotations

import numpy as np
import pytest

from models.analytical import radial_stresses
from solvers.native.elasticity import ElasticityProblem, lame_parameters
from solvers.native.linalg import factorize, module_available, resolve_method
from solvers.native.mesh import generate_octant_mesh
from solvers.native.postprocess import max_principal, voigt_to_tensor, von_mises

R = 4.11e-6
E, NU, OMEGA = 80e9, 0.22, 9e-6


def _spherical(points, stress):
    r = np.linalg.norm(points, axis=1)
    rhat = np.where(r[:, None] > 0, points / np.maximum(r, 1e-300)[:, None], [1.0, 0.0, 0.0])
    t = voigt_to_tensor(stress)
    srr = np.einsum("ni,nij,nj->n", rhat, t, rhat)
    return srr, (np.trace(t, axis1=1, axis2=2) - srr) / 2


def test_lame_parameters():
    lam, mu, k = lame_parameters(E, NU)
    assert k == pytest.approx(lam + 2 * mu / 3)
    assert E == pytest.approx(mu * (3 * lam + 2 * mu) / (lam + mu))
    with pytest.raises(ValueError, match="nu"):
        lame_parameters(E, 0.5)


@pytest.mark.parametrize("order", [1, 2])
def test_uniform_concentration_gives_zero_stress(order):
    mesh = generate_octant_mesh(R, 4)
    el = ElasticityProblem(mesh, E, NU, order=order)
    ev = np.full(mesh.n_points, OMEGA * 1.5e5)
    u = el.displacement(ev)
    stress = el.vertex_stress(el.vertex_strain(u), ev)
    assert np.abs(stress).max() < 1e-10 * el.bulk * ev[0]
    assert np.allclose(u, el.nodes * ev[0] / 3.0, rtol=0, atol=1e-12 * R * ev[0])


def test_stiffness_symmetric_and_rollers_remove_rigid_modes():
    mesh = generate_octant_mesh(R, 2)
    el = ElasticityProblem(mesh, E, NU)
    k = el.stiffness
    assert abs(k - k.T).max() < 1e-12 * abs(k).max()
    modes = el._rigid_modes()
    assert np.abs(k @ modes).max() < 1e-6 * abs(k).max() * R  # rigid motions cost no energy
    # x-rollers fix u_x of every node on x = 0, and nothing else
    fixed = np.setdiff1d(np.arange(el.n_dofs), el.free)
    node, comp = np.divmod(fixed, 3)
    assert np.all(el.nodes[node, comp] == 0.0)
    assert len(fixed) == sum(int((el.nodes[:, i] == 0).sum()) for i in range(3))


def test_quasi_steady_parabola_stresses_converge():
    """c = k x^2 gives sigma_r = s(1-x^2), sigma_t = s(1-2x^2), vM = s x^2 with s = 2 Omega E k / (15 (1-nu))."""
    k = 1e5
    s = 2 * OMEGA * E * k / (15 * (1 - NU))
    errors = []
    for n in (4, 8):
        mesh = generate_octant_mesh(R, n)
        el = ElasticityProblem(mesh, E, NU)
        x = np.linalg.norm(mesh.points, axis=1) / R
        ev = OMEGA * k * x**2
        stress = el.vertex_stress(el.vertex_strain(el.displacement(ev)), ev)
        srr, stt = _spherical(mesh.points, stress)
        err = (
            max(
                np.abs(srr - s * (1 - x**2)).max(),
                np.abs(stt - s * (1 - 2 * x**2)).max(),
                np.abs(von_mises(stress) - s * x**2).max(),
            )
            / s
        )
        errors.append(err)
        # the volume integral of each normal stress vanishes (v = x e_i is a test function)
        weights = np.bincount(mesh.tets.ravel(), weights=np.repeat(mesh.volumes / 4, 4), minlength=mesh.n_points)
        assert np.abs(weights @ stress[:, :3]).max() < 1e-10 * s * mesh.volume
    assert errors[1] < 0.03
    assert errors[1] < 0.5 * errors[0]


def test_matches_closed_form_for_a_radial_profile():
    """A steep radial profile: the 3D stresses approach Cheng & Verbrugge's closed form."""
    mesh = generate_octant_mesh(R, 8)
    el = ElasticityProblem(mesh, E, NU)
    r = np.linalg.norm(mesh.points, axis=1)

    def profile(rr):
        return 3e5 / (1 + np.exp(-(rr / R - 0.7) / 0.08))

    ev = OMEGA * profile(r)
    stress = el.vertex_stress(el.vertex_strain(el.displacement(ev)), ev)
    r1 = np.linspace(0, R, 2001)
    ref = radial_stresses(r1, profile(r1), E=E, nu=NU, Omega=OMEGA)
    scale = np.abs(ref["sigma_t"]).max()
    srr, stt = _spherical(mesh.points, stress)
    assert np.abs(srr - np.interp(r, r1, ref["sigma_r"])).max() < 0.06 * scale
    assert np.abs(stt - np.interp(r, r1, ref["sigma_t"])).max() < 0.06 * scale
    assert np.abs(stress[:, :3].sum(axis=1) / 3 - np.interp(r, r1, ref["hydrostatic"])).max() < 0.06 * scale


def test_linear_solvers_agree_and_multi_rhs():
    mesh = generate_octant_mesh(R, 3)
    rng = np.random.default_rng(5)
    ev = OMEGA * 1e5 * rng.uniform(0, 1, (mesh.n_points, 3))
    results = {}
    methods = ["superlu", "amg"]
    methods += [m for m, module in (("cholmod", "sksparse.cholmod"), ("pardiso", "pypardiso")) if module_available(module)]
    for method in methods:
        el = ElasticityProblem(mesh, E, NU, linear_solver=method)
        assert el.solver.method == method
        results[method] = el.displacements(ev)
        single = el.displacement(ev[:, 1])
        assert np.allclose(single.ravel(), results[method][:, 1], rtol=1e-8, atol=1e-12 * R)
    ref = results["superlu"]
    for method, u in results.items():
        assert np.abs(u - ref).max() < 1e-7 * np.abs(ref).max(), method


def test_auto_solver_choice_and_bad_name():
    assert resolve_method("superlu", 10) == "superlu"
    assert resolve_method("auto", 10) in ("cholmod", "pardiso", "superlu")
    with pytest.raises(Exception, match="linear_solver"):
        resolve_method("mumps", 10)
    import scipy.sparse as sp

    solver = factorize(sp.diags([2.0, 4.0]).tocsr(), "superlu")
    assert np.allclose(solver(np.array([2.0, 4.0])), [1.0, 1.0])


def test_stress_invariants():
    stress = np.array([[1.0, 2.0, 3.0, 0.0, 0.0, 0.0], [5.0, 5.0, 5.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    assert np.allclose(von_mises(stress), [np.sqrt(3.0), 0.0, np.sqrt(3.0)])
    assert np.allclose(max_principal(stress), [3.0, 5.0, 1.0])
