"""``octant verify``: the verification cases, the table and the command's exit code."""

from __future__ import annotations

import pytest

from orchestrator import verify
from orchestrator.cli import main
from orchestrator.verify import CaseResult, format_table, run_verification


def test_quick_radial_cases_pass_with_observed_orders():
    results = run_verification("quick", backends=("radial",), cases=("mass", "crank", "quasi_steady"))
    assert {r.case for r in results} == {"mass", "crank", "quasi_steady"}
    assert all(r.passed for r in results), format_table(results)
    crank = [r for r in results if r.case == "crank"]
    assert len(crank) == 3 and all(r.order > 1.8 for r in crank[1:])
    assert all(r.error < r.tolerance for r in results)


def test_quick_native_cases_pass():
    results = run_verification(
        "quick", backends=("native",), cases=("mass", "crank", "direction", "mean_stress", "uniform")
    )
    by_case = {}
    for r in results:
        by_case.setdefault(r.case, []).append(r)
    assert set(by_case) == {"mass", "crank", "direction", "mean_stress", "uniform"}
    assert all(r.passed for r in results), format_table(results)
    assert by_case["crank"][1].order > 1.7
    assert all(r.error < 1e-10 for r in by_case["uniform"] + by_case["mean_stress"])
    # the quasi-steady frames were computed (for direction/mean_stress) but not reported
    assert "quasi_steady" not in by_case


def test_series_orders_and_failures():
    rows = verify._series("x", "native", (4, 8), (0.04, 0.01), (0.05, 0.02), 1.5)
    assert rows[0].order is None and rows[1].order == pytest.approx(2.0)
    assert all(r.passed for r in rows)
    slow = verify._series("x", "native", (4, 8), (0.04, 0.019), (0.05, 0.02), 1.5)
    assert not slow[1].passed  # within tolerance but converging too slowly
    table = format_table(slow)
    assert "FAIL" in table and "order" in table.splitlines()[0]


def test_unknown_level_or_case():
    with pytest.raises(ValueError, match="level"):
        run_verification("medium")
    with pytest.raises(ValueError, match="case"):
        run_verification("quick", cases=("nope",))


def test_cli_prints_table_and_exit_code(capsys, monkeypatch):
    code = main(["-q", "verify", "--backend", "native", "--case", "uniform"])
    out = capsys.readouterr().out
    assert code == 0
    assert "uniform" in out and "PASS" in out and "0 failed" in out
    failing = [CaseResult("crank", "native", "n=4", 0.5, None, 0.1, False, "forced")]
    monkeypatch.setattr("orchestrator.cli.verify.run_verification", lambda *a, **k: failing)
    assert main(["-q", "verify"]) == 1
    assert "FAILED crank" in capsys.readouterr().out


def test_quick_native_stress_and_radial_comparison_pass():
    results = run_verification("quick", backends=("native",), cases=("quasi_steady", "radial_3d"))
    assert {r.case for r in results} == {"quasi_steady", "radial_3d:exponential:c", "radial_3d:exponential:von_mises"}
    assert all(r.passed for r in results), format_table(results)
    quasi = [r for r in results if r.case == "quasi_steady"]
    assert quasi[1].error < quasi[0].error and quasi[1].order > 1.0
