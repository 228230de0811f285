"""Sweep expansion: ``grid`` (Cartesian product) and ``zip`` (lockstep) over field paths.

Each sweep point sets values at dotted field paths (``model.material``, ``model.particle.radius``,
``model.material.diffusivity.high``...) in the study's validated SI document and validates the result
again, so units are allowed in sweep values and every run is a complete, frozen, checked spec.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from typing import Any

from .errors import SpecError
from .limits import check_sweep_size
from .runspec import RunSpec
from .spec import StudySpec, study_from_dict

__all__ = ["expand", "sweep_points"]


def sweep_points(study: StudySpec) -> list[dict[str, Any]]:
    """The list of {path: value} assignments, grid-major then zip rows."""
    sweep = study.sweep
    if sweep is None or (not sweep.grid and not sweep.zip):
        return [{}]
    grid_paths = list(sweep.grid)
    grid_rows = [dict(zip(grid_paths, combo)) for combo in itertools.product(*sweep.grid.values())]
    zip_paths = list(sweep.zip)
    n_zip = len(next(iter(sweep.zip.values()))) if sweep.zip else 1
    zip_rows = [{p: sweep.zip[p][i] for p in zip_paths} for i in range(n_zip)] if sweep.zip else [{}]
    return [{**g, **z} for g in grid_rows for z in zip_rows]


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = document
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            where = ".".join(parts[:depth]) or "the spec"
            options = list(node) if isinstance(node, dict) else []
            close = difflib.get_close_matches(part, options, n=1)
            hint = f" Did you mean {'.'.join(parts[:depth] + [close[0]])!r}?" if close else ""
            raise SpecError(
                f"sweep path {path!r}: {where} has no field {part!r}.{hint}"
                + (f" Fields there: {', '.join(options)}" if options else "")
            )
        if depth == len(parts) - 1:
            node[part] = value
        else:
            node = node[part]


def expand(study: StudySpec, max_runs: int | None = None) -> list[RunSpec]:
    """Frozen run specs for every sweep point (ids unique; duplicates are an error).

    Refuses (SpecError) a sweep of more than ``max_runs`` points before expanding it
    (default :data:`orchestrator.limits.DEFAULT_MAX_RUNS`).
    """
    check_sweep_size(study, max_runs)
    base = study.model_dump(mode="json", exclude={"sweep"})
    for path in [*(study.sweep.grid if study.sweep else {}), *(study.sweep.zip if study.sweep else {})]:
        if path.split(".")[0] in ("name", "spec_version", "sweep"):
            raise SpecError(f"sweep path {path!r} cannot be swept; sweep model, outputs, numerics or backend fields")
    runs: list[RunSpec] = []
    seen: dict[str, dict[str, Any]] = {}
    for point in sweep_points(study):
        document = copy.deepcopy(base)
        for path, value in point.items():
            _set_path(document, path, value)
        label = ", ".join(f"{k}={v!r}" for k, v in point.items())
        spec = study_from_dict(document, f"sweep point ({label})" if point else "spec")
        run = RunSpec.from_study(spec, point)
        if run.run_id in seen:
            raise SpecError(
                f"sweep points {seen[run.run_id]} and {point} give the same run (id {run.run_id}); remove the duplicate"
            )
        seen[run.run_id] = point
        runs.append(run)
    return runs
