"""Stored results of one run for notebooks, plots and reports: ``load_run(path) -> RunResult``.

A :class:`RunResult` wraps a run directory of the run store (DESIGN.md section 5) and reads on
demand: ``scalars`` (the columns of ``scalars.csv`` as numpy arrays; time in s, stresses in Pa),
the stored field steps (``times`` [s] and ``dods`` [-] of ``fields.pvd``), one step's fields as a
``pyvista.UnstructuredGrid`` (``field``), a profile along a ray from the centre (``profile``) and
the run's spec, provenance, status and a short label for legends.

pyvista is imported only when fields are read (``pip install 'octant[render]'``).

Example::

    from orchestrator import load_run
    run = load_run("runs/quick/3f2a9c0d1b7e")          # a path, a run id or a unique id prefix
    grid = run.field("theta", dod=0.5)                  # nearest stored step
    r, vm = run.profile("von_mises", dod=0.5, ray="diagonal")
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.errors import OctantError

from .errors import RunNotFound
from .labels import run_label
from .store import Run, RunStore

if TYPE_CHECKING:  # pragma: no cover
    import pyvista

    from .runspec import RunSpec

__all__ = [
    "FieldStep",
    "InvalidSelection",
    "MissingDependencyError",
    "MissingFieldsError",
    "RunResult",
    "UnknownFieldError",
    "import_pyvista",
    "load_run",
    "run_label",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'octant[render]'"

#: Rays from the centre along which profiles are sampled (unit vectors).
RAYS: dict[str, np.ndarray] = {
    "x": np.array([1.0, 0.0, 0.0]),
    "y": np.array([0.0, 1.0, 0.0]),
    "z": np.array([0.0, 0.0, 1.0]),
    "diagonal": np.ones(3) / np.sqrt(3.0),
}

_VTK_LINE_TYPES = {3, 4, 21, 35}

#: A DOD selection may lie this far outside the stored DODs [-] (time: 1 % of the last stored time).
STEP_DOD_TOL = 0.01  # VTK_LINE, VTK_POLY_LINE, VTK_QUADRATIC_EDGE, VTK_CUBIC_LINE


class MissingFieldsError(OctantError, FileNotFoundError):
    """The run has no stored field step (or a listed step file is gone)."""


class UnknownFieldError(OctantError, KeyError):
    """A field name that the stored step does not carry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidSelection(OctantError, ValueError):
    """Contradictory or invalid arguments (two of time/dod/index, an unknown ray or plot kind, ...)."""


class MissingDependencyError(OctantError, ImportError):
    """An optional dependency (pyvista, matplotlib) is not installed."""


def import_pyvista() -> Any:
    """Import pyvista, or explain how to install it.

    Without a display (no ``DISPLAY`` / ``WAYLAND_DISPLAY``) VTK's EGL window is chosen before vtk
    is first imported, unless ``VTK_DEFAULT_OPENGL_WINDOW`` is already set: VTK would otherwise try
    X11 first (and can crash where libX11 is missing). With a display, VTK's default is kept so
    interactive pyvista windows keep working in notebooks.
    """
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    try:
        import pyvista
    except ImportError as exc:
        raise MissingDependencyError(f"reading and rendering fields needs pyvista ({exc}); {INSTALL_HINT}") from None
    return pyvista


@dataclass(frozen=True)
class FieldStep:
    """One stored field step: its position in ``fields.pvd``, time [s], DOD [-] and ``.vtu`` file."""

    index: int
    time: float
    dod: float
    path: Path


