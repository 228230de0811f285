"""Sweep throughput: expansion + dry-run SLURM submission of a big sweep, and a local radial sweep.

Targets (DESIGN.md section 7 / the executor issue):

* expansion + dry-run submission of a 10,000-run sweep: under 10 s;
* a 200-run radial-backend sweep run locally with ``-j 2``: reported in runs/s.

Usage::

    PYTHONPATH=. python benchmarks/bench_sweep.py [--sweep-runs 10000] [--local-runs 200] [--jobs 2]

Prints a table; it never asserts on times.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.executors.local import run_local  # noqa: E402
from orchestrator.executors.slurm import submit_study  # noqa: E402
from orchestrator.executors.slurm_script import SlurmOptions  # noqa: E402
from orchestrator.spec import study_from_dict  # noqa: E402
from orchestrator.store import RunStore  # noqa: E402


def _grid(n: int) -> tuple[list[str], list[str]]:
    """Radius and current lists whose product has at least ``n`` points (units as text)."""
    a = max(1, int(math.isqrt(n)))
    b = -(-n // a)
    radii = [f"{1.0 + 0.01 * i:.2f} um" for i in range(a)]
    currents = [f"{0.05 + 0.001 * i:.3f} A/g" for i in range(b)]
    return radii, currents


def _study(name: str, n: int, dod: float = 1.0):
    radii, currents = _grid(n)
    return study_from_dict(
        {
            "spec_version": 1,
            "name": name,
            "backend": "radial",
            "model": {
                "particle": {"radius": "4.11 um"},
                "material": "Si",
                "loading": {"specific_current": "0.1 A/g", "stop": {"dod": dod}},
            },
            "outputs": {"fields_at": {"dod": [0.5, dod]}},
            "sweep": {"grid": {"model.particle.radius": radii, "model.loading.specific_current": currents}},
        }
    )


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def bench_expansion(n: int) -> list[tuple[str, str, str]]:
    """Time validation, expansion and a dry-run submission of an ``n``-run sweep."""
    t0 = time.perf_counter()
    study = _study("bench-expand", n)
    t1 = time.perf_counter()
    runs = study.runs()
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = submit_study(runs, RunStore(Path(tmp) / "runs"), SlurmOptions(max_array_size=1001), dry_run=True)
    t3 = time.perf_counter()
    total = t3 - t0
    return [
        (f"validate spec ({len(runs)} runs)", f"{t1 - t0:.3f} s", ""),
        ("expand sweep (study.runs())", f"{t2 - t1:.3f} s", f"{1e3 * (t2 - t1) / len(runs):.3f} ms/run"),
        (f"dry-run submit ({len(result.scripts)} sbatch scripts)", f"{t3 - t2:.3f} s", ""),
        ("total expansion + dry-run submission", f"{total:.3f} s", f"target < 10 s: {_verdict(total < 10)}"),
    ]


def bench_local(n: int, jobs: int) -> list[tuple[str, str, str]]:
    """Run an ``n``-run radial sweep locally with ``jobs`` workers."""
    study = _study("bench-local", n, dod=0.5)
    runs = study.runs()[:n]
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs")
        t0 = time.perf_counter()
        dirs = [store.prepare(r).path for r in runs]
        t1 = time.perf_counter()
        report = run_local(dirs, jobs=jobs, live=False)
        t2 = time.perf_counter()
        rerun = run_local(dirs, jobs=jobs, live=False)  # everything done: all skipped
        t3 = time.perf_counter()
    walls = sorted(o.wall_s for o in report.done)
    median = walls[len(walls) // 2] if walls else float("nan")
    return [
        (f"prepare {len(dirs)} run dirs", f"{t1 - t0:.3f} s", ""),
        (
            f"run {len(dirs)} radial runs, -j {jobs}",
            f"{t2 - t1:.2f} s",
            f"{report.runs_per_s:.2f} runs/s; {len(report.done)} done, {len(report.failed)} failed",
        ),
        ("  median wall per run (worker)", f"{median:.3f} s", ""),
        ("rerun: skip-if-done check", f"{t3 - t2:.3f} s", f"{len(rerun.skipped)} skipped"),
    ]


def _print(title: str, rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{title}")
    print(f"{'step':<{width}}  {'time':>10}  note")
    for step, value, note in rows:
        print(f"{step:<{width}}  {value:>10}  {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep-runs", type=int, default=10_000, help="size of the expanded sweep (default 10000)")
    parser.add_argument("--local-runs", type=int, default=200, help="radial runs run locally (default 200; 0 skips)")
    parser.add_argument("--jobs", type=int, default=2, help="local workers (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    _print(f"sweep expansion + dry-run SLURM submission ({args.sweep_runs} runs)", bench_expansion(args.sweep_runs))
    if args.local_runs > 0:
        _print(f"local execution ({args.local_runs} radial runs)", bench_local(args.local_runs, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
