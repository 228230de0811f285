"""orchestrator.render: off-screen pictures of every field, mirror/clip, shared limits, radial sweep, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pytest.importorskip("pyvista")
from matplotlib.image import imread
from run_factory import analytic_study, shared_real_study

from orchestrator.cli import main
from orchestrator.render import FIELD_STYLES, RenderError, color_limits, render_field, render_series
from orchestrator.results import InvalidSelection, MissingFieldsError, UnknownFieldError, load_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def octant():
    """A real quick native 3D run (coarse mesh) of Si: steep gradients, two field steps."""
    root, runs = shared_real_study("native")
    results = [load_run(r.path) for r in runs]
    return root, next(r for r in results if r.material == "Si")


@pytest.fixture(scope="module")
def radial():
    root, runs = shared_real_study("radial")
    return root, load_run(runs[0].path)


def _pixels(path: Path) -> np.ndarray:
    image = imread(path)[..., :3]
    assert image.shape[0] > 100 and image.shape[1] > 100
    return image


def _assert_not_blank(path: Path) -> np.ndarray:
    image = _pixels(path)
    background = np.all(image > 0.98, axis=-1)  # white background
    assert 0.1 < 1.0 - background.mean() < 0.95, "the body should cover a good part of the picture"
    body = image[~background]
    assert body.std(axis=0).max() > 0.05, "the body is a single flat colour"
    return image


def _colours(image: np.ndarray) -> int:
    quantised = np.round(image.reshape(-1, 3) * 31).astype(int)
    return len({tuple(c) for c in quantised})


@pytest.mark.parametrize("field", sorted(FIELD_STYLES))
def test_every_field_renders_with_data_range(field, octant, tmp_path):
    _, result = octant
    out = tmp_path / f"{field}.png"
    image = render_field(result, field, dod=0.5, output=out, window_size=(500, 400))
    assert image.path == out and out.stat().st_size > 5000
    _assert_not_blank(out)
    data = np.asarray(result.field(field, dod=0.5).point_data[field])
    data = data if data.ndim == 1 else np.linalg.norm(data, axis=1)
    assert image.data_range == pytest.approx((data.min(), data.max()), rel=1e-9, abs=1e-12 * abs(data).max())
    if FIELD_STYLES[field].signed:
        big = np.abs(data).max()
        assert image.clim == pytest.approx((-big, big))
    elif FIELD_STYLES[field].from_zero:  # magnitudes: the scale starts at 0
        assert image.clim == pytest.approx((0.0, data.max()), rel=1e-9)
    else:
        assert image.clim == pytest.approx((data.min(), data.max()), rel=1e-9, abs=1e-9 * abs(data).max())
    if not os.environ.get("DISPLAY"):  # headless: an off-screen window class
        assert image.window in ("vtkEGLRenderWindow", "vtkOSOpenGLRenderWindow")


def test_mirror_and_clip_show_the_interior(octant, tmp_path):
    """The full sphere shows only the (uniform) surface; the cutaway shows the radial gradient and is
    what --mirror alone gives."""
    _, result = octant
    sphere = render_field(
        result, "theta", dod=0.5, mirror=True, clip=False, output=tmp_path / "sphere.png", window_size=(500, 400)
    )
    cutaway = render_field(
        result, "theta", dod=0.5, mirror=True, clip=True, output=tmp_path / "cut.png", window_size=(500, 400)
    )
    default = render_field(result, "theta", dod=0.5, mirror=True, output=tmp_path / "mirror.png", window_size=(500, 400))
    assert default.path.name == "mirror.png" and np.array_equal(_pixels(default.path), _pixels(cutaway.path))
    octant_only = render_field(
        result, "theta", dod=0.5, clip=True, output=tmp_path / "octclip.png", window_size=(500, 400)
    )
    images = {p: _assert_not_blank(i.path) for p, i in (("sphere", sphere), ("cut", cutaway), ("oct", octant_only))}
    assert _colours(images["cut"]) > 2 * _colours(images["sphere"])
    assert not np.array_equal(images["cut"], images["oct"])
    assert sphere.clim == cutaway.clim  # same step, same data


def test_series_shares_colour_limits(octant, tmp_path):
    _, result = octant
    images = render_series(result, "theta", mirror=True, clip=True, out_dir=tmp_path, window_size=(400, 320))
    assert [i.step.index for i in images] == list(range(len(result.steps))) and len(images) == 2
    assert len({i.clim for i in images}) == 1
    lo, hi = result.field_range("theta")
    assert images[0].clim == pytest.approx(color_limits("theta", (lo, hi)))
    assert images[0].data_range[1] < hi  # the surface fills up: the first step alone has a smaller range
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"theta_000{k}_mirror_clip.png" for k in range(2)]


def test_radial_run_is_swept_into_the_octant(radial, tmp_path):
    _, result = radial
    image = render_field(
        result, "theta", dod=0.25, mirror=True, clip=True, output=tmp_path / "r.png", window_size=(500, 400)
    )
    _assert_not_blank(image.path)
    stored = np.asarray(result.field("theta", dod=0.25).point_data["theta"])
    assert image.data_range[0] >= stored.min() - 1e-12 and image.data_range[1] == pytest.approx(stored.max())


def test_default_output_goes_to_the_run_images(tmp_path):
    runs = analytic_study(tmp_path, name="imgs", dods=(0.5,), divisions=3)
    result = load_run(runs[0].path)
    image = render_field(result, "hydrostatic", window_size=(300, 240))
    assert image.path == runs[0].images_dir / "hydrostatic_0000.png" and image.path.exists()


def test_missing_fields_give_a_clear_error_and_no_picture(tmp_path):
    runs = analytic_study(tmp_path, name="nofields", with_fields=False, dods=(0.5,))
    result = load_run(runs[0].path)
    with pytest.raises(MissingFieldsError, match="no stored fields"):
        render_field(result, "theta", output=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    assert main(["render", str(runs[0].path), "-o", str(tmp_path / "y.png")]) == 1
    assert not (tmp_path / "y.png").exists()


def test_unknown_field_and_bad_limits(octant, tmp_path):
    _, result = octant
    with pytest.raises(UnknownFieldError, match="choose one of"):
        render_field(result, "stress", output=tmp_path / "s.png")
    with pytest.raises(InvalidSelection, match="LO < HI"):
        render_field(result, "theta", clim=(1.0, 0.0), output=tmp_path / "s.png")
    fixed = render_field(result, "theta", clim=(0.0, 1.0), output=tmp_path / "f.png", window_size=(300, 240))
    assert fixed.clim == (0.0, 1.0) and fixed.data_range != fixed.clim


def test_cli_render(octant, tmp_path, capsys):
    root, result = octant
    out = tmp_path / "cli.png"
    code = main(
        [
            "render",
            result.run_id[:8],
            "--runs-dir",
            str(root),
            "--field",
            "von_mises",
            "--at",
            "dod=0.3",
            "--mirror",
            "--clip",
            "--size",
            "400x300",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.exists()
    assert "DOD 0.2500" in capsys.readouterr().out
    assert main(["render", result.run_id, "--runs-dir", str(root), "--at", "time=10 m", "-o", str(out)]) == 1
    assert "time" in capsys.readouterr().err
    code = main(["render", str(result.path), "--all", "--size", "300x240", "-o", str(tmp_path / "all")])
    assert code == 0 and len(list((tmp_path / "all").glob("theta_*.png"))) == len(result.steps) == 2


def _osmesa_missing() -> bool:
    import ctypes.util

    return ctypes.util.find_library("OSMesa") is None


@pytest.mark.skipif(_osmesa_missing(), reason="libOSMesa is not installed (apt-get install libosmesa6)")
def test_falls_back_when_egl_cannot_start(octant, tmp_path):
    """With EGL broken (no vendor library), the picture is still made through OSMesa."""
    _, result = octant
    out = tmp_path / "osmesa.png"
    script = textwrap.dedent(
        f"""
        from orchestrator.results import load_run
        from orchestrator.render import render_field
        image = render_field(load_run({str(result.path)!r}), "theta", output={str(out)!r}, window_size=(300, 240))
        print("WINDOW", image.window)
        """
    )
    env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl.json", "PYTHONPATH": str(ROOT)}
    env.pop("VTK_DEFAULT_OPENGL_WINDOW", None)
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "WINDOW vtkOSOpenGLRenderWindow" in proc.stdout
    _assert_not_blank(out)


def test_probe_gives_the_apt_line_instead_of_a_crash():
    """A window class that cannot render is ruled out in a child process; none left -> RenderError."""
    from orchestrator.render import probe_window

    broken = {"__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl.json", "PYTHONPATH": str(ROOT)}
    with pytest.raises(RenderError, match="apt-get install -y --no-install-recommends libegl1") as err:
        probe_window(("vtkEGLRenderWindow",), env=broken)
    assert "vtkEGLRenderWindow:" in str(err.value)


def test_render_error_is_an_octant_error():
    from models.errors import OctantError

    assert issubclass(RenderError, OctantError) and issubclass(RenderError, RuntimeError)
