"""Read and write COMSOL "Data" exports in spreadsheet (text) format.

A Data export (``model.result().export().create("data1", "Data")``) writes::

    % Model:              busbar.mph
    % Version:            COMSOL 6.2.0.290
    % Nodes:              7340
    % Expressions:        3
    % Description:        Electric potential, Temperature, Displacement magnitude
    % Length unit:        m
    % x          y          z          V (V)      T (K)      solid.disp (m)
    0.0975       0          0.1        0.0078     323.749    3.0858E-5

Every ``% key: value`` line is metadata; the last ``%`` line is the column header: coordinate
columns (``x y z``, sometimes with a unit ``X (m)``), then one column per expression, written as
``expr (unit)`` and, for a transient solution, ``expr (unit) @ t=3600`` (one column per stored
time). The header is tokenised (not split on fixed widths), so long names and units with nested
parentheses (``1/(m*s)``) are fine. Data rows are whitespace-separated numbers (``NaN`` allowed).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solvers.errors import SolverError

__all__ = [
    "SpreadsheetColumn",
    "SpreadsheetData",
    "SpreadsheetError",
    "parse_header",
    "read_spreadsheet",
    "write_spreadsheet",
]

log = logging.getLogger(__name__)

_COORDS = ("x", "y", "z")
_META = re.compile(r"^%\s*([A-Za-z][A-Za-z ]*?):\s*(.*)$")


class SpreadsheetError(SolverError, ValueError):
    """A COMSOL data export that cannot be read (wrong layout, row lengths, header)."""


@dataclass(frozen=True)
class SpreadsheetColumn:
    """One data column: the expression ``name``, its ``unit`` ("" if none) and, for transient
    exports, the solution ``time`` [s] (``None`` for a stationary export); ``parameter`` is the
    name of the loop parameter (``t`` for time)."""

    name: str
    unit: str = ""
    time: float | None = None
    parameter: str | None = None

    @property
    def label(self) -> str:
        """The header text COMSOL writes for this column."""
        text = self.name + (f" ({self.unit})" if self.unit else "")
        if self.time is not None:
            text += f" @ {self.parameter or 't'}={self.time:.17g}"
        return text


@dataclass
class SpreadsheetData:
    """A parsed data export: ``coords`` (n, sdim) [length unit], ``columns`` (metadata per data
    column), ``values`` (n, len(columns)), ``metadata`` from the ``% key: value`` lines."""

    coords: np.ndarray
    columns: list[SpreadsheetColumn]
    values: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Distinct expression names in column order."""
        return list(dict.fromkeys(c.name for c in self.columns))

    @property
    def times(self) -> list[float]:
        """Distinct solution times [s] in column order (empty for a stationary export)."""
        return list(dict.fromkeys(c.time for c in self.columns if c.time is not None))

    def unit(self, name: str) -> str:
        """The unit of expression ``name``."""
        for c in self.columns:
            if c.name == name:
                return c.unit
        raise KeyError(f"no column {name!r}; columns: {', '.join(self.names)}")

    def column(self, name: str, time: float | None = None) -> np.ndarray:
        """Values of ``name`` (at ``time`` [s] for a transient export; relative match 1e-9)."""
        for k, c in enumerate(self.columns):
            if c.name != name:
                continue
            if time is None or (c.time is not None and abs(c.time - time) <= 1e-9 * max(1.0, abs(time))):
                return self.values[:, k]
        where = f" at t={time}" if time is not None else ""
        raise KeyError(f"no column {name!r}{where}; columns: {', '.join(self.names)}; times: {self.times}")


def _tokens(header: str) -> list[str]:
    """Split a header on whitespace, keeping parenthesised groups (units) together."""
    out: list[str] = []
    depth = 0
    current = ""
    for ch in header:
        if ch.isspace() and depth == 0:
            if current:
                out.append(current)
                current = ""
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        current += ch
    if current:
        out.append(current)
    return out


