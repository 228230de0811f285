"""The COMSOL backend: COMSOL Multiphysics through mph, in a child process; COMSOL file I/O.

How a solve goes (:func:`solve`)::

    discovery (no mph import) -> builder.build_plan (the Java-API calls)
      -> client.run_worker: python -m solvers.comsol.worker  (imports mph; starts `comsol mphserver`,
         reads its port, connects, replays the plan on model.java: build, mesh, solve, export)
      -> mphtxt.read_mphtxt + spreadsheet.read_spreadsheet -> results.convert_results
      -> sink.write_scalars / sink.write_fields (the same run-store contract as the native solver)

Modules, one job each: :mod:`.discovery` (find COMSOL), :mod:`.server` (``comsol mphserver``
hand-shake), :mod:`.api_table` (the Java API octant uses, as data, each entry citing a
COMSOL-written file or a documentation page), :mod:`.evidence` (the check of a model file against
the index of what COMSOL itself writes), :mod:`.recording` (the checked recording double of the
API, for tests), :mod:`.domains` (material domains and mechanics options of a model, checked),
:mod:`.builder` (the model as a call plan),
:mod:`.java_export` (the plan as a ``.java`` model file), :mod:`.batch` (SLURM scripts for
``comsol batch``), :mod:`.mphtxt` and :mod:`.spreadsheet` (COMSOL mesh and data files),
:mod:`.results` (exports -> field frames and scalars), :mod:`.client` / :mod:`.worker` (the two
sides of the child process).

Nothing here imports mph in the calling process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from models import LithiationModel
from solvers.api import Numerics, OutputRequest, ResultSink, SolveStats
from solvers.errors import BackendUnavailable

from .batch import check_batch_log, comsol_batch_script
from .builder import ModelPlan, apply_plan, build_plan
from .discovery import ComsolInstall, clear_cache, find_installs, select_install
from .java_export import render_java, write_java
from .mphtxt import ElementBlock, MphtxtMesh, read_mphtxt, write_mphtxt
from .results import ComsolResults, convert_results, write_to_sink
from .spreadsheet import SpreadsheetColumn, SpreadsheetData, read_spreadsheet, write_spreadsheet

__all__ = [
    "ComsolInstall",
    "ComsolResults",
    "ElementBlock",
    "ModelPlan",
    "MphtxtMesh",
    "SpreadsheetColumn",
    "SpreadsheetData",
    "apply_plan",
    "available",
    "build_plan",
    "check_batch_log",
    "clear_cache",
    "comsol_batch_script",
    "convert_results",
    "find_installs",
    "read_mphtxt",
    "read_spreadsheet",
    "render_java",
    "select_install",
    "solve",
    "write_java",
    "write_mphtxt",
    "write_spreadsheet",
    "write_to_sink",
]

log = logging.getLogger(__name__)

_HINT = "put COMSOL's 'comsol' launcher on PATH (or set OCTANT_COMSOL=/path/to/comsol), or choose backend: native"


def available() -> tuple[bool, str]:
    """Whether COMSOL can run here, and why (or why not, with a hint). Never imports mph.

    Cheap after the first call (discovery is cached); the first call runs
    ``comsol mphserver --version`` for each installation found (a few seconds with a real COMSOL).
    """
    if importlib.util.find_spec("mph") is None:
        return False, "mph is not installed (pip install mph, or pip install 'octant[comsol]')"
    install, why = select_install(os.environ.get("OCTANT_COMSOL_VERSION") or None)
    if install is None:
        return False, f"{why}; {_HINT}"
    return True, why


def _cores() -> int | None:
    for name in ("OCTANT_COMSOL_CORES", "SLURM_CPUS_PER_TASK"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def solve(model: LithiationModel, outputs: OutputRequest, numerics: Numerics, sink: ResultSink) -> SolveStats:
    """Solve ``model`` with COMSOL and write scalars and field frames to ``sink``.

    Raises :class:`~solvers.errors.BackendUnavailable` when COMSOL is not found, and
    :class:`~solvers.errors.SolverError` (with the COMSOL log) when the run fails after the
    retries. Scalars are rows at every stored time (0, the field times and evenly spaced times),
    not at every internal COMSOL step. A ``surface_theta`` stop is applied after the solve (the
    study runs to DOD 1 and later rows/frames are dropped).
    """
    from .client import run_worker

    ok, reason = available()
    if not ok:
        raise BackendUnavailable(f"COMSOL backend unavailable: {reason}")
    install, _ = select_install(os.environ.get("OCTANT_COMSOL_VERSION") or None)
    assert install is not None
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="octant-comsol-"))
    (workdir / "results").mkdir()
    plan = build_plan(model, outputs, numerics, results_dir=str(workdir / "results"))
    notes = list(plan.notes)
    if outputs.every:
        notes.append("outputs.every (fields every N steps) is not supported by the COMSOL backend; ignored")
    # no progress comes back from COMSOL while it solves; keep the run's heartbeat alive
    result = run_worker(plan, install, workdir, cores=_cores(), heartbeat=lambda: sink.progress(0.0, 0.0, 0.0))
    t_read = time.perf_counter()
    mesh = read_mphtxt(result.mesh_file)
    data = read_spreadsheet(result.data_file)
    converted = convert_results(mesh, data, c_max=model.c_max, c0=model.c0)
    notes += converted.notes
    stop = model.stop.value if model.stop.kind == "surface_theta" else None
    n_rows, written, more = write_to_sink(converted, sink, field_times=np.asarray(plan.field_times), stop_surface_theta=stop)
    notes += more
    _, block = mesh.volume_block()
    stats = SolveStats(
        backend="comsol",
        steps_accepted=max(n_rows - 1, 0),
        dofs={"vertices": int(len(mesh.points)), "tetrahedra": int(len(block.connectivity))},
        timings_s={**result.timings_s, "read_results": time.perf_counter() - t_read, "total": time.perf_counter() - started},
        notes=notes,
        extra={
            "comsol_version": result.comsol_version,
            "cores": result.cores,
            "comsol_executable": str(install.executable),
            "comsol_attempts": result.attempts,
            "stored_times": len(plan.times),
            "field_frames": written,
        },
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return stats

