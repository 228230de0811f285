"""COMSOL results -> stored runs (``import-comsol``), ``compare`` and ``mesh-info``.

Two kinds of input: the real COMSOL 6.2 export of the busbar fixture (its rows are a permutation of
the mesh vertices, as COMSOL writes them), and synthetic exports in COMSOL's layout on an octant
mesh written with :func:`write_mphtxt`, whose fields are linear in x (so that the lumped volume
integral, and linear interpolation between meshes, are exact and the checks can be tight).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models import LithiationModel
from orchestrator.cli import main
from orchestrator.compare import compare_runs
from orchestrator.comsol_import import import_comsol, import_into_run, resolve_import_spec
from orchestrator.errors import SpecError, StoreError
from orchestrator.spec import study_from_dict
from orchestrator.store import Run, RunStore
from solvers.comsol.mphtxt import ElementBlock, MphtxtMesh, write_mphtxt
from solvers.comsol.spreadsheet import SpreadsheetColumn, SpreadsheetData, write_spreadsheet
from solvers.errors import SolverError

FIXTURES = Path(__file__).resolve().parent / "data" / "comsol"  # COMSOL-written files; sources in its README

R = 4.11e-6
SPEC = {
    "spec_version": 1,
    "name": "cmp",
    "backend": "comsol",
    "model": {"particle": {"radius": "4.11 um"}, "material": "Si", "loading": {"specific_current": "0.1 A/g", "stop": {"dod": 0.5}}},
    "outputs": {"fields_at": {"dod": [0.25, 0.5]}},
}
STRESS = ("solid.sx", "solid.sy", "solid.sz", "solid.syz", "solid.sxz", "solid.sxy")


def octant_mesh(radius: float = R, n_r: int = 4, n_a: int = 6) -> MphtxtMesh:
    """A tetrahedral mesh of the octant (Delaunay of points on spherical shells; the hull is convex)."""
    from scipy.spatial import Delaunay

    pts = [np.zeros(3)]
    for r in np.linspace(radius / n_r, radius, n_r):
        th, ph = np.meshgrid(np.linspace(0, np.pi / 2, n_a), np.linspace(0, np.pi / 2, n_a))
        shell = r * np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
        pts.append(shell)
    points = np.unique(np.round(np.vstack(pts), 20), axis=0)
    tets = Delaunay(points).simplices
    p = points[tets]
    vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0], np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6
    tets = tets[vol > 1e-12 * radius**3]
    return MphtxtMesh(points=points, elements={"tet": ElementBlock(tets, np.ones(len(tets), dtype=int))})


def fields(points: np.ndarray, t: float, model: LithiationModel) -> dict[str, np.ndarray]:
    """Linear-in-x fields; mean c over the exact octant is c_max * t / t_full (x centroid 3R/8)."""
    x = points[:, 0] / model.radius
    c = model.c_max * t / model.full_lithiation_time * (1.0 + 0.5 * (x - 3.0 / 8.0))
    out = {"c": c, "u": 1e-9 * x, "v": 0 * x, "w": 0 * x, "solid.mises": 1e8 * x, "solid.evol": 1e-3 * x}
    for k, name in enumerate(STRESS):
        out[name] = (k + 1) * 1e7 * x
    return out


def write_synthetic_export(folder: Path, model: LithiationModel, times, mesh: MphtxtMesh | None = None, seed: int = 0):
    """mesh.mphtxt + fields.txt in COMSOL's layout (rows shuffled like COMSOL's); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    mesh = mesh or octant_mesh()
    write_mphtxt(folder / "mesh.mphtxt", mesh)
    order = np.random.default_rng(seed).permutation(len(mesh.points))
    pts = mesh.points[order]
    units = {"c": "mol/m^3", "u": "m", "v": "m", "w": "m", "solid.mises": "Pa", "solid.evol": "1", **{s: "Pa" for s in STRESS}}
    columns, values = [], []
    for t in times:
        for name, vals in fields(pts, float(t), model).items():
            columns.append(SpreadsheetColumn(name, units[name], float(t), "t"))
            values.append(vals)
    data = SpreadsheetData(pts, columns, np.stack(values, axis=1), {"Model": "octant.mph", "Version": "COMSOL 6.2.0.290", "Length unit": "m"})
    write_spreadsheet(folder / "fields.txt", data)
    return folder / "mesh.mphtxt", folder / "fields.txt"


