"""Visual commands: ``render`` (3D pictures), ``plot`` (matplotlib panels), ``report`` (HTML page)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..errors import RunNotFound
from ..results import InvalidSelection, RunResult, load_run
from ..store import RunStore

__all__ = ["parse_at", "register", "resolve_results"]

log = logging.getLogger(__name__)

_RENDER_FIELDS = ("theta", "c", "von_mises", "hydrostatic", "max_principal_stress", "volumetric_strain", "displacement")
_PLOT_KINDS = ("radial", "max-vm", "dod")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="3D picture of a stored field (off-screen PNG)",
        description="Render a stored field of one run to PNG: the octant with its cut faces, optionally mirrored"
        " to the full sphere (--mirror) and cut open (--clip). Radial runs are swept into 3D.",
    )
    p.add_argument("run", help="run directory, run id or unique id prefix")
    p.add_argument("--field", default="theta", choices=_RENDER_FIELDS, help="field to draw (default theta)")
    p.add_argument(
        "--at",
        default=None,
        metavar="dod=X|time=T",
        help="stored step nearest to a DOD or a time ('time=2 h', 'time=7200'); default: the last step",
    )
    p.add_argument(
        "--mirror", action="store_true", help="reflect across the 3 symmetry planes: the full sphere (cut open unless --no-clip)"
    )
    p.add_argument(
        "--clip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cut the body open: with --mirror a 7/8 cutaway (the default there), else the octant cut along x = y",
    )
    p.add_argument(
        "--all", action="store_true", help="one PNG per stored step, shared colour limits, into the run's images/"
    )
    p.add_argument(
        "--clim", nargs=2, type=float, metavar=("LO", "HI"), help="colour limits in SI units (Pa, mol/m^3, ...)"
    )
    p.add_argument("--size", default="1000x800", help="picture size WxH in pixels (default 1000x800)")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="PNG file (default: the run's images/); with --all a folder"
    )
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder (default: $OCTANT_RUNS_DIR or ./runs)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "plot",
        help="paper-style plots of one or more runs",
        description="Plot stored runs, overlaid with a legend: radial profiles of theta and von Mises stress at the"
        " stored DODs, the maximum von Mises stress against time and DOD, or DOD against time.",
    )
    p.add_argument("runs", nargs="+", help="run directories, run ids, id prefixes, or study names (all their runs)")
    p.add_argument("--kind", default="radial", choices=_PLOT_KINDS, help="what to plot (default radial)")
    p.add_argument(
        "--ray", default="diagonal", choices=("diagonal", "x", "y", "z"), help="sampling ray of radial profiles"
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="PNG file (default: <study dir>/<kind>.png or the run's images/)",
    )
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "report",
        help="one self-contained HTML page for a study",
        description="Write an HTML report of a study (spec, provenance, plots, 3D pictures; images embedded).",
    )
    p.add_argument("study", help="study name (the folder under the run store)")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.add_argument("-o", "--output", type=Path, default=None, help="HTML file (default <runs dir>/<study>/report.html)")
    p.add_argument("--no-3d", action="store_true", help="skip the 3D pictures (plots only; faster)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "figure",
        help="one multi-panel figure in the paper's Fig. 5 layout (PNG, SVG or PDF)",
        description="Rows are runs (e.g. Si and the alloy), columns are DODs grouped per field; each field has one"
        " colour scale shared by every run and DOD of the figure, with its unit. Example: octant figure"
        " si-vs-alloy --fields theta,volumetric_strain,von_mises --at dod=0.25,0.5,1 -o fig5.png",
    )
    p.add_argument("runs", nargs="+", help="study names (all their runs), run directories, run ids or id prefixes")
    p.add_argument(
        "--fields",
        default="theta,volumetric_strain,von_mises",
        help=f"comma-separated fields (default theta,volumetric_strain,von_mises; any of {', '.join(_RENDER_FIELDS)})",
    )
    p.add_argument(
        "--at", default=None, metavar="dod=X,Y,...", help="DODs of the columns (default: every stored DOD)"
    )
    p.add_argument(
        "--clim",
        action="append",
        metavar="FIELD=LO,HI",
        help="colour limits of one field in SI units (Pa, -, mol/m^3); repeat per field",
    )
    p.add_argument(
        "--view",
        default="cutaway",
        choices=("cutaway", "octant"),
        help="cutaway: the mirrored sphere with its front octant removed (default); octant: the octant with cut faces",
    )
    p.add_argument("--panel-size", type=int, default=420, help="pixels per rendered panel (default 420)")
    p.add_argument("--title", default=None, help="figure title (default: the studies and how to read the figure)")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="figure file; .png, .svg or .pdf (default <study dir>/figure.png)"
    )
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.set_defaults(func=cmd_figure)

    p = sub.add_parser(
        "paraview",
        help="write a run's fields for ParaView: the full mirrored sphere, DOD as a field and as the time",
        description="Write OUT/fields.pvd + OUT/fields/*.vtu: the octant mirrored to the full sphere (vectors and"
        " tensors reflected), a point array 'dod', and the DOD (or the time in s) as the .pvd time value."
        " Radial runs are swept into 3D.",
    )
    p.add_argument("run", help="run directory, run id or unique id prefix")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (not the run directory)")
    p.add_argument("--no-mirror", action="store_true", help="keep the octant (default: the full sphere)")
    p.add_argument(
        "--time-axis", default="dod", choices=("dod", "time"), help="the .pvd time value: DOD (default) or time [s]"
    )
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.set_defaults(func=cmd_paraview)


def parse_at(text: str | None) -> dict[str, float]:
    """``dod=0.5`` -> {"dod": 0.5}; ``time=2 h`` / ``time=7200`` -> {"time": seconds}; None -> {}."""
    if text is None:
        return {}
    key, sep, value = text.partition("=")
    key = key.strip().lower()
    if not sep or key not in ("dod", "time") or not value.strip():
        raise InvalidSelection(f"--at {text!r}: write dod=X (e.g. dod=0.5) or time=T (e.g. 'time=2 h' or time=7200)")
    if key == "dod":
        try:
            return {"dod": float(value)}
        except ValueError:
            raise InvalidSelection(f"--at {text!r}: the DOD must be a number such as 0.5") from None
    from ..units import parse_quantity

    try:
        return {"time": parse_quantity(value.strip(), "time")}
    except ValueError as exc:
        raise InvalidSelection(f"--at {text!r}: {exc}") from None


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidSelection(f"--size {text!r}: write WIDTHxHEIGHT, e.g. 1000x800") from None
    if not (64 <= width <= 8000 and 64 <= height <= 8000):
        raise InvalidSelection(f"--size {text!r}: width and height must be between 64 and 8000 pixels")
    return width, height


def _by_label(runs: list) -> list[RunResult]:
    """A study's runs as results, ordered by their label (Si before Si8.5Sn0.5Sb), then id."""
    return sorted((RunResult(run) for run in runs), key=lambda r: (r.label, r.run_id))


