"""Inclusions (models.inclusions, the spec's model.particle.inclusions) and stops/outputs by capacity."""

from __future__ import annotations

import math

import pytest

from models import BarInclusion, InclusionError, LithiationModel, SphereInclusion, StopCondition, generate_inclusions, get_preset
from models.errors import ModelError
from models.inclusions import check_inclusions, octant_volume
from orchestrator.errors import SpecError
from orchestrator.spec import parse_study
from solvers import radial
from solvers.api import MemorySink, Numerics, OutputRequest
from solvers.errors import SolverError

UM = 1e-6
R = 4.11 * UM
SN, SB, SI = get_preset("Sn"), get_preset("Sb"), get_preset("Si")

SPEC = """
spec_version: 1
name: inc
backend: native
model:
  particle:
    radius: 4.11 um
    inclusions:
      - {material: Sn, shape: sphere, center: [1.5 um, 1.5 um, 1.5 um], radius: 0.5 um}
      - {material: Sb, shape: bar, start: [0.6 um, 2.2 um, 0.7 um], end: [2.6 um, 2.2 um, 0.7 um], radius: 0.3 um}
  material: Si
  loading: {specific_current: 0.1 A/g, stop: {capacity: 1 Ah/g}}
outputs:
  fields_at: {capacity: [0.5 Ah/g, 1 Ah/g], dod: []}
"""


def test_spec_syntax_of_the_issue() -> None:
    study = parse_study(SPEC, "yaml")
    model = study.physics()
    sphere, bar = model.inclusions
    assert isinstance(sphere, SphereInclusion) and sphere.material.name == "Sn"
    assert sphere.center == pytest.approx((1.5 * UM,) * 3) and sphere.radius == pytest.approx(0.5 * UM)
    assert isinstance(bar, BarInclusion) and bar.material.name == "Sb" and bar.length == pytest.approx(2 * UM)
    assert [m.name for m in model.domain_materials] == ["Si", "Sn", "Sb"]
    assert model.inclusion_domains == (1, 2)
    assert model.stop == StopCondition("capacity", 3.6e6)
    times = study.outputs.to_request().target_times(model)
    assert times.tolist() == pytest.approx([0.5 * 3.6e6 / 100.0, 3.6e6 / 100.0])
    assert model.end_time() == pytest.approx(36000.0)  # 1 Ah/g at 0.1 A/g is 10 h


def test_inline_material_table_and_units() -> None:
    text = SPEC.replace("{material: Sn, shape: sphere, center: [1.5 um, 1.5 um, 1.5 um], radius: 0.5 um}",
                        "{material: {base: Sn, youngs_modulus: 30 GPa}, shape: sphere, center: [1.5e-6, 1500 nm, 0.0015 mm], radius: 500 nm}")
    model = parse_study(text, "yaml").physics()
    assert model.inclusions[0].material.youngs_modulus == 30e9
    assert model.inclusions[0].center == pytest.approx((1.5 * UM,) * 3)


def test_capacity_and_volumes_with_inclusions() -> None:
    model = parse_study(SPEC, "yaml").physics()
    v = model.domain_volumes()
    assert sum(v) == pytest.approx(math.pi * R**3 / 6)
    assert v[1] == pytest.approx(4 / 3 * math.pi * (0.5 * UM) ** 3) and v[2] == pytest.approx(math.pi * (0.3 * UM) ** 2 * 2 * UM)
    n = sum(m.c_max * vol for m, vol in zip(model.domain_materials, v))
    mass = sum(m.density * vol for m, vol in zip(model.domain_materials, v))
    assert model.particle_capacity == pytest.approx(96485.33212 * n / mass)
    assert model.full_lithiation_time == pytest.approx(model.particle_capacity / 100.0)
    # the flux J A inserts exactly the total capacity at t_full
    area = math.pi * R**2 / 2
    assert model.surface_flux() * area * model.full_lithiation_time == pytest.approx(n)
    with pytest.raises(ModelError, match="at most"):
        LithiationModel(R, SI, 100.0, stop=StopCondition("capacity", 5 * 3.6e6)).end_time()


