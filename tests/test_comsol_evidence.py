"""octant's COMSOL model against what COMSOL ITSELF writes (not against octant's own table).

``tests/data/comsol/api-evidence.json`` indexes 1810 model files exported by COMSOL 6.3 (sources in
``tests/data/comsol/README.md``). The model file that ``octant export-java`` writes must use only
feature types and ``Type.property`` pairs that occur in those files; the one documented exception is
``Data.looplevelinput`` (cited in :mod:`solvers.comsol.api_table`). The API table of the recording
double must cite a source for every entry, and entries that claim the index must be in it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from solvers.comsol import api_table
from solvers.comsol.evidence import check_java, load_index, scan
from solvers.comsol.evidence import main as evidence_main

HERE = Path(__file__).resolve().parent
INDEX_PATH = HERE / "data" / "comsol" / "api-evidence.json"
INDEX = load_index(INDEX_PATH)
#: Pairs that no COMSOL-written file sets, each confirmed by the documentation cited in the table.
DOCUMENTED = {"Data.looplevelinput"}

PLAIN_SPEC = """
spec_version: 1
name: plain
backend: comsol
model:
  particle: {radius: 4.11 um}
  material: Si
  loading: {specific_current: 0.1 A/g, stop: {dod: 1.0}}
outputs:
  fields_at: {dod: [0.25, 0.5, 1.0]}
"""


def export(tmp_path: Path, spec_text: str, name: str = "OctantModel") -> str:
    """``octant export-java`` of a spec text; the model file's source."""
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(spec_text)
    out = tmp_path / f"{name}.java"
    assert main(["export-java", str(spec), "-o", str(out), "--results-dir", str(tmp_path / "res")]) == 0
    return out.read_text()


def assert_written_by_comsol(text: str) -> tuple[str, ...]:
    report = check_java(INDEX, text)
    unexplained = [m for m in report.missing if m not in DOCUMENTED]
    assert not unexplained, f"no COMSOL-written file uses: {unexplained}"
    return report.pairs


def test_plain_study_uses_only_what_comsol_writes(tmp_path):
    pairs = assert_written_by_comsol(export(tmp_path, PLAIN_SPEC))
    # the check saw the whole model (section comments do not hide statements)
    for pair in ("ExternalStrain.StrainInput", "ExternalStrain.eext", "FluxBoundary.J0", "Sphere.r", "Block.size",
                 "Transient.tlist", "Data.expr", "Box.condition", "prop:StructuralTransientBehavior/StructuralTransientBehavior"):
        assert any(p.endswith(pair) for p in pairs), pair
    assert len(pairs) >= 25


INCLUSIONS_SPEC = """
spec_version: 1
name: inclusions-plastic
backend: comsol
model:
  particle:
    radius: 4.11 um
    inclusions:
      - {material: Sn, shape: sphere, center: [1.5 um, 1.5 um, 1.5 um], radius: 0.5 um}
      - {material: Sb, shape: bar, start: [0.6 um, 2.2 um, 0.7 um], end: [2.6 um, 2.2 um, 0.7 um], radius: 0.3 um}
  material: {base: Si, youngs_modulus: {law: linear, low: 80 GPa, high: 12 GPa}, poisson_ratio: {law: linear, low: 0.22, high: 0.24}}
  mechanics: {constitutive: elastoplastic, yield_stress: {law: linear, low: 1.75 GPa, high: 1.0 GPa}, hardening_modulus: 2 GPa,
              stress_driven_diffusion: true}
  temperature: 310 K
  loading: {specific_current: 0.1 A/g, stop: {dod: 1.0}}
outputs:
  fields_at: {dod: [0.5, 1.0]}
"""


def test_inclusions_plasticity_laws_and_coupling_use_only_what_comsol_writes(tmp_path):
    """The study the options add (Sn sphere + Sb bar, elastoplastic with hardening, E/nu/sigma_Y laws of
    theta, stress-driven diffusion), through ``octant export-java`` like a user's."""
    text = export(tmp_path, INCLUSIONS_SPEC, "Inclusions")
    pairs = assert_written_by_comsol(text)
    for pair in ("Sphere.pos", "Cylinder.axis", "Cylinder.axistype", "Union.intbnd", "Adjacent.exterior", "Difference.subtract",
                 "Plasticity.sigmags", "Plasticity.Et", "DilutedSpecies.prop:TransportMechanism/Migration"):
        assert pair in pairs, pair
    assert '.set("E_loc", "((80000000000.0+((-68000000000.0)*(c/c_max))))*1[Pa]"' in text  # the laws of theta
    assert '.set("sY_loc", "((1750000000.0+((-750000000.0)*(c/c_max))))*1[Pa]"' in text
    assert '.set("V", "Omega_loc*solid.pm/F_const")' in text and '"T_K", "310.0[K]"' in text
    assert len(pairs) >= 50


