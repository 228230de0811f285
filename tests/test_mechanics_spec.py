"""Spec keys of issue 11: model.mechanics, model.temperature, E / nu / yield stress as laws of theta."""

import numpy as np
import pytest

from models.laws import LinearLaw, is_law
from orchestrator import SpecError
from orchestrator.spec import StudySpec, parse_study

HEAD = """
spec_version: 1
name: t
backend: radial
model:
  particle: {radius: 4.11 um}
  loading: {specific_current: 0.1 A/g}
"""


def study(model_lines: str):
    return parse_study(HEAD + model_lines, "yaml", "<t>")


def test_issue_syntax_parses_to_si():
    s = study(
        "  mechanics:\n    constitutive: elastoplastic\n    yield_stress: 1.75 GPa\n    stress_driven_diffusion: true\n"
        "  temperature: 310 K\n  material: {base: Si, youngs_modulus: {law: linear, low: 80 GPa, high: 12 GPa}}\n"
    )
    model = s.physics()
    assert model.mechanics.plastic and model.mechanics.stress_driven_diffusion
    assert model.yield_stress == 1.75e9 and model.temperature == 310.0
    e = model.material.youngs_modulus
    assert isinstance(e, LinearLaw) and e.unit == "Pa"
    np.testing.assert_allclose(model.material.youngs_modulus_at([0.0, 0.5, 1.0]), [80e9, 46e9, 12e9])
    assert not model.material.constant_elasticity
    assert e.comsol("c/c_max") == "(80000000000.0+((-68000000000.0)*(c/c_max)))"


def test_defaults_are_the_paper():
    model = study("  material: Si\n").physics()
    assert model.mechanics.constitutive == "elastic" and not model.mechanics.stress_driven_diffusion
    assert model.temperature == 298.15 and model.material.constant_elasticity
    assert model.material.youngs_modulus == 80e9  # a plain float where it is constant


def test_yield_stress_law_and_poisson_law():
    s = study(
        "  material: {base: Si, poisson_ratio: {law: linear, low: 0.22, high: 0.28}}\n"
        "  mechanics: {constitutive: elastoplastic, yield_stress: {law: linear, low: 1.75 GPa, high: 1 GPa}}\n"
    )
    model = s.physics()
    assert is_law(model.yield_stress) and model.yield_stress(1.0) == pytest.approx(1e9)
    assert model.material.poisson_ratio_at(1.0) == pytest.approx(0.28)


@pytest.mark.parametrize(
    "lines, fragments",
    [
        ("  material: Si\n  mechanics: {yield_stress: 1 GPa}\n", ["model.mechanics", "constitutive: elastoplastic"]),
        ("  material: Si\n  mechanics: {constitutive: elastoplastic}\n", ["yield stress", "model.mechanics.yield_stress"]),
        ("  material: Si\n  mechanics: {constitutive: plastic}\n", ["model.mechanics.constitutive"]),
        ("  material: Si\n  constitutive: elastoplastic\n", ["model.mechanics"]),
        ("  material: Si\n  temperature: 3 m\n", ["model.temperature", "temperature"]),
        ("  material: {base: Si, poisson_ratio: {law: linear, low: 0.2, high: 0.6}}\n", ["poisson_ratio", "less than 0.5"]),
        ("  material: {base: Si, youngs_modulus: {law: linear, low: 80 GPa, high: -1 GPa}}\n", ["youngs_modulus", "greater than 0"]),
        ("  material: {base: Si, youngs_modulus: {law: linear, low: 80 GPa, high: 12 m}}\n", ["youngs_modulus", "pressure"]),
        ("  material: {base: Si, youngs_modulus: {law: expression, expr: 'os.system(1)'}}\n", ["youngs_modulus"]),
        ("  material: Si\n  mechanics: {constitutive: elastoplastic, yield_stress: -1 GPa}\n", ["yield_stress", "greater than 0"]),
        ("  material: Si\n  mechanics: {hardening_modulus: 1 GPa}\n", ["hardening_modulus", "elastoplastic"]),
    ],
)
def test_mechanics_errors_name_field_and_fix(lines, fragments):
    with pytest.raises(SpecError) as info:
        study(lines)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_schema_has_descriptions_for_new_fields():
    schema = StudySpec.model_json_schema()
    mech = schema["$defs"]["MechanicsSpec"]["properties"]
    assert set(mech) == {"constitutive", "yield_stress", "hardening_modulus", "stress_driven_diffusion"}
    assert all(p.get("description") for p in mech.values())
    assert schema["$defs"]["ModelSpec"]["properties"]["temperature"]["description"]
