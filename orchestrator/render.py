"""Off-screen 3D pictures of stored fields (pyvista/VTK, no display needed).

The octant is drawn as a coloured surface *including its three cut faces* (x=0, y=0, z=0), so
the interior gradient shows. Options:

- ``mirror``: reflect across the three symmetry planes (8 copies) to show the full sphere;
- ``clip``: cut the body open: with ``mirror``, the front octant is left out (a 7/8 cutaway whose
  three inner faces show the interior; the default with ``mirror``, since the closed sphere shows
  only its surface); without, the octant is cut by the diagonal plane x = y (which holds the
  (1,1,1) ray the plots sample along);
- colour limits: the data range of the step by default, shared limits across a series
  (:func:`render_series`), or given explicitly; signed fields (hydrostatic, max principal stress)
  use a diverging map centred on zero (limits +-max|value|).

Radial (1D) runs are swept into the octant: the stored profile is evaluated at |x| on a generated
octant volume, which is exact for a spherically symmetric solution.

Window system: before the first picture, :func:`probe_window` renders a tiny scene in a child
process with VTK's EGL window (``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` unless the user chose
another), then with the OSMesa window (``vtkOSOpenGLRenderWindow``), and uses the first that works;
VTK can segfault when a GL library is missing, so this is never tried in the user's process. When
neither works the error names the apt packages. Colour-bar ticks get as many decimals as their
spacing needs (:func:`tick_format`). Needs ``pip install 'octant[render]'`` and the
system libraries ``libegl1 libgl1-mesa-dri`` (EGL) or ``libosmesa6`` (OSMesa).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import OctantError

from .results import FieldStep, InvalidSelection, RunResult, UnknownFieldError, import_pyvista

__all__ = [
    "FIELD_STYLES",
    "FieldStyle",
    "RenderError",
    "RenderedImage",
    "color_limits",
    "nearly_uniform",
    "nice_ticks",
    "probe_window",
    "render_field",
    "render_series",
    "snapshot",
    "tick_format",
]

log = logging.getLogger(__name__)

_WINDOW_ENV = "VTK_DEFAULT_OPENGL_WINDOW"
_EGL_WINDOW = "vtkEGLRenderWindow"
_FALLBACK_WINDOW = "vtkOSOpenGLRenderWindow"
APT_HINT = "apt-get install -y --no-install-recommends libegl1 libgl1-mesa-dri libosmesa6"

#: Relative span below which a field counts as nearly uniform (see :func:`nearly_uniform`).
UNIFORM_RTOL = 1e-3


class RenderError(OctantError, RuntimeError):
    """A picture cannot be made (no OpenGL context, a field that cannot be drawn, ...)."""


@dataclass(frozen=True)
class FieldStyle:
    """How a field is drawn: title, SI unit, colour map, whether it is signed (diverging map)."""

    title: str
    unit: str
    cmap: str
    signed: bool = False
    from_zero: bool = False  # non-negative by definition: the colour scale starts at 0


#: Fields that can be rendered (scalar point arrays; ``displacement`` is drawn as its magnitude).
FIELD_STYLES: dict[str, FieldStyle] = {
    "theta": FieldStyle("theta = c/c_max", "-", "viridis"),
    "c": FieldStyle("Li concentration c", "mol/m^3", "viridis"),
    "von_mises": FieldStyle("von Mises stress", "Pa", "inferno", from_zero=True),
    "hydrostatic": FieldStyle("hydrostatic stress", "Pa", "RdBu_r", signed=True),
    "max_principal_stress": FieldStyle("max principal stress", "Pa", "RdBu_r", signed=True),
    "volumetric_strain": FieldStyle("volumetric strain", "-", "cividis"),
    "displacement": FieldStyle("|displacement|", "m", "plasma", from_zero=True),
}


@dataclass(frozen=True)
class RenderedImage:
    """A written picture: ``path``, the field, the step, the colour limits and the data range (SI)."""

    path: Path
    field: str
    step: FieldStep
    clim: tuple[float, float]
    data_range: tuple[float, float]
    window: str


def _display_scale(style: FieldStyle, clim: tuple[float, float]) -> tuple[float, str]:
    """(factor, unit) so that the scalar bar shows readable numbers (MPa/GPa, um)."""
    big = max(abs(clim[0]), abs(clim[1]))
    if style.unit == "Pa":
        return (1e-9, "GPa") if big >= 1e9 else (1e-6, "MPa")
    if style.unit == "m":
        return (1e9, "nm") if big < 1e-7 else (1e6, "um")
    return 1.0, style.unit


def _style(name: str) -> FieldStyle:
    try:
        return FIELD_STYLES[name]
    except KeyError:
        raise UnknownFieldError(f"cannot render field {name!r}; choose one of {', '.join(FIELD_STYLES)}") from None


def color_limits(name: str, data_range: tuple[float, float]) -> tuple[float, float]:
    """Colour limits for ``data_range``: the range itself (from 0 for magnitudes such as von Mises),
    or +-max|value| for signed fields.

    A nearly uniform range (:func:`nearly_uniform`) is widened to +-0.5 % of its centre, so that
    round-off-level variation is not stretched over the whole colour map (the bar says so).
    """
    lo, hi = data_range
    if abs(lo) < 1e-9 * abs(hi) or (_style(name).from_zero and lo >= 0 and hi > 0):
        lo = 0.0  # round-off around zero, or a magnitude (von Mises, |u|): the scale starts at 0
    if _style(name).signed:
        big = max(abs(lo), abs(hi))
        return (-big, big) if big > 0 else (-1.0, 1.0)
    if nearly_uniform((lo, hi)):
        centre = 0.5 * (lo + hi)
        pad = max(0.5 * (hi - lo), 5e-3 * abs(centre)) or 1e-12
        return centre - pad, centre + pad
    return lo, hi


def nearly_uniform(data_range: tuple[float, float]) -> bool:
    """True when max - min is below :data:`UNIFORM_RTOL` times max(|min|, |max|) (or exactly zero)."""
    lo, hi = data_range
    return hi - lo <= UNIFORM_RTOL * max(abs(lo), abs(hi))


def tick_format(lo: float, hi: float, n_labels: int = 5) -> str:
    """A printf format for ``n_labels`` evenly spaced ticks on [lo, hi] that prints each tick differently.

    The number of decimals follows the tick spacing (0.4990 0.4995 0.5000 ... instead of 0.499 0.499
    0.5), with enough digits that every label is within 2 % of a tick spacing of its value (0.25, not
    0.2); very large or small magnitudes use exponent notation.
    """
    ticks = np.linspace(lo, hi, max(n_labels, 2))
    big = float(np.max(np.abs(ticks))) or 1.0
    step = (hi - lo) / (max(n_labels, 2) - 1) or big
    exponent = big >= 1e5 or big < 1e-3
    if exponent:
        start = max(0, int(np.floor(np.log10(big))) - int(np.floor(np.log10(step))))
    else:
        start = max(0, -int(np.floor(np.log10(step))))
    for digits in range(start, start + 8):
        fmt = f"%.{digits}{'e' if exponent else 'f'}"
        texts = [fmt % t for t in ticks]
        faithful = max(abs(float(text) - t) for text, t in zip(texts, ticks)) <= 0.02 * step
        if len(set(texts)) == len(texts) and faithful:  # distinct, and each within 2 % of a step of its tick
            return fmt
    return "%.6g"


# --------------------------------------------------------------------------------------------------
# window system: probed in a child process (a missing GL library can segfault VTK)
# --------------------------------------------------------------------------------------------------
_PROBE_SCRIPT = """
import os, sys
os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = sys.argv[1]
import pyvista as pv
plotter = pv.Plotter(off_screen=True, window_size=[64, 64])
ok = bool(plotter.ren_win.SupportsOpenGL())
if ok:
    plotter.add_mesh(pv.Sphere())
    ok = plotter.screenshot(return_img=True).std() > 0
