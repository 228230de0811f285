"""First-hour behaviour: run ids without free text (and migrate-ids), short prefixes, show, progress,
plausibility warnings, surfaced store errors, colour-bar tick formats."""

from __future__ import annotations

import io
import json
import logging

import numpy as np
import pytest
from run_factory import analytic_study

from orchestrator.cli import main
from orchestrator.cli.migrate import migrate_store
from orchestrator.errors import RunNotFound
from orchestrator.plausibility import ELASTIC_STRESS_BOUND, run_warnings
from orchestrator.progress import ProgressPrinter
from orchestrator.render import color_limits, nearly_uniform, tick_format
from orchestrator.runspec import RunSpec, legacy_run_id, short_hash
from orchestrator.spec import study_from_dict
from orchestrator.store import RunStore


def _study(**changes) -> dict:
    base = {
        "spec_version": 1,
        "name": "ids",
        "description": "first wording",
        "backend": "radial",
        "model": {
            "particle": {"radius": "4.11 um"},
            "material": {"base": "Si", "name": "Si (mine)", "sources": {"capacity": "a book"}},
            "loading": {"specific_current": "0.1 A/g", "stop": {"dod": 0.5}},
        },
        "outputs": {"fields_at": {"dod": [0.5]}},
    }
    for path, value in changes.items():
        node = base
        *parents, leaf = path.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return base


def _run(data: dict) -> RunSpec:
    return study_from_dict(data, "test").runs()[0]


def test_run_ids_ignore_free_text_but_not_physics():
    first = _run(_study())
    for prose in (
        {"description": "other words"},
        {"model.material.name": "renamed"},
        {"model.material.sources": {"capacity": "another book"}},
    ):
        again = _run(_study(**prose))
        assert (again.run_id, again.physics_id) == (first.run_id, first.physics_id), prose
    assert _run(_study(**{"model.particle.radius": "4.2 um"})).run_id != first.run_id
    assert _run(_study(name="ids2")).run_id != first.run_id  # the study is the store folder
    assert legacy_run_id(first.canonical()) == short_hash(first.canonical()) != first.run_id


def test_migrate_ids_rekeys_an_old_store(tmp_path, capsys):
    store = RunStore(tmp_path)
    spec = _run(_study())
    old_id = legacy_run_id(spec.canonical())
    run = store.prepare(spec)
    old_dir = run.path.rename(run.path.with_name(old_id))  # as an older octant stored it
    meta = json.loads((old_dir / "run.json").read_text())
    (old_dir / "run.json").write_text(json.dumps({**meta, "run_id": old_id}))
    (old_dir / "scalars.csv").write_text("time_s,dod\n0,0\n")
    spec_file = tmp_path / "ids.json"
    spec_file.write_text(json.dumps(_study()))
    assert main(["run", str(spec_file), "--runs-dir", str(tmp_path)]) == 1  # refuses to rerun everything
    assert f"octant migrate-ids ids --runs-dir {tmp_path}" in capsys.readouterr().err
    assert not (tmp_path / "ids" / spec.run_id).exists()
    actions = migrate_store(store, "ids")
    assert [(a.name, b.name if b else None) for a, b, _ in actions] == [(old_id, spec.run_id)]
    new = store.find(spec.run_id)
    assert (new.path / "scalars.csv").exists() and json.loads((new.path / "run.json").read_text())["run_id"] == spec.run_id
    assert new.spec.run_id == spec.run_id and migrate_store(store) == []


def test_short_prefix_says_four_characters(tmp_path, capsys):
    runs = analytic_study(tmp_path, name="pre", dods=(0.5,), divisions=2)
    with pytest.raises(RunNotFound, match="at least 4 characters"):
        RunStore(tmp_path).find(runs[0].run_id[:3])
    assert RunStore(tmp_path).find(runs[0].run_id[:4]).path == runs[0].path
    assert main(["show", runs[0].run_id[:3], "--runs-dir", str(tmp_path)]) == 1
    assert "at least 4 characters" in capsys.readouterr().err


