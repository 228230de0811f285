"""Executors: run prepared run directories locally in parallel, or submit them to SLURM.

- :mod:`.local`: :func:`run_local` (spawn process pool, ``octant run SPEC -j N``).
- :mod:`.slurm`: :func:`submit_study` (``octant submit SPEC --scheduler slurm``), job arrays
  chunked to MaxArraySize with manifests under ``runs/<study>/.slurm/<submission id>/``.
- :mod:`.status`: :func:`collect_status` (``octant status``): run directories first, then
  squeue/sacct.
- :mod:`.plan`: which runs to (re)run: skip-if-done, stale-run resume, --force, --resubmit-failed.

Submodules are imported lazily so that ``import orchestrator.executors.local`` in a worker does
not pull in the SLURM code.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "LocalReport",
    "RunOutcome",
    "RunStatus",
    "SlurmOptions",
    "SubmitResult",
    "cluster_options",
    "collect_status",
    "plan_runs",
    "run_local",
    "submit_study",
]

_WHERE = {
    "LocalReport": "local",
    "RunOutcome": "local",
    "run_local": "local",
    "RunStatus": "status",
    "collect_status": "status",
    "SlurmOptions": "slurm_script",
    "SubmitResult": "slurm",
    "cluster_options": "slurm",
    "submit_study": "slurm",
    "plan_runs": "plan",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