def resolve_results(refs: list[str], runs_dir: Path | None) -> list[RunResult]:
    """Run results for each reference: a study name or a study folder (all its runs, by label), a
    run directory, ``study/id``, a run id or a unique id prefix."""
    store = RunStore(runs_dir)
    results: list[RunResult] = []
    for ref in refs:
        folder = Path(ref)
        if folder.is_dir() and not (folder / "spec.yaml").exists():  # a study folder given as a path
            runs = list(RunStore(folder.resolve().parent).iter_runs(folder.resolve().name))
            if not runs:
                raise RunNotFound(f"{folder} holds no runs (no <run id>/spec.yaml inside); give a study or a run")
            results.extend(_by_label(runs))
            continue
        if ref in store.studies():
            runs = list(store.iter_runs(ref))
            if runs:
                results.extend(_by_label(runs))
                continue
        try:
            results.append(load_run(ref, runs_dir=runs_dir))
        except RunNotFound as exc:
            known = ", ".join(store.studies()) or "none"
            raise RunNotFound(f"{exc}; studies in {store.root}: {known}") from None
    return results


def cmd_render(args: argparse.Namespace) -> int:
    from ..render import render_field, render_series

    result = load_run(args.run, runs_dir=args.runs_dir)
    size = _size(args.size)
    if args.all:
        if args.at is not None or args.clim is not None:
            raise InvalidSelection("--all renders every stored step with shared limits; drop --at and --clim")
        images = render_series(
            result, args.field, mirror=args.mirror, clip=args.clip, out_dir=args.output, window_size=size
        )
    else:
        images = [
            render_field(
                result,
                args.field,
                mirror=args.mirror,
                clip=args.clip,
                clim=tuple(args.clim) if args.clim else None,
                output=args.output,
                window_size=size,
                **parse_at(args.at),
            )
        ]
    for image in images:
        print(
            f"{image.path}  ({image.field}, DOD {image.step.dod:.4f}, t = {image.step.time:.6g} s, colour limits {image.clim[0]:.4g} .. {image.clim[1]:.4g})"
        )
    return 0


