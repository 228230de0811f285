"""One self-contained HTML page per study: spec, provenance, plots and 3D pictures of every run.

``build_report(study, runs_dir=None, output=None)`` reads every run of ``study`` from the run store
and writes one HTML file (default ``<runs dir>/<study>/report.html``) with all images embedded as
base64 PNG, so the page can be mailed or archived alone. Sections:

1. a summary table (run id, label, state, backend, wall time, final DOD, max von Mises, max surface
   theta, plausibility warnings, error) with links to each run's ``scalars.csv`` and ``fields.pvd``;
2. the comparison across the sweep: the radial, max-von-Mises and DOD plots with every run
   overlaid, and a Fig. 5-style panel figure (:mod:`orchestrator.figure`: runs x every DOD that all
   runs stored, per field) whose colour limits are shared by all runs at every DOD;
3. per run: status, warnings, the resolved spec (YAML), provenance (JSON), its plots and 3D
   pictures at every stored step, with the same study-wide colour limits per field, so that any
   two pictures of the page compare directly.

A run without fields or scalars (pending, failed) is listed with the reason instead of pictures.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import OctantError

from .errors import RunNotFound
from .figure import DOD_MATCH_TOL, make_figure
from .plausibility import run_warnings
from .plots import figure_png, plot_dod, plot_max_von_mises, plot_radial
from .render import color_limits, render_field
from .results import RunResult
from .store import RunStore, atomic_write_text

__all__ = ["COMPARISON_FIELDS", "REPORT_FIELDS", "build_report"]

log = logging.getLogger(__name__)

#: Fields drawn in 3D in each run's section.
REPORT_FIELDS: tuple[str, ...] = ("theta", "von_mises")
#: Fields of the comparison figure (the paper's Fig. 5).
COMPARISON_FIELDS: tuple[str, ...] = ("theta", "volumetric_strain", "von_mises")
#: At most this many runs (rows) in the comparison figure.
MAX_FIGURE_ROWS = 8

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.4;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.9em;margin:1em 0} th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto} .grid{display:grid;gap:.6em} figure{margin:0} figcaption{font-size:.85em;color:#555}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em;max-height:30em}
.state-done{color:#176c2c;font-weight:600} .state-failed{color:#b00020;font-weight:600}
.state-running,.state-pending{color:#8a6d00;font-weight:600} .note{color:#8a6d00} .meta{color:#666;font-size:.9em}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _figure_html(fig: Any, alt: str) -> str:
    return _img(figure_png(fig), alt)


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _fmt(value: Any, spec: str = ".4g") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    return format(v, spec) if np.isfinite(v) else "-"


def _link(target: Path, base: Path, text: str) -> str:
    """A relative link from the report's folder to a run file, or plain text when it does not exist."""
    if not target.exists():
        return f'<span class="meta">{_e(text)}: none</span>'
    return f'<a href="{_e(Path(os.path.relpath(target, base)).as_posix())}">{_e(text)}</a>'


def _summary_row(r: RunResult, warnings: list[str], base: Path) -> str:
    s = r.scalars
    has = s.get("time_s", np.empty(0)).size > 0
    vm = float(np.nanmax(s["von_mises_max"])) if has and np.isfinite(s["von_mises_max"]).any() else float("nan")
    surface = float(np.nanmax(s["theta_surface_max"])) if has else float("nan")
    flag = " &#9888; &gt; 1" if np.isfinite(surface) and surface > 1.0 else ""
    wall = r.provenance.get("wall_time_s")
    error = r.status.get("error") or ""
    warn = f'<a class="note" href="#run-{_e(r.run_id)}">&#9888; {len(warnings)}</a>' if warnings else "-"
    links = _link(r.path / "scalars.csv", base, "scalars.csv") + " " + _link(r.path / "fields.pvd", base, "fields.pvd")
    return (
        f'<tr><td><a href="#run-{_e(r.run_id)}"><code>{_e(r.run_id)}</code></a></td><td>{_e(r.label)}</td>'
        f'<td class="state-{_e(r.state)}">{_e(r.state)}</td><td>{_e(r.backend)}</td>'
        f'<td class="num">{_fmt(wall, ".3g")}</td><td class="num">{len(r.steps)}</td>'
        f'<td class="num">{_fmt(s["dod"][-1] if has else None, ".4f")}</td>'
        f'<td class="num">{_fmt(vm / 1e9, ".4g")}</td><td class="num">{_fmt(surface, ".4f")}{flag}</td>'
        f"<td>{warn}</td><td>{links}</td><td>{_e(error)}</td></tr>"
    )


def _summary_table(results: Sequence[RunResult], warnings: dict[str, list[str]], base: Path) -> str:
    head = (
        "<tr><th>run</th><th>label</th><th>state</th><th>backend</th><th>wall time [s]</th><th>field steps</th>"
        "<th>final DOD</th><th>max von Mises [GPa]</th><th>max surface theta</th><th>warnings</th><th>data</th>"
        "<th>error</th></tr>"
    )
    rows = "".join(_summary_row(r, warnings[r.run_id], base) for r in results)
    return "<table>" + head + rows + "</table>"


