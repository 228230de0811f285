"""The COMSOL plan for the options beyond the plain particle: inclusions (per-domain materials),
elastoplasticity, Li-dependent E and nu, stress-driven diffusion -- in forms COMSOL itself writes.

The model objects here are hand-built with the documented attribute names (``inclusions``,
``mechanics.constitutive`` / ``yield_stress`` / ``hardening`` / ``stress_driven_diffusion``,
``temperature``), wrapping a plain :class:`~models.LithiationModel`, so that every branch of the plan
(law or number, hardening or not, overlapping or misplaced inclusions) is reached directly; the same
options through a spec and ``octant export-java`` are in ``tests/test_comsol_evidence.py``. The Sn
and Sb numbers below are test inputs, not presets (no source: they only need to differ from Si).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from models import ConstantDiffusivity, ExpressionDiffusivity, LithiationModel, Material, get_preset
from solvers.api import Numerics, OutputRequest
from solvers.comsol.builder import apply_plan, build_plan
from solvers.comsol.domains import UnsupportedModel
from solvers.comsol.evidence import check_java, load_index
from solvers.comsol.java_export import render_java, write_java
from solvers.comsol.recording import RecordingModel
from solvers.comsol.results import scalar_row

INDEX = load_index(Path(__file__).resolve().parent / "data" / "comsol" / "api-evidence.json")
R = 4.11e-6
SN = Material(name="Sn", diffusivity=ConstantDiffusivity(5e-15), youngs_modulus=50e9, poisson_ratio=0.36,
              partial_molar_volume=9e-6, density=7290.0, capacity=994 * 3600 / 1000 * 1000)
SB = Material(name="Sb", diffusivity=ConstantDiffusivity(3e-15), youngs_modulus=55e9, poisson_ratio=0.25,
              partial_molar_volume=8e-6, density=6690.0, capacity=660 * 3600)


class Extended:
    """A plain LithiationModel plus the new model fields (documented names)."""

    def __init__(self, base: LithiationModel, **fields: Any):
        self._base = base
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


@dataclass(frozen=True)
class Sphere:
    material: Any
    center: tuple[float, float, float]
    radius: float
    shape: str = "sphere"


@dataclass(frozen=True)
class Bar:
    material: Any
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    radius: float
    shape: str = "bar"


def paper_model(**mechanics: Any) -> Extended:
    """Si matrix with a Sn sphere and a Sb bar (paper Figs. S26/S27 layout), elastoplastic by default."""
    mech = {"constitutive": "elastoplastic", "yield_stress": 1.75e9, "hardening": 0.0, "stress_driven_diffusion": False}
    mech.update(mechanics)
    return Extended(
        LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0),
        inclusions=(Sphere(SN, (1.5e-6, 1.5e-6, 1.5e-6), 0.5e-6), Bar(SB, (0.6e-6, 2.2e-6, 0.7e-6), (2.6e-6, 2.2e-6, 0.7e-6), 0.3e-6)),
        mechanics=SimpleNamespace(**mech),
        temperature=298.15,
    )


def plan_of(model) -> tuple[Any, RecordingModel, str]:
    plan = build_plan(model, OutputRequest(dods=(0.5, 1.0)), Numerics(), results_dir="/scratch/run")
    double = RecordingModel()
    apply_plan(plan, double)  # every call is one the API table (with its citations) lists
    return plan, double, render_java(plan, "OctantModel")


def assert_only_comsol_written_forms(java: str) -> int:
    report = check_java(INDEX, java)
    assert [m for m in report.missing if m != "Data.looplevelinput"] == []
    return len(report.pairs)


def test_inclusions_and_elastoplasticity_in_comsol_written_forms():
    plan, double, java = plan_of(paper_model())
    calls = set(double.calls)
    geom = 'model.component("comp1").geom("geom1")'
    for call in (
        f'{geom}.create("inc1", "Sphere")',
        f'{geom}.feature("inc1").set("pos", new String[]{{"1.5e-06[m]", "1.5e-06[m]", "1.5e-06[m]"}})',
        f'{geom}.feature("inc1").set("selresult", true)',
        f'{geom}.create("inc2", "Cylinder")',
        f'{geom}.feature("inc2").set("axis", new String[]{{"1", "0", "0"}})',
        f'{geom}.feature("inc2").set("h", "2e-06[m]")',
        f'{geom}.feature("uni1").selection("input").set(new String[]{{"sph1", "inc1", "inc2"}})',
        f'{geom}.feature("int1").selection("input").set(new String[]{{"uni1", "blk1"}})',
        'model.component("comp1").selection("dom_m").set("input", new String[]{"incs"})',
        'model.component("comp1").selection("sph").set("subtract", new String[]{"pln"})',
        'model.component("comp1").variable("var2").selection().named("geom1_inc1_dom")',
        'model.component("comp1").variable("var3").selection().named("geom1_inc2_dom")',
        'model.component("comp1").physics("solid").feature("lemm1").create("plsty1", "Plasticity", 3)',
        'model.component("comp1").physics("solid").feature("lemm1").feature("plsty1").set("sigmags", "sY_loc")',
        'model.component("comp1").physics("solid").feature("lemm1").feature("plsty1").set("IsotropicHardeningModel", "PerfectlyPlastic")',
    ):
        assert call in calls, call
    variables = [c.chain[-1][1] for c in plan.calls if c.chain[1][0] == "variable" and c.chain[-1][0] == "set"]
    per_domain = {}
    for name, expr, _ in variables:
        per_domain.setdefault(name, []).append(expr)
    assert per_domain["Omega_loc"] == ["Omega", "Omega_i1", "Omega_i2"]
    assert per_domain["E_loc"] == ["E_p", "E_i1", "E_i2"] and per_domain["sY_loc"] == ["sY_p", "sY_i1", "sY_i2"]
    assert per_domain["theta"] == ["c/c_max", "c/c_max_i1", "c/c_max_i2"]
    params = {c.chain[1][1][0]: c.chain[1][1][1] for c in plan.calls if c.chain[0][0] == "param"}
    assert params["E_i1"] == "50000000000.0[Pa]" and params["nu_i2"] == "0.25" and params["sY_p"] == "1750000000.0[Pa]"
    assert float(params["c_max_i1"].split("[")[0]) == pytest.approx(SN.c_max)
    assert per_domain["cmax_loc"] == ["c_max", "c_max_i1", "c_max_i2"]
    assert 'model.result().export("data1").set("expr", new String[]{"c", ' in java
    assert '"solid.evol", "cmax_loc", "solid.epeGp"})' in java  # local c_max, equivalent plastic strain
    assert assert_only_comsol_written_forms(java) >= 40


def test_scalars_of_several_materials_use_the_local_c_max():
    """DOD = int(c - c0) / sum_d (c_max,d - c0) V_d; theta = c / c_max of the node's material."""
    weights = np.array([1.0, 1.0, 2.0, 2.0])  # lumped volumes: two nodes of each material
    cmax = np.array([300.0, 300.0, 100.0, 100.0])
    c = np.array([150.0, 150.0, 100.0, 100.0])
    row = scalar_row(0.0, c, weights, np.array([0, 2]), 3, c_max=cmax, c0=0.0, von_mises=None, hydrostatic=None)
    assert row["dod"] == pytest.approx((300 + 400) / (600 + 400))
    assert row["theta_surface_max"] == 1.0 and row["theta_center"] == 1.0
    assert row["theta_mean"] == pytest.approx((0.5 * 2 + 1.0 * 4) / 6)
    plain = scalar_row(0.0, c, weights, np.array([0]), 0, c_max=300.0, c0=0.0, von_mises=None, hydrostatic=None)
    assert plain["dod"] == pytest.approx(plain["theta_mean"]) == pytest.approx(700 / 1800)


