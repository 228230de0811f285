"""Multi-panel figures in the layout of the paper's Fig. 5 (``octant figure``).

``make_figure(results, fields, dods, output)`` draws one panel per (run, field, DOD): rows are runs
(e.g. Si and the alloy), columns are the DODs, grouped per field (e.g. theta | volumetric strain |
von Mises). Each field has ONE colour scale shared by every run and every DOD of the figure (the
union of the drawn data ranges, or ``clims[field]``), shown once under its group with the unit.
Panels are the mirrored 7/8 cutaway (``view="cutaway"``, the interior on three cut faces) or the
octant with its cut faces (``view="octant"``), rendered off-screen by :mod:`orchestrator.render`
and composed with matplotlib; the output format follows the suffix (``.png``, ``.svg``, ``.pdf``).

A requested DOD must be a stored field step of every run (within 0.01); otherwise the error lists
the stored DODs. Units: clims in SI (Pa, -, mol/m^3, m).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .render import FIELD_STYLES, _display_scale, color_limits, nearly_uniform, snapshot
from .results import INSTALL_HINT, FieldStep, InvalidSelection, MissingDependencyError, RunResult, UnknownFieldError

__all__ = ["DOD_MATCH_TOL", "FIGURE_FORMATS", "FigureSummary", "make_figure", "parse_clims"]

log = logging.getLogger(__name__)

#: A requested DOD matches a stored step within this absolute tolerance [-].
DOD_MATCH_TOL = 0.01
FIGURE_FORMATS = (".png", ".svg", ".pdf")
_VIEWS = {"cutaway": (True, True), "octant": (False, False)}


@dataclass(frozen=True)
class FigureSummary:
    """What :func:`make_figure` drew: the file, runs (row labels), DODs, and per field its SI limits."""

    path: Path
    rows: list[str]
    dods: list[float]
    clims: dict[str, tuple[float, float]]


def parse_clims(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``["von_mises=0,2e9", "theta=0,1"]`` -> {field: (lo, hi)} in SI units."""
    out: dict[str, tuple[float, float]] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip()
        try:
            lo, hi = (float(v) for v in value.split(","))
        except ValueError:
            lo = hi = float("nan")
        if not sep or name not in FIELD_STYLES or not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InvalidSelection(
                f"--clim {text!r}: write FIELD=LO,HI in SI units with LO < HI, e.g. von_mises=0,2e9;"
                f" fields: {', '.join(FIELD_STYLES)}"
            )
        out[name] = (lo, hi)
    return out


def _steps(results: Sequence[RunResult], dods: Sequence[float]) -> dict[tuple[str, int], FieldStep]:
    """(run id, column) -> the stored step at each requested DOD; an error lists the stored DODs."""
    chosen = {}
    for r in results:
        for k, dod in enumerate(dods):
            step = r.step(dod=dod)
            if abs(step.dod - dod) > DOD_MATCH_TOL:
                stored = ", ".join(f"{d:.4g}" for d in r.dods)
                raise InvalidSelection(
                    f"run {r.study}/{r.run_id} ({r.label}) has no field step at DOD {dod:g} (stored DODs: {stored});"
                    " choose among those or add the DOD to outputs.fields_at and rerun"
                )
            chosen[(r.run_id, k)] = step
    return chosen


