"""orchestrator.plots: radial profiles, max von Mises, DOD; overlays with legends; CLI ``plot``."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pytest.importorskip("pyvista")
pytest.importorskip("matplotlib")
from matplotlib.image import imread
from run_factory import analytic_study, shared_real_study

from orchestrator.cli import main
from orchestrator.plots import (
    PLOT_KINDS,
    legend_labels,
    make_plot,
    plot_max_von_mises,
    plot_radial,
)
from orchestrator.results import InvalidSelection, MissingFieldsError, load_run


@pytest.fixture(scope="module")
def octant():
    """Real quick native 3D runs: Si and Si8.5Sn0.5Sb, fields at DOD 0.25 and 0.5."""
    root, runs = shared_real_study("native")
    return root, [load_run(r.path) for r in runs]


@pytest.fixture(scope="module")
def radial():
    root, runs = shared_real_study("radial")
    return root, [load_run(r.path) for r in runs]


def _legend_texts(fig) -> set[str]:
    return {t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()}


@pytest.mark.parametrize("kind", sorted(PLOT_KINDS))
@pytest.mark.parametrize("which", ["octant", "radial"])
def test_every_kind_writes_a_png(kind, which, octant, radial, tmp_path):
    _, results = octant if which == "octant" else radial
    out = make_plot(kind, results, tmp_path / f"{kind}.png")
    image = imread(out)[..., :3]
    assert image.shape[0] > 300 and image.shape[1] > 300
    assert image.std() > 0.05


def test_radial_overlay_has_dods_and_materials(octant):
    _, results = octant
    fig = plot_radial(results)
    texts = _legend_texts(fig)
    assert texts == {"DOD 0.25", "DOD 0.5", "Si", "Si8.5Sn0.5Sb"}
    theta_ax, vm_ax = fig.axes[0], fig.axes[1]
    assert "theta" in theta_ax.get_ylabel() and "GPa" in vm_ax.get_ylabel()
    assert len(theta_ax.get_lines()) == 4  # 2 runs x 2 DODs
    # the plotted data are the profiles sampled along the diagonal
    k = next(i for i, r in enumerate(results) if r.label == "Si")
    x, theta = results[k].profile("theta", dod=0.5)
    line = theta_ax.get_lines()[2 * k + 1]
    np.testing.assert_allclose(line.get_ydata(), theta)
    np.testing.assert_allclose(line.get_xdata(), x)


def test_radial_columns_for_many_runs(octant, radial):
    runs = octant[1] + radial[1]
    fig = plot_radial(runs)
    assert len(fig.axes) == 8  # 2 rows x 4 runs
    titles = {ax.get_title() for ax in fig.axes if ax.get_title()}
    # a cross-backend comparison: every label names its backend
    assert titles == {
        f"{s}: {m} [{b}]" for s, b in (("quick-native", "native"), ("quick-radial", "radial")) for m in ("Si", "Si8.5Sn0.5Sb")
    }


def test_max_von_mises_matches_scalars(radial):
    _, results = radial
    fig = plot_max_von_mises(results)
    assert _legend_texts(fig) == {"Si", "Si8.5Sn0.5Sb"}
    time_ax = fig.axes[0]
    si = next(r for r in results if r.label == "Si")
    line = next(line for line in time_ax.get_lines() if line.get_label() == "Si")
    factor = 1e-9 if "GPa" in time_ax.get_ylabel() else 1e-6
    np.testing.assert_allclose(line.get_ydata(), si.scalars["von_mises_max"] * factor)
    np.testing.assert_allclose(line.get_xdata(), si.scalars["time_s"] / 3600)
    # the alloy (10x the diffusivity) is far less stressed than Si
    alloy = next(r for r in results if r.label == "Si8.5Sn0.5Sb")
    assert alloy.scalars["von_mises_max"].max() < 0.5 * si.scalars["von_mises_max"].max()


def test_run_without_fields(tmp_path):
    runs = analytic_study(tmp_path, name="nofields", with_fields=False, dods=(0.5,))
    results = [load_run(runs[0].path)]
    with pytest.raises(MissingFieldsError, match="radial profiles need fields"):
        plot_radial(results)
    plot_max_von_mises(results, tmp_path / "vm.png")  # scalars are there
    assert (tmp_path / "vm.png").exists()


def test_unknown_kind_and_empty(tmp_path):
    with pytest.raises(InvalidSelection, match="unknown plot kind"):
        make_plot("contour", [], tmp_path / "x.png")
    with pytest.raises(InvalidSelection, match="no runs"):
        plot_radial([])


def test_legend_labels_disambiguate(octant, radial):
    labels = legend_labels(octant[1] + radial[1])
    assert len(set(labels.values())) == 4


def test_cli_plot_study_name_and_ids(radial, octant, tmp_path, capsys):
    root, results = radial
    out = tmp_path / "p.png"
    assert main(["plot", "quick-radial", "--runs-dir", str(root), "--kind", "max-vm", "-o", str(out)]) == 0
    assert out.exists() and "2 run(s)" in capsys.readouterr().out
    ids = [r.run_id[:7] for r in results]
    assert main(["plot", *ids, "--runs-dir", str(root), "--kind", "radial", "--ray", "x"]) == 0
    assert (root / "quick-radial" / "radial.png").exists()  # default: next to the study's runs
    assert main(["plot", "nosuchrun", "--runs-dir", str(root)]) == 1
    assert "no run 'nosuchrun'" in capsys.readouterr().err


def test_dod_plot_is_against_dod(radial):
    """Not DOD against time (a straight line at constant current): theta and hydrostatic extremes vs DOD."""
    from orchestrator.plots import plot_dod

    _, results = radial
    fig = plot_dod(results)
    theta_ax, stress_ax = fig.axes[:2]
    assert theta_ax.get_xlabel() == stress_ax.get_xlabel() == "DOD [-]"
    si = next(r for r in results if r.label == "Si")
    curves = [(line.get_xdata(), line.get_ydata()) for line in theta_ax.get_lines() if len(line.get_xdata()) > 2]
    assert any(
        np.array_equal(x, si.scalars["dod"]) and np.array_equal(y, si.scalars["theta_surface_max"]) for x, y in curves
    )
    factor = 1e-9 if "GPa" in stress_ax.get_ylabel() else 1e-6
    tension = max(float(np.nanmax(line.get_ydata())) for line in stress_ax.get_lines())
    assert tension == pytest.approx(max(np.nanmax(r.scalars["hydrostatic_max"]) for r in results) * factor)
    for r in results:  # the straight DOD(t) line is given by its end, per material
        assert f"{r.spec.model().time_at_dod(1.0) / 3600:.4g} h" in fig._suptitle.get_text()
