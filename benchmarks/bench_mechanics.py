"""Benchmark: cost of elastoplastic mechanics against linear elasticity on the same mesh.

For each backend (radial: full Si lithiation; native: Si lithiation up to ``--native-dod`` on the
``--size`` mesh) the same model runs with ``constitutive: elastic`` and ``elastoplastic``
(yield stress 1.75 GPa); the table lists accepted steps, wall time, and for elastoplastic runs the
mechanics Newton iterations, CG iterations and factorisations (native) per run.

Measured on the shared 2-core machine (timings noisy), native coarse Si to DOD 0.05: 1.3 s elastic,
10.8 s elastoplastic (74 Newton, 329 CG iterations); 44 s (121 Newton, 1096 CG) before the
matrix-free tangent, single-threaded BLAS in the CG loop and the secant predictor. Full native
coarse elastoplastic lithiation: 76 s (201 steps). See the README mechanics section.

Usage::

    PYTHONPATH=. python benchmarks/bench_mechanics.py
    PYTHONPATH=. python benchmarks/bench_mechanics.py --size medium --native-dod 1.0
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run(backend: str, constitutive: str, dod: float, size: str) -> dict[str, object]:
    """One Si lithiation to ``dod``; returns steps, wall time and mechanics statistics."""
    from models import LithiationModel, MechanicsOptions, StopCondition, get_preset
    from solvers import native, radial
    from solvers.api import MemorySink, MeshOptions, Numerics, OutputRequest

    mech = MechanicsOptions(constitutive=constitutive, yield_stress=1.75e9 if constitutive == "elastoplastic" else None)
    model = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0, mechanics=mech,
                            stop=StopCondition("dod", dod))
    solver = native if backend == "native" else radial
    sink = MemorySink()
    t0 = time.perf_counter()
    stats = solver.solve(model, OutputRequest(dods=(dod,)), Numerics(mesh=MeshOptions(size=size)), sink)
    wall = time.perf_counter() - t0
    q = stats.extra.get("quadrature_mechanics", {})
    newton = q.get("newton_iterations", stats.extra.get("mechanics_newton_iterations", 0))
    return {
        "backend": backend, "constitutive": constitutive, "dod": dod, "steps": stats.steps_accepted, "wall_s": wall,
        "mech_newton": newton, "cg": q.get("cg_iterations", "-"), "factorisations": q.get("factorisations", "-"),
        "peak_vm_GPa": float(np.nanmax(sink.column("von_mises_max"))) / 1e9,
        "eps_p": float(sink.column("plastic_strain_max")[-1]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="coarse", help="mesh size preset (coarse|medium|fine)")
    parser.add_argument("--native-dod", type=float, default=0.1, help="native runs stop at this DOD")
    args = parser.parse_args(argv)
    rows = [run("radial", c, 1.0, args.size) for c in ("elastic", "elastoplastic")]
    rows += [run("native", c, args.native_dod, args.size) for c in ("elastic", "elastoplastic")]
    header = ["backend", "constitutive", "dod", "steps", "wall_s", "mech_newton", "cg", "factorisations", "peak_vm_GPa", "eps_p"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(f"{r[h]:.3g}" if isinstance(r[h], float) else str(r[h]) for h in header) + " |")


if __name__ == "__main__":
    main()