class RunResult:
    """Read access to one stored run (see the module docstring). Units: SI."""

    _CACHE_SIZE = 4

    def __init__(self, run: Run):
        self.run = run
        self.path: Path = run.path
        self._grids: OrderedDict[int, Any] = OrderedDict()

    def __repr__(self) -> str:
        return f"RunResult({self.study}/{self.run_id}, {self.label!r}, state={self.state!r}, {len(self.steps)} field steps)"

    # -- identity and metadata ----------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def study(self) -> str:
        return self.run.study

    @cached_property
    def spec(self) -> RunSpec:
        """The run's :class:`~orchestrator.runspec.RunSpec` (validated, SI)."""
        return self.run.spec

    @property
    def changes(self) -> dict[str, Any]:
        """Swept field path -> value as written in the study spec (empty without a sweep)."""
        return self.run.changes

    @property
    def material(self) -> str:
        """Material name."""
        return self.spec.spec.model.material.name

    @property
    def label(self) -> str:
        """Short legend label: material name and the other swept values."""
        return run_label(self.material, self.changes)

    @property
    def backend(self) -> str:
        """The backend actually used (from provenance), else the one the spec asked for."""
        return str(self.provenance.get("backend") or self.spec.backend)

    @property
    def radius(self) -> float:
        """Particle radius R [m]."""
        return float(self.spec.spec.model.particle.radius)

    @property
    def provenance(self) -> dict[str, Any]:
        return self.run.provenance

    @property
    def status(self) -> dict[str, Any]:
        return self.run.status

    @property
    def state(self) -> str:
        return self.run.state

    # -- scalars ------------------------------------------------------------------------------
    @cached_property
    def scalars(self) -> dict[str, np.ndarray]:
        """Columns of scalars.csv (:data:`solvers.api.SCALAR_COLUMNS`) as float arrays."""
        return self.run.scalars()

    # -- field steps --------------------------------------------------------------------------
    @cached_property
    def steps(self) -> list[FieldStep]:
        """The stored field steps in ``fields.pvd`` order."""
        listed = self.run.field_steps()
        times = np.array([t for t, _ in listed], dtype=float)
        dods = self._dods_at(times)
        return [FieldStep(i, float(t), float(d), p) for i, ((t, p), d) in enumerate(zip(listed, dods))]

    def _dods_at(self, times: np.ndarray) -> np.ndarray:
        """DOD at ``times`` [s]: interpolated in scalars.csv, else from the galvanostatic model."""
        if times.size == 0:
            return times
        t, d = self.scalars.get("time_s", np.empty(0)), self.scalars.get("dod", np.empty(0))
        if t.size >= 2 and t.min() <= times.min() and times.max() <= t.max() * (1 + 1e-12):
            return np.interp(times, t, d)
        return np.array([self.spec.model().dod_at_time(x) for x in times])

    @property
    def times(self) -> np.ndarray:
        """Times [s] of the stored field steps."""
        return np.array([s.time for s in self.steps])

    @property
    def dods(self) -> np.ndarray:
        """DODs [-] of the stored field steps."""
        return np.array([s.dod for s in self.steps])

    @property
    def has_fields(self) -> bool:
        return bool(self.steps)

    def step(self, *, time: float | None = None, dod: float | None = None, index: int | None = None) -> FieldStep:
        """The stored step nearest to ``time`` [s] or ``dod`` [-], or by ``index``; default the last one.

        A ``time`` or ``dod`` outside the stored steps (beyond :data:`STEP_DOD_TOL`, or 1 % of the last
        time) raises :class:`InvalidSelection` listing the stored steps, instead of silently taking
        the last one.
        """
        if not self.steps:
            raise MissingFieldsError(
                f"run {self.study}/{self.run_id} ({self.path}) has no stored fields (state {self.state!r},"
                " no fields.pvd or an empty one); run it first (octant run) or request field output with"
                " outputs.fields_at in the spec"
            )
        given = [k for k, v in (("time", time), ("dod", dod), ("index", index)) if v is not None]
        if len(given) > 1:
            raise InvalidSelection(f"give at most one of time, dod, index (got {', '.join(given)})")
        if index is not None:
            try:
                return self.steps[index]
            except IndexError:
                raise MissingFieldsError(
                    f"run {self.run_id} has {len(self.steps)} field steps; step index {index} does not exist"
                ) from None
        if time is not None:
            self._check_in_range("time", time, self.times, tol=0.01 * float(np.max(np.abs(self.times))))
            return self.steps[int(np.argmin(np.abs(self.times - time)))]
        if dod is not None:
            self._check_in_range("dod", dod, self.dods, tol=STEP_DOD_TOL)
            return self.steps[int(np.argmin(np.abs(self.dods - dod)))]
        return self.steps[-1]

    def _check_in_range(self, key: str, value: float, stored: np.ndarray, *, tol: float) -> None:
        """An error listing the stored steps when ``value`` lies outside them by more than ``tol``."""
        if not np.isfinite(value) or value < stored.min() - tol or value > stored.max() + tol:
            listing = ", ".join(
                f"[{s.index}] DOD {s.dod:.4g} (t = {s.time:.6g} s = {s.time / 3600:.4g} h)" for s in self.steps
            )
            unit = "" if key == "dod" else " s"
            raise InvalidSelection(
                f"{key}={value:.6g}{unit} is outside the stored field steps of run {self.study}/{self.run_id}:"
                f" {listing}; choose one of these"
            )

    def field_names(self, step: FieldStep | None = None) -> list[str]:
        """Point-array names stored at ``step`` (default: the last step)."""
        grid = self._read(step or self.step())
        return list(grid.point_data.keys())

    def _read(self, step: FieldStep) -> Any:
        if step.index in self._grids:
            self._grids.move_to_end(step.index)
            return self._grids[step.index]
        if not step.path.exists():
            raise MissingFieldsError(
                f"{step.path} is listed in {self.path / 'fields.pvd'} but missing; the run is incomplete:"
                " rerun it (octant run --force)"
            )
        pv = import_pyvista()
        grid = pv.read(step.path)
        grid.field_data["time"] = np.array([step.time])
        grid.field_data["dod"] = np.array([step.dod])
        self._grids[step.index] = grid
        while len(self._grids) > self._CACHE_SIZE:
            self._grids.popitem(last=False)
        return grid

    def field(
        self, name: str | None = None, *, time: float | None = None, dod: float | None = None, index: int | None = None
    ) -> pyvista.UnstructuredGrid:
        """The fields of the stored step nearest to ``time`` [s] / ``dod`` [-] (default: the last step).

        With ``name`` the array must exist and becomes the active scalars. The grid's field data
        carries ``time`` [s] and ``dod`` [-]. Raises :class:`MissingFieldsError` when the run has
        no fields, :class:`UnknownFieldError` when ``name`` is not stored.
        """
        step = self.step(time=time, dod=dod, index=index)
        grid = self._read(step)
        if name is not None:
            if name not in grid.point_data:
                known = ", ".join(grid.point_data.keys()) or "none"
                raise UnknownFieldError(
                    f"run {self.run_id} step {step.index} (t = {step.time:.6g} s) has no field {name!r};"
                    f" stored point arrays: {known}"
                )
            grid = grid.copy(deep=False)
            grid.set_active_scalars(name, preference="point")
        return grid

    def is_radial(self) -> bool:
        """True when the stored mesh is the 1D radial line (no 3D cells)."""
        grid = self._read(self.step())
        types = set(np.unique(np.asarray(grid.celltypes)).tolist())
        return bool(types) and types <= _VTK_LINE_TYPES

    # -- derived ------------------------------------------------------------------------------
    def values(self, name: str, step: FieldStep) -> np.ndarray:
        """Point values of ``name`` at ``step``; vectors and tensors give their magnitude [unit of the field]."""
        grid = self.field(name, index=step.index)
        data = np.asarray(grid.point_data[name], dtype=float)
        return data if data.ndim == 1 else np.linalg.norm(data, axis=1)

    def field_range(self, name: str, steps: list[FieldStep] | None = None) -> tuple[float, float]:
        """(min, max) of ``name`` over ``steps`` (default all stored steps), finite values only."""
        lo, hi = np.inf, -np.inf
        for step in steps if steps is not None else self.steps:
            v = self.values(name, step)
            v = v[np.isfinite(v)]
            if v.size:
                lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        if not np.isfinite(lo):
            raise MissingFieldsError(f"run {self.run_id}: field {name!r} has no finite values in the requested steps")
        return lo, hi

    def profile(
        self,
        name: str,
        *,
        time: float | None = None,
        dod: float | None = None,
        index: int | None = None,
        ray: str | np.ndarray = "diagonal",
        n: int = 200,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``name`` along a ray from the centre to the surface: (r / R [-], values).

        ``ray``: ``x``, ``y``, ``z``, ``diagonal`` (the (1,1,1) direction) or a vector with
        non-negative components. 3D runs are sampled at ``n`` points with pyvista's
        ``sample_over_line`` (probe filter); radial runs return their stored nodes.
        """
        grid = self.field(name, time=time, dod=dod, index=index)
        data = np.asarray(grid.point_data[name], dtype=float)
        if data.ndim > 1:
            data = np.linalg.norm(data, axis=1)
        radius = self.radius
        if self.is_radial():
            r = np.linalg.norm(np.asarray(grid.points), axis=1)
            order = np.argsort(r)
            return r[order] / radius, data[order]
        if isinstance(ray, str) and ray not in RAYS:
            raise InvalidSelection(f"unknown ray {ray!r}; use one of {', '.join(RAYS)} or a vector")
        direction = RAYS[ray] if isinstance(ray, str) else np.asarray(ray, dtype=float)
        if direction.shape != (3,) or (direction < 0).any() or not np.linalg.norm(direction) > 0:
            raise InvalidSelection(f"ray must be a non-zero vector with non-negative components, got {ray!r}")
        direction = direction / np.linalg.norm(direction)
        end = direction * float(np.linalg.norm(np.asarray(grid.points), axis=1).max())
        sampled = grid.sample_over_line((0.0, 0.0, 0.0), tuple(end), resolution=n - 1, tolerance=radius * 1e-6)
        valid = np.asarray(sampled.point_data["vtkValidPointMask"]).astype(bool)
        values = np.asarray(sampled.point_data[name], dtype=float)
        if values.ndim > 1:
            values = np.linalg.norm(values, axis=1)
        points = np.asarray(sampled.points)
        for i in np.flatnonzero(~valid):  # the probe misses points exactly on a boundary vertex
            nearest = grid.find_closest_point(points[i])
            if np.linalg.norm(np.asarray(grid.points[nearest]) - points[i]) <= 1e-6 * radius:
                values[i], valid[i] = data[nearest], True
        if not valid.any():
            raise MissingFieldsError(f"run {self.run_id}: no mesh cell found along the {ray} ray")
        r = np.linalg.norm(points, axis=1)[valid]
        return r / radius, values[valid]


def load_run(ref: str | Path, *, runs_dir: str | Path | None = None) -> RunResult:
    """Open a stored run by directory path, ``study/id``, run id or unique id prefix.

    ``runs_dir`` is the store root for ids (default ``$OCTANT_RUNS_DIR`` or ``./runs``). Raises
    :class:`~orchestrator.errors.RunNotFound` when nothing matches.
    """
    path = Path(ref)
    if path.is_dir() and not (path / "spec.yaml").exists():
        raise RunNotFound(f"{path} is not a run directory (no spec.yaml); give runs/<study>/<run id> or a run id")
    return RunResult(RunStore(runs_dir).find(ref))
