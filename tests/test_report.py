"""orchestrator.report: a self-contained HTML page per study; CLI ``report``."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
pytest.importorskip("pyvista")
pytest.importorskip("matplotlib")

from run_factory import analytic_study, quick_study_spec, shared_real_study

from orchestrator.cli import main
from orchestrator.errors import RunNotFound
from orchestrator.plausibility import run_warnings
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


@pytest.fixture(scope="module")
def native_report(native_study, tmp_path_factory):
    root, runs = native_study
    return runs, build_report("quick-native", runs_dir=root, output=tmp_path_factory.mktemp("report") / "report.html")


def test_report_of_a_real_quick_study(native_report):
    runs, out = native_report
    text, page = _parse(out)
    assert "quick-native" in text and "Si versus Si8.5Sn0.5Sb, quick test study" in text
    assert "t_full = 35.79 h" in text  # the model summary of each run
    for run in runs:
        assert run.run_id in text
        assert f"run-{run.run_id}" in page.ids
    assert "Si8.5Sn0.5Sb" in text and "model.material" in text
    assert '"backend": "native"' in text  # provenance is shown
    assert "specific_current" in text  # the resolved spec is shown
    # comparison: 3 plots + the panel figure; per run: 3 plots + 2 fields x 2 steps
    assert len(page.images) == 3 + 1 + 2 * (3 + 4)
    # images are embedded; the only links are each run's data files, relative to the report
    names = sorted(Path(link).name for link in page.links)  # summary table + run section
    assert names == sorted(["fields.pvd", "scalars.csv"] * 2 * len(runs))
    for link in page.links:
        assert not link.startswith(("http", "/")) and (out.parent / link).resolve().is_file()
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    assert "shared colour limits" in text
    # the quick Si run is implausible (linear-elastic stresses beyond 30 GPa, or a coarse-mesh
    # undershoot, depending on the preset): each warning is on the page
    warnings = [w for run in runs for w in run_warnings(run)]
    assert warnings and all(f"warning: {w}" in text for w in warnings)


def test_report_shares_colour_limits_at_every_dod(native_study):
    """Every 3D picture of a field uses one scale: the range over all runs and all stored steps."""
    from orchestrator.report import _study_limits
    from orchestrator.results import load_run

    _, runs = native_study
    results = [load_run(r.path) for r in runs]
    limits = _study_limits(results, ["von_mises"])["von_mises"]
    peaks = [r.field_range("von_mises", [s])[1] for r in results for s in r.steps]
    assert limits[1] == pytest.approx(max(peaks)) and min(peaks) < 0.5 * max(peaks)


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


_CHECK_IMAGES = """<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const bad = images.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).length;
  document.title = 'IMAGES ' + images.length + ' UNDECODED ' + bad;
});
</script>"""


def _headless(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([_chromium(), *flags, *args], capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (apt-get install chromium; .ci/run installs it)")
def test_report_in_headless_chromium(native_report, tmp_path):
    """A real browser decodes every image of the report, and the page is not blank."""
    from matplotlib.image import imread

    _, out = native_report
    probe = out.with_name("probe.html")
    probe.write_text(out.read_text(encoding="utf-8").replace("</body>", _CHECK_IMAGES + "</body>"), encoding="utf-8")
    dom = _headless(["--virtual-time-budget=15000", "--dump-dom", probe.as_uri()], tmp_path / "profile1")
    title = re.search(r"<title>IMAGES (\d+) UNDECODED (\d+)</title>", dom.stdout)
    assert title, f"the check script did not run: {dom.stderr[-1500:]}"
    assert int(title.group(1)) == len(_parse(out)[1].images) > 0 and int(title.group(2)) == 0
    shot = tmp_path / "shot.png"
    result = _headless(["--window-size=1200,2000", "--hide-scrollbars", f"--screenshot={shot}", out.as_uri()], tmp_path / "profile2")
    assert shot.exists(), result.stderr[-1500:]
    pixels = imread(shot)[..., :3]
    ink = np.any(pixels < 0.9, axis=-1).mean()
    assert 0.03 < ink < 0.9 and pixels.std() > 0.05, f"the screenshot looks blank (ink {ink:.3f})"


def test_report_lists_failed_and_fieldless_runs(tmp_path):
    runs = analytic_study(tmp_path, name="mixed", dods=(0.5,), divisions=3, with_fields=False)
    runs[1].mark_failed("SolverDiverged: Newton failed at t = 12 s")
    out = build_report("mixed", runs_dir=tmp_path, render_3d=True)
    assert out == tmp_path / "mixed" / "report.html"
    text, page = _parse(out)
    assert "Newton failed at t = 12 s" in text and "state-failed" in text
    assert "No run has stored fields" in text and "radial profiles need fields" in text
    assert len(page.images) == 2 + 2 * 2  # max-vm and DOD plots only (comparison + per run)
    assert "scalars.csv: none" not in text and "fields.pvd (ParaView): none" in text


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