def test_li_dependent_properties_hardening_and_stress_driven_diffusion():
    base = paper_model(hardening=2e9, stress_driven_diffusion=True, yield_stress=ExpressionDiffusivity("1.75e9*(1-0.4*theta)"))
    soft = get_preset("Si")
    soft_si = SimpleNamespace(**{k: getattr(soft, k) for k in ("name", "diffusivity", "partial_molar_volume", "density", "capacity", "c_max")},
                              youngs_modulus=ExpressionDiffusivity("80e9*(1-0.5*theta)"),
                              poisson_ratio=ExpressionDiffusivity("0.22+0.06*theta"))
    model = Extended(base._base, inclusions=base.inclusions, mechanics=base.mechanics, temperature=320.0, material=soft_si)
    plan, double, java = plan_of(model)
    calls = set(double.calls)
    tds = 'model.component("comp1").physics("tds")'
    for call in (
        f'{tds}.prop("TransportMechanism").set("Migration", true)',
        f'{tds}.feature("sp1").setIndex("z", 1, 0)',
        f'{tds}.feature("cdm1").set("V", "Omega_loc*solid.pm/F_const")',
        f'{tds}.feature("cdm1").set("minput_temperature", "T_K")',
        'model.component("comp1").physics("solid").feature("lemm1").feature("plsty1").set("Et", "E_loc*H_p/(E_loc+H_p)")',
    ):
        assert call in calls, call
    variables = {(c.chain[0][1], c.chain[1][1][0] if len(c.chain) > 2 else "", c.chain[-1][1][0]): c.chain[-1][1][1]
                 for c in plan.calls if c.chain[1][0] == "variable" and c.chain[-1][0] == "set"}
    matrix = {k[2]: v for k, v in variables.items() if k[1] == "var1"}
    # the laws' own COMSOL text, of the matrix's theta, with units
    e = matrix["E_loc"]
    assert e.endswith("*1[Pa]") and "c/c_max" in e
    theta = np.linspace(0, 1, 5)
    value = [eval(e[: -len("*1[Pa]")].replace("^", "**"), {"c": t * soft.c_max, "c_max": soft.c_max}) for t in theta]  # noqa: S307
    np.testing.assert_allclose(value, 80e9 * (1 - 0.5 * theta), rtol=1e-12)
    assert matrix["nu_loc"].startswith("(") and "*1[" not in matrix["nu_loc"]
    assert matrix["sY_loc"].endswith("*1[Pa]")
    params = {c.chain[1][1][0]: c.chain[1][1][1] for c in plan.calls if c.chain[0][0] == "param"}
    assert params["T_K"] == "320.0[K]" and params["H_p"] == "2000000000.0[Pa]" and "E_p" not in params
    assert_only_comsol_written_forms(java)


