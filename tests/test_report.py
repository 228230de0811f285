"""orchestrator.report: a self-contained HTML page per study; CLI ``report``."""

from __future__ import annotations

import base64
import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pytest.importorskip("pyvista")
pytest.importorskip("matplotlib")

from run_factory import analytic_study, quick_study_spec, shared_real_study

from orchestrator.cli import main
from orchestrator.errors import RunNotFound
from orchestrator.report import build_report
from orchestrator.store import RunStore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("link", "script") or (tag == "a" and not attrs.get("href", "#").startswith("#")):
            self.links.append(attrs.get("href") or attrs.get("src") or "")
        if "id" in attrs:
            self.ids.add(attrs["id"])


def _parse(path: Path) -> tuple[str, _Collector]:
    """(unescaped page text, the collected tags)."""
    text = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    return html.unescape(text), parser


@pytest.fixture(scope="module")
def real_study():
    return shared_real_study("radial")


@pytest.fixture(scope="module")
def native_study():
    return shared_real_study("native")


def test_report_of_a_real_quick_study(native_study, tmp_path):
    root, runs = native_study
    out = build_report("quick-native", runs_dir=root, output=tmp_path / "report.html")
    text, page = _parse(out)
    assert "quick-native" in text and "Si versus Si8.5Sn0.5Sb, quick test study" in text
    assert "t_full = 35.79 h" in text  # the model summary of each run
    for run in runs:
        assert run.run_id in text
        assert f"run-{run.run_id}" in page.ids
    assert "Si8.5Sn0.5Sb" in text and "model.material" in text
    assert '"backend": "native"' in text  # provenance is shown
    assert "specific_current" in text  # the resolved spec is shown
    # comparison: 3 plots + 2 fields x 2 runs; per run: 3 plots + 2 fields x 2 steps
    assert len(page.images) == 3 + 4 + 2 * (3 + 4)
    assert page.links == []  # self-contained: nothing to fetch
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    assert "shared colour limits" in text


def test_report_lists_failed_and_fieldless_runs(tmp_path):
    runs = analytic_study(tmp_path, name="mixed", dods=(0.5,), divisions=3, with_fields=False)
    runs[1].mark_failed("SolverDiverged: Newton failed at t = 12 s")
    out = build_report("mixed", runs_dir=tmp_path, render_3d=True)
    assert out == tmp_path / "mixed" / "report.html"
    text, page = _parse(out)
    assert "Newton failed at t = 12 s" in text and "state-failed" in text
    assert "No run has stored fields" in text and "radial profiles need fields" in text
    assert len(page.images) == 2 + 2 * 2  # max-vm and DOD plots only (comparison + per run)


def test_report_without_3d(real_study, tmp_path):
    root, _ = real_study
    out = build_report("quick-radial", runs_dir=root, output=tmp_path / "r.html", render_3d=False)
    _, page = _parse(out)
    assert len(page.images) == 3 + 2 * 3


def test_unknown_study(tmp_path):
    RunStore(tmp_path)
    analytic_study(tmp_path, name="present", dods=(0.5,), divisions=2)
    with pytest.raises(RunNotFound, match="studies there: present"):
        build_report("absent", runs_dir=tmp_path)


def test_cli_report(real_study, tmp_path, capsys):
    root, _ = real_study
    out = tmp_path / "cli.html"
    assert main(["report", "quick-radial", "--runs-dir", str(root), "-o", str(out), "--no-3d"]) == 0
    assert out.exists() and str(out) in capsys.readouterr().out
    assert main(["report", "nope", "--runs-dir", str(root)]) == 1
    assert "no runs of study 'nope'" in capsys.readouterr().err


def test_quick_spec_is_valid_json_roundtrip():
    # the quick study the integration tests solve is an ordinary spec
    spec = quick_study_spec("radial")
    assert json.loads(json.dumps(spec)) == spec
    assert re.fullmatch(r"quick-radial", spec["name"])
