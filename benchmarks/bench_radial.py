"""Wall time of the radial backend for a full lithiation (DOD 1, 0.1 A/g, R = 4.11 um).

Prints one row per (material, node count): nodes, accepted/rejected steps, Newton iterations,
best-of-N wall time of ``solvers.radial.solve`` (with an in-memory sink), the peak von Mises
stress and the peak theta. Run: ``PYTHONPATH=. python benchmarks/bench_radial.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import time

from models import LithiationModel, get_preset
from solvers import radial
from solvers.api import MeshOptions, Numerics, OutputRequest
from solvers.api import MemorySink as _MemorySink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the best wall time is shown")
    args = parser.parse_args()
    print(f"{'material':14s} {'nodes':>5s} {'steps':>6s} {'rej':>4s} {'newton':>6s} {'wall [s]':>9s} "
          f"{'vM max [GPa]':>12s} {'theta max':>10s}")
    for name in ("Si", "Si8.5Sn0.5Sb"):
        model = LithiationModel(radius=4.11e-6, material=get_preset(name), specific_current=100.0)
        for nodes in (*radial.DEFAULT_NODES.values(), 321):
            numerics = Numerics(mesh=MeshOptions(radial_nodes=nodes))
            best = float("inf")
            for _ in range(args.repeat):
                sink = _MemorySink()
                t0 = time.perf_counter()
                stats = radial.solve(model, OutputRequest(dods=(0.25, 0.5, 1.0)), numerics, sink)
                best = min(best, time.perf_counter() - t0)
            vm = max(row["von_mises_max"] for row in sink.rows)
            print(f"{name:14s} {nodes:5d} {stats.steps_accepted:6d} {stats.steps_rejected:4d} "
                  f"{stats.newton_iterations:6d} {best:9.3f} {vm / 1e9:12.4f} {stats.extra['theta_max']:10.6f}")


if __name__ == "__main__":
    main()
