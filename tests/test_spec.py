"""Study spec validation: units, errors that name the field, run ids, loading formats."""

import json
from pathlib import Path

import pytest
import yaml

from orchestrator import SpecError, load_study
from orchestrator.spec import parse_study

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted((ROOT / "studies").glob("*.*"))

BASE = """
spec_version: 1
name: t
backend: radial
model:
  particle: {radius: 4.11 um}
  material: Si
  loading: {specific_current: 0.1 A/g}
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", STUDIES, ids=[p.name for p in STUDIES])
def test_example_studies_validate(path):
    study = load_study(path)
    runs = study.runs()
    assert runs and len({r.run_id for r in runs}) == len(runs)


def test_units_are_converted_to_si(tmp_path):
    study = load_study(write(tmp_path, BASE))
    model = study.physics()
    assert model.radius == pytest.approx(4.11e-6)
    assert model.specific_current == pytest.approx(100.0)
    assert study.model.material.capacity == pytest.approx(3579 * 3.6 * 1000)
    assert study.model.material.density == pytest.approx(2330.0)


def assert_spec_error(tmp_path, text, *fragments):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_wrong_dimension_names_field_value_and_expected(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("4.11 um", "4.11 s"), "model.particle.radius", "'4.11 s'", "length")


def test_unknown_key_suggests_close_match(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("particle: {radius", "particle: {raduis"), "model.particle.raduis", "unknown key", "'radius'")


def test_negative_radius(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("4.11 um", "-4.11 um"), "model.particle.radius", "greater than 0")


def test_poisson_ratio_out_of_range(tmp_path):
    text = BASE.replace("material: Si", "material: {base: Si, poisson_ratio: 0.5}")
    assert_spec_error(tmp_path, text, "model.material.poisson_ratio", "0.5", "less than 0.5")


def test_unknown_preset(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("material: Si", "material: Sii"), "model.material", "'Sii'", "known presets", "Did you mean 'Si'")


def test_unparseable_unit(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("0.1 A/g", "0.1 bananas"), "model.loading.specific_current", "bananas")


def test_renamed_key_is_explained(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("spec_version", "version"), "spec_version")


def test_inclusions_belong_to_the_particle(tmp_path):
    assert_spec_error(tmp_path, BASE + "  inclusions: [{shape: sphere}]\n", "inclusions", "model.particle.inclusions")


def test_bad_yaml(tmp_path):
    assert_spec_error(tmp_path, "name: [unclosed", "not valid YAML")


def test_bad_study_name(tmp_path):
    assert_spec_error(tmp_path, BASE.replace("name: t", "name: ../escape"), "name")


def test_ids_do_not_depend_on_units_or_key_order(tmp_path):
    a = load_study(write(tmp_path, BASE, "a.yaml")).runs()[0]
    data = yaml.safe_load(BASE)
    data["model"]["particle"]["radius"] = 4.11e-6
    data["model"]["loading"]["specific_current"] = "100 mA/g"
    data = {k: data[k] for k in reversed(list(data))}
    (tmp_path / "b.json").write_text(json.dumps(data))
    b = load_study(tmp_path / "b.json").runs()[0]
    assert a.run_id == b.run_id
    assert a.physics_id == b.physics_id


def test_physics_id_ignores_backend_and_numerics(tmp_path):
    a = load_study(write(tmp_path, BASE, "a.yaml")).runs()[0]
    b = load_study(write(tmp_path, BASE.replace("backend: radial", "backend: native"), "b.yaml")).runs()[0]
    assert a.run_id != b.run_id
    assert a.physics_id == b.physics_id


def test_different_physics_different_id(tmp_path):
    a = load_study(write(tmp_path, BASE, "a.yaml")).runs()[0]
    b = load_study(write(tmp_path, BASE.replace("4.11 um", "4.12 um"), "b.yaml")).runs()[0]
    assert a.run_id != b.run_id and a.physics_id != b.physics_id


def test_toml_and_json_load(tmp_path):
    study = load_study(ROOT / "studies" / "custom-material.toml")
    assert study.model.material.youngs_modulus == pytest.approx(90e9)
    assert study.model.material.diffusivity.law == "exponential"
    j = tmp_path / "s.json"
    j.write_text(json.dumps(yaml.safe_load(BASE)))
    assert load_study(j).name == "t"


def test_sweep_grid_and_zip(tmp_path):
    text = BASE + """
sweep:
  grid: {model.material: [Si, Si8.5Sn0.5Sb], model.particle.radius: [1 um, 2 um]}
  zip: {model.loading.specific_current: [0.1 A/g, 0.2 A/g, 0.3 A/g]}
"""
    runs = load_study(write(tmp_path, text)).runs()
    assert len(runs) == 12
    radii = sorted({r.model().radius for r in runs})
    assert radii == pytest.approx([1e-6, 2e-6])
    assert {r.spec.model.material.name for r in runs} == {"Si", "Si8.5Sn0.5Sb"}


def test_sweep_unknown_path(tmp_path):
    text = BASE + "sweep:\n  grid: {model.particle.raduis: [1 um]}\n"
    with pytest.raises(SpecError, match="raduis.*Did you mean 'model.particle.radius'"):
        load_study(write(tmp_path, text)).runs()


def test_sweep_value_with_wrong_dimension_names_the_point(tmp_path):
    text = BASE + "sweep:\n  grid: {model.particle.radius: [1 um, 2 h]}\n"
    with pytest.raises(SpecError, match=r"model.particle.radius.*'2 h'.*length"):
        load_study(write(tmp_path, text)).runs()


def test_inline_law_with_units(tmp_path):
    text = BASE.replace(
        "material: Si",
        "material: {base: Si, diffusivity: {law: step, low: 2e-17 m^2/s, high: 2e-15 m^2/s, theta_f: 0.5, width: 0.05}}",
    )
    model = load_study(write(tmp_path, text)).physics()
    assert model.material.diffusivity(1.0) == pytest.approx(2e-15, rel=1e-6)


def test_expression_law_is_checked(tmp_path):
    text = BASE.replace("material: Si", "material: {base: Si, diffusivity: {law: expression, expr: \"__import__('os')\"}}")
    assert_spec_error(tmp_path, text, "model.material.diffusivity.expr")


def test_spec_is_frozen(tmp_path):
    study = load_study(write(tmp_path, BASE))
    with pytest.raises(Exception):
        study.name = "other"


def test_parse_rejects_non_mapping():
    with pytest.raises(SpecError, match="mapping"):
        parse_study("- 1\n- 2\n", "yaml")
