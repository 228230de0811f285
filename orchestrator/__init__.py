"""octant's orchestrator: study specs, sweeps, the run store, executors, the CLI and rendering.

Public surface for scripts and notebooks::

    from orchestrator import load_study, RunStore, run_one, load_run
"""

from .errors import RunNotFound, SpecError, StoreError, SubmissionError
from .runner import run_one
from .runspec import RunSpec
from .spec import StudySpec, load_study
from .store import Run, RunStore

__all__ = [
    "Run",
    "RunNotFound",
    "RunSpec",
    "RunStore",
    "SpecError",
    "StoreError",
    "StudySpec",
    "SubmissionError",
    "load_run",
    "load_study",
    "run_one",
]


def __getattr__(name: str):
    if name == "load_run":  # needs pyvista: imported on first use
        from .results import load_run

        return load_run
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
