"""Benchmark of the native 3D solver: full Si lithiation (DOD 0 -> 1) on three mesh sizes.

For each size the run happens in a fresh child process (so that the peak resident memory,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, belongs to that run alone) and the table lists the
unknowns (P1 concentration, P2 displacement), the time to build the mesh, to assemble, to
factorise the elasticity matrix, the mean time per accepted transient step (transport Newton
solves plus the per-step stresses), the total wall time with fields stored at DOD 0.25/0.5/1.0,
and the peak memory.

Usage::

    PYTHONPATH=. python benchmarks/bench_native.py                  # coarse, medium, fine
    PYTHONPATH=. python benchmarks/bench_native.py --sizes medium --linear-solver superlu
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class _NullSink:
    """Counts what a solver sends; keeps nothing (the benchmark measures the solver, not I/O)."""

    def __init__(self) -> None:
        self.rows = 0
        self.frames = 0

    def write_scalars(self, row: dict[str, float]) -> None:
        self.rows += 1

    def write_fields(self, frame) -> None:
        self.frames += 1

    def progress(self, time: float, dod: float, step: float) -> None:
        pass


def run_one(size: str, linear_solver: str, stress_every_dod: float | None) -> dict[str, object]:
    """Run the full Si lithiation on mesh preset ``size``; return the measured numbers."""
    from models import LithiationModel, StopCondition, get_preset
    from solvers.api import MeshOptions, Numerics, OutputRequest
    from solvers.native import solve

    model = LithiationModel(
        radius=4.11e-6, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 1.0)
    )
    numerics = Numerics(mesh=MeshOptions(size=size), linear_solver=linear_solver)
    sink = _NullSink()
    t0 = time.perf_counter()
    stats = solve(model, OutputRequest(dods=(0.25, 0.5, 1.0), stress_every_dod=stress_every_dod), numerics, sink)
    wall = time.perf_counter() - t0
    t = stats.timings_s
    return {
        "size": size,
        "dofs_c": stats.dofs["c"],
        "dofs_u": stats.dofs["u"],
        "mesh_s": t["mesh"],
        "assembly_s": t["assembly"],
        "factorisation_s": t["factorisation"],
        "steps": stats.steps_accepted,
        "newton": stats.newton_iterations,
        "step_s": t["transient"] / max(stats.steps_accepted, 1),
        "transient_s": t["transient"],
        "total_s": wall,
        "peak_mem_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "linear_solver": stats.extra["linear_solver"],
        "frames": sink.frames,
        "final_dod": stats.extra["final_dod"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["coarse", "medium", "fine"], choices=["coarse", "medium", "fine"]
    )
    parser.add_argument("--linear-solver", default="auto", choices=["auto", "cholmod", "pardiso", "superlu", "amg"])
    parser.add_argument(
        "--stress-every-dod", type=float, default=0.005, help="stress-extrema cadence in DOD (0: every step)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of the table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.linear_solver, args.stress_every_dod)))
        return 0
    rows = []
    for size in args.sizes:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", size, "--linear-solver", args.linear_solver]
        cmd += ["--stress-every-dod", repr(args.stress_every_dod)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{size}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not args.json:
            print(f"# {size} done in {rows[-1]['total_s']:.1f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = (
        f"{'size':<7} {'c dofs':>7} {'u dofs':>8} {'mesh s':>7} {'assemb s':>8} {'factor s':>8} "
        f"{'steps':>5} {'s/step':>7} {'total s':>8} {'peak GB':>7}  solver"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['size']:<7} {r['dofs_c']:>7} {r['dofs_u']:>8} {r['mesh_s']:>7.2f} {r['assembly_s']:>8.2f} "
            f"{r['factorisation_s']:>8.2f} {r['steps']:>5} {r['step_s']:>7.3f} {r['total_s']:>8.1f} "
            f"{r['peak_mem_gb']:>7.2f}  {r['linear_solver']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
