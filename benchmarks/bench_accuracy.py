"""Accuracy and wall time of the default solvers on the paper's Si preset (issue 10's held-out case).

The Si preset (tanh step D 1e-17 -> 2e-15 m^2/s at theta_f 0.85, width 0.02), R = 4.11 um, 0.1 A/g,
DOD 0 -> 1, fields at DOD 0.25 / 0.5 / 0.9 / 1, every solver with its *default* numerics (native:
medium mesh, lumped transport, rtol 1e-4; radial: 161 nodes), against a converged radial reference
(2001 uniform nodes, rtol 1e-6). Printed per solver: wall time, the smallest theta over the run, the
mean |dtheta| along the (1,1,1) diagonal (3D) or over all nodes (1D) at DOD 0.25 / 0.5 / 0.9, and the
peak von Mises and peak hydrostatic tension over the run against the default radial solver's.

Targets (issue 10): theta >= -0.01; mean |dtheta| <= 0.02 (native) and 0.01 (radial); peaks within 5 %.

Usage::

    PYTHONPATH=. python benchmarks/bench_accuracy.py
"""

from __future__ import annotations

import datetime
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models import LithiationModel, StopCondition, get_preset  # noqa: E402
from orchestrator.verify import profile_error  # noqa: E402
from solvers.api import MemorySink, MeshOptions, Numerics, OutputRequest, TimeOptions  # noqa: E402

DODS = (0.25, 0.5, 0.9, 1.0)


def _run(backend: str, numerics: Numerics, outputs: OutputRequest) -> tuple[MemorySink, object, float]:
    from solvers import native, radial

    model = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 1.0))
    sink = MemorySink()
    t0 = time.perf_counter()
    stats = (native if backend == "native" else radial).solve(model, outputs, numerics, sink)
    return sink, stats, time.perf_counter() - t0


def _peaks(sink: MemorySink) -> tuple[float, float]:
    vm = sink.column("von_mises_max")
    tension = sink.column("hydrostatic_max")
    return float(np.nanmax(vm)), float(np.nanmax(tension))


def main() -> int:
    outputs = OutputRequest(dods=DODS)
    reference, _, _ = _run(
        "radial",
        Numerics(mesh=MeshOptions(radial_nodes=2001, surface_grading=1.0), time=TimeOptions(rtol=1e-6, atol=1e-8)),
        replace(outputs, stress_every_dod=None),
    )
    rows = []
    for label, backend in (("radial (161 nodes)", "radial"), ("native (medium, lumped)", "native")):
        sink, stats, wall = _run(backend, Numerics(), outputs)
        errors = [profile_error(f, r) for f, r in zip(sink.frames[:3], reference.frames[:3])]
        theta_min = float(stats.extra.get("theta_min", min(f.point_data["theta"].min() for f in sink.frames)))
        rows.append((label, wall, theta_min, errors, *_peaks(sink)))
    vm_ref, tension_ref = rows[0][4], rows[0][5]
    print(f"# {datetime.date.today()} on {platform.node()} ({platform.machine()}), python {platform.python_version()}")
    print("\n| solver | wall [s] | min theta | DOD 0.25 | DOD 0.5 | DOD 0.9 | peak von Mises [GPa] | peak tension [GPa] |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, wall, theta_min, errors, vm, tension in rows:
        print(
            f"| {label} | {wall:.1f} | {theta_min:+.4f} | " + " | ".join(f"{e:.4f}" for e in errors)
            + f" | {vm / 1e9:.2f} ({vm / vm_ref - 1:+.1%}) | {tension / 1e9:.2f} ({tension / tension_ref - 1:+.1%}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
