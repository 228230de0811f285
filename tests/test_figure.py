"""octant figure (the paper's Fig. 5 layout), ParaView export, native-vs-radial compare, step selection."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pytest.importorskip("pyvista")
pytest.importorskip("matplotlib")
from matplotlib.image import imread
from run_factory import analytic_study

from orchestrator.cli import main
from orchestrator.compare import compare_runs
from orchestrator.figure import make_figure, parse_clims
from orchestrator.paraview import export_paraview
from orchestrator.render import color_limits
from orchestrator.results import InvalidSelection, load_run


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same analytic two-run study stored as a 3D octant (native) and as a radial line."""
    root = tmp_path_factory.mktemp("fig")
    octant = analytic_study(root, name="oct", kind="octant", dods=(0.25, 0.5), divisions=4)
    radial = analytic_study(root, name="rad", kind="radial", dods=(0.25, 0.5))
    for runs, backend in ((octant, "native"), (radial, "radial")):  # what the solvers record
        for run in runs:
            run.write_provenance({**run.provenance, "backend": backend})
    return root, [load_run(r.path) for r in octant], [load_run(r.path) for r in radial]


def test_figure_layout_and_shared_limits(stores, tmp_path):
    _, octant, radial = stores
    runs = octant + radial[:1]
    out = tmp_path / "fig5.png"
    summary = make_figure(runs, ["theta", "von_mises"], [0.25, 0.5], out, panel_px=160, dpi=80)
    image = imread(out)[..., :3]
    assert image.shape[0] > 200 and image.shape[1] > image.shape[0]  # 4 columns (2 fields x 2 DODs), 3 rows
    assert 0.05 < np.any(image < 0.95, axis=-1).mean() < 0.9
    # one scale per field: the range over every run and both DODs
    for field in ("theta", "von_mises"):
        lo = min(r.field_range(field, [r.step(dod=0.25), r.step(dod=0.5)])[0] for r in runs)
        hi = max(r.field_range(field, [r.step(dod=0.25), r.step(dod=0.5)])[1] for r in runs)
        assert summary.clims[field] == pytest.approx(color_limits(field, (lo, hi)))
    # mixed backends: each row names its backend
    assert summary.rows == ["Si\nnative", "Si8.5Sn0.5Sb\nnative", "Si\nradial"]


def test_figure_clim_override_svg_and_errors(stores, tmp_path):
    _, octant, _ = stores
    out = tmp_path / "fig.svg"
    summary = make_figure(octant, ["theta"], [0.5], out, clims=parse_clims(["theta=0,1"]), panel_px=120, dpi=60)
    assert summary.clims["theta"] == (0.0, 1.0) and out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(InvalidSelection, match=r"no field step at DOD 0.4 \(stored DODs: 0.25, 0.5\)"):
        make_figure(octant, ["theta"], [0.4], tmp_path / "x.png")
    with pytest.raises(InvalidSelection, match="FIELD=LO,HI"):
        parse_clims(["theta=1,0"])
    with pytest.raises(InvalidSelection, match="use .png, .svg, .pdf"):
        make_figure(octant, ["theta"], [0.5], tmp_path / "x.jpg")
    assert not (tmp_path / "x.png").exists()


def test_cli_figure_accepts_a_study_name(stores, tmp_path, capsys):
    root, _, _ = stores
    out = tmp_path / "f.png"
    args = ["figure", "oct", "--runs-dir", str(root), "--fields", "theta", "--at", "dod=0.25,0.5", "-o", str(out)]
    assert main([*args, "--panel-size", "120"]) == 0 and out.exists()
    printed = capsys.readouterr()
    assert printed.out.count(str(out)) == 1 and str(out) not in printed.err  # the path is printed once
    assert main(["figure", "oct", "--runs-dir", str(root), "--at", "dod=2", "-o", str(out)]) == 1
    assert "outside the stored field steps" in capsys.readouterr().err


def test_out_of_range_selection_lists_the_stored_steps(stores):
    _, octant, _ = stores
    result = octant[0]
    assert result.step(dod=0.3).dod == pytest.approx(0.25) and result.step(dod=0.505).dod == pytest.approx(0.5)
    for bad in ({"dod": 2.0}, {"dod": -0.5}, {"time": 10 * result.times.max()}):
        with pytest.raises(InvalidSelection, match=r"outside the stored field steps.*\[0\] DOD 0.25.*\[1\] DOD 0.5"):
            result.step(**bad)


def test_plot_accepts_study_names_and_study_folders(stores, tmp_path, capsys):
    root, _, _ = stores
    for ref in ("oct", str(root / "oct")):
        out = tmp_path / "p.png"
        assert main(["plot", ref, "--runs-dir", str(root), "--kind", "dod", "-o", str(out)]) == 0
        assert "2 run(s)" in capsys.readouterr().out
    assert main(["plot", "nosuch", "--runs-dir", str(root)]) == 1
    assert "studies in" in capsys.readouterr().err


@pytest.mark.parametrize("order", ["native-radial", "radial-native"])
def test_compare_native_and_radial_in_either_order(stores, order):
    """The analytic fields are the same function of r: the differences are interpolation-sized."""
    _, octant, radial = stores
    a, b = (octant[0], radial[0]) if order == "native-radial" else (radial[0], octant[0])
    result = compare_runs(a.run, b.run)
    assert result.interpolated and {f.field for f in result.fields} >= {"theta", "stress", "displacement"}
    for name, tol in (("theta", 0.1), ("von_mises", 0.15), ("stress", 0.15), ("displacement", 0.05)):
        assert result.max_rel(name) < tol, (name, result.max_rel(name))


def test_paraview_export_mirrors_vectors_and_tensors(stores, tmp_path):
    import meshio

    _, octant, radial = stores
    for result in (octant[0], radial[0]):
        pvd = export_paraview(result, tmp_path / result.study, mirror=True, time_axis="dod")
        text = pvd.read_text()
        assert 'timestep="0.25' in text and 'timestep="0.5' in text
        mesh = meshio.read(pvd.parent / "fields" / "0001.vtu")
        p = mesh.points
        assert np.allclose(p.min(axis=0), -result.radius, rtol=0.02) and np.allclose(p.max(axis=0), result.radius, rtol=0.02)
        assert np.all(mesh.point_data["dod"] == pytest.approx(0.5))
        tets = mesh.cells_dict["tetra"]
        a, b, c, d = (p[tets[:, k]] for k in range(4))
        volumes = np.einsum("ij,ij->i", np.cross(b - a, c - a), d - a) / 6
        assert volumes.min() > 0 and volumes.sum() == pytest.approx(4 / 3 * np.pi * result.radius**3, rel=0.03)
        u, s = mesh.point_data["displacement"], mesh.point_data["stress"]  # (xx, yy, zz, yz, xz, xy)
        n = len(p) // 8  # block 0 is the octant itself, block 4 its mirror image across x = 0
        first, across_x = slice(0, n), slice(4 * n, 5 * n)
        assert np.allclose(p[across_x], p[first] * [-1, 1, 1])
        assert np.allclose(u[across_x], u[first] * [-1, 1, 1])
        assert np.allclose(s[across_x], s[first] * [1, 1, 1, 1, -1, -1])
        assert np.einsum("ij,ij->i", u, p).min() >= -1e-20  # swelling: outward everywhere