def test_a_bar_whose_flat_end_fits_is_inside():
    """|end| + r > R, yet the end disk's rim is inside the sphere: a valid bar (cut by the y = 0 plane)."""
    bar = Bar(SB, (0.0, 0.0, 0.5e-6), (3.9e-6, 0.0, 0.5e-6), 0.3e-6)
    assert np.linalg.norm(bar.end) + bar.radius > R
    model = Extended(LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0), inclusions=(bar,))
    plan_of(model)


def test_plain_model_has_one_domain_and_no_options():
    plan, double, java = plan_of(LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0))
    text = "\n".join(double.calls)
    for absent in ("Plasticity", "Migration", "inc1", "dom_m", "Cylinder"):
        assert absent not in text
    assert_only_comsol_written_forms(java)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inclusions": (Sphere(SN, (1.5e-6, 1.5e-6, 1.5e-6), 0.5e-6), Sphere(SB, (1.9e-6, 1.5e-6, 1.5e-6), 0.3e-6))}, "overlap"),
        ({"inclusions": (Sphere(SN, (3.0e-6, 2.5e-6, 1.0e-6), 0.5e-6),)}, "outside the particle"),
        ({"inclusions": (Sphere(SN, (-1.0e-6, 1.5e-6, 1.5e-6), 0.5e-6),)}, "outside the octant"),
        ({"inclusions": (Bar(SB, (0.0, 0.0, 0.5e-6), (4.0e-6, 0.0, 0.5e-6), 1.0e-6),)}, "outside the particle"),
        ({"inclusions": (SimpleNamespace(shape="cube", material=SN, radius=1e-7),)}, "shape = 'cube'"),
        ({"inclusions": (Bar(SB, (1e-6, 1e-6, 1e-6), (1e-6, 1e-6, 1e-6), 1e-7),)}, "start != end"),
        ({"mechanics": SimpleNamespace(constitutive="elastoplastic", yield_stress=None)}, "yield_stress is needed"),
        ({"mechanics": SimpleNamespace(constitutive="viscoplastic")}, "constitutive = 'viscoplastic'"),
        ({"mechanics": SimpleNamespace(constitutive="elastoplastic", yield_stress="high")}, "a number \\(SI\\) or a law"),
        ({"mechanics": SimpleNamespace(constitutive="elastoplastic", yield_stress=1e9, hardening=-1.0)}, "hardening"),
    ],
)
def test_what_the_plan_cannot_express_is_an_error(change, message):
    model = Extended(LithiationModel(radius=R, material=get_preset("Si"), specific_current=100.0), **change)
    with pytest.raises(UnsupportedModel, match=message):
        build_plan(model, OutputRequest(dods=(1.0,)), Numerics(), results_dir="/r")