def parse_header(header: str) -> list[SpreadsheetColumn]:
    """Columns of a header line (with or without the leading ``%``)."""
    toks = _tokens(header.lstrip("%").strip())
    cols: list[SpreadsheetColumn] = []
    i = 0
    while i < len(toks):
        name = toks[i]
        i += 1
        unit = ""
        if i < len(toks) and toks[i].startswith("(") and toks[i].endswith(")"):
            unit = toks[i][1:-1]
            i += 1
        time = param = None
        if i < len(toks) and toks[i].startswith("@"):
            spec = toks[i][1:]
            i += 1
            if not spec and i < len(toks):
                spec = toks[i]
                i += 1
            param, _, value = spec.partition("=")
            try:
                time = float(value)
            except ValueError:
                raise SpreadsheetError(f"cannot read the parameter value in {spec!r} of header {header!r}") from None
        cols.append(SpreadsheetColumn(name=name, unit=unit, time=time, parameter=param))
    return cols


def read_spreadsheet(path: str | Path) -> SpreadsheetData:
    """Read a COMSOL Data export in spreadsheet format (see the module docstring)."""
    path = Path(path)
    metadata: dict[str, str] = {}
    header: str | None = None
    skip = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if not line.startswith("%"):
                    if line.strip():
                        break
                    skip += 1
                    continue
                skip += 1
                m = _META.match(line.strip())
                if m and not line.lstrip("% ").lower().startswith(("x ", "x\t")):
                    metadata[m.group(1).strip()] = m.group(2).strip()
                else:
                    header = line
    except OSError as exc:
        raise SpreadsheetError(f"cannot read COMSOL data export {path}: {exc.strerror}") from None
    if header is None:
        raise SpreadsheetError(
            f"{path}: no column header line ('% x y z ...'); export with header on (Data export, 'Include header')"
        )
    columns = parse_header(header)
    try:
        values = np.loadtxt(path, comments="%", ndmin=2, dtype=float)
    except ValueError as exc:
        raise SpreadsheetError(f"{path}: data rows are not all numeric or not all the same length ({exc})") from None
    ncoord = 0
    while ncoord < min(3, len(columns)) and columns[ncoord].name.lower() == _COORDS[ncoord] and columns[ncoord].time is None:
        ncoord += 1
    if values.size and values.shape[1] != len(columns):
        raise SpreadsheetError(
            f"{path}: the header names {len(columns)} columns ({header.strip()[:120]}...) but rows have"
            f" {values.shape[1]} values"
        )
    if "Dimension" in metadata and ncoord and str(ncoord) != metadata["Dimension"].split()[0]:
        log.warning("%s: %d coordinate columns for dimension %s", path, ncoord, metadata["Dimension"])
    if "Nodes" in metadata and metadata["Nodes"].split()[0].isdigit() and int(metadata["Nodes"].split()[0]) != len(values):
        raise SpreadsheetError(f"{path}: header says {metadata['Nodes']} nodes but there are {len(values)} rows (truncated file?)")
    data_cols = columns[ncoord:]
    return SpreadsheetData(
        coords=values[:, :ncoord].copy() if values.size else np.zeros((0, ncoord)),
        columns=data_cols,
        values=values[:, ncoord:].copy() if values.size else np.zeros((0, len(data_cols))),
        metadata=metadata,
    )


def write_spreadsheet(path: str | Path, data: SpreadsheetData) -> None:
    """Write ``data`` in COMSOL's spreadsheet layout (metadata lines, header, rows at full precision)."""
    path = Path(path)
    meta = dict(data.metadata)
    meta["Nodes"] = str(len(data.coords))
    meta["Expressions"] = str(len(data.names))
    lines = [f"% {k + ':':<20}{v}" for k, v in meta.items()]
    labels = [c for c in _COORDS[: data.coords.shape[1]]] + [c.label for c in data.columns]
    width = max(25, *(len(label) + 1 for label in labels))
    lines.append("% " + "".join(f"{label:<{width}}" for label in labels).rstrip())
    table = np.hstack([data.coords, data.values])
    buffer = io.StringIO()
    np.savetxt(buffer, table, fmt=f"%-{width - 1}.17g", delimiter=" ")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n" + buffer.getvalue(), encoding="utf-8")
    tmp.replace(path)
