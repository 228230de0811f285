"""Random documents fed to the spec loader only ever raise SpecError."""

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator import SpecError
from orchestrator.spec import parse_study

KEYS = ["spec_version", "name", "backend", "model", "particle", "radius", "material", "loading", "specific_current",
        "stop", "dod", "outputs", "fields_at", "numerics", "mesh", "sweep", "grid", "zip", "law", "base", "diffusivity"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["4.11 um", "0.1 A/g", "Si", "1 h", "-3 m", "nan m", "1e999 um"]))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=5)),
    max_leaves=25,
)

VALID = {"spec_version": 1, "name": "f", "model": {"particle": {"radius": "4.11 um"}, "material": "Si",
                                                    "loading": {"specific_current": "0.1 A/g"}}}


def _check(text: str, fmt: str) -> None:
    try:
        study = parse_study(text, fmt, "<fuzz>")
    except SpecError:
        return
    study.runs()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents)
def test_random_json_documents(doc):
    _check(json.dumps(doc), "json")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "outputs", "numerics", "sweep", "backend"]), documents, max_size=3))
def test_mutations_of_a_valid_spec(patch):
    doc = {**VALID, **patch}
    try:
        _check(yaml.safe_dump(doc), "yaml")
    except SpecError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_yaml_text(text):
    _check(text, "yaml")