@pytest.mark.skipif(shutil.which("javac") is None, reason="javac not found (install a JDK, e.g. openjdk-17-jdk-headless)")
def test_options_model_compiles_against_the_api_stubs(tmp_path):
    """Valid Java, every chain type-checks against tests/java_stubs (NOT COMSOL)."""
    plan = build_plan(paper_model(hardening=2e9, stress_driven_diffusion=True), OutputRequest(dods=(1.0,)), Numerics(),
                      results_dir=str(tmp_path))
    source = write_java(tmp_path / "OctantModel.java", plan)
    stubs = Path(__file__).resolve().parent / "java_stubs"
    proc = subprocess.run(["javac", "-d", str(tmp_path / "classes"), "-sourcepath", str(stubs), str(source)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_results_of_an_inclusion_run_use_cmax_loc_and_carry_plastic_strain():
    """An export with the columns the options plan adds: theta = c / cmax_loc node by node, and the
    equivalent plastic strain becomes the run-store array plastic_strain."""
    from test_comsol_import import octant_mesh

    from solvers.api import SCALAR_COLUMNS
    from solvers.comsol.results import convert_results
    from solvers.comsol.spreadsheet import SpreadsheetColumn, SpreadsheetData

    mesh = octant_mesh()
    pts = np.asarray(mesh.points, dtype=float)
    inside = np.linalg.norm(pts - pts.mean(axis=0), axis=1) < 0.3 * np.ptp(pts[:, 0])  # an "inclusion"
    cmax = np.where(inside, 100.0, 300.0)
    c = 0.5 * cmax
    eps_p = np.linspace(0.0, 0.02, len(pts))
    columns = [SpreadsheetColumn("c", "mol/m^3", 1.0, "t"), SpreadsheetColumn("cmax_loc", "mol/m^3", 1.0, "t"),
               SpreadsheetColumn("solid.epeGp", "1", 1.0, "t")]
    data = SpreadsheetData(pts, columns, np.stack([c, cmax, eps_p], axis=1), {"Length unit": "m"})
    result = convert_results(mesh, data, c_max=300.0, c0=0.0)
    [frame] = result.frames
    np.testing.assert_allclose(frame.point_data["theta"], 0.5)
    np.testing.assert_allclose(frame.point_data["plastic_strain"], eps_p)
    [row] = result.scalars
    assert row["dod"] == pytest.approx(0.5) and row["theta_surface_max"] == pytest.approx(0.5)
    assert tuple(row) == SCALAR_COLUMNS and row["plastic_strain_max"] == pytest.approx(0.02)
