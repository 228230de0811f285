"""Side-by-side benchmark of the native 3D solver: octant against NGSolve, and a full lithiation.

Three tables, each size in a fresh child process (so that the peak resident memory,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, belongs to that run alone):

1. **Peer** (same mesh): P2 elasticity assembly, factorisation + one solve, and the agreement of the
   two displacement fields for a linear eigenstrain e_v = a x (exact in both discretisations),
   octant against NGSolve (``pip install 'octant[bench]'``; single-threaded). Without NGSolve the
   rows say so and only octant's numbers are printed.
2. **Full Si lithiation** (the Si preset, DOD 0 -> 1, fields at DOD 0.25/0.5/1, stress extrema at
   the default cadence): unknowns, time split (mesh, assembly, factorisation, transport = transient
   minus the mechanics back-substitutions and frames, stress extrema, frames), total wall and CPU
   time, peak memory, min theta and the number of stress evaluations.
3. **Scaling**: the exponent p of total time ~ (displacement unknowns)^p between successive sizes.

The machine this runs on is often shared: wall times are inflated under load; the CPU column
(process time, all threads) is the steadier number.

Usage::

    PYTHONPATH=. python benchmarks/bench_native.py                  # coarse, medium, fine
    PYTHONPATH=. python benchmarks/bench_native.py --sizes coarse medium --skip-peer
    PYTHONPATH=. python benchmarks/bench_native.py --sizes medium --skip-peer --linear-solver cholmod pardiso
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

R = 4.11e-6


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


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_lithiation(size: str, linear_solver: str) -> dict[str, object]:
    """The full Si lithiation on mesh preset ``size``; the measured numbers."""
    from models import LithiationModel, StopCondition, get_preset
    from solvers.api import MeshOptions, Numerics, OutputRequest
    from solvers.native import solve

    model = LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0, stop=StopCondition("dod", 1.0))
    numerics = Numerics(mesh=MeshOptions(size=size), linear_solver=linear_solver)
    sink = _NullSink()
    t0, c0 = time.perf_counter(), time.process_time()
    stats = solve(model, OutputRequest(dods=(0.25, 0.5, 1.0)), numerics, sink)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t = stats.timings_s
    return {
        "size": size,
        "dofs_c": stats.dofs["c"],
        "dofs_u": stats.dofs["u"],
        "mesh_s": t["mesh"],
        "assembly_s": t["assembly"],
        "factorisation_s": t["factorisation"],
        "transport_s": t["transient"] - t["stress_extrema"] - t["frames"],
        "stress_s": t["stress_extrema"],
        "frames_s": t["frames"],
        "total_s": wall,
        "cpu_s": cpu,
        "steps": stats.steps_accepted,
        "newton": stats.newton_iterations,
        "stress_evaluations": stats.extra["stress_evaluations"],
        "theta_min": stats.extra["theta_min"],
        "peak_mem_gb": _peak_gb(),
        "linear_solver": stats.extra["linear_solver"],
        "transport_solver": stats.extra["transport_linear_solver"].replace("gmres+frozen ", ""),
        "transport_factorisations": stats.extra["transport_factorisations"],
        "krylov": stats.extra["krylov_iterations"],
    }


def _ngsolve_mesh(mesh):
    """The octant mesh as an NGSolve mesh with boundaries xplane, yplane, zplane, sphere."""
    import numpy as np
    from netgen.meshing import Element3D, FaceDescriptor  # noqa: F401
    from netgen.meshing import Mesh as NetgenMesh
    import ngsolve

    ngm = NetgenMesh(dim=3)
    ngm.AddPoints(np.ascontiguousarray(mesh.points))
    names = ["xplane", "yplane", "zplane", "sphere"]
    faces = [*mesh.plane_faces, mesh.sphere_faces]
    for k, (name, block) in enumerate(zip(names, faces), start=1):
        ngm.Add(FaceDescriptor(surfnr=k, domin=1, bc=k))
        ngm.SetBCName(k - 1, name)
        ngm.AddElements(dim=2, index=k, data=np.ascontiguousarray(block, dtype=np.int32), base=0)
    ngm.AddElements(dim=3, index=1, data=np.ascontiguousarray(mesh.tets, dtype=np.int32), base=0)
    return ngsolve.Mesh(ngm)


def run_peer(size: str, linear_solver: str) -> dict[str, object]:
    """P2 elasticity on one mesh: octant vs NGSolve assembly, factor + solve, agreement."""
    import numpy as np

    from models import get_preset
    from solvers.native import ElasticityProblem, mesh_from_options
    from solvers.api import MeshOptions

    si = get_preset("Si")
    e, nu = si.elastic_constants() if hasattr(si, "elastic_constants") else (si.youngs_modulus, si.poisson_ratio)
    mesh = mesh_from_options(MeshOptions(size=size), R)
    el = ElasticityProblem(mesh, e, nu, linear_solver=linear_solver)
    a = 0.01 / R
    t0 = time.perf_counter()
    u_oct = el.displacement(a * mesh.points[:, 0])
    solve_s = time.perf_counter() - t0
    row = {
        "size": size,
        "dofs_u": el.n_dofs,
        "octant_assembly_s": el.timings["assembly"],
        "octant_factor_solve_s": el.timings["factorisation"] + solve_s,
        "octant_solver": el.solver.method,
    }
    try:
        import ngsolve
    except ImportError:
        row["peer"] = "NGSolve not installed (pip install 'octant[bench]')"
        return row
    ngsolve.SetNumThreads(1)
    lam, mu, bulk = el.lam, el.mu, el.bulk
    ngm = _ngsolve_mesh(mesh)
    fes = ngsolve.VectorH1(ngm, order=2, dirichletx="xplane", dirichlety="yplane", dirichletz="zplane")
    u, v = fes.TnT()
    eps = lambda w: ngsolve.Sym(ngsolve.Grad(w))  # noqa: E731
    form = ngsolve.BilinearForm(fes, symmetric=True)
    form += (lam * ngsolve.div(u) * ngsolve.div(v) + 2 * mu * ngsolve.InnerProduct(eps(u), eps(v))) * ngsolve.dx
    load = ngsolve.LinearForm(fes)
    load += bulk * a * ngsolve.x * ngsolve.div(v) * ngsolve.dx
    t0 = time.perf_counter()
    form.Assemble()
    load.Assemble()
    row["ngsolve_assembly_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gf = ngsolve.GridFunction(fes)
    gf.vec.data = form.mat.Inverse(fes.FreeDofs(), inverse="sparsecholesky") * load.vec
    row["ngsolve_factor_solve_s"] = time.perf_counter() - t0
    pts = mesh.points
    u_ngs = np.array([gf(ngm(*p)) for p in pts[:: max(1, len(pts) // 500)]])  # sampled vertices
    ref = u_oct[: mesh.n_points][:: max(1, len(pts) // 500)]
    row["agreement"] = float(np.abs(u_ngs - ref).max() / np.abs(ref).max())
    row["peer"] = f"NGSolve {ngsolve.__version__}, 1 thread, sparsecholesky"
    return row


def _child(kind: str, size: str, linear_solver: str) -> dict[str, object]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, size, "--linear-solver", linear_solver]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} {size} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows: list[dict[str, object]], columns: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(h for h, _, _ in columns) + " |"
    sep = "| " + " | ".join("---" for _ in columns) + " |"
    body = []
    for row in rows:
        cells = []
        for _, key, fmt in columns:
            value = row.get(key, "-")
            cells.append(format(value, fmt) if isinstance(value, (int, float)) and fmt else str(value))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["coarse", "medium", "fine"], choices=["coarse", "medium", "fine"])
    parser.add_argument(
        "--linear-solver", nargs="+", default=["auto"], choices=["auto", "cholmod", "pardiso", "superlu", "amg"],
        help="elasticity solver(s); one lithiation row per size and solver",
    )
    parser.add_argument("--skip-peer", action="store_true", help="no octant-vs-NGSolve table")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of the tables")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, size = args.child
        fn = run_peer if kind == "peer" else run_lithiation
        print(json.dumps(fn(size, args.linear_solver[0])))
        return 0
    peer = [] if args.skip_peer else [_child("peer", s, args.linear_solver[0]) for s in args.sizes]
    runs = []
    for solver in args.linear_solver:
        series = [_child("lithiation", s, solver) for s in args.sizes]
        for prev, cur in zip(series, series[1:]):
            cur["scaling"] = math.log(cur["total_s"] / prev["total_s"]) / math.log(cur["dofs_u"] / prev["dofs_u"])
        runs += series
    if args.json:
        print(json.dumps({"peer": peer, "lithiation": runs}, indent=2))
        return 0
    print(f"# {datetime.date.today()} on {platform.node()} ({platform.processor() or platform.machine()}), python {platform.python_version()}")
    if peer:
        print("\nP2 elasticity, same mesh (e_v = a x):\n")
        print(_table(peer, [("size", "size", ""), ("u dofs", "dofs_u", "d"), ("octant assembly [s]", "octant_assembly_s", ".2f"),
                            ("NGSolve assembly [s]", "ngsolve_assembly_s", ".2f"), ("octant factor+solve [s]", "octant_factor_solve_s", ".2f"),
                            ("NGSolve factor+solve [s]", "ngsolve_factor_solve_s", ".2f"), ("max |du|/max|u|", "agreement", ".1e"), ("peer", "peer", "")]))
    print("\nFull Si lithiation, fields at DOD 0.25/0.5/1:\n")
    print(_table(runs, [("size", "size", ""), ("elasticity", "linear_solver", ""), ("transport LU", "transport_solver", ""),
                        ("c dofs", "dofs_c", "d"), ("u dofs", "dofs_u", "d"), ("mesh", "mesh_s", ".2f"),
                        ("assembly", "assembly_s", ".2f"), ("factor", "factorisation_s", ".2f"), ("transport", "transport_s", ".1f"),
                        ("stress extrema", "stress_s", ".1f"), ("frames", "frames_s", ".1f"), ("wall [s]", "total_s", ".1f"),
                        ("CPU [s]", "cpu_s", ".1f"), ("peak [GB]", "peak_mem_gb", ".2f"), ("steps", "steps", "d"),
                        ("Newton", "newton", "d"), ("GMRES its", "krylov", "d"), ("transport LUs", "transport_factorisations", "d"),
                        ("stress evals", "stress_evaluations", "d"), ("min theta", "theta_min", "+.4f"), ("scaling p", "scaling", ".2f")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
