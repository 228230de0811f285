"""``octant collect STUDY``: one table of every run of a study, with key scalars.

One row per run directory: study, run id, physics id, state, the swept values (one column per
swept field path), summary scalars from ``scalars.csv`` (final time and DOD, the maximum von
Mises stress over time, extremes of surface theta and hydrostatic stress) for ``done`` runs,
and the error and log path for failed ones. A failed, pending or damaged run gets a row with
empty scalars instead of stopping the table.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from .errors import StoreError
from .spec import check_name
from .store import Run, RunStore

__all__ = ["SCALAR_SUMMARIES", "collect_rows", "format_table", "summarise_scalars", "write_table"]

log = logging.getLogger(__name__)

_Reducer = Callable[[dict[str, np.ndarray]], float]

#: Summary column -> how it is computed from the scalars.csv columns (SI units).
SCALAR_SUMMARIES: dict[str, _Reducer] = {
    "final_time_s": lambda s: float(s["time_s"][-1]),
    "final_dod": lambda s: float(s["dod"][-1]),
    "von_mises_max_Pa": lambda s: float(np.nanmax(s["von_mises_max"])),
    "theta_surface_max": lambda s: float(np.nanmax(s["theta_surface_max"])),
    "hydrostatic_min_Pa": lambda s: float(np.nanmin(s["hydrostatic_min"])),
    "hydrostatic_max_Pa": lambda s: float(np.nanmax(s["hydrostatic_max"])),
    "n_steps": lambda s: float(len(s["time_s"])),
}

_ID_COLUMNS = ("study", "run_id", "physics_id", "state")
_TAIL_COLUMNS = ("error", "log", "path")


def summarise_scalars(scalars: dict[str, np.ndarray]) -> dict[str, float | None]:
    """The :data:`SCALAR_SUMMARIES` of one run's scalars (None where a column is missing/empty)."""
    out: dict[str, float | None] = {}
    for name, reduce in SCALAR_SUMMARIES.items():
        try:
            value = reduce(scalars)
        except (KeyError, IndexError, ValueError):
            value = None
        if value is not None and not math.isfinite(value):
            value = None
        out[name] = int(value) if name == "n_steps" and value is not None else value
    return out


def _row(run: Run) -> dict[str, Any]:
    """One table row; never raises for a damaged run directory."""
    row: dict[str, Any] = {"study": run.study, "run_id": run.run_id, "path": str(run.path)}
    problems = []
    try:
        meta = run.meta
        row["physics_id"] = meta.get("physics_id")
        row["changes"] = dict(meta.get("changes", {}))
    except StoreError as exc:
        row["changes"] = {}
        problems.append(str(exc))
    status = run.status
    if status.get("damaged"):  # the store reads a damaged status.json as a failed run; say so here
        problems.append(str(status.pop("error")))
        status = {"state": "unreadable"}
    row["state"] = status.get("state", "pending")
    summary = dict.fromkeys(SCALAR_SUMMARIES)
    if row["state"] == "done":
        try:
            summary = summarise_scalars(run.scalars())
        except (OSError, ValueError) as exc:
            problems.append(f"scalars.csv unreadable: {exc}")
    row.update(summary)
    error = status.get("error")
    row["error"] = "; ".join([*([str(error)] if error else []), *problems]) or None
    row["log"] = str(run.log_path) if row["state"] == "failed" or problems else None
    return row


def collect_rows(store: RunStore, study: str) -> list[dict[str, Any]]:
    """One dict per run of ``study`` (sorted by run id) with flat columns.

    Columns: study, run_id, physics_id, state, one per swept path (the value as written), the
    :data:`SCALAR_SUMMARIES`, error, log, path. Raises :class:`StoreError` for an unknown study.
    """
    if study is not None:
        check_name(study)  # no path tricks in a study name
    if not (store.root / study).is_dir():
        known = ", ".join(store.studies()) or "none"
        raise StoreError(f"no study {study!r} in {store.root} (studies there: {known}); check --runs-dir")
    raw = [_row(run) for run in store.iter_runs(study)]
    swept: list[str] = []
    for row in raw:
        for key in row["changes"]:
            if key not in swept:
                swept.append(key)
    rows = []
    for row in raw:
        changes = row.pop("changes")
        flat = {k: row.get(k) for k in _ID_COLUMNS}
        flat.update({k: changes.get(k) for k in swept})
        flat.update({k: row.get(k) for k in SCALAR_SUMMARIES})
        flat.update({k: row.get(k) for k in _TAIL_COLUMNS})
        rows.append(flat)
    return rows


def _cell(value: Any) -> str:
    """A CSV cell: empty for None, compact JSON for tables and lists, repr-exact floats."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_table(rows: list[dict[str, Any]], fmt: str = "csv") -> str:
    """The rows as ``csv`` (header + one line per run) or ``json`` (a list of objects)."""
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str) + "\n"
    if fmt != "csv":
        raise StoreError(f"unknown table format {fmt!r}; use csv or json")
    buffer = io.StringIO()
    columns = list(rows[0]) if rows else [*_ID_COLUMNS, *SCALAR_SUMMARIES, *_TAIL_COLUMNS]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def write_table(rows: list[dict[str, Any]], out: TextIO, fmt: str = "csv") -> None:
    """Write :func:`format_table` to an open text stream."""
    out.write(format_table(rows, fmt))