print("OCTANT-PROBE", int(ok), plotter.ren_win.GetClassName())
plotter.close()
"""

_probed: str | None = None


def probe_window(candidates: tuple[str, ...] | None = None, *, env: dict[str, str] | None = None) -> str:
    """The first VTK off-screen window class that can render, tried in a child process; cached.

    ``candidates`` default: the window chosen in ``$VTK_DEFAULT_OPENGL_WINDOW`` (else EGL), then
    OSMesa. A child that crashes (VTK segfaults when libOSMesa is missing), hangs or cannot create an
    OpenGL context rules its window out. The winner is put into ``$VTK_DEFAULT_OPENGL_WINDOW`` for
    this process. Raises :class:`RenderError` with the apt line when none works.
    """
    global _probed
    if candidates is None and _probed is not None:
        return _probed
    tried = candidates or tuple(dict.fromkeys((os.environ.get(_WINDOW_ENV) or _EGL_WINDOW, _FALLBACK_WINDOW)))
    failures = []
    for window in tried:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _PROBE_SCRIPT, window],
                env={**os.environ, **(env or {})},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{window}: no answer within 120 s")
            continue
        if proc.returncode == 0 and f"OCTANT-PROBE 1 {window}" in proc.stdout:
            if candidates is None:
                _probed = window
                os.environ[_WINDOW_ENV] = window
            log.debug("off-screen rendering through %s", window)
            return window
        why = f"crashed with signal {-proc.returncode}" if proc.returncode < 0 else "no OpenGL context"
        if proc.returncode > 0:
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            why = lines[-1][:200] if lines else f"exit code {proc.returncode}"
        failures.append(f"{window}: {why}")
    raise RenderError(
        "no off-screen OpenGL window works here (" + "; ".join(failures) + "). Install the system libraries"
        f" for headless rendering: {APT_HINT} (EGL needs a GPU driver or Mesa's libgl1-mesa-dri; OSMesa"
        " is the software fallback). Plots (octant plot) and reports with --no-3d need neither."
    )


# --------------------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------------------
def _octant_volume(pv: Any, radius: float, divisions: int = 32) -> Any:
    """A hexahedral octant volume: the unit cube mapped by X -> X |X|_inf / |X|_2 * R."""
    n = divisions
    cube = pv.ImageData(dimensions=(n + 1, n + 1, n + 1), spacing=(1.0 / n,) * 3).cast_to_unstructured_grid()
    x = np.asarray(cube.points, dtype=float)
    norm2 = np.linalg.norm(x, axis=1)
    scale = np.divide(x.max(axis=1), norm2, out=np.zeros_like(norm2), where=norm2 > 0)
    cube.points = x * scale[:, None] * radius
    return cube


def _volume_with_values(result: RunResult, name: str, step: FieldStep) -> Any:
    """The 3D volume carrying ``value`` (the field, magnitude for vectors) at ``step``."""
    pv = import_pyvista()
    values = result.values(name, step)
    if result.is_radial():
        grid = result.field(name, index=step.index)
        r = np.linalg.norm(np.asarray(grid.points), axis=1)
        order = np.argsort(r)
        volume = _octant_volume(pv, result.radius)
        radial = np.linalg.norm(np.asarray(volume.points), axis=1)
        volume.point_data["value"] = np.interp(radial, r[order], values[order])
        return volume
    grid = result.field(name, index=step.index)
    volume = pv.UnstructuredGrid()
    volume.copy_structure(grid)
    volume.point_data["value"] = values
    return volume


def _body(volume: Any, *, mirror: bool, clip: bool) -> Any:
    """The surface to draw: the octant (optionally clipped) or its mirror images."""
    pv = import_pyvista()
    if clip and not mirror:
        volume = volume.clip(normal=(-1.0, 1.0, 0.0), origin=(0.0, 0.0, 0.0), invert=True)
    surface = volume.extract_surface(pass_pointid=False, pass_cellid=False, algorithm="dataset_surface")
    if not mirror:
        return surface
    copies = []
    for signs in product((1.0, -1.0), repeat=3):
        if clip and signs == (1.0, 1.0, 1.0):
            continue  # the cutaway: leave the front octant out
        part = surface.copy()
        part.points = np.asarray(surface.points) * np.array(signs)
        copies.append(part)
    return pv.merge(copies, merge_points=False)


_VIEWS = {  # (mirror, clip) -> direction from the focal point to the camera, view-up, zoom, upward shift [R]
    (False, False): ((-1.0, -0.75, 0.9), (0.0, 0.0, 1.0), 0.9, 0.45),  # octant: two cut faces and the cap
    (False, True): ((-0.7, 1.0, 0.6), (0.0, 0.0, 1.0), 0.8, 0.2),  # octant cut by x = y
    (True, False): ((1.0, 0.8, 0.6), (0.0, 0.0, 1.0), 1.15, 0.28),  # full sphere
    (True, True): ((1.0, 0.85, 0.7), (0.0, 0.0, 1.0), 1.15, 0.28),  # 7/8 cutaway, looking into the gap
}


# --------------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------------
def _plotter(pv: Any, window_size: tuple[int, int]) -> Any:
    """An off-screen plotter on the window class that :func:`probe_window` found working."""
    window = probe_window()
    plotter = pv.Plotter(off_screen=True, window_size=list(window_size))
    if not plotter.ren_win.SupportsOpenGL():  # pragma: no cover - the probe said it works
        plotter.close()
        raise RenderError(f"{window} passed the probe but cannot create an OpenGL context here; {APT_HINT}")
    return plotter


def _default_output(result: RunResult, name: str, step: FieldStep, mirror: bool, clip: bool) -> Path:
    suffix = ("_mirror" if mirror else "") + ("_clip" if clip else "")
    return result.run.images_dir / f"{name}_{step.index:04d}{suffix}.png"


def _check_clim(clim: Any) -> tuple[float, float]:
    if not (clim is not None and len(clim) == 2 and np.all(np.isfinite(clim)) and clim[0] < clim[1]):
        raise InvalidSelection(f"colour limits must be two finite numbers LO < HI (SI units), got {clim!r}")
    return float(clim[0]), float(clim[1])


def _prepared(result: RunResult, field: str, step: FieldStep) -> tuple[Any, tuple[float, float]]:
    """The volume carrying the field at ``step`` and its finite data range."""
    volume = _volume_with_values(result, field, step)
    values = np.asarray(volume.point_data["value"])
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise RenderError(f"run {result.run_id}: field {field!r} at step {step.index} has no finite values")
    return volume, (float(finite.min()), float(finite.max()))


def _draw_body(plotter: Any, body: Any, style: FieldStyle, limits: tuple[float, float], factor: float) -> None:
    body.point_data["value"] = np.asarray(body.point_data["value"]) * factor
    plotter.set_background("white")
    plotter.add_mesh(
        body,
        scalars="value",
        cmap=style.cmap,
        clim=(limits[0] * factor, limits[1] * factor),
        show_scalar_bar=False,
        ambient=0.55,
        diffuse=0.5,
        specular=0.0,
        smooth_shading=False,
    )


def _draw_edges(plotter: Any, body: Any) -> None:
    """Outline and cut edges in grey: the shape reads even where the colour is uniform (a black disc).

    Added after the scalar bar, which otherwise takes the edges' mapper."""
    edges = body.extract_feature_edges(
        feature_angle=40.0, boundary_edges=True, non_manifold_edges=False, manifold_edges=False
    )
    if edges.n_points:
        plotter.add_mesh(edges, color="#7f7f7f", line_width=1.2, lighting=False)