def _changes_table(results: Sequence[RunResult]) -> str:
    paths = sorted({p for r in results for p in r.changes})
    if not paths:
        return "<p>No sweep: a single run.</p>"
    head = "<tr><th>run</th>" + "".join(f"<th>{_e(p)}</th>" for p in paths) + "</tr>"
    rows = []
    for r in results:
        cells = "".join(f"<td>{_e(_short(r.changes.get(p, '-')))}</td>" for p in paths)
        rows.append(f"<tr><td><code>{_e(r.run_id)}</code></td>{cells}</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _plots(results: Sequence[RunResult], what: str) -> str:
    """The three plot kinds for ``results``; a note where a plot cannot be drawn."""
    parts = []
    for name, function in (("radial profiles", plot_radial), ("max von Mises", plot_max_von_mises), ("DOD", plot_dod)):
        try:
            parts.append(f"<figure>{_figure_html(function(results), f'{name} of {what}')}</figure>")
        except OctantError as exc:
            parts.append(_note(f"{name}: {exc}"))
    return "\n".join(parts)


def _render_png(
    result: RunResult, field: str, index: int, clim: tuple[float, float], workdir: Path, size: tuple[int, int]
) -> bytes:
    out = workdir / f"{result.run_id}_{field}_{index}.png"
    render_field(result, field, index=index, mirror=True, clip=True, clim=clim, output=out, window_size=size)
    return out.read_bytes()


def _study_limits(results: Sequence[RunResult], fields: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Per field, colour limits over every run and every stored step (fields a run lacks are left out)."""
    limits = {}
    for field in fields:
        ranges = []
        for r in results:
            try:
                ranges.append(r.field_range(field))
            except OctantError as exc:
                log.warning("run %s: %s; not in the %s colour limits", r.run_id, exc, field)
        if ranges:
            limits[field] = color_limits(field, (min(a for a, _ in ranges), max(b for _, b in ranges)))
    return limits


def _common_dods(results: Sequence[RunResult]) -> list[float]:
    """The DODs (of the first run) that every run stored, within :data:`~orchestrator.figure.DOD_MATCH_TOL`."""
    first, *others = results
    return [
        float(d) for d in first.dods if all(np.min(np.abs(r.dods - d)) <= DOD_MATCH_TOL for r in others)
    ]


def _comparison_renders(
    results: Sequence[RunResult], limits: dict[str, tuple[float, float]], workdir: Path
) -> str:
    """The Fig. 5-style panel figure: runs x common DODs per field, limits shared by all panels of a field."""
    with_fields = [r for r in results if r.has_fields]
    if not with_fields:
        return _note("No run has stored fields: nothing to draw in 3D.")
    dods = _common_dods(with_fields)
    if not dods:
        return _note("The runs stored no field step at a common DOD: no side-by-side 3D comparison.")
    shown = with_fields[:MAX_FIGURE_ROWS]
    fields = [f for f in COMPARISON_FIELDS if f in limits]
    try:
        out = make_figure(shown, fields, dods, workdir / "comparison.png", clims=limits, dpi=110).path
    except OctantError as exc:
        return _note(f"comparison figure: {exc}")
    more = f" (the first {MAX_FIGURE_ROWS} of {len(with_fields)} runs; octant figure draws any selection)" if len(
        with_fields
    ) > MAX_FIGURE_ROWS else ""
    caption = (
        f"rows: runs; columns: DOD {', '.join(f'{d:.3g}' for d in dods)} per field; shared colour limits: one scale"
        f" per field for every run and every DOD of the study{more}"
    )
    return "<h3>Fields side by side (shared colour limits)</h3>" + _figure(out.read_bytes(), caption)


def _figure(png: bytes, caption: str) -> str:
    """One captioned image."""
    return f"<figure>{_img(png, caption)}<figcaption>{_e(caption)}</figcaption></figure>"


def _grid(cells: list[str], max_columns: int) -> str:
    """Figures side by side, at most ``max_columns`` per row."""
    columns = min(len(cells), max_columns)
    return f'<div class="grid" style="grid-template-columns:repeat({columns},1fr)">{"".join(cells)}</div>'


def _run_renders(
    result: RunResult, fields: Sequence[str], limits: dict[str, tuple[float, float]], workdir: Path
) -> str:
    if not result.has_fields:
        return _note(f"No stored fields (state {result.state}).")
    blocks = []
    for field in fields:
        if field not in limits:
            continue
        try:
            cells = []
            for step in result.steps:
                png = _render_png(result, field, step.index, limits[field], workdir, (440, 380))
                cells.append(_figure(png, f"{field}, DOD {step.dod:.3f}, t = {step.time / 3600:.3g} h"))
        except OctantError as exc:
            blocks.append(_note(f"{field}: {exc}"))
            continue
        blocks.append(_grid(cells, 4))
    return "\n".join(blocks)


def _run_section(
    result: RunResult,
    fields: Sequence[str],
    workdir: Path | None,
    limits: dict[str, tuple[float, float]],
    warnings: list[str],
    base: Path,
) -> str:
    spec_text = (result.path / "spec.yaml").read_text(encoding="utf-8") if (result.path / "spec.yaml").exists() else ""
    provenance = json.dumps(result.provenance, indent=2, sort_keys=True, default=str)
    status = json.dumps(result.status, indent=2, sort_keys=True, default=str)
    parts = [
        f'<h2 id="run-{_e(result.run_id)}">{_e(result.label)} <code>{_e(result.run_id)}</code></h2>',
        (
            f'<p class="meta">state <span class="state-{_e(result.state)}">{_e(result.state)}</span>, backend '
            f"{_e(result.backend)}, directory <code>{_e(result.path)}</code></p>"
        ),
    ]
    try:
        parts.append(f'<p class="meta">model: {_e(result.spec.model().describe())}</p>')
    except OctantError as exc:  # an unreadable stored spec is shown, not fatal
        parts.append(_note(f"spec: {exc}"))
    if result.status.get("error"):
        parts.append(f'<p class="state-failed">error: {_e(result.status["error"])}</p>')
    parts.extend(_note(f"warning: {text}") for text in warnings)
    parts.append(
        f'<p class="meta">data: {_link(result.path / "scalars.csv", base, "scalars.csv")},'
        f' {_link(result.path / "fields.pvd", base, "fields.pvd (ParaView)")}</p>'
    )
    parts += [
        f"<details><summary>resolved spec (SI)</summary><pre>{_e(spec_text)}</pre></details>",
        f"<details><summary>provenance</summary><pre>{_e(provenance)}</pre></details>",
        f"<details><summary>status</summary><pre>{_e(status)}</pre></details>",
        _plots([result], result.label),
    ]
    if workdir is not None:
        parts.append(_run_renders(result, fields, limits, workdir))
    return "\n".join(parts)


def build_report(
    study: str,
    *,
    runs_dir: str | Path | None = None,
    output: str | Path | None = None,
    render_3d: bool = True,
    fields: Sequence[str] = REPORT_FIELDS,
) -> Path:
    """Write the HTML report of ``study`` and return its path (see the module docstring).

    ``runs_dir``: the run store (default ``$OCTANT_RUNS_DIR`` or ``./runs``); ``output`` default
    ``<runs dir>/<study>/report.html``; ``render_3d=False`` skips the pyvista pictures.
    """
    store = RunStore(runs_dir)
    runs = list(store.iter_runs(study))
    if not runs:
        known = ", ".join(store.studies()) or "none"
        raise RunNotFound(
            f"no runs of study {study!r} in {store.root} (studies there: {known}); run it first (octant run SPEC)"
        )
    results = [RunResult(run) for run in runs]
    path = Path(output) if output is not None else store.root / study / "report.html"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    states = ", ".join(f"{n} {s}" for s, n in sorted(_count(r.state for r in results).items()))
    base = path.resolve().parent
    warnings = {r.run_id: (run_warnings(r.run) if r.state == "done" else []) for r in results}
    with tempfile.TemporaryDirectory(prefix="octant-report-") as tmp:
        workdir = Path(tmp) if render_3d else None
        comparison = _plots(results, f"study {study}")
        limits: dict[str, tuple[float, float]] = {}
        if workdir is not None:
            with_fields = [r for r in results if r.has_fields]
            limits = _study_limits(with_fields, tuple(dict.fromkeys((*fields, *COMPARISON_FIELDS))))
            comparison += _comparison_renders(results, limits, workdir)
        sections = [_run_section(r, fields, workdir, limits, warnings[r.run_id], base) for r in results]
    toc = "".join(
        f'<li><a href="#run-{_e(r.run_id)}">{_e(r.label)}</a> <code>{_e(r.run_id)}</code></li>' for r in results
    )
    description = _description(results)
    body = [
        f"<h1>octant study <code>{_e(study)}</code></h1>",
        f"<p>{_e(description)}</p>" if description else "",
        f'<p class="meta">{len(results)} run(s): {_e(states)}. Generated {now} from <code>{_e(store.root / study)}</code>.</p>',
        "<h2>Runs</h2>",
        _summary_table(results, warnings, base),
        "<h3>Sweep</h3>",
        _changes_table(results),
        f"<ul>{toc}</ul>",
        "<h2>Comparison across the sweep</h2>",
        comparison,
        *sections,
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>octant: {_e(study)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    atomic_write_text(path, page)
    log.debug("wrote %s (%d runs, %.1f kB)", path, len(results), len(page) / 1024)
    return path


def _description(results: Sequence[RunResult]) -> str:
    """The study's free-text description (from the first readable run spec)."""
    for r in results:
        try:
            return r.spec.spec.description
        except OctantError:
            continue
    return ""


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts
