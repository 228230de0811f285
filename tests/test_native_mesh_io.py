"""Native solver: importing octant meshes from .msh (meshio) and .mphtxt (COMSOL) files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solvers.api import MeshOptions
from solvers.errors import MeshError
from solvers.native.mesh import generate_octant_mesh, mesh_from_options
from solvers.native.mesh_io import octant_from_arrays, read_octant_mesh
from solvers.api import MemorySink

R = 4.11e-6
FIXTURES = Path(__file__).resolve().parent / "data" / "comsol"  # COMSOL-written files; sources in its README


def assert_same_mesh(a, b):
    assert a.n_points == b.n_points and a.n_tets == b.n_tets
    assert a.volume == pytest.approx(b.volume, rel=1e-12)
    assert a.sphere_area == pytest.approx(b.sphere_area, rel=1e-12)
    assert [len(f) for f in a.plane_faces] == [len(f) for f in b.plane_faces]
    assert np.linalg.norm(b.points[b.center]) == 0.0


def test_msh_round_trip(tmp_path):
    meshio = pytest.importorskip("meshio")
    mesh = generate_octant_mesh(R, 4)
    # shuffle vertex numbering and flip some element orientations: the reader must not care
    rng = np.random.default_rng(1)
    perm = rng.permutation(mesh.n_points)
    inv = np.argsort(perm)
    tets = inv[mesh.tets]
    tets[::3] = tets[::3][:, [1, 0, 2, 3]]
    path = tmp_path / "octant.msh"
    meshio.write(path, meshio.Mesh(mesh.points[perm], [("tetra", tets)]), file_format="gmsh22", binary=False)
    back = read_octant_mesh(path, radius=R)
    assert_same_mesh(mesh, back)
    assert np.all(back.volumes > 0)
    assert back.source == str(path)
    via_options = mesh_from_options(MeshOptions(file=str(path)), R)
    assert_same_mesh(mesh, via_options)


def test_mphtxt_round_trip_with_tet2(tmp_path):
    mphtxt = pytest.importorskip("solvers.comsol.mphtxt")
    from solvers.native.topology import p2_connectivity

    mesh = generate_octant_mesh(R, 3)
    conn, edges = p2_connectivity(mesh.tets, mesh.n_points)
    mid = 0.5 * (mesh.points[edges[:, 0]] + mesh.points[edges[:, 1]])
    points = np.vstack([mesh.points, mid])
    comsol_order = conn[:, np.argsort(mphtxt.TET2_TO_VTK)]  # tetra10 -> COMSOL tet2 node order
    block = mphtxt.ElementBlock(connectivity=comsol_order, domains=np.ones(len(conn), dtype=int))
    path = tmp_path / "octant.mphtxt"
    mphtxt.write_mphtxt(path, mphtxt.MphtxtMesh(points=points, elements={"tet2": block}))
    back = read_octant_mesh(path, radius=R)
    assert_same_mesh(mesh, back)  # mid-side nodes dropped


def test_micrometre_coordinates_are_reported(tmp_path):
    meshio = pytest.importorskip("meshio")
    mesh = generate_octant_mesh(R, 2)
    path = tmp_path / "um.msh"
    meshio.write(path, meshio.Mesh(mesh.points * 1e6, [("tetra", mesh.tets)]), file_format="gmsh22", binary=False)
    with pytest.raises(MeshError, match="micrometres"):
        read_octant_mesh(path, radius=R)


def test_not_an_octant_is_rejected():
    mesh = generate_octant_mesh(R, 3)
    # mirror to x <= 0: coordinates below zero
    with pytest.raises(MeshError, match="x, y, z >= 0"):
        octant_from_arrays(mesh.points * np.array([-1.0, 1.0, 1.0]), mesh.tets, R)
    # a cube corner (no sphere): boundary faces on x = R etc. are neither planes nor sphere
    cube = generate_octant_mesh(R, 2)
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    with pytest.raises(MeshError, match="neither on a symmetry plane"):
        octant_from_arrays(grid * R / np.sqrt(3), cube.tets, R)
    with pytest.raises(MeshError, match="domains"):
        octant_from_arrays(mesh.points, mesh.tets, R, domains=np.arange(mesh.n_tets) % 2)


def test_comsol_fixtures_are_not_octants():
    pytest.importorskip("solvers.comsol.mphtxt")
    for name in ("2solidcubes.mphtxt", "tetrap2.mphtxt"):
        path = FIXTURES / name
        if not path.is_file():
            pytest.skip(f"fixture {path} missing")
        with pytest.raises(MeshError):
            read_octant_mesh(path, radius=R)
    # a real COMSOL tet2 unit cube at its own radius: the faces x = 1 etc. are neither planes nor sphere
    with pytest.raises(MeshError, match="neither on a symmetry plane"):
        read_octant_mesh(FIXTURES / "tetrap2.mphtxt", radius=3**0.5)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(MeshError, match="not found"):
        read_octant_mesh(tmp_path / "nope.msh", radius=R)
    other = tmp_path / "mesh.stl"
    other.write_text("solid x\nendsolid x\n")
    with pytest.raises(MeshError, match="unknown format"):
        read_octant_mesh(other, radius=R)


def test_gmsh_octant_file_runs_end_to_end(tmp_path):
    """A real gmsh (OpenCASCADE) octant, exported in metres, read and solved by the native backend."""
    gmsh = pytest.importorskip("gmsh")
    import math

    from models import LithiationModel, StopCondition, get_preset
    from solvers.api import Numerics, OutputRequest
    from solvers.native import solve

    path = tmp_path / "octant.msh"
    gmsh.initialize()
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("octant")
        gmsh.model.occ.addSphere(0, 0, 0, 1.0, -1, 0, math.pi / 2, math.pi / 2)
        gmsh.model.occ.synchronize()
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.3)
        gmsh.option.setNumber("Mesh.ScalingFactor", R)  # unit sphere -> metres on export
        gmsh.model.mesh.generate(3)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()
    mesh = read_octant_mesh(path, radius=R)
    assert mesh.volume == pytest.approx(math.pi * R**3 / 6, rel=0.03)
    assert all(len(f) > 0 for f in mesh.plane_faces) and len(mesh.sphere_faces) > 0


    model = LithiationModel(
        radius=R, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 0.05)
    )
    sink = MemorySink()
    stats = solve(model, OutputRequest(dods=(0.05,)), Numerics(mesh=MeshOptions(file=str(path))), sink)
    assert stats.extra["mesh"]["source"] == str(path)
    assert sink.frames[-1].dod == pytest.approx(0.05, abs=1e-12)
    assert stats.extra["mass_balance_rel_error"] < 1e-8