def test_sphere_and_bar_cut_by_symmetry_planes_are_allowed() -> None:
    centred = SphereInclusion(SN, (0.0, 0.0, 0.0), 1 * UM)
    on_plane = SphereInclusion(SN, (0.0, 2 * UM, 2 * UM), 0.5 * UM)
    in_plane_bar = BarInclusion(SB, (0.5 * UM, 3 * UM, 0.0), (2.0 * UM, 3 * UM, 0.0), 0.3 * UM)
    check_inclusions([centred, on_plane, in_plane_bar], R)
    assert octant_volume(centred, R) == pytest.approx(centred.full_volume / 8)
    assert octant_volume(on_plane, R) == pytest.approx(on_plane.full_volume / 2)
    assert octant_volume(in_plane_bar, R) == pytest.approx(in_plane_bar.full_volume / 2)


@pytest.mark.parametrize(
    "inclusion, match",
    [
        (SphereInclusion(SN, (3.5 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM), "outside the particle"),
        (SphereInclusion(SN, (0.2 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM), "crosses the symmetry plane"),
        (BarInclusion(SB, (0.1 * UM, 1 * UM, 1 * UM), (2 * UM, 1 * UM, 1 * UM), 0.3 * UM), None),
        (BarInclusion(SB, (1 * UM, 1 * UM, 0.1 * UM), (2 * UM, 1 * UM, 0.1 * UM), 0.3 * UM), "crosses the symmetry plane"),
        (BarInclusion(SB, (0.5 * UM, 0.5 * UM, 0.5 * UM), (3.0 * UM, 3.0 * UM, 0.5 * UM), 0.3 * UM), "outside the particle"),
    ],
)
def test_inclusions_outside_or_crossing_planes(inclusion, match) -> None:
    if match is None:
        check_inclusions([inclusion], R)  # a bar along x that starts 0.1 um from x = 0 is inside
        return
    with pytest.raises(InclusionError, match=match):
        check_inclusions([inclusion], R)


def test_overlaps_are_clear_errors() -> None:
    a = SphereInclusion(SN, (1.5 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM)
    b = SphereInclusion(SB, (2.4 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM)
    bar = BarInclusion(SB, (0.6 * UM, 1.5 * UM, 2.1 * UM), (2.6 * UM, 1.5 * UM, 2.1 * UM), 0.3 * UM)
    with pytest.raises(InclusionError, match=r"inclusions\[0\].*inclusions\[1\].*overlap"):
        check_inclusions([a, b], R)
    with pytest.raises(InclusionError, match="overlap"):
        check_inclusions([a, bar], R)
    check_inclusions([a, SphereInclusion(SB, (2.6 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM)], R)
    with pytest.raises(SpecError, match=r"model.particle.inclusions\[0\].*overlap"):
        parse_study(SPEC.replace("center: [1.5 um, 1.5 um, 1.5 um]", "center: [1.5 um, 2.2 um, 0.8 um]"), "yaml")


def test_generator_is_seeded_non_overlapping_and_hits_the_fractions() -> None:
    fractions = [(SN, 0.063), (SB, 0.141)]
    placed = generate_inclusions(fractions, radius=R, shape="sphere", size=0.5 * UM, seed=3)
    assert placed == generate_inclusions(fractions, radius=R, shape="sphere", size=0.5 * UM, seed=3)
    assert placed != generate_inclusions(fractions, radius=R, shape="sphere", size=0.5 * UM, seed=4)
    check_inclusions(placed, R)
    model = LithiationModel(R, SI, 100.0, inclusions=placed)
    v = model.domain_volumes()
    assert v[1] / sum(v) == pytest.approx(0.063, abs=0.01) and v[2] / sum(v) == pytest.approx(0.141, abs=0.01)
    bars = generate_inclusions([(SB, 0.05)], radius=R, shape="bar", size=0.25 * UM, seed=1)
    assert all(isinstance(b, BarInclusion) for b in bars)
    check_inclusions(bars, R)
    with pytest.raises(InclusionError, match="could not place"):
        generate_inclusions([(SN, 0.6)], radius=R, size=0.8 * UM, seed=0, max_tries=200)


def test_generator_spec_form_expands_into_an_explicit_list() -> None:
    text = SPEC.replace("""    inclusions:
      - {material: Sn, shape: sphere, center: [1.5 um, 1.5 um, 1.5 um], radius: 0.5 um}
      - {material: Sb, shape: bar, start: [0.6 um, 2.2 um, 0.7 um], end: [2.6 um, 2.2 um, 0.7 um], radius: 0.3 um}""",
                        "    inclusions: {generate: {fractions: {Sn: 0.063, Sb: 0.141}, shape: sphere, size: 0.5 um, seed: 3}}")
    study = parse_study(text, "yaml")
    assert len(study.model.particle.inclusions) > 5
    again = study.model_dump(mode="json")["model"]["particle"]["inclusions"]
    assert isinstance(again, list) and again[0]["shape"] == "sphere"
    with pytest.raises(SpecError, match="unknown material preset 'Ge'"):
        parse_study(text.replace("Sn: 0.063", "Ge: 0.063"), "yaml")


def test_inclusions_are_sweepable_including_none() -> None:
    text = SPEC + """
sweep:
  grid:
    model.particle.inclusions:
      - []
      - [{material: Sn, shape: sphere, center: [0, 0, 0], radius: 1 um}]
"""
    runs = parse_study(text, "yaml").runs()
    assert len(runs) == 2
    counts = sorted(len(r.spec.physics().inclusions) for r in runs)
    assert counts == [0, 1]


def test_radial_refuses_inclusions() -> None:
    with pytest.raises(SpecError, match="radial"):
        parse_study(SPEC.replace("backend: native", "backend: radial"), "yaml")
    model = parse_study(SPEC, "yaml").physics()
    with pytest.raises(SolverError, match="radial backend .* inclusion"):
        radial.solve(model, OutputRequest(), Numerics(), MemorySink())


def test_radial_stops_and_writes_fields_by_capacity() -> None:
    model = LithiationModel(R, SI, 100.0, stop=StopCondition("capacity", 3.6e6))
    sink = MemorySink()
    radial.solve(model, OutputRequest(capacities=(1.8e6, 3.6e6)), Numerics(), sink)
    assert sink.column("time_s")[-1] == pytest.approx(36000.0)
    assert [f.time for f in sink.frames] == pytest.approx([18000.0, 36000.0])
    assert sink.frames[-1].dod == pytest.approx(1000 / 3579, rel=1e-6)


def test_paper_studies_validate_with_the_papers_cases() -> None:
    from pathlib import Path

    from orchestrator.spec import load_study

    studies = Path(__file__).resolve().parents[1] / "studies"
    fig5 = load_study(studies / "paper-fig5.yaml").runs()
    assert sorted(r.spec.physics().material.name for r in fig5) == ["Si", "Si8.5Sn0.5Sb"]
    s25 = [r.spec.physics() for r in load_study(studies / "paper-figS25.yaml").runs()]
    assert all(m.stop == StopCondition("capacity", 3.6e6) for m in s25)
    s27 = [r.spec.physics() for r in load_study(studies / "paper-figS27.yaml").runs()]
    shapes = [sorted({inc.shape for inc in m.inclusions}) for m in s27]
    assert [m.material.name for m in s27] == ["Si", "Si8.5Sn0.5Sb", "Si", "Si"]
    assert shapes == [[], [], ["bar"], ["sphere"]]
    for m in s27[2:]:
        assert {mat.name for mat in m.domain_materials} == {"Si", "Sn", "Sb"}
