"""COMSOL Data exports (spreadsheet text): the real COMSOL 6.2 file and transient headers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solvers.comsol.spreadsheet import (
    SpreadsheetColumn,
    SpreadsheetData,
    SpreadsheetError,
    parse_header,
    read_spreadsheet,
    write_spreadsheet,
)

FIXTURES = Path(__file__).resolve().parent / "data" / "comsol"  # COMSOL-written files; sources in its README


def test_busbar_result_written_by_comsol():
    data = read_spreadsheet(FIXTURES / "busbar_result.txt")
    assert data.metadata["Version"] == "COMSOL 6.2.0.290"
    assert data.metadata["Model"] == "busbar.mph"
    assert data.metadata["Length unit"] == "m"
    assert data.coords.shape == (7340, 3)
    assert [(c.name, c.unit, c.time) for c in data.columns] == [("V", "V", None), ("T", "K", None), ("solid.disp", "m", None)]
    assert data.values.shape == (7340, 3)
    assert data.times == []
    # first data row of the file
    np.testing.assert_allclose(data.coords[0], [0.09749999999999999, 0.0, 0.1])
    np.testing.assert_allclose(data.values[0], [0.007806237973262846, 323.74931897911046, 3.085850938603942e-5])
    assert data.unit("T") == "K"
    assert 290 < data.column("T").min() < data.column("T").max() < 400


def test_transient_header_with_units_and_times():
    cols = parse_header("% x  y  z  c (mol/m^3) @ t=0  c (mol/m^3) @ t=3600.5  solid.mises (N/m^2) @ t=1E4  j (1/(m^2*s)) @ t=2")
    assert [(c.name, c.unit, c.time) for c in cols] == [
        ("x", "", None), ("y", "", None), ("z", "", None),
        ("c", "mol/m^3", 0.0), ("c", "mol/m^3", 3600.5), ("solid.mises", "N/m^2", 1e4), ("j", "1/(m^2*s)", 2.0),
    ]
    assert cols[4].label == "c (mol/m^3) @ t=3600.5"
    with pytest.raises(SpreadsheetError, match="parameter value"):
        parse_header("% x c (mol/m^3) @ t=abc")


def test_transient_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    coords = rng.random((50, 3))
    columns = [SpreadsheetColumn(n, u, t, "t") for t in (0.0, 1800.0, 3600.0) for n, u in (("c", "mol/m^3"), ("solid.mises", "Pa"))]
    values = rng.random((50, len(columns))) * 1e5
    data = SpreadsheetData(coords, columns, values, {"Model": "octant.mph", "Length unit": "m"})
    write_spreadsheet(tmp_path / "out.txt", data)
    again = read_spreadsheet(tmp_path / "out.txt")
    assert again.columns == columns
    np.testing.assert_array_equal(again.coords, coords)
    np.testing.assert_array_equal(again.values, values)
    assert again.names == ["c", "solid.mises"]
    assert again.times == [0.0, 1800.0, 3600.0]
    np.testing.assert_array_equal(again.column("solid.mises", 1800.0), values[:, 3])
    assert again.metadata["Nodes"] == "50" and again.metadata["Expressions"] == "2"
    with pytest.raises(KeyError, match="times"):
        again.column("c", 99.0)


def test_damaged_files_are_reported(tmp_path):
    no_header = tmp_path / "a.txt"
    no_header.write_text("1 2 3 4\n")
    with pytest.raises(SpreadsheetError, match="no column header"):
        read_spreadsheet(no_header)
    wrong = tmp_path / "b.txt"
    wrong.write_text("% x y z c (mol/m^3)\n0 0 0\n")
    with pytest.raises(SpreadsheetError, match="names 4 columns"):
        read_spreadsheet(wrong)
    truncated = tmp_path / "c.txt"
    truncated.write_text("% Nodes: 3\n% x y z c (mol/m^3)\n0 0 0 1\n")
    with pytest.raises(SpreadsheetError, match="3 nodes but there are 1 rows"):
        read_spreadsheet(truncated)
