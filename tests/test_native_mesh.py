"""Native solver: quadrature, bases, the generated octant mesh and its topology."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from solvers.api import MeshOptions
from solvers.errors import MeshError
from solvers.native.basis import barycentric_gradients, basis_gradients, basis_values
from solvers.native.mesh import SIZE_PRESETS, divisions_for, generate_octant_mesh, mesh_from_options
from solvers.native.quadrature import tetrahedron_rule
from solvers.native.topology import boundary_faces, p2_connectivity

R = 4.11e-6


@pytest.mark.parametrize("degree", [1, 2, 5])
def test_quadrature_exact_for_barycentric_monomials(degree):
    rule = tetrahedron_rule(degree)
    assert rule.weights.sum() == pytest.approx(1.0, abs=1e-15)
    assert np.all(rule.weights > 0) and np.allclose(rule.lambdas.sum(axis=1), 1.0)
    for powers in itertools.product(range(degree + 1), repeat=4):
        if sum(powers) > degree:
            continue
        numeric = float(rule.weights @ np.prod(rule.lambdas ** np.array(powers), axis=1))
        exact = 6.0 * np.prod([math.factorial(p) for p in powers]) / math.factorial(sum(powers) + 3)
        assert numeric == pytest.approx(exact, rel=1e-13, abs=1e-16)


def test_quadrature_degree_5_not_exact_for_degree_6():
    rule = tetrahedron_rule(5)
    numeric = float(rule.weights @ rule.lambdas[:, 0] ** 6)
    exact = 6.0 * math.factorial(6) / math.factorial(9)
    assert abs(numeric - exact) > 1e-6 * exact


def test_p2_basis_partition_of_unity_nodal_and_gradients():
    pts = np.array([[0.0, 0, 0], [1.0, 0.1, 0], [0.2, 1.1, 0], [0.1, 0.3, 0.9]])
    tets = np.array([[0, 1, 2, 3]])
    gl, vol = barycentric_gradients(pts, tets)
    assert vol[0] > 0
    rng = np.random.default_rng(0)
    lam = rng.dirichlet(np.ones(4))
    assert basis_values(2, lam).sum() == pytest.approx(1.0)
    assert np.allclose(basis_gradients(2, lam, gl).sum(axis=1), 0.0, atol=1e-12)
    # nodal: phi_a(node_b) = delta_ab at the vertices and edge midpoints
    from solvers.native.basis import P2_EDGES

    nodes = np.vstack([np.eye(4), 0.5 * (np.eye(4)[P2_EDGES[:, 0]] + np.eye(4)[P2_EDGES[:, 1]])])
    vals = np.array([basis_values(2, n) for n in nodes])
    assert np.allclose(vals, np.eye(10), atol=1e-14)
    # gradients reproduce a quadratic exactly: f = x^2 + y z
    x = np.vstack([pts, 0.5 * (pts[P2_EDGES[:, 0]] + pts[P2_EDGES[:, 1]])])
    f = x[:, 0] ** 2 + x[:, 1] * x[:, 2]
    point = lam @ pts
    grad = basis_gradients(2, lam, gl)[0].T @ f
    assert np.allclose(grad, [2 * point[0], point[2], point[1]], atol=1e-12)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_generated_mesh_structure(n):
    mesh = generate_octant_mesh(R, n, 3.0)
    assert mesh.n_points == (n + 1) ** 3 and mesh.n_tets == 6 * n**3
    assert np.all(mesh.volumes > 0)
    assert mesh.info["quality_min"] > 0.5
    assert np.allclose(np.linalg.norm(mesh.points[mesh.sphere_vertices], axis=1), R, rtol=1e-14)
    assert np.all(mesh.points >= 0.0)
    assert np.linalg.norm(mesh.points[mesh.center]) == 0.0
    faces, _, _ = boundary_faces(mesh.tets, mesh.n_points)
    tagged = len(mesh.sphere_faces) + sum(len(f) for f in mesh.plane_faces)
    assert tagged == len(faces) == 12 * n * n  # 3 planes + 3 cube faces mapped to the sphere, 2 n^2 each
    assert len(mesh.sphere_faces) == 6 * n * n
    for axis, faces_on_plane in enumerate(mesh.plane_faces):
        assert len(faces_on_plane) == 2 * n * n
        assert np.all(mesh.points[faces_on_plane][:, :, axis] == 0.0)
    # outward orientation: sphere normals point away from the origin
    a, b, c = (mesh.points[mesh.sphere_faces[:, k]] for k in range(3))
    assert np.all(np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) > 0)


def test_volume_and_area_converge_at_second_order():
    errors_v, errors_a = [], []
    for n in (4, 8, 16):
        mesh = generate_octant_mesh(R, n, 3.0)
        errors_v.append(abs(mesh.volume / (math.pi * R**3 / 6) - 1))
        errors_a.append(abs(mesh.sphere_area / (math.pi * R**2 / 2) - 1))
    for errs in (errors_v, errors_a):
        orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
        assert np.all(orders > 1.9), orders
    assert errors_v[-1] < 1e-3


def test_grading_ratio_of_radial_sizes():
    n, grading = 10, 4.0
    mesh = generate_octant_mesh(R, n, grading)
    axis = np.flatnonzero((mesh.points[:, 1] == 0) & (mesh.points[:, 2] == 0))
    r = np.sort(mesh.points[axis, 0])
    h = np.diff(r)
    assert r[-1] == pytest.approx(R)
    # quadratic map: first/last cell ratio -> G as n grows; within a cell of it here
    assert h[0] / h[-1] == pytest.approx(grading, rel=2.0 / n)
    assert np.all(np.diff(h) < 0)  # finer toward the surface
    uniform = generate_octant_mesh(R, n, 1.0)
    r_u = np.sort(uniform.points[(uniform.points[:, 1] == 0) & (uniform.points[:, 2] == 0), 0])
    assert np.allclose(np.diff(r_u), R / n)


def test_p2_connectivity_counts_and_midpoints():
    mesh = generate_octant_mesh(R, 3)
    conn, edges = p2_connectivity(mesh.tets, mesh.n_points)
    # Euler for a ball: V - E + F - T = 1
    faces_all = np.unique(
        np.sort(mesh.tets[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]].reshape(-1, 3), axis=1), axis=0
    )
    assert mesh.n_points - len(edges) + len(faces_all) - mesh.n_tets == 1
    assert conn.max() == mesh.n_points + len(edges) - 1
    # the 6 edge nodes of each element are the right vertex pairs (tetra10 order)
    from solvers.native.basis import P2_EDGES

    pairs = np.sort(mesh.tets[:, P2_EDGES], axis=2)
    assert np.array_equal(edges[conn[:, 4:] - mesh.n_points], pairs)


def test_presets_and_element_size():
    assert divisions_for(MeshOptions(size="coarse"), R) == SIZE_PRESETS["coarse"]
    n_medium = SIZE_PRESETS["medium"]
    assert 3 * (2 * n_medium + 1) ** 3 <= 100_000  # medium P2: ~100k displacement unknowns or fewer
    h = 0.2e-6
    n = divisions_for(MeshOptions(element_size=h), R)
    assert n == math.ceil(math.pi * R / (4 * h))
    mesh = mesh_from_options(MeshOptions(element_size=h, surface_grading=2.0), R)
    # tangential size at the surface is at most h (arc of the equiangular map)
    arc = np.linalg.norm(mesh.points[mesh.sphere_faces[:, 0]] - mesh.points[mesh.sphere_faces[:, 1]], axis=1)
    assert arc.max() <= 1.5 * h


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"radius": -1.0, "divisions": 2}, "radius"),
        ({"radius": R, "divisions": 0}, "divisions"),
        ({"radius": R, "divisions": 2, "grading": 0.5}, "surface_grading"),
    ],
)
def test_generation_rejects_bad_input(kwargs, message):
    with pytest.raises(MeshError, match=message):
        generate_octant_mesh(**kwargs)


def test_bad_options_raise_mesh_errors():
    with pytest.raises(MeshError, match="element_size"):
        divisions_for(MeshOptions(element_size=-1.0), R)
    with pytest.raises(MeshError, match="cells per cube edge"):
        divisions_for(MeshOptions(element_size=R / 1000), R)