@pytest.mark.parametrize("run", ["2", "3"])
def test_generated_paper_inclusions_use_only_what_comsol_writes(tmp_path, run):
    """studies/paper-figS27.yaml: generated Sn/Sb bars (run 2) and spheres (run 3) as COMSOL domains."""
    out = tmp_path / "Paper.java"
    spec = HERE.parent / "studies" / "paper-figS27.yaml"
    assert main(["export-java", str(spec), "--run", run, "-o", str(out), "--results-dir", str(tmp_path)]) == 0
    text = out.read_text()
    assert ('"Cylinder")' if run == "2" else '"inc2", "Sphere")') in text and "geom1_inc6_dom" in text
    assert_written_by_comsol(text)


def test_the_check_can_fail():
    """A form that COMSOL never writes (the old VolumetricStrain/dV swelling strain) is reported."""
    text = (
        'model.component("comp1").physics("solid").feature("lemm1").create("exs1", "ExternalStrain", 3);\n'
        '    // a section title\n'
        '    model.component("comp1").physics("solid").feature("lemm1").feature("exs1").set("dV", "Omega*(c-c_ref)");\n'
        'model.component("comp1").physics("tds").create("x1", "NoSuchFeature", 2);\n'
    )
    assert check_java(INDEX, text).missing == ("ExternalStrain.dV", "type NoSuchFeature")


def test_scan_attributes_properties_through_create_lines():
    counts, props = scan(
        'model.component("comp1").geom("geom1").create("sph1", "Sphere");\n'
        'model.component("comp1").geom("geom1").feature("sph1").set("r", "R");\n'
        'model.component("comp1").physics("solid").prop("StructuralTransientBehavior").set("StructuralTransientBehavior", "Quasistatic");\n'
        'model.component().create("comp1", true);\n'
        'model.component("comp1").physics().create("solid", "SolidMechanics", "geom1");\n'
        'model.component("comp1").physics("solid").prop("StructuralTransientBehavior").set("StructuralTransientBehavior", "Quasistatic");\n'
    )
    assert counts == {"Sphere": 1, "SolidMechanics": 1}
    assert props == {"Sphere": {"r"}, "SolidMechanics": {"prop:StructuralTransientBehavior/StructuralTransientBehavior"}}


def test_command_line_check(tmp_path, capsys):
    java = tmp_path / "M.java"
    java.write_text(export(tmp_path, PLAIN_SPEC))
    assert evidence_main(["check", str(INDEX_PATH), str(java)]) == 1  # Data.looplevelinput is reported
    out = capsys.readouterr().out
    assert "not in COMSOL-written files: Data.looplevelinput" in out and "1 without evidence" in out


@pytest.mark.parametrize("family", sorted(api_table.FAMILIES))
def test_every_table_entry_cites_its_source(family):
    """The recording double's table is backed by COMSOL-written files or cited documentation."""
    for name, ftype in api_table.FAMILIES[family].items():
        for prop in ftype.properties:
            if ftype.source == api_table.IDX and prop not in ftype.cited:
                assert name in INDEX, f"{family}.{name} claims the index but COMSOL never creates it"
                assert prop in INDEX[name]["properties"], f"{name}.{prop} claims the index but no COMSOL-written file sets it"
            else:
                assert ftype.cited.get(prop), f"{family}.{name}.{prop}: no citation"
        if ftype.source == api_table.IDX:
            assert name in INDEX or family == "physics", f"{family}.{name}: not in the index"
        else:
            assert ftype.source.strip(), f"{family}.{name}: no source"
    for typ, groups in api_table.PHYSICS_PROPS.items():
        for group, names in groups.items():
            for prop in names:
                assert f"prop:{group}/{prop}" in INDEX[typ]["properties"], f"{typ}.prop({group}).{prop}"


def test_every_node_kind_of_the_table_cites_its_source():
    assert set(api_table.NODE_SOURCES) == set(api_table.NODES)
    assert all(text.strip() for text in api_table.NODE_SOURCES.values())