def _default_plot_output(results: list[RunResult], kind: str) -> Path:
    if len(results) == 1:
        return results[0].run.images_dir / f"{kind}.png"
    studies = {r.path.parent for r in results}
    if len(studies) == 1:
        return studies.pop() / f"{kind}.png"
    return Path(f"{kind}.png")


def cmd_plot(args: argparse.Namespace) -> int:
    from ..plots import make_plot

    results = resolve_results(args.runs, args.runs_dir)
    output = args.output or _default_plot_output(results, args.kind)
    options = {"ray": args.ray} if args.kind == "radial" else {}
    path = make_plot(args.kind, results, output, **options)
    print(f"{path}  ({args.kind}, {len(results)} run(s): {', '.join(r.label for r in results)})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import build_report

    path = build_report(args.study, runs_dir=args.runs_dir, output=args.output, render_3d=not args.no_3d)
    print(path)
    return 0


def _dod_list(text: str) -> list[float]:
    """``dod=0.25,0.5,1`` (or ``0.25,0.5,1``) -> [0.25, 0.5, 1.0]."""
    body = text.split("=", 1)[1] if "=" in text else text
    key = text.split("=", 1)[0].strip().lower() if "=" in text else "dod"
    try:
        values = [float(v) for v in body.split(",") if v.strip()]
    except ValueError:
        values = []
    if key != "dod" or not values:
        raise InvalidSelection(f"--at {text!r}: write dod=X,Y,... (e.g. dod=0.25,0.5,1)")
    return values


def cmd_figure(args: argparse.Namespace) -> int:
    from ..figure import make_figure, parse_clims

    results = resolve_results(args.runs, args.runs_dir)
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    dods = _dod_list(args.at) if args.at else sorted({round(d, 6) for r in results for d in r.dods})
    output = args.output or _default_plot_output(results, "figure")
    summary = make_figure(
        results,
        fields,
        dods,
        output,
        clims=parse_clims(args.clim or []),
        view=args.view,
        panel_px=args.panel_size,
        title=args.title,
    )
    limits = "; ".join(f"{f} {lo:.4g}..{hi:.4g}" for f, (lo, hi) in summary.clims.items())
    print(f"{summary.path}  ({len(summary.rows)} run(s) x DOD {', '.join(f'{d:g}' for d in summary.dods)}; limits {limits})")
    return 0


def cmd_paraview(args: argparse.Namespace) -> int:
    from ..paraview import export_paraview

    result = load_run(args.run, runs_dir=args.runs_dir)
    pvd = export_paraview(result, args.output, mirror=not args.no_mirror, time_axis=args.time_axis)
    what = "octant" if args.no_mirror else "full sphere"
    print(f"{pvd}  ({what}, {len(result.steps)} step(s), time value = {args.time_axis})")
    return 0
