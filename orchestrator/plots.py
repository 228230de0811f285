"""Paper-style plots of stored runs (matplotlib, Agg; no display needed).

Kinds (:data:`PLOT_KINDS`):

- ``radial``: theta [-] and von Mises stress against r/R at every stored DOD, sampled along a ray
  from the centre (the (1,1,1) diagonal by default; radial runs use their own nodes). Several runs
  are overlaid (colour = DOD, line style = run); more than three runs get one column each.
- ``max-vm``: the maximum von Mises stress against time [h] and against DOD (scalars.csv).
- ``dod``: surface-maximum and centre theta, and the extreme hydrostatic stresses, against DOD
  (DOD against time is a straight line under constant current; its slope is in the title).

Every function takes a list of :class:`~orchestrator.results.RunResult`, returns a
``matplotlib.figure.Figure`` (shown inline in notebooks) and, with ``output``, writes a PNG.
Figures are made without pyplot (no global state, no GUI backend).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .results import INSTALL_HINT, InvalidSelection, MissingDependencyError, MissingFieldsError, RunResult

__all__ = [
    "PLOT_KINDS",
    "figure_png",
    "legend_labels",
    "make_plot",
    "plot_dod",
    "plot_max_von_mises",
    "plot_radial",
    "save_figure",
]

log = logging.getLogger(__name__)

_LINESTYLES = ("-", "--", ":", "-.")


def _figure(nrows: int, ncols: int, *, width: float, height: float, **kwargs: Any) -> tuple[Any, np.ndarray]:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(f"plots need matplotlib ({exc}); {INSTALL_HINT}") from None
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def _stress_unit(values: Sequence[float]) -> tuple[float, str]:
    """(factor, unit) to show stresses [Pa] in MPa or GPa."""
    finite = [abs(v) for v in values if np.isfinite(v)]
    big = max(finite) if finite else 0.0
    return (1e-9, "GPa") if big >= 1e9 else (1e-6, "MPa")


def save_figure(fig: Any, output: str | Path, *, dpi: int = 130) -> Path:
    """Write ``fig`` as a PNG (parents created); return the path."""
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    log.debug("wrote %s", path)  # the CLI prints the path
    return path


def figure_png(fig: Any, *, dpi: int = 110) -> bytes:
    """The PNG bytes of ``fig`` (for embedding in HTML)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _check_runs(results: Sequence[RunResult]) -> list[RunResult]:
    runs = list(results)
    if not runs:
        raise InvalidSelection("no runs to plot; give at least one run")
    return runs


def legend_labels(results: Sequence[RunResult]) -> dict[str, str]:
    """run id -> legend label; prefixed by the study when runs of several studies are mixed, followed
    by ``[backend]`` when backends are mixed, and by the run id where labels would still repeat."""
    runs = list(results)
    several = len({r.study for r in runs}) > 1
    labels = {r.run_id: (f"{r.study}: {r.label}" if several else r.label) for r in runs}
    if len({r.backend for r in runs}) > 1:  # a cross-backend comparison: every label names its backend
        labels = {r.run_id: f"{labels[r.run_id]} [{r.backend}]" for r in runs}
    counts: dict[str, int] = {}
    for text in labels.values():
        counts[text] = counts.get(text, 0) + 1
    return {k: (f"{v} ({k[:6]})" if counts[v] > 1 else v) for k, v in labels.items()}


def plot_radial(
    results: Sequence[RunResult], output: str | Path | None = None, *, ray: str = "diagonal", n: int = 200
) -> Any:
    """theta and von Mises stress against r/R at every stored DOD (see the module docstring)."""
    runs = _check_runs(results)
    with_fields = [r for r in runs if r.has_fields]
    if not with_fields:
        raise MissingFieldsError(
            "none of the runs has stored fields ("
            + ", ".join(f"{r.run_id}: {r.state}" for r in runs)
            + "); radial profiles need fields: run them first or use --kind max-vm / dod"
        )
    for r in runs:
        if not r.has_fields:
            log.warning("run %s (%s) has no stored fields; left out of the radial plot", r.run_id, r.label)
    profiles = {
        r.run_id: [
            (
                s.dod,
                *r.profile("theta", index=s.index, ray=ray, n=n),
                r.profile("von_mises", index=s.index, ray=ray, n=n)[1],
            )
            for s in r.steps
        ]
        for r in with_fields
    }
    factor, unit = _stress_unit([float(np.max(p[3])) for ps in profiles.values() for p in ps])
    columns = len(with_fields) > 3
    ncols = len(with_fields) if columns else 1
    fig, axes = _figure(
        2, ncols, width=4.2 * ncols + (1.5 if not columns else 0), height=6.4, sharex=True, sharey="row"
    )
    all_dods = sorted({round(s.dod, 6) for r in with_fields for s in r.steps})
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    labels = legend_labels(with_fields)
    cmap = colormaps["viridis"]
    colour = {d: cmap(0.1 + 0.8 * i / max(len(all_dods) - 1, 1)) for i, d in enumerate(all_dods)}
    for k, r in enumerate(with_fields):
        col = k if columns else 0
        style = "-" if columns else _LINESTYLES[k % len(_LINESTYLES)]
        for dod, x, theta, vm in profiles[r.run_id]:
            c = colour[round(dod, 6)]
            axes[0, col].plot(x, theta, style, color=c, lw=1.6)
            axes[1, col].plot(x, vm * factor, style, color=c, lw=1.6)
        if columns:
            axes[0, col].set_title(labels[r.run_id], fontsize=10)
    ray_text = "(1,1,1) diagonal" if ray == "diagonal" else f"{ray} axis"
    for col in range(ncols):
        axes[1, col].set_xlabel(f"r/R along the {ray_text}")
        for row in range(2):
            axes[row, col].grid(alpha=0.3)
            axes[row, col].set_xlim(0, 1)
    axes[0, 0].set_ylabel("theta = c/c_max [-]")
    axes[1, 0].set_ylabel(f"von Mises stress [{unit}]")
    handles = [Line2D([], [], color=colour[d], lw=2, label=f"DOD {d:.3g}") for d in all_dods]
    if not columns and len(with_fields) > 1:
        handles += [
            Line2D([], [], color="0.3", ls=_LINESTYLES[k % 4], label=labels[r.run_id])
            for k, r in enumerate(with_fields)
        ]
    axes[0, -1].legend(handles=handles, fontsize=8, loc="upper left", frameon=False)
    if output is not None:
        save_figure(fig, output)
    return fig


def _runs_with_scalars(runs: list[RunResult]) -> list[RunResult]:
    usable = [r for r in runs if r.scalars.get("time_s", np.empty(0)).size]
    for r in runs:
        if r not in usable:
            log.warning("run %s (%s) has no scalars.csv rows; left out", r.run_id, r.label)
    if not usable:
        raise MissingFieldsError(
            "none of the runs has scalars ("
            + ", ".join(f"{r.run_id}: {r.state}" for r in runs)
            + "); run them first (octant run)"
        )
    return usable


def plot_max_von_mises(results: Sequence[RunResult], output: str | Path | None = None) -> Any:
    """Maximum von Mises stress against time [h] and against DOD, one line per run."""
    runs = _runs_with_scalars(_check_runs(results))
    fig, axes = _figure(1, 2, width=10.0, height=3.8, sharey=True)
    factor, unit = _stress_unit([float(np.nanmax(r.scalars["von_mises_max"], initial=0.0)) for r in runs])
    labels = legend_labels(runs)
    for k, r in enumerate(runs):
        s = r.scalars
        vm = s["von_mises_max"] * factor
        ok = np.isfinite(vm)
        if not ok.any():
            log.warning("run %s has no von_mises_max values (stress_every_step off?)", r.run_id)
            continue
        kw = {"color": f"C{k % 10}", "lw": 1.6, "label": labels[r.run_id]}
        axes[0, 0].plot(s["time_s"][ok] / 3600.0, vm[ok], **kw)
        axes[0, 1].plot(s["dod"][ok], vm[ok], **kw)
    axes[0, 0].set_xlabel("time [h]")
    axes[0, 1].set_xlabel("DOD [-]")
    axes[0, 0].set_ylabel(f"max von Mises stress [{unit}]")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
    axes[0, 1].legend(fontsize=8, frameon=False)
    if output is not None:
        save_figure(fig, output)
    return fig


def plot_dod(results: Sequence[RunResult], output: str | Path | None = None) -> Any:
    """How the particle fills and what that does to it, against DOD (scalars.csv, every step).

    Left: surface-maximum (solid) and centre (dashed) theta: where the two meet, the lithiation
    front has reached the centre. Right: the extreme hydrostatic stresses (solid: largest tension,
    dashed: largest compression). DOD against time is not drawn: under constant current it is the
    straight line DOD = t / t_full, given in the title instead.
    """
    runs = _runs_with_scalars(_check_runs(results))
    fig, axes = _figure(1, 2, width=10.0, height=3.8, sharex=True)
    labels = legend_labels(runs)
    factor, unit = _stress_unit(
        [float(np.nanmax(np.abs(r.scalars[k]), initial=0.0)) for r in runs for k in ("hydrostatic_min", "hydrostatic_max")]
    )
    from matplotlib.lines import Line2D

    for k, r in enumerate(runs):
        s, colour = r.scalars, f"C{k % 10}"
        axes[0, 0].plot(s["dod"], s["theta_surface_max"], color=colour, lw=1.6)
        axes[0, 0].plot(s["dod"], s["theta_center"], "--", color=colour, lw=1.4)
        for key, style in (("hydrostatic_max", "-"), ("hydrostatic_min", "--")):
            ok = np.isfinite(s[key])
            if ok.any():
                axes[0, 1].plot(s["dod"][ok], s[key][ok] * factor, style, color=colour, lw=1.5)
    axes[0, 0].set_ylabel("theta = c/c_max [-]")
    axes[0, 0].axhline(1.0, color="0.5", lw=0.8, ls=":")
    axes[0, 1].set_ylabel(f"hydrostatic stress [{unit}]")
    axes[0, 1].axhline(0.0, color="0.5", lw=0.8)
    for ax, (solid, dashed) in zip(axes[0], (("surface max", "centre"), ("max (tension)", "min (compression)"))):
        ax.set_xlabel("DOD [-]")
        ax.grid(alpha=0.3)
        styles = [Line2D([], [], color="0.3", ls=ls, label=text) for ls, text in (("-", solid), ("--", dashed))]
        ax.legend(handles=styles, fontsize=8, frameon=False, loc="best")
    runs_legend = [Line2D([], [], color=f"C{k % 10}", lw=2, label=labels[r.run_id]) for k, r in enumerate(runs)]
    fig.legend(handles=runs_legend, loc="outside lower center", ncols=min(len(runs), 4), fontsize=8, frameon=False)
    t_full = sorted({f"{r.spec.model().time_at_dod(1.0) / 3600:.4g} h" for r in runs})
    fig.suptitle(f"constant current: DOD = t / t_full (t_full = {', '.join(t_full)})", fontsize=9)
    if output is not None:
        save_figure(fig, output)
    return fig


#: ``--kind`` name -> plotting function ``f(results, output=None) -> Figure``.
PLOT_KINDS: dict[str, Callable[..., Any]] = {
    "radial": plot_radial,
    "max-vm": plot_max_von_mises,
    "dod": plot_dod,
}


def make_plot(kind: str, results: Sequence[RunResult], output: str | Path, **options: Any) -> Path:
    """Draw plot ``kind`` of ``results`` into the PNG ``output``; return its path."""
    try:
        function = PLOT_KINDS[kind]
    except KeyError:
        raise InvalidSelection(f"unknown plot kind {kind!r}; choose one of {', '.join(PLOT_KINDS)}") from None
    function(results, output, **options)
    return Path(output)
