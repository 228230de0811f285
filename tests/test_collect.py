"""``octant collect``: one table of every run with key scalars; failed and damaged runs included."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from orchestrator.cli import main
from orchestrator.collect import SCALAR_SUMMARIES, collect_rows, format_table, summarise_scalars
from orchestrator.errors import StoreError
from orchestrator.store import RunStore
from run_factory import analytic_study


@pytest.fixture()
def study(tmp_path):
    """The two-run analytic study of the run factory (radial); the second run's status is damaged."""
    runs = analytic_study(tmp_path, name="coll", kind="radial", dods=(0.25, 0.5))
    (runs[1].path / "status.json").write_text("{not json")
    return RunStore(tmp_path), runs


def test_rows_have_ids_swept_values_scalars_and_failures(study):
    store, (ok, damaged) = study
    rows = {r["run_id"]: r for r in collect_rows(store, "coll")}
    assert set(rows) == {ok.run_id, damaged.run_id}
    good = rows[ok.run_id]
    scalars = ok.scalars()
    assert good["state"] == "done"
    assert good["von_mises_max_Pa"] == pytest.approx(float(scalars["von_mises_max"].max()))
    assert good["final_dod"] == pytest.approx(0.5, abs=1e-9)
    assert good["final_time_s"] == pytest.approx(float(scalars["time_s"][-1]))
    assert good["model.material"]["name"] == "Si" and good["error"] is None and good["log"] is None
    bad = rows[damaged.run_id]
    assert bad["state"] == "unreadable" and all(bad[k] is None for k in SCALAR_SUMMARIES)
    assert "unreadable" in bad["error"] and bad["log"]


def test_failed_runs_have_empty_scalars_and_their_log(tmp_path):
    ok, failed = analytic_study(tmp_path, name="fails", kind="radial", dods=(0.5,))
    failed.update_status(state="failed", error="boom")
    rows = {r["run_id"]: r for r in collect_rows(RunStore(tmp_path), "fails")}
    row = rows[failed.run_id]
    assert row["state"] == "failed" and row["error"] == "boom" and row["log"].endswith("log.txt")
    assert row["von_mises_max_Pa"] is None and rows[ok.run_id]["von_mises_max_Pa"] > 0


def test_csv_and_json_round_trip(study):
    store, _ = study
    rows = collect_rows(store, "coll")
    parsed = list(csv.DictReader(io.StringIO(format_table(rows, "csv"))))
    assert [p["run_id"] for p in parsed] == [r["run_id"] for r in rows]
    done = next(p for p in parsed if p["state"] == "done")
    assert float(done["von_mises_max_Pa"]) == next(r for r in rows if r["state"] == "done")["von_mises_max_Pa"]
    assert json.loads(done["model.material"])["name"] == "Si"
    assert json.loads(format_table(rows, "json")) == json.loads(json.dumps(rows, default=str))
    with pytest.raises(StoreError, match="csv or json"):
        format_table(rows, "xlsx")


def test_summaries_tolerate_missing_columns():
    assert summarise_scalars({}) == dict.fromkeys(SCALAR_SUMMARIES)
    out = summarise_scalars({"time_s": np.array([0.0, 2.0]), "dod": np.array([0.0, np.nan])})
    assert out["final_time_s"] == 2.0 and out["final_dod"] is None and out["n_steps"] == 2


def test_cli_writes_a_file_and_names_unknown_studies(study, tmp_path, capsys):
    store, _ = study
    target = tmp_path / "table.csv"
    assert main(["collect", "coll", "-o", str(target), "--runs-dir", str(store.root)]) == 0
    assert target.read_text().startswith("study,run_id,physics_id,state,model.material,")
    assert main(["collect", "nope", "--runs-dir", str(store.root)]) == 1
    assert "no study 'nope'" in capsys.readouterr().err