def test_import_real_comsol_export_via_cli(tmp_path, capsys):
    runs = tmp_path / "runs"
    code = main(["import-comsol", str(FIXTURES / "busbar_result.txt"), "--mesh", str(FIXTURES / "busbar_mesh.mphtxt"),
                 "--study", "busbar", "--runs-dir", str(runs)])
    assert code == 0
    [run] = list(RunStore(runs).iter_runs("busbar"))
    assert run.state == "done"
    assert run.spec.backend == "comsol"
    prov = run.provenance
    assert prov["comsol_version"] == "COMSOL 6.2.0.290" and prov["model_assumed"] is True
    assert len(prov["source_files"]) == 2
    [(time, vtu)] = run.field_steps()
    import meshio

    grid = meshio.read(vtu)
    assert grid.points.shape == (7340, 3)
    assert grid.cells_dict["tetra"].shape == (31021, 4)
    # the export's rows were matched to the mesh vertices by position: values follow the points
    from solvers.comsol.spreadsheet import read_spreadsheet

    data = read_spreadsheet(FIXTURES / "busbar_result.txt")
    k = 1234
    row = np.flatnonzero((data.coords == grid.points[k]).all(axis=1))[0]
    assert grid.point_data["T"][k] == data.column("T")[row]
    assert sorted(np.unique(grid.cell_data["material"][0])) == [1, 2, 3, 4, 5, 6, 7]
    # a second import of the same spec is refused unless forced
    assert main(["import-comsol", str(FIXTURES / "busbar_result.txt"), "--mesh", str(FIXTURES / "busbar_mesh.mphtxt"),
                 "--study", "busbar", "--runs-dir", str(runs)]) == 1
    assert "--force" in capsys.readouterr().err
    # mesh-info of the same mesh
    assert main(["mesh-info", str(FIXTURES / "busbar_mesh.mphtxt"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["vertices"] == 7340 and info["elements"]["tet"] == 31021 and info["domains"] == [1, 2, 3, 4, 5, 6, 7]
    assert info["volume"] == pytest.approx(4.961929155621409e-05, rel=1e-9)


def test_export_of_another_mesh_is_refused(tmp_path):
    spec, _ = resolve_import_spec(None, study="x")
    with pytest.raises(SolverError, match="have no data row"):
        import_comsol(FIXTURES / "busbar_result.txt", FIXTURES / "2solidcubes.mphtxt", RunStore(tmp_path), spec)
    [run] = list(RunStore(tmp_path).iter_runs())
    assert run.state == "failed"


def test_import_with_spec_gives_scalars_and_theta(tmp_path):
    spec_file = tmp_path / "cmp.yaml"
    import yaml

    spec_file.write_text(yaml.safe_dump(SPEC))
    run_spec, assumed = resolve_import_spec(spec_file)
    assert not assumed and run_spec.backend == "comsol"
    model = run_spec.model()
    times = [0.0, 0.25 * model.full_lithiation_time, 0.5 * model.full_lithiation_time]
    mesh_path, data_path = write_synthetic_export(tmp_path / "export", model, times)
    run = import_comsol(data_path, mesh_path, RunStore(tmp_path / "runs"), run_spec)
    assert run.state == "done"
    s = run.scalars()
    np.testing.assert_allclose(s["time_s"], times)
    # DOD from the lumped volume integral of a linear c: exact on the mesh, ~ t / t_full on the octant
    np.testing.assert_allclose(s["dod"], [0.0, 0.25, 0.5], atol=0.02)
    np.testing.assert_allclose(s["theta_mean"], s["dod"], rtol=1e-12)
    # the surface max is at x = R (largest c), the centre value at x = 0
    np.testing.assert_allclose(s["theta_surface_max"][1:], [0.25 * (1 + 0.5 * 5 / 8), 0.5 * (1 + 0.5 * 5 / 8)], rtol=1e-9)
    np.testing.assert_allclose(s["theta_center"][1:], [0.25 * (1 - 0.5 * 3 / 8), 0.5 * (1 - 0.5 * 3 / 8)], rtol=1e-9)
    np.testing.assert_allclose(s["von_mises_max"], 1e8, rtol=1e-9)
    import meshio

    grid = meshio.read(run.field_steps()[-1][1])
    pd = grid.point_data
    np.testing.assert_allclose(pd["theta"], pd["c"] / model.c_max)
    x = grid.points[:, 0] / R
    np.testing.assert_allclose(pd["stress"][:, 3], 4e7 * x, atol=1e-3)  # syz -> Voigt index 3
    np.testing.assert_allclose(pd["hydrostatic"], 2e7 * x, atol=1e-3)
    np.testing.assert_allclose(pd["displacement"][:, 0], 1e-9 * x, atol=1e-20)
    assert pd["max_principal_stress"].shape == (len(x),)


def test_compare_interpolates_between_meshes(tmp_path):
    runs = RunStore(tmp_path / "runs")
    a_spec = resolve_import_spec(None, study="a")[0]
    b_spec = resolve_import_spec(None, study="b")[0]
    model = a_spec.model()
    times = [0.0, 0.5 * model.full_lithiation_time]
    ma, da = write_synthetic_export(tmp_path / "a", model, times, octant_mesh(n_r=3, n_a=5))
    mb, db = write_synthetic_export(tmp_path / "b", model, times, octant_mesh(n_r=5, n_a=7), seed=3)
    run_a = import_comsol(da, ma, runs, a_spec)
    run_b = import_comsol(db, mb, runs, b_spec)
    result = compare_runs(run_a, run_b)
    assert result.interpolated and not result.only_in_a and not result.only_in_b
    names = {f.field for f in result.fields}
    assert {"c", "theta", "stress", "von_mises", "displacement", "volumetric_strain"} <= names
    # the fields are linear: interpolation between the two meshes is exact up to round-off
    for f in result.fields:
        assert f.max_rel < 1e-6, f
    # and a real difference is seen: compare against itself with c changed
    out = tmp_path / "c"
    mesh = octant_mesh(n_r=3, n_a=5)
    mc, dc = write_synthetic_export(out, model, times, mesh)
    text = dc.read_text().splitlines()
    from solvers.comsol.spreadsheet import read_spreadsheet

    data = read_spreadsheet(dc)
    data.values[:, data.columns.index(SpreadsheetColumn("c", "mol/m^3", times[1], "t"))] *= 1.01
    write_spreadsheet(dc, data)
    assert text[0].startswith("% Model")
    run_c = import_comsol(dc, mc, runs, resolve_import_spec(None, study="c")[0])
    diff = compare_runs(run_a, run_c)
    assert not diff.interpolated
    assert diff.max_rel("c") == pytest.approx(0.01, rel=1e-6)
    assert diff.max_rel("stress") == 0.0
    # CLI, JSON form
    assert main(["compare", str(run_a.path), str(run_c.path), "--json"]) == 0


def test_import_into_a_prepared_run_checks_the_batch_log(tmp_path):
    runs = RunStore(tmp_path / "runs")
    run_spec = study_from_dict(SPEC).runs()[0]
    run = runs.prepare(run_spec)
    log = tmp_path / "batch.log"
    log.write_text("Running study std1\nERROR: Undefined variable.\n- Variable: D_Li\ncom.comsol.util.exceptions.FlException\n")
    with pytest.raises(SolverError, match="Undefined variable"):
        import_into_run(run.path, tmp_path / "none.txt", tmp_path / "none.mphtxt", batch_log=log)
    assert Run(run.path).state == "failed"
    assert "batch log" in Run(run.path).status["error"]
    # a clean log with results -> done, fields at the spec's DODs only
    from solvers.comsol.builder import study_times

    model = run_spec.model()
    stored, field_times = study_times(model, run_spec.outputs())
    mesh, data = write_synthetic_export(tmp_path / "ok", model, stored)
    log.write_text("Running study std1\nSolution time: 12 s\n")
    done = import_into_run(run.path, data, mesh, batch_log=log, exit_code=0)
    assert done.state == "done"
    np.testing.assert_allclose([t for t, _ in done.field_steps()], field_times)
    assert len(done.scalars()["time_s"]) == len(stored)
    with pytest.raises(SolverError, match="exited with code 7"):
        import_into_run(run.path, data, mesh, batch_log=log, exit_code=7)


def test_spec_selection_errors(tmp_path):
    import yaml

    sweep = {**SPEC, "sweep": {"grid": {"model.material": ["Si", "Si8.5Sn0.5Sb"]}}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    with pytest.raises(SpecError, match="2 runs"):
        resolve_import_spec(path)
    spec, _ = resolve_import_spec(path, run="1")
    assert spec.spec.model.material.name == "Si8.5Sn0.5Sb"
    with pytest.raises(StoreError, match="no such file"):
        import_comsol(tmp_path / "x.txt", tmp_path / "y.mphtxt", RunStore(tmp_path), spec)


def test_mesh_info_of_a_gmsh_file(tmp_path, capsys):
    import meshio

    mesh = octant_mesh()
    tets = mesh.elements["tet"].connectivity
    grid = meshio.Mesh(mesh.points, [("tetra", tets)], cell_data={"gmsh:physical": [np.full(len(tets), 7)],
                                                                   "gmsh:geometrical": [np.ones(len(tets), dtype=int)]})
    meshio.write(tmp_path / "octant.msh", grid, file_format="gmsh22")
    assert main(["mesh-info", str(tmp_path / "octant.msh"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["elements"] == {"tetra": len(tets)} and info["domains"] == [7]
    assert info["volume"] == pytest.approx(mesh.volume(), rel=1e-12)
    assert info["volume"] == pytest.approx(np.pi * R**3 / 6, rel=0.1)  # the octant, facetted
    assert main(["mesh-info", str(tmp_path / "octant.vtu")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_vertex_only_export_on_a_second_order_mesh(tmp_path):
    """tetrap2 (COMSOL tet2): data at the 14 corner vertices only; midpoints are edge means."""
    from solvers.comsol.mphtxt import read_mphtxt
    from solvers.comsol.results import convert_results

    mesh = read_mphtxt(FIXTURES / "tetrap2.mphtxt")
    corners = np.unique(mesh.elements["tet2"].connectivity[:, :4])
    pts = mesh.points[corners]
    data = SpreadsheetData(pts, [SpreadsheetColumn("T", "K")], (3.0 + pts @ [1.0, 2.0, 4.0])[:, None], {"Length unit": "m"})
    result = convert_results(mesh, data)
    [frame] = result.frames
    np.testing.assert_allclose(frame.point_data["T"], 3.0 + mesh.points @ [1.0, 2.0, 4.0], rtol=1e-12)
    assert frame.cells["tetra10"].shape == (24, 10)
    assert any("midpoints" in n for n in result.notes)
