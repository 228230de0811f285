"""COMSOL .mphtxt meshes: the parser on real COMSOL-written files, and write-then-read round trips.

The fixtures in ``tests/data/comsol`` were written by COMSOL (see their README): format
version 2 (``2solidcubes``: vtx/edg/tri/tet in two domains; ``tetrap2``: second-order ``tet2``) and
version 4 (``busbar_mesh``: COMSOL 6.2, 31021 tets in seven domains, a stored selection).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solvers.comsol.mphtxt import TET2_TO_VTK, ElementBlock, MphtxtMesh, read_mphtxt, tet_volumes, write_mphtxt
from solvers.errors import MeshError

FIXTURES = Path(__file__).resolve().parent / "data" / "comsol"  # COMSOL-written files; sources in its README


def test_version2_two_cubes():
    mesh = read_mphtxt(FIXTURES / "2solidcubes.mphtxt")
    assert mesh.version == 2
    assert mesh.points.shape == (18, 3)
    assert mesh.counts() == {"vtx": 16, "edg": 24, "tri": 24, "tet": 24}
    assert mesh.domain_ids() == [1, 2]
    # two unit cubes: [0,1]^3 and [2,3]^3
    assert mesh.volume() == pytest.approx(2.0, rel=1e-12)
    tet = mesh.elements["tet"]
    assert tet.connectivity.min() == 0 and tet.connectivity.max() == 17
    # the first cube's tets are domain 1, and all their vertices lie in [0, 1]^3
    first = tet.connectivity[tet.domains == 1]
    assert mesh.points[first].max() <= 1.0
    # lower-dimensional entity indices are 0-based in COMSOL files
    assert mesh.elements["tri"].domains.min() == 0


def test_version2_second_order_tets():
    mesh = read_mphtxt(FIXTURES / "tetrap2.mphtxt")
    assert mesh.points.shape == (63, 3)
    assert mesh.counts() == {"vtx": 8, "edg2": 12, "tri2": 24, "tet2": 24}
    tet2 = mesh.elements["tet2"].connectivity
    assert tet2.shape == (24, 10)
    assert mesh.volume() == pytest.approx(1.0, rel=1e-12)
    # COMSOL's tet2 node order: corners, then midpoints of edges 01, 02, 12, 03, 13, 23
    p = mesh.points[tet2]
    for node, (i, j) in zip(range(4, 10), [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]):
        np.testing.assert_allclose(p[:, node], 0.5 * (p[:, i] + p[:, j]), atol=1e-12)
    # the VTK permutation puts edge 12 second: tetra10 order 01, 12, 02, 03, 13, 23
    vtk = p[:, TET2_TO_VTK]
    np.testing.assert_allclose(vtk[:, 5], 0.5 * (p[:, 1] + p[:, 2]), atol=1e-12)


def test_version4_busbar():
    mesh = read_mphtxt(FIXTURES / "busbar_mesh.mphtxt")
    assert mesh.version == 4
    assert mesh.points.shape == (7340, 3)
    assert mesh.counts() == {"vtx": 52, "edg": 700, "tri": 9138, "tet": 31021}
    assert mesh.domain_ids() == [1, 2, 3, 4, 5, 6, 7]
    assert mesh.volume() == pytest.approx(4.961929155621409e-05, rel=1e-9)
    tet = mesh.elements["tet"]
    per_domain = [tet_volumes(mesh.points, tet.connectivity[tet.domains == d]).sum() for d in mesh.domain_ids()]
    assert all(v > 0 for v in per_domain) and sum(per_domain) == pytest.approx(mesh.volume(), rel=1e-12)
    [selection] = mesh.selections
    assert (selection.label, selection.tag, selection.dimension) == ("Ti bolts", "mesh1_sel1", 3)
    assert selection.entities.tolist() == [2, 3, 4, 5, 6, 7]
    # every vertex is used by some tetrahedron
    assert np.unique(mesh.elements["tet"].connectivity).size == 7340


@pytest.mark.parametrize("name", ["2solidcubes", "tetrap2", "busbar_mesh"])
@pytest.mark.parametrize("version", [2, 4])
def test_round_trip_of_real_files(tmp_path, name, version):
    original = read_mphtxt(FIXTURES / f"{name}.mphtxt")
    original.version = version
    write_mphtxt(tmp_path / "copy.mphtxt", original)
    again = read_mphtxt(tmp_path / "copy.mphtxt")
    assert again.version == version
    np.testing.assert_array_equal(again.points, original.points)
    assert list(again.elements) == list(original.elements)
    for kind, block in original.elements.items():
        np.testing.assert_array_equal(again.elements[kind].connectivity, block.connectivity)
        np.testing.assert_array_equal(again.elements[kind].domains, block.domains)
    assert [(s.label, s.tag, s.dimension, s.entities.tolist()) for s in again.selections] == [
        (s.label, s.tag, s.dimension, s.entities.tolist()) for s in original.selections
    ]


def test_lowest_vertex_index_is_honoured(tmp_path):
    mesh = MphtxtMesh(
        points=np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]]),
        elements={"tet": ElementBlock(np.array([[0, 1, 2, 3]]), np.array([1]))},
    )
    write_mphtxt(tmp_path / "one.mphtxt", mesh)
    text = (tmp_path / "one.mphtxt").read_text()
    # renumber as a file whose first vertex index is 1
    text = text.replace("0 # lowest mesh vertex index", "1 # lowest mesh vertex index").replace("\n0 1 2 3 \n", "\n1 2 3 4 \n")
    (tmp_path / "one_based.mphtxt").write_text(text)
    again = read_mphtxt(tmp_path / "one_based.mphtxt")
    assert again.elements["tet"].connectivity.tolist() == [[0, 1, 2, 3]]
    assert again.volume() == pytest.approx(1 / 6)


def test_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.mphtxt"
    bad.write_text("# Created by COMSOL\n0 1\n1 # number of tags\n5 mesh1\n1 # number of types\n3 obj\n0 0 1\n4 Mesh # class\n4 # version\n3 # sdim\nx # number of mesh vertices\n")
    with pytest.raises(MeshError, match=r"bad\.mphtxt: line \d+"):
        read_mphtxt(bad)
    with pytest.raises(MeshError, match="cannot read"):
        read_mphtxt(tmp_path / "missing.mphtxt")
    no_tets = MphtxtMesh(points=np.zeros((1, 3)), elements={"vtx": ElementBlock(np.array([[0]]), np.array([0]))})
    with pytest.raises(MeshError, match="no tetrahedra"):
        no_tets.volume()
    with pytest.raises(MeshError, match="entity indices"):
        ElementBlock(np.array([[0, 1, 2, 3]]), np.array([1, 2]))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(
    n_points=st.integers(4, 40),
    n_tets=st.integers(1, 30),
    version=st.sampled_from([2, 4]),
    seed=st.integers(0, 2**16),
)
def test_random_meshes_round_trip(tmp_path_factory, n_points, n_tets, version, seed):
    rng = np.random.default_rng(seed)
    mesh = MphtxtMesh(
        points=rng.normal(size=(n_points, 3)) * 10.0 ** rng.integers(-7, 3),
        elements={
            "vtx": ElementBlock(rng.integers(0, n_points, (3, 1)), np.arange(3)),
            "tri": ElementBlock(rng.integers(0, n_points, (5, 3)), rng.integers(0, 4, 5)),
            "tet": ElementBlock(rng.integers(0, n_points, (n_tets, 4)), rng.integers(1, 4, n_tets)),
        },
        version=version,
    )
    path = tmp_path_factory.mktemp("m") / "r.mphtxt"
    write_mphtxt(path, mesh)
    again = read_mphtxt(path)
    np.testing.assert_array_equal(again.points, mesh.points)
    for kind, block in mesh.elements.items():
        np.testing.assert_array_equal(again.elements[kind].connectivity, block.connectivity)
        np.testing.assert_array_equal(again.elements[kind].domains, block.domains)
    assert again.volume() == pytest.approx(mesh.volume(), rel=1e-12, abs=1e-300)
