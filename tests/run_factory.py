"""Test data for the rendering, plotting and report tests: stored runs with physically shaped fields.

``analytic_study`` writes a complete study through the run store (``RunStore.prepare`` and
``Run.sink()``, i.e. the real run-store contract of DESIGN.md section 5). The fields are the exact constant-D
solution of galvanostatic insertion into a sphere (Crank's series) and the matching stresses of
Cheng & Verbrugge (J. Power Sources 190 (2009) 453), on the real graded octant tetra mesh of
``solvers.native.mesh`` (3D) or on a line along the x axis (as the radial solver stores it). The
diffusivity is a deliberately low constant so the profiles are strongly graded.

Units: SI throughout (m, s, mol/m^3, Pa).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from models import LithiationModel
from orchestrator.spec import study_from_dict
from orchestrator.store import Run, RunStore
from solvers.api import FieldFrame

__all__ = ["AnalyticCase", "analytic_study", "quick_study_spec", "shared_analytic_study", "shared_real_study"]

_N_TERMS = 300


def _crank_roots(n: int = _N_TERMS) -> np.ndarray:
    """The first ``n`` positive roots of tan(l) = l."""
    return np.array(
        [brentq(lambda x: np.tan(x) - x, k * np.pi + 1e-9, (k + 0.5) * np.pi - 1e-9) for k in range(1, n + 1)]
    )


_ROOTS = _crank_roots()


def _s(y: np.ndarray) -> np.ndarray:
    """sin(y) - y cos(y), accurate for small y."""
    small = np.abs(y) < 1e-2
    out = np.sin(y) - y * np.cos(y)
    ys = y[small]
    out[small] = ys**3 / 3.0 - ys**5 / 30.0
    return out


@dataclass(frozen=True)
class AnalyticCase:
    """A constant-D galvanostatic case: the model (material, R, current) and the diffusivity [m^2/s]."""

    model: LithiationModel
    diffusivity: float = 3e-17

    def profile(self, x: np.ndarray, time: float) -> tuple[np.ndarray, np.ndarray]:
        """c(x) and the mean concentration inside x, Cbar(x) [mol/m^3], at ``time`` [s]; x = r / R."""
        m = self.model
        scale = m.surface_flux() * m.radius / self.diffusivity  # mol/m^3
        tau = self.diffusivity * time / m.radius**2
        x = np.asarray(x, dtype=float)
        if tau <= 0:
            return np.full_like(x, m.c0), np.full_like(x, m.c0)
        lam = _ROOTS[:, None]
        decay = np.exp(-(lam**2) * tau) / np.sin(lam)
        xs = np.maximum(x, 1e-12)[None, :]
        series_c = np.where(xs < 1e-8, lam, np.sin(lam * xs) / xs) / lam**2 * decay
        theta = 3 * tau + x**2 / 2 - 0.3 - 2 * series_c.sum(axis=0)
        # Cbar = 3/x^3 int_0^x theta x'^2 dx'
        series_b = np.where(xs < 1e-6, lam**3 / 3.0, _s(lam * xs) / xs**3) / lam**4 * decay
        cbar = (3 * tau - 0.3) + 0.3 * x**2 - 6 * series_b.sum(axis=0)
        return m.c0 + scale * theta, m.c0 + scale * cbar

    def fields(self, points: np.ndarray, time: float) -> dict[str, np.ndarray]:
        """Point arrays of the field contract at ``points`` (n, 3) [m] and ``time`` [s]."""
        m = self.model
        mat = m.material
        r = np.linalg.norm(points, axis=1)
        x = np.clip(r / m.radius, 0.0, 1.0)
        c, cbar = self.profile(x, time)
        _, cbar_r = self.profile(np.array([1.0]), time)
        dc, dcbar, dcbar_r = c - m.c_ref, cbar - m.c_ref, cbar_r[0] - m.c_ref
        k = mat.partial_molar_volume * mat.youngs_modulus / (9.0 * (1.0 - mat.poisson_ratio))
        sr = 2.0 * k * (dcbar_r - dcbar)
        st = k * (2.0 * dcbar_r + dcbar - 3.0 * dc)
        n = np.zeros_like(points)
        inside = r > 0
        n[inside] = points[inside] / r[inside, None]
        sig = st[:, None, None] * np.eye(3)[None] + (sr - st)[:, None, None] * n[:, :, None] * n[:, None, :]
        voigt = np.stack([sig[:, 0, 0], sig[:, 1, 1], sig[:, 2, 2], sig[:, 1, 2], sig[:, 0, 2], sig[:, 0, 1]], axis=1)
        nu, omega = mat.poisson_ratio, mat.partial_molar_volume
        u = omega * r / (9.0 * (1.0 - nu)) * ((1.0 + nu) * dcbar + 2.0 * (1.0 - 2.0 * nu) * dcbar_r)
        trace = sr + 2.0 * st
        return {
            "c": c,
            "theta": c / m.c_max,
            "displacement": n * u[:, None],
            "stress": voigt,
            "von_mises": np.abs(sr - st),
            "hydrostatic": trace / 3.0,
            "volumetric_strain": trace * (1.0 - 2.0 * nu) / mat.youngs_modulus + omega * dc,
            "max_principal_stress": np.maximum(sr, st),
            "plastic_strain": np.zeros_like(sr),
        }

    def scalars(self, time: float) -> dict[str, float]:
        """One scalars.csv row at ``time`` [s] (extremes over a fine radial grid)."""
        m = self.model
        x = np.linspace(0.0, 1.0, 401)
        pts = np.stack([x * m.radius, 0 * x, 0 * x], axis=1)
        f = self.fields(pts, time)
        w = x**2
        theta_mean = float(np.trapezoid(f["theta"] * w, x) / np.trapezoid(w, x))
        return {
            "time_s": time,
            "dod": m.dod_at_time(time),
            "theta_mean": theta_mean,
            "theta_surface_max": float(f["theta"][-1]),
            "theta_center": float(f["theta"][0]),
            "von_mises_max": float(f["von_mises"].max()),
            "hydrostatic_min": float(f["hydrostatic"].min()),
            "hydrostatic_max": float(f["hydrostatic"].max()),
        }


def _geometry(kind: str, radius: float, divisions: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if kind == "radial":
        x = radius * (1.0 - (1.0 - np.linspace(0.0, 1.0, 81)) ** 1.5)  # graded toward the surface
        points = np.stack([x, 0 * x, 0 * x], axis=1)
        lines = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1)
        return points, {"line": lines}
    from solvers.native.mesh import generate_octant_mesh

    mesh = generate_octant_mesh(radius, divisions, grading=3.0)
    return mesh.points, {"tetra": mesh.tets}


def analytic_study(
    root: Path,
    *,
    name: str = "analytic",
    kind: str = "octant",
    dods: tuple[float, ...] = (0.25, 0.5, 0.75),
    divisions: int = 6,
    with_fields: bool = True,
) -> list[Run]:
    """Write a two-run study (Si, D = 3e-17 m^2/s vs Si8.5Sn0.5Sb, D = 3e-16 m^2/s) through the store.

    Each run is prepared with :meth:`RunStore.prepare` from a real :class:`StudySpec` (a sweep over
    ``model.material``), filled through :meth:`Run.sink` with the analytic fields and marked done.
    ``kind``: ``octant`` (3D tetra mesh, backend native) or ``radial`` (a line along x, backend
    radial). ``with_fields=False`` stores no field frame (to test the missing-fields error).
    """
    materials = [
        {"base": "Si", "name": "Si", "diffusivity": {"law": "constant", "value": "3e-17 m^2/s"}},
        {"base": "Si8.5Sn0.5Sb", "name": "Si8.5Sn0.5Sb", "diffusivity": {"law": "constant", "value": "3e-16 m^2/s"}},
    ]
    study = study_from_dict(
        {
            "spec_version": 1,
            "name": name,
            "backend": "radial" if kind == "radial" else "native",
            "model": {
                "particle": {"radius": "4.11 um"},
                "material": "Si",
                "loading": {"specific_current": "0.1 A/g", "stop": {"dod": max(dods)}},
            },
            "outputs": {"fields_at": {"dod": list(dods)}},
            "numerics": {"mesh": {"size": "coarse"}},
            "sweep": {"grid": {"model.material": materials}},
        },
        source="tests/run_factory.py",
    )
    store = RunStore(root)
    runs = []
    for run_spec in study.runs():
        run = store.prepare(run_spec)
        _fill(run, run_spec.model(), kind, dods, divisions, with_fields)
        runs.append(run)
    return runs


def _fill(
    run: Run, model: LithiationModel, kind: str, dods: tuple[float, ...], divisions: int, with_fields: bool
) -> None:
    """Write scalars, fields, provenance and the done status of ``run`` through its sink."""
    run.mark_running()
    case = AnalyticCase(model=model, diffusivity=float(model.material.diffusivity(0.0)))
    sink = run.sink()
    t_end = model.time_at_dod(max(dods))
    times = np.unique(np.concatenate([np.linspace(0.0, t_end, 41), [model.time_at_dod(d) for d in dods]]))
    for t in times:
        sink.write_scalars(case.scalars(float(t)))
    if with_fields:
        points, cells = _geometry(kind, model.radius, divisions)
        for dod in dods:
            t = model.time_at_dod(dod)
            sink.write_fields(
                FieldFrame(time=t, dod=dod, points=points, cells=cells, point_data=case.fields(points, t))
            )
    sink.close()
    run.write_provenance({"backend": "analytic test data", "note": "Crank series + Cheng & Verbrugge stresses"})
    run.log_path.write_text("analytic test run\n")
    run.images_dir.mkdir(exist_ok=True)
    run.mark_done()


# --------------------------------------------------------------------------------------------------
# studies shared by the test modules (built once per test process, removed at exit)
# --------------------------------------------------------------------------------------------------
_CACHE: dict[str, tuple[Path, list[Run]]] = {}


def _scratch() -> Path:
    import atexit
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="octant-visual-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def shared_analytic_study(kind: str = "octant") -> tuple[Path, list[Run]]:
    """(store root, runs) of the analytic two-run study of ``kind``, built once per process."""
    key = f"analytic-{kind}"
    if key not in _CACHE:
        root = _scratch()
        _CACHE[key] = (root, analytic_study(root, name=key, kind=kind))
    return _CACHE[key]


def quick_study_spec(backend: str) -> dict:
    """A quick real study: Si vs Si8.5Sn0.5Sb at 0.1 A/g to DOD 0.5, fields at DOD 0.25 and 0.5."""
    return {
        "spec_version": 1,
        "name": f"quick-{backend}",
        "description": "Si versus Si8.5Sn0.5Sb, quick test study",
        "backend": backend,
        "model": {
            "particle": {"radius": "4.11 um"},
            "material": "Si",
            "loading": {"specific_current": "0.1 A/g", "stop": {"dod": 0.5}},
        },
        "outputs": {"fields_at": {"dod": [0.25, 0.5]}},
        "numerics": {"mesh": {"size": "coarse"}, "time": {"rtol": 1e-3}},
        "sweep": {"grid": {"model.material": ["Si", "Si8.5Sn0.5Sb"]}},
    }


def shared_real_study(backend: str = "radial") -> tuple[Path, list[Run]]:
    """(store root, runs) of :func:`quick_study_spec` solved by ``orchestrator.runner.run_one``, once per process."""
    from orchestrator.runner import run_one

    key = f"real-{backend}"
    if key not in _CACHE:
        root = _scratch()
        store = RunStore(root)
        runs = []
        for run_spec in study_from_dict(quick_study_spec(backend), source="tests/run_factory.py").runs():
            run = store.prepare(run_spec)
            state = run_one(run.path, show_progress=False)
            if state != "done":
                raise RuntimeError(f"quick {backend} run {run.run_id} ended {state}: {run.status.get('error')}")
            runs.append(run)
        _CACHE[key] = (root, runs)
    return _CACHE[key]