def _custom_labels(bar: Any, ticks: np.ndarray) -> None:
    """Put the scalar bar's labels at ``ticks`` (round numbers) instead of evenly over the range."""
    from vtkmodules.vtkCommonCore import vtkDoubleArray

    values = vtkDoubleArray()
    for tick in ticks:
        values.InsertNextValue(float(tick))
    bar.SetUseCustomLabels(True)
    bar.SetCustomLabels(values)


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Round tick values inside [lo, hi] (matplotlib's MaxNLocator), at least the two ends."""
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    eps = 1e-9 * max(abs(lo), abs(hi), hi - lo)
    ticks = ticks[(ticks >= lo - eps) & (ticks <= hi + eps)]
    return ticks if len(ticks) >= 2 else np.array([lo, hi])


def _place_camera(plotter: Any, body: Any, radius: float, mirror: bool, clip: bool, lift: float | None = None) -> None:
    """The default view of (mirror, clip), the body moved up by ``lift`` radii (clear of a colour bar)."""
    view, up, zoom, default_lift = _VIEWS[(mirror, clip)]
    center = np.zeros(3) if mirror else np.array(body.center)
    distance = 4.0 * radius
    plotter.camera_position = [tuple(center + distance * np.asarray(view) / np.linalg.norm(view)), tuple(center), up]
    plotter.reset_camera()
    plotter.camera.zoom(zoom)
    camera = plotter.camera
    shift = -(default_lift if lift is None else lift) * radius * np.asarray(camera.up)
    camera.position = tuple(np.asarray(camera.position) + shift)
    camera.focal_point = tuple(np.asarray(camera.focal_point) + shift)


def snapshot(
    result: RunResult,
    field: str,
    step: FieldStep,
    clim: tuple[float, float],
    *,
    mirror: bool = True,
    clip: bool = True,
    window_size: tuple[int, int] = (600, 600),
) -> np.ndarray:
    """The picture of ``field`` at ``step`` as an RGB array (uint8), body only: no bar, no text.

    ``clim`` in SI units; used by :mod:`orchestrator.figure` to compose multi-panel figures with
    one shared colour bar per field.
    """
    style = _style(field)
    limits = _check_clim(clim)
    volume, _ = _prepared(result, field, step)
    pv = import_pyvista()
    body = _body(volume, mirror=mirror, clip=clip)
    factor, _ = _display_scale(style, limits)
    plotter = _plotter(pv, window_size)
    try:
        _draw_body(plotter, body, style, limits, factor)
        _draw_edges(plotter, body)
        _place_camera(plotter, body, result.radius, mirror, clip, lift=0.0)
        image = plotter.screenshot(return_img=True)
    finally:
        plotter.close()
    return np.asarray(image)[..., :3]


def render_field(
    result: RunResult,
    field: str = "theta",
    *,
    time: float | None = None,
    dod: float | None = None,
    index: int | None = None,
    mirror: bool = False,
    clip: bool | None = None,
    clim: tuple[float, float] | None = None,
    output: str | Path | None = None,
    window_size: tuple[int, int] = (1000, 800),
    title: str | None = None,
) -> RenderedImage:
    """Render ``field`` at the stored step nearest ``time`` [s] / ``dod`` [-] (default the last) to a PNG.

    ``clip`` defaults to ``mirror``: the mirrored sphere is shown as a 7/8 cutaway, since its outer
    surface alone hides the interior. ``clim`` (SI units) fixes the colour limits (default:
    :func:`color_limits` of this step's data range; a nearly uniform range is widened and the bar
    says so). ``output`` defaults to ``<run>/images/<field>_<step>[_mirror][_clip].png``. Raises
    :class:`~orchestrator.results.MissingFieldsError` when the run has no fields and
    :class:`~orchestrator.results.UnknownFieldError` when the field is not stored or not drawable.
    """
    style = _style(field)
    clip = mirror if clip is None else clip
    step = result.step(time=time, dod=dod, index=index)
    volume, data_range = _prepared(result, field, step)
    limits = _check_clim(clim) if clim is not None else color_limits(field, data_range)
    path = Path(output) if output is not None else _default_output(result, field, step, mirror, clip)
    path.parent.mkdir(parents=True, exist_ok=True)

    pv = import_pyvista()
    body = _body(volume, mirror=mirror, clip=clip)
    factor, unit = _display_scale(style, limits)
    plotter = _plotter(pv, window_size)
    window = plotter.ren_win.GetClassName()
    try:
        _draw_body(plotter, body, style, limits, factor)
        ticks = nice_ticks(limits[0] * factor, limits[1] * factor)
        bar = plotter.add_scalar_bar(
            title="",
            vertical=False,
            n_labels=len(ticks),
            fmt=tick_format(ticks[0], ticks[-1], len(ticks)),
            color="black",
            title_font_size=20,
            label_font_size=18,
            position_x=0.2,
            position_y=0.03,
            height=0.09,
            width=0.6,
        )
        _custom_labels(bar, ticks)
        _draw_edges(plotter, body)
        bar_title = f"{style.title} [{unit}]"
        if nearly_uniform(data_range):
            bar_title += f"   nearly uniform: {data_range[0] * factor:.6g} to {data_range[1] * factor:.6g}"
        label = plotter.add_text(
            bar_title, position=(0.5 * window_size[0], 0.125 * window_size[1]), font_size=12, color="black"
        )
        label.GetTextProperty().SetJustificationToCentered()
        heading = title if title is not None else f"{result.label}   DOD {step.dod:.3f}   t = {step.time / 3600:.3g} h"
        plotter.add_text(heading, position="upper_left", font_size=12, color="black")
        _place_camera(plotter, body, result.radius, mirror, clip)
        plotter.screenshot(str(path))
    finally:
        plotter.close()
    log.debug("wrote %s (%s, step %d, clim %.4g..%.4g)", path, field, step.index, *limits)
    return RenderedImage(path=path, field=field, step=step, clim=limits, data_range=data_range, window=window)


def render_series(
    result: RunResult,
    field: str = "theta",
    *,
    mirror: bool = False,
    clip: bool | None = None,
    out_dir: str | Path | None = None,
    window_size: tuple[int, int] = (1000, 800),
) -> list[RenderedImage]:
    """One PNG per stored step with shared colour limits (the range over all steps).

    Files go to ``out_dir`` (default the run's ``images/``) as ``<field>_<step>[_mirror][_clip].png``.
    """
    _style(field)
    clip = mirror if clip is None else clip
    limits = color_limits(field, result.field_range(field))
    images = []
    for step in result.steps:
        output = None
        if out_dir is not None:
            output = Path(out_dir) / _default_output(result, field, step, mirror, clip).name
        images.append(
            render_field(
                result,
                field,
                index=step.index,
                mirror=mirror,
                clip=clip,
                clim=limits,
                output=output,
                window_size=window_size,
            )
        )
    return images