def _limits(
    results: Sequence[RunResult], field: str, steps: Mapping[tuple[str, int], FieldStep], given: tuple | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(colour limits, data range) of ``field`` over every drawn panel."""
    lo, hi = np.inf, -np.inf
    for r in results:
        run_steps = [s for (rid, _), s in steps.items() if rid == r.run_id]
        a, b = r.field_range(field, run_steps)
        lo, hi = min(lo, a), max(hi, b)
    data = (float(lo), float(hi))
    return (given if given is not None else color_limits(field, data)), data


def _trim(image: np.ndarray, pad: int = 4) -> np.ndarray:
    """Crop white margins (all channels > 250) around the body."""
    body = np.any(image < 250, axis=-1)
    rows, cols = np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))
    if rows.size == 0:
        return image
    r0, r1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, image.shape[0])
    c0, c1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, image.shape[1])
    return image[r0:r1, c0:c1]


def _row_labels(results: Sequence[RunResult]) -> list[str]:
    """Short row labels: the run label, then the backend where backends are mixed (cross-backend
    comparisons name it), then the study and the run id where labels would still repeat."""
    labels = [r.label for r in results]
    if len({r.backend for r in results}) > 1:
        labels = [f"{text}\n{r.backend}" for text, r in zip(labels, results)]
    if len(set(labels)) < len(labels):
        labels = [f"{text}\n{r.study}" for text, r in zip(labels, results)]
    if len(set(labels)) < len(labels):
        labels = [f"{text} {r.run_id[:6]}" for text, r in zip(labels, results)]
    return labels


def _colorbar(fig: Any, sub: Any, axes: Any, field: str, clim: tuple, data: tuple) -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    style = FIELD_STYLES[field]
    factor, unit = _display_scale(style, clim)
    mappable = ScalarMappable(Normalize(clim[0] * factor, clim[1] * factor), cmap=style.cmap)
    bar = sub.colorbar(mappable, ax=list(np.ravel(axes)), orientation="horizontal", fraction=0.06, pad=0.02, aspect=30)
    bar.ax.tick_params(labelsize=8)  # matplotlib's locator picks round ticks; its formatter adds an offset if needed
    label = f"{style.title} [{unit}]"
    if nearly_uniform(data):
        label += f"\n(nearly uniform: {data[0] * factor:.6g} to {data[1] * factor:.6g})"
    bar.set_label(label, fontsize=9)


def make_figure(
    results: Sequence[RunResult],
    fields: Sequence[str],
    dods: Sequence[float],
    output: str | Path,
    *,
    clims: Mapping[str, tuple[float, float]] | None = None,
    view: str = "cutaway",
    panel_px: int = 420,
    dpi: int = 200,
    title: str | None = None,
) -> FigureSummary:
    """Write the figure (see the module docstring) and return what it drew."""
    runs = [r for r in results]
    if not runs or not fields or not dods:
        raise InvalidSelection("a figure needs at least one run, one field and one DOD")
    for field in fields:
        if field not in FIELD_STYLES:
            raise UnknownFieldError(f"cannot draw field {field!r}; choose among {', '.join(FIELD_STYLES)}")
    unknown = set(clims or {}) - set(fields)
    if unknown:
        raise InvalidSelection(f"--clim given for {', '.join(sorted(unknown))}, which is not among --fields")
    if view not in _VIEWS:
        raise InvalidSelection(f"unknown view {view!r}; choose {' or '.join(_VIEWS)}")
    path = Path(output)
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise InvalidSelection(f"-o {path}: the figure format follows the suffix; use {', '.join(FIGURE_FORMATS)}")
    steps = _steps(runs, dods)
    mirror, clip = _VIEWS[view]
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(f"figures need matplotlib ({exc}); {INSTALL_HINT}") from None

    nrows, ndods = len(runs), len(dods)
    fig = Figure(figsize=(1.55 * ndods * len(fields) + 0.9, 1.6 * nrows + 1.25), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(1, len(fields), wspace=0.02))
    rows = _row_labels(runs)
    used: dict[str, tuple[float, float]] = {}
    for sub, field in zip(subfigs, fields):
        clim, data = _limits(runs, field, steps, (clims or {}).get(field))
        used[field] = clim
        axes = sub.subplots(nrows, ndods, squeeze=False)
        for i, r in enumerate(runs):
            for k, dod in enumerate(dods):
                ax = axes[i, k]
                image = snapshot(r, field, steps[(r.run_id, k)], clim, mirror=mirror, clip=clip,
                                 window_size=(panel_px, panel_px))
                ax.imshow(_trim(image), interpolation="lanczos")
                ax.set_xticks([]), ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if i == 0:
                    ax.set_title(f"DOD {dod:g}", fontsize=9)
                if k == 0 and sub is subfigs[0]:
                    ax.set_ylabel(rows[i], fontsize=9)
        _colorbar(fig, sub, axes, field, clim, data)
        sub.suptitle(FIELD_STYLES[field].title, fontsize=10, fontweight="bold")
    studies = ", ".join(dict.fromkeys(r.study for r in runs))
    where = "7/8 cutaway of the mirrored particle" if view == "cutaway" else "the octant with its cut faces"
    fig.suptitle(
        title if title is not None else f"{studies}: rows = runs, columns = DOD; {where};"
        " one colour scale per field for all runs and DODs",
        fontsize=9,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white")
    log.debug("wrote %s", path)
    return FigureSummary(path=path, rows=rows, dods=[float(d) for d in dods], clims=used)
