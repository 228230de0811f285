"""The COMSOL model plan, replayed on the RECORDING DOUBLE of the Java API (not COMSOL).

The double (:mod:`solvers.comsol.recording`) checks every call against the table of the documented
API (:mod:`solvers.comsol.api_table`): methods per node, Java argument kinds, feature types per
family, properties per feature type, enumeration values, and that referenced tags exist. The plan is
replayed with :func:`apply_plan`, the same function the worker uses on mph's ``model.java``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from models import LithiationModel, get_preset
from models.laws import ConstantDiffusivity, ExponentialDiffusivity
from solvers.api import MeshOptions, Numerics, OutputRequest
from solvers.comsol.api_table import ApiError, java_literal
from solvers.comsol.builder import EXPORT_FIELDS, apply_plan, build_plan, plan_from_json, plan_to_json, study_times
from solvers.comsol.recording import RecordingModel
from solvers.errors import SolverError

MODEL = LithiationModel(radius=4.11e-6, material=get_preset("Si"), specific_current=100.0)
OUTPUTS = OutputRequest(dods=(0.25, 0.5, 1.0))


def recorded(model=MODEL, outputs=OUTPUTS, numerics=None) -> tuple[RecordingModel, object]:
    plan = build_plan(model, outputs, numerics or Numerics(), results_dir="/scratch/run")
    double = RecordingModel()
    apply_plan(plan, double)
    return double, plan


def test_plan_builds_the_documented_model():
    double, plan = recorded()
    calls = set(double.calls)
    expected = [
        'model.component().create("comp1", true)',
        'model.component("comp1").geom("geom1").create("sph1", "Sphere")',
        'model.component("comp1").geom("geom1").create("blk1", "Block")',
        'model.component("comp1").geom("geom1").feature("int1").selection("input").set(new String[]{"sph1", "blk1"})',
        'model.component("comp1").physics().create("tds", "DilutedSpecies", "geom1")',
        'model.component("comp1").physics("tds").feature("cdm1").set("D_c", new String[]{"D_Li", "0", "0", "0", "D_Li", "0", "0", "0", "D_Li"})',
        'model.component("comp1").physics("tds").create("fl1", "FluxBoundary", 2)',
        'model.component("comp1").physics("tds").feature("fl1").selection().named("sph")',
        'model.component("comp1").physics("tds").feature("fl1").setIndex("J0", "J_in", 0)',
        'model.component("comp1").physics().create("solid", "SolidMechanics", "geom1")',
        'model.component("comp1").physics("solid").feature("lemm1").create("eiel1", "ExternalStrain", 3)',
        'model.component("comp1").physics("solid").feature("lemm1").feature("eiel1").set("StrainInput", "StrainTensor")',
        'model.component("comp1").physics("solid").feature("lemm1").feature("eiel1").set("eext", new String[]{'
        '"Omega_loc*(c-c_ref)/3", "0", "0", "0", "Omega_loc*(c-c_ref)/3", "0", "0", "0", "Omega_loc*(c-c_ref)/3"})',
        'model.component("comp1").physics("solid").create("sym1", "SymmetrySolid", 2)',
        'model.component("comp1").physics("solid").feature("sym1").selection().named("pln")',
        'model.component("comp1").mesh("mesh1").create("ftet1", "FreeTet")',
        'model.component("comp1").mesh("mesh1").feature("size").set("hauto", 5)',
        'model.study("std1").create("time", "Transient")',
        'model.study("std1").run()',
        'model.result().export().create("data1", "Data")',
        'model.result().export("data1").set("filename", "/scratch/run/fields.txt")',
        'model.component("comp1").mesh("mesh1").export("/scratch/run/mesh.mphtxt")',
    ]
    for call in expected:
        assert call in calls, call
    # every call of the plan reached the double (intermediate chain calls are recorded too)
    assert all(c.java() in calls for c in plan.calls)
    # the solve comes after the study set-up and before the exports
    order = [c.java() for c in plan.calls]
    assert order.index('model.study("std1").run()') < order.index('model.result().export("data1").run()')
    exported = re.search(r'export\("data1"\)\.set\("expr", new String\[\]\{(.*)\}\)', "\n".join(double.calls)).group(1)
    assert exported.replace('"', "").split(", ") == [e for e, _ in EXPORT_FIELDS]


def test_parameters_and_flux_follow_the_model():
    double, plan = recorded()
    params = {c.chain[1][1][0]: c.chain[1][1][1] for c in plan.calls if c.chain[0][0] == "param"}
    assert params["R"] == "4.11e-06[m]"
    assert float(params["c_max"].split("[")[0]) == pytest.approx(MODEL.c_max)
    assert params["Omega"] == "9e-06[m^3/mol]" and params["nu_p"] == "0.22" and params["E_p"] == "80000000000.0[Pa]"
    variables = {c.chain[-1][1][0]: c.chain[-1][1][1] for c in plan.calls if c.chain[1][0] == "variable" and c.chain[-1][0] == "set"}
    assert variables["E_loc"] == "E_p" and variables["rho_loc"] == "rho_p" and variables["Omega_loc"] == "Omega"
    # J_in = i_m rho V / (F A) with V and A integrated over the discrete geometry: check the formula
    # with the exact octant (V/A = R/3) against the model's own flux
    j = variables["J_in"]
    assert j == "i_m*intop1(rho_loc)/(F_const*intop2(1))"
    value = eval(j.replace("intop1(rho_loc)", "rho_p*V").replace("intop2(1)", "A"),  # noqa: S307 - our own formula
                 {"i_m": 100.0, "rho_p": 2330.0, "F_const": 96485.33212, "V": MODEL.radius / 3, "A": 1.0})
    assert value == pytest.approx(MODEL.surface_flux(), rel=1e-6)


@pytest.mark.parametrize(
    "law",
    [get_preset("Si").diffusivity, ConstantDiffusivity(3e-16), ExponentialDiffusivity(2e-17, 2e-15, scale=10.0)],
)
def test_diffusivity_expression_equals_the_law(law):
    model = LithiationModel(radius=4.11e-6, material=get_preset("Si").with_(diffusivity=law), specific_current=100.0)
    _, plan = recorded(model)
    d = [c for c in plan.calls if c.chain[-1][1][:1] == ("D_Li",)][0].chain[-1][1][1]
    assert d.endswith("*1[m^2/s]")
    text = d[: -len("*1[m^2/s]")].replace("^", "**")
    theta = np.linspace(0, 1, 11)
    values = [eval(text, {"tanh": np.tanh, "exp": np.exp, "c": th * model.c_max, "c_max": model.c_max}) for th in theta]  # noqa: S307
    np.testing.assert_allclose(values, law(theta), rtol=1e-12)


def test_study_times_and_mesh_options():
    times, targets = study_times(MODEL, OUTPUTS, samples=4)
    t_full = MODEL.full_lithiation_time
    np.testing.assert_allclose(targets, [0.25 * t_full, 0.5 * t_full, t_full])
    np.testing.assert_allclose(times, [0, 0.25 * t_full, 0.5 * t_full, 0.75 * t_full, t_full])
    late = study_times(MODEL, OutputRequest(times=(1e9,)), samples=2)[1]
    assert late.size == 0
    double, _ = recorded(numerics=Numerics(mesh=MeshOptions(element_size=5e-7)))
    assert 'model.component("comp1").mesh("mesh1").feature("size").set("hmax", "5e-07[m]")' in double.calls
    double, _ = recorded(numerics=Numerics(mesh=MeshOptions(size="fine")))
    assert 'model.component("comp1").mesh("mesh1").feature("size").set("hauto", 4)' in double.calls
    with pytest.raises(SolverError, match="mesh.file"):
        build_plan(MODEL, OUTPUTS, Numerics(mesh=MeshOptions(file="x.mphtxt")), results_dir="/r")


def test_plan_survives_json():
    _, plan = recorded()
    again = plan_from_json(plan_to_json(plan))
    assert again.calls == plan.calls and again.sections == plan.sections and again.times == plan.times
    double = RecordingModel()
    apply_plan(again, double)


# -- the double rejects what the documented API does not have -----------------------------------
def _comp(double: RecordingModel):
    double.component().create("comp1", True)
    double.component("comp1").geom().create("geom1", 3)
    double.component("comp1").physics().create("tds", "DilutedSpecies", "geom1")
    return double.component("comp1")


def test_double_rejects_unknown_feature_types():
    comp = _comp(RecordingModel())
    with pytest.raises(ApiError, match="'FluxBoundry' is not a documented tds feature type"):
        comp.physics("tds").create("fl1", "FluxBoundry", 2)
    with pytest.raises(ApiError, match="not a documented physics"):
        comp.physics().create("x", "DilutedSpecie", "geom1")
    with pytest.raises(ApiError, match="not a documented geometry"):
        comp.geom("geom1").create("s", "Spheer")


def test_double_rejects_unknown_properties_and_values():
    double = RecordingModel()
    comp = _comp(double)
    comp.physics("tds").create("fl1", "FluxBoundary", 2)
    with pytest.raises(ApiError, match="no property 'J'"):
        comp.physics("tds").feature("fl1").setIndex("J", "1", 0)
    comp.physics().create("solid", "SolidMechanics", "geom1")
    comp.physics("solid").feature("lemm1").create("eiel1", "ExternalStrain", 3)
    with pytest.raises(ApiError, match="StrainInput of ExternalStrain must be one of"):  # no COMSOL-written file uses it
        comp.physics("solid").feature("lemm1").feature("eiel1").set("StrainInput", "VolumetricStrain")
    with pytest.raises(ApiError, match="no property 'dV'"):
        comp.physics("solid").feature("lemm1").feature("eiel1").set("dV", "Omega*(c-c_ref)")
    with pytest.raises(ApiError, match="no property group"):
        comp.physics("solid").prop("TransientBehavior")


def test_double_rejects_missing_tags_methods_and_argument_types():
    double = RecordingModel()
    comp = _comp(double)
    with pytest.raises(ApiError, match="no feature 'fl9'"):
        comp.physics("tds").feature("fl9")
    with pytest.raises(ApiError, match="no component 'comp2'"):
        double.component("comp2")
    comp.physics("tds").create("fl1", "FluxBoundary", 2)
    with pytest.raises(ApiError, match="no selection 'sph'"):
        comp.physics("tds").feature("fl1").selection().named("sph")
    with pytest.raises(ApiError, match="takes"):
        comp.physics("tds").create("fl2", "FluxBoundary", "2")
    with pytest.raises(ApiError, match="has no method 'solve'"):
        double.study().solve()
    with pytest.raises(ApiError, match="no geometry object"):
        comp.geom("geom1").create("int1", "Intersection")
        comp.geom("geom1").feature("int1").selection("input").set(("sph1", "blk1"))
    with pytest.raises(ApiError, match="already exists"):
        comp.physics("tds").create("fl1", "FluxBoundary", 2)


def test_apply_plan_names_the_failing_statement():
    _, plan = recorded()

    class Refuses:
        """An object whose every method raises, like a Java exception through JPype."""

        def __getattr__(self, name):
            def fail(*args):
                raise RuntimeError("Exception: com.comsol.util.exceptions.FlException: Unknown")

            return fail

    with pytest.raises(SolverError, match=r'COMSOL rejected `model\.param\(\)\.set\("R", "4\.11e-06\[m\]", "Particle radius"\);`'):
        apply_plan(plan, Refuses())


def test_java_literals():
    assert java_literal('a "q"') == '"a \\"q\\""'
    assert java_literal(True) == "true" and java_literal(3) == "3" and java_literal(0.5) == "0.5"
    assert java_literal((1, 2)) == "new int[]{1, 2}"
    assert java_literal((0.5, 1)) == "new double[]{0.5, 1.0}"
    assert java_literal((("a", "b"), ("c", "d"))) == 'new String[][]{{"a", "b"}, {"c", "d"}}'
    with pytest.raises(ApiError):
        java_literal(None)
