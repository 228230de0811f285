"""Transport on the P2 node set: the 8x split, the lumped edge scheme, the P2-node eigenstrain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import ConstantDiffusivity, LithiationModel, StepDiffusivity, StopCondition, get_preset
from solvers import get_backend
from solvers.api import FIELD_UNITS, MemorySink, MeshOptions, Numerics, OutputRequest
from solvers.native.edge_transport import LumpedTransport
from solvers.native.elasticity import ElasticityProblem
from solvers.native.mesh import generate_octant_mesh
from solvers.native.postprocess import von_mises
from solvers.native.refine import refine_octant_mesh
from solvers.native.topology import boundary_faces
from solvers.native.transport import OctantTransport

R = 4.11e-6
E, NU, OMEGA = 80e9, 0.22, 9e-6
SHARP = StepDiffusivity(low=1e-17, high=2e-15, theta_f=0.85, width=0.02)


@pytest.fixture(scope="module")
def split():
    return refine_octant_mesh(generate_octant_mesh(R, 4))


def test_split_tiles_the_parent_conformingly(split):
    parent, mesh = split.parent, split.mesh
    assert mesh.n_tets == 8 * parent.n_tets and mesh.volumes.min() > 0
    np.testing.assert_allclose(mesh.volumes.reshape(-1, 8), np.repeat(parent.volumes[:, None] / 8, 8, axis=1), rtol=1e-12)
    assert mesh.sphere_area == pytest.approx(parent.sphere_area, rel=1e-13)
    faces, _, _ = boundary_faces(mesh.tets, mesh.n_points)  # conforming: only true boundary faces
    n_boundary = len(mesh.sphere_faces) + sum(len(f) for f in mesh.plane_faces)
    assert len(faces) == n_boundary == 4 * (len(parent.sphere_faces) + sum(len(f) for f in parent.plane_faces))
    assert mesh.quality().min() > 0.3


def test_lumped_scheme_equals_galerkin_stiffness_for_constant_d(split):
    mesh = split.mesh
    lumped = LumpedTransport(mesh, ConstantDiffusivity(2e-15), 3e5, 1e-6)
    galerkin = OctantTransport(mesh, ConstantDiffusivity(2e-15), 3e5, 1e-6)
    y = np.random.default_rng(0).random(mesh.n_points) * 3e5
    np.testing.assert_allclose(lumped.rhs(y, 0), galerkin.rhs(y, 0), rtol=1e-9, atol=1e-12 * np.abs(lumped.load).max())
    np.testing.assert_allclose(lumped.ones_mass, galerkin.ones_mass, rtol=1e-12)


def test_lumped_jacobian_is_exact_and_conservative(split):
    mesh = split.mesh
    problem = LumpedTransport(mesh, SHARP, 3e5, 1e-6)
    x = np.linalg.norm(mesh.points, axis=1) / R
    y = 3e5 * (0.5 + 0.45 * np.tanh((x - 0.6) / 0.1))
    jac = problem.jacobian(y, 0.0)
    v = np.random.default_rng(1).standard_normal(mesh.n_points)
    h = 1e-3
    fd = (problem.rhs(y + h * v, 0) - problem.rhs(y - h * v, 0)) / (2 * h)
    assert np.abs(jac @ v - fd).max() < 1e-6 * np.abs(fd).max()
    assert abs(problem.rhs(y, 0).sum() - problem.load.sum()) < 1e-12 * np.abs(problem.load).sum()
    system = problem.newton_matrix(1e-2, y, 0.0)
    dense = (1e-2 * problem.mass - jac).toarray()
    np.testing.assert_allclose(system.matrix.toarray(), dense, atol=1e-12 * np.abs(dense).max())


def test_two_domains_with_one_law_equal_one_domain(split):
    mesh = split.mesh
    y = np.random.default_rng(2).random(mesh.n_points) * 3e5
    one = LumpedTransport(mesh, SHARP, 3e5, 1e-6)
    domains = (mesh.points[mesh.tets].mean(axis=1)[:, 0] > R / 3).astype(int)
    two = LumpedTransport(mesh, [SHARP, SHARP], [3e5, 3e5], 1e-6, domains=domains)
    np.testing.assert_allclose(two.rhs(y, 0), one.rhs(y, 0), rtol=1e-10, atol=1e-14)


def test_p2_node_eigenstrain_uniform_and_mean_stress(split):
    el = ElasticityProblem(split.parent, E, NU, refined=split, linear_solver="superlu")
    ev = np.full(el.n_field, OMEGA * 1.5e5)
    u = el.displacement(ev)
    _, stress = el.nodal_fields(u, ev)
    assert np.abs(stress).max() < 1e-10 * el.bulk * ev[0]
    # c = k x^2: quasi-steady stresses; the integral of each normal stress vanishes exactly
    x = np.linalg.norm(split.mesh.points, axis=1) / R
    ev = OMEGA * 1e5 * x**2
    _, stress = el.nodal_fields(el.displacement(ev), ev)
    s = 2 * OMEGA * E * 1e5 / (15 * (1 - NU))
    assert np.abs(von_mises(stress) - s * x**2).max() < 0.06 * s
    w = el.field_weights
    assert np.abs(w @ stress[:, :3]).max() < 1e-10 * s * w.sum()


def test_native_solve_on_p2_nodes_contract_and_positivity():
    material = get_preset("Si").with_(diffusivity=SHARP)
    model = LithiationModel(radius=R, material=material, specific_current=100.0, stop=StopCondition("dod", 0.4))
    numerics = Numerics(mesh=MeshOptions(element_size=math.pi * R / 12 * (1 + 1e-9)), transport="lumped-p2")
    sink = MemorySink()
    stats = get_backend("native").solve(model, OutputRequest(dods=(0.2, 0.4)), numerics, sink)
    frame = sink.frames[-1]
    assert stats.dofs["c"] == 3 * stats.dofs["u"] // 3 // 3 and set(frame.point_data) == set(FIELD_UNITS)
    assert len(frame.points) == stats.dofs["c"] and frame.cells["tetra"].max() == len(frame.points) - 1
    assert stats.extra["theta_min"] > -1e-3 and stats.extra["mass_balance_rel_error"] < 1e-8
    assert frame.dod == pytest.approx(0.4, abs=1e-10)


def test_factorisation_is_reused_by_a_second_run_on_the_same_mesh():
    model = LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 0.05))
    numerics = Numerics(mesh=MeshOptions(element_size=math.pi * R / 12 * (1 + 1e-9)))
    native = get_backend("native")
    first, second, other = MemorySink(), MemorySink(), MemorySink()
    s1 = native.solve(model, OutputRequest(dods=(0.05,)), numerics, first)
    s2 = native.solve(model, OutputRequest(dods=(0.05,)), numerics, second)
    softer = LithiationModel(
        radius=R, material=get_preset("Si").with_(youngs_modulus=40e9), specific_current=100.0, stop=StopCondition("dod", 0.05)
    )
    s3 = native.solve(softer, OutputRequest(dods=(0.05,)), numerics, other)
    assert s2.extra["factorisation_reused"] and not s3.extra["factorisation_reused"]
    np.testing.assert_array_equal(first.frames[-1].point_data["stress"], second.frames[-1].point_data["stress"])
    assert s1.extra["final_dod"] == s2.extra["final_dod"]
    vm_soft = other.frames[-1].point_data["von_mises"].max()
    assert vm_soft == pytest.approx(0.5 * first.frames[-1].point_data["von_mises"].max(), rel=1e-6)
