"""The PyBaMM cross-check (``octant verify --level full --case pybamm``), cheap version.

PyBaMM is optional (the ``pybamm`` extra): the tests that run it skip without it; the skip rows of
the verification are checked with PyBaMM made unavailable.
"""

from __future__ import annotations

import numpy as np
import pytest

from models import ExponentialDiffusivity, ExpressionDiffusivity, StopCondition, get_preset
from orchestrator import verify, verify_pybamm
from orchestrator.cli import main


def test_skip_rows_with_a_reason_without_pybamm(monkeypatch, capsys):
    monkeypatch.setattr(verify_pybamm, "pybamm_available", lambda: None)
    rows = verify.run_verification("full", backends=("radial", "native"), cases=("pybamm",))
    assert [r.backend for r in rows] == ["radial", "native"]
    assert all(r.skipped and r.passed and "pybamm is not installed" in r.detail for r in rows)
    assert "SKIP" in verify.format_table(rows) and "PASS" not in verify.format_table(rows)
    assert main(["-q", "verify", "--level", "full", "--case", "pybamm"]) == 0
    assert "0 passed, 0 failed, 2 skipped" in capsys.readouterr().out


@pytest.mark.parametrize(
    "law",
    [
        get_preset("Si").diffusivity,
        ExponentialDiffusivity(low=2e-16, high=2e-14, scale=3.0),
        ExpressionDiffusivity(expr="1e-16*(2+sqrt(theta)-min(theta,0.5)+max(log(1+theta/2),0.1)^2*exp(-theta))"),
    ],
)
def test_law_translation_matches_octant(law):
    pybamm = pytest.importorskip("pybamm")
    from orchestrator.pybamm_reference import law_to_pybamm

    theta = np.linspace(0.0, 1.0, 41)
    symbol = law_to_pybamm(law.expression.text, pybamm.Vector(theta))
    expected = law(theta)
    assert np.allclose(np.ravel(symbol.evaluate()), expected, rtol=1e-12, atol=0.0)


def test_cheap_cross_check_radial_against_pybamm(monkeypatch):
    """200/400 PyBaMM cells against the default radial solver at DOD 0.25/0.5/0.8 (the front has not
    reached the centre yet: at DOD 0.9 a 200-cell reference is 0.065 off, its arrival delayed)."""
    pytest.importorskip("pybamm")
    from orchestrator.pybamm_reference import pybamm_profiles

    monkeypatch.setattr(verify_pybamm, "CELLS", 200)
    monkeypatch.setattr(verify_pybamm, "CHECK_CELLS", 400)
    dods = (0.25, 0.5, 0.8)
    model = verify._model(verify.SHARP_LAW, StopCondition("dod", dods[-1]))
    rows = verify_pybamm.case_pybamm(("radial",), model, dods)
    assert [r.case for r in rows] == ["pybamm:reference"] + [f"pybamm:dod={d:g}" for d in dods] + ["pybamm:theta_min"]
    assert all(r.passed and not r.skipped for r in rows), verify.format_table(rows)
    assert all(r.error < 2e-3 for r in rows[1:4]), verify.format_table(rows)
    ref = pybamm_profiles(model, dods, 200)
    assert [float(ref.volume @ t[1:-1]) for t in ref.theta] == pytest.approx(dods, abs=1e-9)  # Li balance
    assert ref.x[0] == 0.0 and ref.x[-1] == 1.0 and np.all(np.diff(ref.x) > 0)


def test_a_problem_pybamm_cannot_pose_is_a_failing_row():
    """Installed PyBaMM that cannot give the reference (a sphere with an inclusion): one FAIL row
    with the reason, never a silent pass."""
    pytest.importorskip("pybamm")
    from models import LithiationModel, SphereInclusion

    model = LithiationModel(
        radius=verify.RADIUS,
        material=get_preset("Si"),
        specific_current=100.0,
        stop=StopCondition("dod", 0.5),
        inclusions=(SphereInclusion(get_preset("Sn"), (0.0, 0.0, 0.0), 1e-6),),
    )
    rows = verify_pybamm.case_pybamm(("radial",), model, (0.25, 0.5))
    assert len(rows) == 1 and not rows[0].passed and "inclusions" in rows[0].detail