def test_show_prints_no_none_for_an_imported_run(tmp_path, capsys):
    run = analytic_study(tmp_path, name="imp", dods=(0.5,), divisions=2)[0]
    run.write_provenance({"backend": "comsol", "imported_from": "fields.txt"})  # no wall time, no solver stats
    assert main(["show", str(run.path)]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and "backend: comsol" in out and "wall time" not in out


def test_plausibility_warnings(tmp_path, capsys):
    run = analytic_study(tmp_path, name="warn", dods=(0.5,), divisions=2)[0]
    assert run_warnings(run) == []
    lines = (run.path / "scalars.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = dict(zip(header, lines[-1].split(",")))
    row.update(theta_surface_max="1.05", von_mises_max=repr(2 * ELASTIC_STRESS_BOUND))
    (run.path / "scalars.csv").write_text("\n".join([*lines, ",".join(row[h] for h in header)]) + "\n")
    warnings = run_warnings(run)
    assert any("theta reached 1.0500 > 1.01" in w for w in warnings)
    assert any("von Mises stress reached 60 GPa > 30 GPa" in w for w in warnings)
    assert main(["show", str(run.path)]) == 0
    assert capsys.readouterr().out.count("WARNING:") == 2


def test_malformed_scalars_lines_are_reported(tmp_path, caplog):
    run = analytic_study(tmp_path, name="bad", dods=(0.5,), divisions=2)[0]
    path = run.path / "scalars.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], "garbage", *lines[2:], "1,2"]) + "\n")
    with caplog.at_level(logging.WARNING, logger="orchestrator.store"):
        assert len(run.scalars()["time_s"]) == len(lines) - 1
    assert "1 malformed line(s) skipped (line 3)" in caplog.text
    caplog.clear()
    path.write_text("\n".join([*lines, "1,2"]) + "\n")  # only a truncated last line: normal, quiet
    with caplog.at_level(logging.WARNING, logger="orchestrator.store"):
        run.scalars()
    assert caplog.text == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_and_lines_in_logs(caplog, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    stream = _Terminal()
    bar = ProgressPrinter("study/run", 100.0, dod_target=0.5, stream=stream)
    for t in np.linspace(0, 100, 11):
        bar(t, t / 200, 1.0)
    bar.close()
    text = stream.getvalue()
    assert "DOD 0.5000" in text and "100%" in text and "ETA" in text
    with caplog.at_level(logging.INFO, logger="orchestrator.progress"):
        plain = ProgressPrinter("study/run", 100.0, dod_target=0.5, stream=io.StringIO(), every_s=3600)
        for t in np.linspace(0, 100, 11):
            plain(t, t / 200, 1.0)
        plain.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "ETA" in lines[0] and lines[-1].startswith("study/run: 100%")


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.499, 0.501, ["0.4990", "0.4995", "0.5000", "0.5005", "0.5010"]),
        (0.0, 1.0, ["0.00", "0.25", "0.50", "0.75", "1.00"]),
        (0.0, 21.9, ["0.0", "5.5", "10.9", "16.4", "21.9"]),
        (0.0, 2e-4, ["0.0e+00", "5.0e-05", "1.0e-04", "1.5e-04", "2.0e-04"]),
    ],
)
def test_tick_format_distinguishes_every_tick(lo, hi, ticks):
    fmt = tick_format(lo, hi, 5)
    assert [fmt % t for t in np.linspace(lo, hi, 5)] == ticks


def test_nearly_uniform_fields_are_widened():
    assert nearly_uniform((0.4999, 0.5001)) and not nearly_uniform((0.4, 0.5))
    lo, hi = color_limits("theta", (0.4999, 0.5001))
    assert lo == pytest.approx(0.4975) and hi == pytest.approx(0.5025)
    assert color_limits("theta", (0.2, 0.5)) == (0.2, 0.5)


def test_hand_edited_spec_is_refused_but_an_older_id_scheme_is_read(tmp_path, caplog):
    from orchestrator.errors import SpecError
    from orchestrator.store import Run

    store = RunStore(tmp_path)
    spec = _run(_study())
    run = store.prepare(spec)
    text = (run.path / "spec.yaml").read_text()
    # a run stored by an octant whose ids differed: same text and checksum, another directory name
    older = run.path.rename(run.path.with_name("0123456789ab"))
    meta = json.loads((older / "run.json").read_text())
    (older / "run.json").write_text(json.dumps({**meta, "run_id": "0123456789ab"}))
    with caplog.at_level(logging.WARNING, logger="orchestrator.runspec"):
        assert Run(older).spec.run_id == "0123456789ab"
    assert "octant migrate-ids" in caplog.text
    # the same, edited by hand: refused
    (older / "spec.yaml").write_text(text.replace("4.11e-06", "4.2e-06"))
    with pytest.raises(SpecError, match="edited by hand"):
        Run(older).spec
    assert [note for _, _, note in migrate_store(store)] == ["spec.yaml was edited by hand (checksum differs): left alone"]
