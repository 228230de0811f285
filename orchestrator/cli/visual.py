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
    p.add_argument("--mirror", action="store_true", help="reflect across the 3 symmetry planes: the full sphere")
    p.add_argument("--clip", action="store_true", help="cut the body open (with --mirror: a 7/8 cutaway)")
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


def resolve_results(refs: list[str], runs_dir: Path | None) -> list[RunResult]:
    """Run results for each reference: a run (path, id, prefix) or a study name (all its runs)."""
    store = RunStore(runs_dir)
    results: list[RunResult] = []
    for ref in refs:
        try:
            results.append(load_run(ref, runs_dir=runs_dir))
        except RunNotFound:
            runs = list(store.iter_runs(ref)) if ref in store.studies() else []
            if not runs:
                raise
            results.extend(RunResult(run) for run in runs)
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
