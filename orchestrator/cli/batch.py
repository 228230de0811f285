"""Batch commands: sweep, submit, status, collect.

- ``octant sweep SPEC --dry-run``: the expanded runs (id, swept values, state in the store);
  without ``--dry-run`` it runs them locally (``-j N``), skipping those already done.
- ``octant submit SPEC --scheduler slurm``: job arrays on SLURM (see :mod:`orchestrator.executors.slurm`).
- ``octant status [STUDY]``: run directories first, squeue/sacct second.
- ``octant collect STUDY``: one CSV/JSON table of all runs with key scalars.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ..collect import collect_rows, format_table
from ..errors import StoreError, SubmissionError
from ..spec import BACKEND_CHOICES
from ..store import Run, RunStore, atomic_write_text
from .core import add_limit_options, load_runs

__all__ = ["register"]

log = logging.getLogger(__name__)

_RUNS_DIR_HELP = "run store folder (default: $OCTANT_RUNS_DIR or ./runs)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sweep, submit, status and collect sub-commands."""
    p = sub.add_parser("sweep", help="expand a study's sweep: list it (--dry-run) or run it locally")
    p.add_argument("spec", type=Path, help="study spec file (.yaml, .toml, .json)")
    p.add_argument("--dry-run", action="store_true", help="only print the runs: id, swept values, state in the store")
    p.add_argument("--json", action="store_true", help="with --dry-run: print the table as JSON")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help="override the spec's backend (gives new run ids)")
    p.add_argument("--runs-dir", type=Path, default=None, help=_RUNS_DIR_HELP)
    p.add_argument("-j", "--jobs", type=int, default=1, help="runs in parallel on this machine (default 1)")
    p.add_argument("--force", action="store_true", help="rerun runs that are already done")
    add_limit_options(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("submit", help="submit a study's runs to a batch scheduler (SLURM job arrays)")
    p.add_argument("spec", type=Path, help="study spec file")
    p.add_argument("--scheduler", choices=("slurm",), default="slurm", help="batch scheduler (slurm)")
    p.add_argument("--partition", help="SLURM partition (default: the cluster's default)")
    p.add_argument("--time", help="time limit per array task, HH:MM:SS or D-HH:MM:SS")
    p.add_argument("--cpus", type=int, help="CPUs per task (--cpus-per-task)")
    p.add_argument("--mem", help="memory per task, e.g. 4G")
    p.add_argument("--array-limit", type=int, help="at most this many array tasks at once (--array=0-N%%L)")
    p.add_argument("--pack", type=int, default=1, help="runs per array task, run one after the other (default 1)")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help="override the spec's backend (gives new run ids)")
    p.add_argument("--runs-dir", type=Path, default=None, help=_RUNS_DIR_HELP)
    p.add_argument("--dry-run", action="store_true", help="print the job scripts; prepare and submit nothing")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resubmit-failed", action="store_true", help="submit only the runs that failed")
    mode.add_argument("--force", action="store_true", help="submit every run, also those already done")
    add_limit_options(p)
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("status", help="state of stored runs (run directories, then squeue/sacct)")
    p.add_argument("study", nargs="?", help="study name (default: every study in the store)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-scheduler", action="store_true", help="do not ask squeue/sacct")
    p.add_argument("--runs-dir", type=Path, default=None, help=_RUNS_DIR_HELP)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("collect", help="one table of all runs of a study with key scalars")
    p.add_argument("study", help="study name")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="table format (default csv)")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p.add_argument("--runs-dir", type=Path, default=None, help=_RUNS_DIR_HELP)
    p.set_defaults(func=cmd_collect)


def _store(args: argparse.Namespace) -> RunStore:
    return RunStore(args.runs_dir)


def _runs(args: argparse.Namespace):
    return load_runs(
        args.spec, getattr(args, "backend", None),
        max_runs=getattr(args, "max_runs", None), max_elements=getattr(args, "max_elements", None),
    )


def _changes_text(changes: dict) -> str:
    from ..labels import format_changes

    return format_changes(changes, short_keys=False)


# ------------------------------------------------------------------------------ sweep
def cmd_sweep(args: argparse.Namespace) -> int:
    """List the expanded sweep, or run it locally."""
    run_specs = _runs(args)
    store = _store(args)
    if args.dry_run:
        rows = []
        for spec in run_specs:
            path = store.run_dir(spec.study, spec.run_id)
            state = Run(path).state if (path / "spec.yaml").exists() else "new"
            rows.append({"run_id": spec.run_id, "state": state, "changes": spec.changes, "path": str(path)})
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
            return 0
        print(f"study {run_specs[0].study!r}: {len(rows)} run(s), backend {run_specs[0].backend}, store {store.root}")
        print(f"{'run id':<12}  {'state':<8}  swept values")
        for row in rows:
            print(f"{row['run_id']:<12}  {row['state']:<8}  {_changes_text(row['changes'])}")
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["state"]] = counts.get(row["state"], 0) + 1
        print("total: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        return 0
    if args.jobs < 1:
        raise SubmissionError(f"-j/--jobs must be at least 1, got {args.jobs}")
    from ..executors.local import run_local

    runs = [store.prepare(spec) for spec in run_specs]
    report = run_local([r.path for r in runs], jobs=args.jobs, force=args.force)
    print(report.summary())
    return report.exit_code


# ------------------------------------------------------------------------------ submit
def cmd_submit(args: argparse.Namespace) -> int:
    """Submit a study's runs to SLURM (or print the scripts with --dry-run)."""
    from ..executors.slurm import cluster_options, submit_study

    options = cluster_options(
        partition=args.partition,
        time=args.time,
        cpus=args.cpus,
        mem=args.mem,
        array_limit=args.array_limit,
        pack=args.pack,
    )
    result = submit_study(
        _runs(args),
        _store(args),
        options,
        dry_run=args.dry_run,
        force=args.force,
        resubmit_failed=args.resubmit_failed,
    )
    if args.dry_run:
        for path, text in result.scripts:
            print(f"# ===== {path} =====")
            print(text, end="" if text.endswith("\n") else "\n")
    print(result.summary())
    return 0


# ------------------------------------------------------------------------------ status
def cmd_status(args: argparse.Namespace) -> int:
    """Print the state of every run (of one study)."""
    from ..executors.status import collect_status, format_status_table, state_counts

    rows = collect_status(_store(args), args.study, query_scheduler=not args.no_scheduler)
    if args.json:
        print(json.dumps({"runs": [r.as_dict() for r in rows], "counts": state_counts(rows)}, indent=2, default=str))
    else:
        print(format_status_table(rows))
    return 0


# ------------------------------------------------------------------------------ collect
def cmd_collect(args: argparse.Namespace) -> int:
    """Print or write the table of a study's runs."""
    rows = collect_rows(_store(args), args.study)
    text = format_table(rows, args.format)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        atomic_write_text(args.output, text)
    except OSError as exc:
        raise StoreError(f"cannot write {args.output}: {exc}") from None
    print(f"wrote {len(rows)} run(s) of {args.study!r} to {args.output}", file=sys.stderr)
    return 0
