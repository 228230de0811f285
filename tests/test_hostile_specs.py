"""Hostile and mistaken specs: each refused at once by the CLI, with an ``error:`` line, no traceback.

Every case goes through ``octant validate`` and/or ``octant run`` (in this process, under an alarm
that turns a hang into a failure) and must write nothing outside the given run store.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from orchestrator.cli import main

BASE = """\
spec_version: 1
name: hostile
backend: radial
model:
  particle: {{radius: {radius}}}
  material: {material}
  loading: {{specific_current: 0.2 A/g, stop: {{dod: 0.3}}}}
outputs: {{fields_at: {fields_at}}}
numerics: {numerics}
"""


def _spec(tmp_path: Path, text: str | None = None, *, name: str = "s.yaml", **fields: str) -> Path:
    values = {"radius": "1 um", "material": "Si", "fields_at": "{dod: [0.3]}", "numerics": "{}", **fields}
    path = tmp_path / name
    path.write_text(text if text is not None else BASE.format(**values))
    return path


class _Hang(Exception):
    pass


def _cli(argv: list[str], capsys, seconds: int = 20) -> tuple[int, str, str]:
    """Run the CLI; a call that takes longer than ``seconds`` is a hang (fails the test)."""

    def alarm(signum, frame):
        raise _Hang(f"octant {' '.join(argv)} did not answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(tmp_path: Path, spec: Path, capsys, *needles: str, command: str = "run") -> str:
    before = set(tmp_path.parent.iterdir())
    argv = [command, str(spec)] + (["--runs-dir", str(tmp_path / "runs")] if command == "run" else [])
    code, out, err = _cli(argv, capsys)
    assert code == 1, out + err
    assert err.startswith("error: "), err
    assert "Traceback" not in err + out
    for needle in needles:
        assert needle in err, err
    assert set(tmp_path.parent.iterdir()) == before  # nothing written next to the test folder
    assert not (tmp_path / "runs").exists()  # nor a run prepared
    return err


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"radius": "inf um"}, ["model.particle.radius", "not a finite number"]),
        ({"radius": ".nan"}, ["model.particle.radius", "not a finite number"]),
        ({"radius": "1e300"}, ["model.particle.radius", "outside the range"]),
        ({"radius": "9**9**9**9 um"}, ["model.particle.radius", "cannot read"]),
        ({"fields_at": "{times: [1 h, .inf]}"}, ["outputs.fields_at.times", "not a finite number"]),
        ({"fields_at": "{times: [.nan]}"}, ["outputs.fields_at.times", "not a finite number"]),
        ({"fields_at": "{dod: [.nan]}"}, ["outputs.fields_at.dod"]),
        ({"material": "{base: Si, partial_molar_volume: .inf}"}, ["partial_molar_volume", "not a finite number"]),
        ({"material": "{base: Si, partial_molar_volume: 1e300}"}, ["partial_molar_volume", "outside the range"]),
        ({"material": "{base: Si, youngs_modulus: 1e300}"}, ["youngs_modulus", "outside the range"]),
        ({"material": "{base: Si, density: -inf}"}, ["density"]),
        (
            {"material": "{base: Si, diffusivity: {law: constant, value: 2e-15 m^2/s, scale: .inf}}"},
            ["scale"],
        ),
    ],
)
def test_non_finite_and_huge_values_are_refused(tmp_path, capsys, fields, needles):
    assert_refused(tmp_path, _spec(tmp_path, **fields), capsys, *needles)


# ------------------------------------------------------------------------------ expressions
@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("9^9^9^9", "diffusivity"),
        ("10**10**10", "diffusivity"),
        ("1/0", "diffusivity"),
        ("+".join(["1e-17*theta"] * 1000), "diffusivity"),
        ("0", "must be finite and positive"),
        ("-2e-15", "must be finite and positive"),
        ("2e-15*log(theta)", "must be finite and positive"),  # -inf at theta = 0
        ("2e-15*sqrt(1 - theta)", "must be finite and positive"),  # NaN past theta = 1
        ("2e-15*exp(1000*theta)", "must be finite and positive"),  # overflows
    ],
)
def test_hostile_diffusivity_expressions_are_refused(tmp_path, capsys, expr, needle):
    material = f"{{base: Si, diffusivity: {{law: expression, expr: '{expr}'}}}}"
    err = assert_refused(tmp_path, _spec(tmp_path, material=material), capsys, needle)
    assert len(err) < 3000  # a message, not a dump of the expression tree


# ------------------------------------------------------------------------------ YAML
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize("command", ["validate", "run"])
def test_billion_laughs_is_refused(tmp_path, capsys, command):
    assert_refused(tmp_path, _spec(tmp_path, BILLION_LAUGHS), capsys, "aliases", command=command)


def test_billion_laughs_inside_a_sweep_is_refused(tmp_path, capsys):
    text = BASE.format(radius="1 um", material="Si", fields_at="{dod: [0.3]}", numerics="{}")
    text = "x: &x [1 um, 2 um, 3 um, 4 um, 5 um, 6 um, 7 um, 8 um, 9 um, 10 um]\n" + text
    text += "sweep: {grid: {model.particle.radius: [" + ",".join(["*x"] * 20000) + "]}}\n"
    assert_refused(tmp_path, _spec(tmp_path, text), capsys, "aliases")


def test_recursive_alias_is_refused(tmp_path, capsys):
    assert_refused(tmp_path, _spec(tmp_path, "a: &a [1, *a]\n"), capsys)


def test_yaml_syntax_errors_name_line_and_column(tmp_path, capsys):
    text = BASE.format(radius="1 um", material="Si", fields_at="{dod: [0.3]}", numerics="{}")
    text = text.replace("  material: Si\n", "  material: [Si\n")
    err = assert_refused(tmp_path, _spec(tmp_path, text), capsys, "not valid YAML", command="validate")
    assert "line 6, column" in err or "line 7, column" in err, err


def test_json_and_toml_syntax_errors_name_line_and_column(tmp_path, capsys):
    err = assert_refused(tmp_path, _spec(tmp_path, '{\n  "name": "x",\n  oops\n}', name="s.json"), capsys, command="validate")
    assert "line 3, column 3" in err
    err = assert_refused(tmp_path, _spec(tmp_path, 'name = "x"\nspec_version = = 1\n', name="s.toml"), capsys, command="validate")
    assert "line 2" in err


# ------------------------------------------------------------------------------ files
def test_special_and_huge_spec_files_are_refused(tmp_path, capsys):
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    assert_refused(tmp_path, zero, capsys, "not a regular file", command="validate")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert_refused(tmp_path, fifo, capsys, "not a regular file", command="validate")
    big = _spec(tmp_path, "# padding\n" * 200_000, name="big.yaml")
    assert_refused(tmp_path, big, capsys, "at most", command="validate")


# ------------------------------------------------------------------------------ sizes
def test_huge_sweeps_are_refused_before_expansion_with_an_override(tmp_path, capsys):
    values = "[" + ", ".join(f"{1 + i * 0.01} um" for i in range(10)) + "]"
    grid = ", ".join(f"model.{k}: {values}" for k in ["particle.radius"]) + ", numerics.mesh.radial_nodes: " + str(
        list(range(10, 10010))
    )
    text = BASE.format(radius="1 um", material="Si", fields_at="{dod: [0.3]}", numerics="{}") + f"sweep: {{grid: {{{grid}}}}}\n"
    spec = _spec(tmp_path, text)
    assert_refused(tmp_path, spec, capsys, "100000 runs", "--max-runs 100000")
    small = text.replace(str(list(range(10, 10010))), "[10, 11, 12]")
    spec = _spec(tmp_path, small)
    code, out, err = _cli(["validate", str(spec), "--max-runs", "29"], capsys)
    assert code == 1 and "--max-runs 30" in err
    code, out, err = _cli(["validate", str(spec), "--max-runs", "30"], capsys)
    assert code == 0 and "30 run(s)" in out


def test_huge_native_meshes_are_refused_before_meshing_with_an_override(tmp_path, capsys):
    spec = _spec(tmp_path, radius="4.11 um", numerics="{mesh: {element_size: 50 nm}}").read_text()
    spec = _spec(tmp_path, spec.replace("backend: radial", "backend: native"))
    err = assert_refused(tmp_path, spec, capsys, "tetrahedra", "--max-elements")
    assert "1,647,750" in err  # 6 n^3 with n = ceil(pi R / (4 h)) = 65
    code, out, err = _cli(["validate", str(spec), "--max-elements", "2000000"], capsys)
    assert code == 0 and "1,647,750 tetrahedra" in out


def test_thousands_of_field_frames_are_refused(tmp_path, capsys):
    times = "[" + ", ".join(f"{i + 1} s" for i in range(5000)) + "]"
    assert_refused(tmp_path, _spec(tmp_path, fields_at=f"{{times: {times}}}"), capsys, "5003 field frames", "more than 1000")


# ------------------------------------------------------------------------------ plausibility
def test_bare_numbers_outside_plausible_ranges_warn_loudly(tmp_path, capsys):
    spec = _spec(tmp_path, radius="4.11", material="{base: Si, youngs_modulus: 80}")
    code, out, err = _cli(["validate", str(spec)], capsys)
    assert code == 0
    assert "WARNING: model.particle.radius = 4.11 m" in err and "'4.11 um'" in err
    assert "WARNING: model.material.youngs_modulus = 80 Pa" in err
    code, out, err = _cli(["validate", str(_spec(tmp_path, radius="4.11 um"))], capsys)
    assert code == 0 and "WARNING" not in err
