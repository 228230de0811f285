"""Core commands: validate, schema, run, run-one, show."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .. import limits
from ..errors import StoreError
from ..labels import format_changes
from ..runner import run_one
from ..runspec import RunSpec
from ..spec import BACKEND_CHOICES, StudySpec, load_study
from ..store import Run, RunStore

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a study spec and list the runs it expands to")
    p.add_argument("spec", type=Path, help="study spec file (.yaml, .toml, .json)")
    p.add_argument("--json", action="store_true", help="print the resolved runs as JSON")
    add_limit_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of study specs (for editor completion)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("run", help="run every run of a study (skipping those already done)")
    p.add_argument("spec", type=Path, help="study spec file")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help="override the spec's backend (gives new run ids)")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder (default: $OCTANT_RUNS_DIR or ./runs)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="runs in parallel on this machine (default 1)")
    p.add_argument("--force", action="store_true", help="rerun runs that are already done")
    add_limit_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("run-one", help="run one prepared run directory (what batch jobs call)")
    p.add_argument("run_dir", type=Path, help="a run directory holding spec.yaml")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help="override the backend for this execution")
    p.add_argument("--if-not-done", action="store_true", help="do nothing when the run is already done")
    p.set_defaults(func=cmd_run_one)

    p = sub.add_parser("show", help="status, provenance and results of one run")
    p.add_argument("run", help="run directory, run id or unique id prefix")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)


def cmd_validate(args: argparse.Namespace) -> int:
    runs = load_runs(args.spec, max_runs=args.max_runs, max_elements=args.max_elements, warn=False)
    warnings = plausibility_warnings(runs)
    for message in warnings:  # loud, on stderr, but not an error: a bare number is SI
        print(f"WARNING: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps([{**r.meta(), "spec": r.canonical()} for r in runs], indent=2))
        return 0
    study = runs[0].spec
    print(f"{args.spec}: valid study {study.name!r}, backend {study.backend}, {len(runs)} run(s)")
    for run in runs:
        print(f"  {run.run_id}  {format_changes(run.changes, short_keys=False)}")
        print(f"      {run.model().describe()}")
        estimate = limits.estimate_mesh(run.spec)
        if estimate is not None and len(runs) <= 20:
            print(f"      native mesh: {estimate.describe()}")
    if warnings:
        print(f"{len(warnings)} implausible value(s): see the warnings above", file=sys.stderr)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(StudySpec.model_json_schema(), indent=2))
    return 0


def add_limit_options(p: argparse.ArgumentParser) -> None:
    """``--max-runs`` and ``--max-elements``: the overrides of the sweep and mesh size limits."""
    p.add_argument(
        "--max-runs", type=int, default=None, metavar="N",
        help=f"refuse sweeps of more than N runs (default {limits.DEFAULT_MAX_RUNS})",
    )
    p.add_argument(
        "--max-elements", type=int, default=None, metavar="N",
        help=f"refuse native meshes of more than N tetrahedra, estimated before meshing (default {limits.DEFAULT_MAX_ELEMENTS})",
    )


def load_runs(
    spec_path: Path,
    backend: str | None = None,
    *,
    max_runs: int | None = None,
    max_elements: int | None = None,
    warn: bool = True,
) -> list[RunSpec]:
    """Load a study and expand its sweep; ``backend`` overrides the spec's (giving new run ids).

    Refuses sweeps past ``max_runs`` runs and native meshes past ``max_elements`` tetrahedra
    (:mod:`orchestrator.limits`); ``warn`` logs implausible values (bare numbers are SI).
    """
    study = load_study(spec_path)
    if backend is not None:
        study = study.model_copy(update={"backend": backend})
    runs = study.runs(max_runs)
    for run in runs:
        limits.check_mesh_size(run.spec, max_elements, str(spec_path))
        limits.check_field_outputs(run.spec, str(spec_path))
    if warn:
        for message in plausibility_warnings(runs):
            log.warning("%s: %s", spec_path, message)
    return runs


def plausibility_warnings(runs: list[RunSpec]) -> list[str]:
    """Implausible values over every run of a study (each message once)."""
    return list(dict.fromkeys(m for run in runs for m in limits.plausibility_warnings(run.spec)))


def prepare_runs(
    spec_path: Path, runs_dir: Path | None, backend: str | None = None, **limit_options: int | None
) -> tuple[RunStore, list[RunSpec], list[Run]]:
    """Load a study, expand it and create its run directories (``limit_options``: see :func:`load_runs`)."""
    runs = load_runs(spec_path, backend, **limit_options)
    store = RunStore(runs_dir)
    return store, runs, [store.prepare(r) for r in runs]


def cmd_run(args: argparse.Namespace) -> int:
    from .migrate import old_id_runs

    specs = load_runs(args.spec, args.backend, max_runs=args.max_runs, max_elements=args.max_elements)
    store = RunStore(args.runs_dir)
    old = old_id_runs(store, specs)
    if old:
        raise StoreError(
            f"{len(old)} run(s) of this study are stored under old run ids ({', '.join(p.name for p in old[:3])}"
            f"{', ...' if len(old) > 3 else ''}) from an older octant (ids no longer hash descriptions, material"
            " names or sources, and new spec fields change them)."
            f" Re-key them first with: octant migrate-ids {old[0].parent.name}"
            + (f" --runs-dir {args.runs_dir}" if args.runs_dir else "")
            + " (otherwise every run would run again)"
        )
    runs = [store.prepare(r) for r in specs]
    if args.jobs < 1:
        raise StoreError("-j/--jobs must be at least 1")
    from ..executors.local import run_local  # part of octant: an import error is a bug, never a silent fallback

    if args.jobs > 1:
        report = run_local([r.path for r in runs], jobs=args.jobs, force=args.force)
        print(report.summary() if hasattr(report, "summary") else report)
        return 0 if report.ok else 1
    failed = 0
    for run in runs:
        status = run.read_status()
        if status.get("damaged"):
            print(f"{run.study}/{run.run_id}: {status['error']}; rerunning it")
        elif status.get("state") == "done" and not args.force:
            print(f"{run.study}/{run.run_id}: already done (use --force to rerun)")
            continue
        elif status.get("state") == "running" and not run.is_stale():
            print(f"{run.study}/{run.run_id}: running elsewhere (pid {status.get('pid')}); skipped")
            continue
        state = run_one(run.path, show_progress=True, if_not_done=not args.force)  # re-checked under its claim
        if state == "skipped":
            print(f"{run.study}/{run.run_id}: done or claimed by another process meanwhile; skipped")
            continue
        error = f": {_error_of(run)}" if state == "failed" else ""
        print(f"{run.study}/{run.run_id}: {state}{error}  ({run.path})")
        failed += state != "done"
    print(f"{len(runs) - failed} of {len(runs)} run(s) done; results in {store.root / specs[0].study}")
    return 1 if failed else 0


def _error_of(run: Run) -> str:
    status = Run(run.path).read_status()
    return str(status.get("error") or status.get("rerun_error") or "")


def cmd_run_one(args: argparse.Namespace) -> int:
    run = Run(args.run_dir)
    if args.if_not_done and run.state == "done":
        print(f"{run.path}: already done")
        return 0
    state = run_one(  # a bar on a TTY, plain log lines in batch logs
        run.path, backend=args.backend, show_progress=True, if_not_done=args.if_not_done
    )
    print(f"{run.path}: {state}")
    if state == "failed":
        print(f"error: {_error_of(run)} (log: {run.log_path})", file=sys.stderr)
    return 1 if state == "failed" else 0


def _peak(values) -> float:
    """The largest finite value (stress columns are NaN on steps where they are not evaluated)."""
    import numpy as np

    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _warnings(run: Run) -> list[str]:
    from ..plausibility import run_warnings

    return run_warnings(run) if run.state == "done" else []


def cmd_show(args: argparse.Namespace) -> int:
    run = RunStore(args.runs_dir).find(args.run)
    status, provenance = run.status, run.provenance
    scalars = run.scalars()
    last = {k: float(v[-1]) for k, v in scalars.items() if len(v)}
    steps = run.field_steps()
    if args.json:
        print(json.dumps({
            "path": str(run.path), "study": run.study, "run_id": run.run_id, "changes": run.changes,
            "status": status, "provenance": provenance, "final_scalars": last,
            "field_times_s": [t for t, _ in steps],
        "warnings": _warnings(run),
        }, indent=2, default=str))
        return 0
    print(f"run {run.study}/{run.run_id}  [{status.get('state')}]  {run.path}")
    if run.changes:
        print(f"  swept: {format_changes(run.changes, short_keys=False)}")
    print(f"  model: {run.spec.model().describe()}")
    if status.get("error"):
        print(f"  error: {status['error']}  (log: {run.log_path})")
    if provenance:
        solver = provenance.get("solver") or {}
        reason = provenance.get("backend_reason")
        print(f"  backend: {provenance.get('backend') or 'unknown'}" + (f" ({reason})" if reason else ""))
        facts = [  # an imported COMSOL run has no wall time or step counts: leave them out, never print None
            f"{label}: {value}{unit}"
            for label, value, unit in (
                ("wall time", provenance.get("wall_time_s"), " s"),
                ("steps", solver.get("steps_accepted"), ""),
                ("dofs", solver.get("dofs"), ""),
            )
            if value is not None
        ]
        if facts:
            print("  " + "; ".join(facts))
    if last:
        print(
            f"  final: t = {last['time_s'] / 3600:.4g} h, DOD = {last['dod']:.4f}, theta_surface_max = {last['theta_surface_max']:.4f},"
            f" max von Mises over the run = {_peak(scalars['von_mises_max']) / 1e6:.4g} MPa"
        )
    if steps:
        print(f"  fields: {len(steps)} frame(s) at t = " + ", ".join(f"{t / 3600:.4g} h" for t, _ in steps))
    for text in _warnings(run):
        print(f"  WARNING: {text}")
    return 0
