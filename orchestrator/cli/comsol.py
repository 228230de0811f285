"""COMSOL commands: export-java, import-comsol, compare, mesh-info.

* ``octant export-java SPEC -o OctantModel.java`` writes the COMSOL model file (build, solve,
  export) of one run of a study, for ``comsol compile`` + ``comsol batch``.
* ``octant import-comsol RESULT.txt --mesh MESH.mphtxt`` stores a COMSOL Data export as a run
  (``--into RUN_DIR --batch-log LOG --exit-code N`` finishes a SLURM ``comsol batch`` job).
* ``octant compare RUN_A RUN_B`` reports field differences between two stored runs.
* ``octant mesh-info FILE`` summarises a ``.mphtxt`` or ``.msh`` mesh.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from ..errors import SpecError, StoreError

__all__ = ["mesh_summary", "register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-java", help="write the COMSOL .java model file of a run (for comsol compile/batch)")
    p.add_argument("spec", type=Path, help="study spec file, or a run's spec.yaml")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .java file (its name is the class name)")
    p.add_argument("--run", help="run index (0, 1, ... in sweep order) or run id prefix (4+ characters), when the study has a sweep")
    p.add_argument("--results-dir", type=Path, help="where COMSOL writes mesh.mphtxt and fields.txt (default: next to -o)")
    p.add_argument("--max-method-bytes", type=int, default=None, help="split run() into run2... above this size")
    p.set_defaults(func=cmd_export_java)

    p = sub.add_parser("import-comsol", help="store a COMSOL Data export (+ its .mphtxt mesh) as a run")
    p.add_argument("result", type=Path, help="COMSOL Data export, spreadsheet text format")
    p.add_argument("--mesh", type=Path, required=True, help="the mesh of that solution (.mphtxt)")
    p.add_argument("--spec", type=Path, help="study spec of the model COMSOL solved (default: the Si defaults, flagged)")
    p.add_argument("--run", help="run id (prefix) or index in --spec, when it has a sweep")
    p.add_argument("--study", help="study name to store it under (default: the spec's, or comsol-import)")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder (default: $OCTANT_RUNS_DIR or ./runs)")
    p.add_argument("--force", action="store_true", help="replace a finished run of the same spec")
    p.add_argument("--into", type=Path, help="store into this prepared run directory (end of a comsol batch job)")
    p.add_argument("--batch-log", type=Path, help="with --into: COMSOL batch log to check for errors")
    p.add_argument("--exit-code", type=int, default=0, help="with --into: exit code of comsol batch")
    p.set_defaults(func=cmd_import_comsol)

    p = sub.add_parser("compare", help="field differences between two stored runs (B interpolated onto A)")
    p.add_argument("run_a", help="run directory, run id or unique prefix")
    p.add_argument("run_b", help="run directory, run id or unique prefix")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("mesh-info", help="vertices, elements, domains and volume of a .mphtxt or .msh mesh")
    p.add_argument("file", type=Path, help="mesh file (.mphtxt or .msh)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_mesh_info)


def cmd_export_java(args: argparse.Namespace) -> int:
    from solvers.comsol.builder import build_plan
    from solvers.comsol.java_export import DEFAULT_METHOD_BYTES, java_class_name, write_java

    from ..comsol_import import select_run
    from ..provenance import octant_version
    from ..spec import load_study

    try:
        java_class_name(args.output)
    except ValueError as exc:
        raise SpecError(f"-o {args.output}: {exc}") from None
    if args.output.suffix != ".java":
        raise SpecError(f"-o {args.output}: the output must be a .java file")
    run = select_run(load_study(args.spec).runs(), args.run, str(args.spec))
    results_dir = (args.results_dir or args.output.parent).resolve()
    model = run.model()
    plan = build_plan(model, run.outputs(), run.numerics(), results_dir=results_dir.as_posix())
    header = (
        f"Written by octant {octant_version()} from {args.spec.name}: study {run.study}, run {run.run_id},"
        f" physics {run.physics_id}.\nModel: {model.describe()}"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_java(args.output, plan, header=header, max_method_bytes=args.max_method_bytes or DEFAULT_METHOD_BYTES)
    print(f"wrote {args.output} ({len(plan.calls)} API calls); results will go to {results_dir}")
    for note in plan.notes:
        print(f"note: {note}")
    return 0


def cmd_import_comsol(args: argparse.Namespace) -> int:
    from ..comsol_import import import_comsol, import_into_run, resolve_import_spec
    from ..store import RunStore

    if args.into is not None:
        run = import_into_run(args.into, args.result, args.mesh, batch_log=args.batch_log, exit_code=args.exit_code)
        print(f"stored COMSOL results in {run.path}")
        return 0
    if args.batch_log is not None or args.exit_code:
        raise SpecError("--batch-log and --exit-code go with --into RUN_DIR")
    run_spec, assumed = resolve_import_spec(args.spec, study=args.study, run=args.run)
    store = RunStore(args.runs_dir)
    run = import_comsol(args.result, args.mesh, store, run_spec, model_assumed=assumed, force=args.force)
    print(f"stored {len(run.field_steps())} field frame(s) as run {run.study}/{run.run_id} in {run.path}")
    if assumed:
        print("note: no --spec given; the default Si model was assumed (recorded in provenance.json)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..compare import compare_runs, format_comparison
    from ..store import RunStore

    store = RunStore(args.runs_dir)
    result = compare_runs(store.find(args.run_a), store.find(args.run_b))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=True))
    else:
        print(format_comparison(result))
    return 0


def mesh_summary(path: Path) -> dict:
    """Vertices, elements by type, domain ids and tetrahedral volume of a ``.mphtxt`` or ``.msh`` file."""
    from solvers.comsol.mphtxt import read_mphtxt, tet_volumes
    from solvers.errors import MeshError

    if not path.is_file():
        raise StoreError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".mphtxt":
        mesh = read_mphtxt(path)
        points = mesh.points
        elements = mesh.counts()
        volume_note = None
        try:
            domains = mesh.domain_ids()
            volume = mesh.volume()
        except MeshError as exc:  # no volume elements (e.g. a surface mesh): say so, never report 0.0
            domains, volume, volume_note = [], None, str(exc)
        fmt = f"COMSOL mphtxt, mesh version {mesh.version}"
    elif suffix == ".msh":
        try:
            import meshio
        except ImportError:
            raise StoreError("reading .msh needs meshio: pip install meshio") from None
        try:
            mesh = meshio.read(path)
        except Exception as exc:  # meshio raises many kinds
            raise StoreError(f"{path}: not a readable Gmsh mesh ({exc})") from None
        points = mesh.points
        elements: dict[str, int] = {}
        domains_set: set[int] = set()
        volume = 0.0
        physical = mesh.cell_data.get("gmsh:physical")
        for k, block in enumerate(mesh.cells):
            elements[block.type] = elements.get(block.type, 0) + len(block.data)
            if block.type in ("tetra", "tetra10"):
                volume += float(tet_volumes(points, block.data[:, :4]).sum())
                if physical is not None:
                    domains_set |= {int(d) for d in np.unique(physical[k])}
        domains = sorted(domains_set)
        fmt = "Gmsh msh"
        volume_note = None if "tetra" in elements or "tetra10" in elements else "no tetrahedra in the file"
        volume = volume if volume_note is None else None
    else:
        raise StoreError(f"{path}: unknown mesh format {suffix!r}; give a .mphtxt or .msh file")
    return {
        "file": str(path),
        "format": fmt,
        "vertices": int(len(points)),
        "elements": elements,
        "domains": domains,
        "volume": volume,
        "volume_note": volume_note,
        "bounds": [np.min(points, axis=0).tolist(), np.max(points, axis=0).tolist()] if len(points) else [],
    }


def cmd_mesh_info(args: argparse.Namespace) -> int:
    info = mesh_summary(args.file)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['file']}: {info['format']}")
    print(f"  vertices: {info['vertices']}")
    for kind, count in info["elements"].items():
        print(f"  {kind:>8}: {count}")
    print(f"  domains:  {', '.join(map(str, info['domains'])) or '-'}")
    if info["volume"] is None:
        print(f"  volume:   unavailable ({info['volume_note']})")
    else:
        print(f"  volume:   {info['volume']:.6g} (mesh length unit cubed)")
    if info["bounds"]:
        lo, hi = info["bounds"]
        print(f"  bounds:   {lo} .. {hi}")
    return 0
