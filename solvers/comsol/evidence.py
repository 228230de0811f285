"""What COMSOL itself writes: an index of feature types and property names from exported ``.java`` files.

octant cannot run COMSOL where it is tested, so a self-made table of the API would only check octant
against itself. This module checks octant's model file against *COMSOL-written* model files
instead: ``tests/data/comsol/api-evidence.json`` lists, for every feature type that COMSOL 6.3
created in the 1810 models of its Application Library (exported with File > Save As > Model File
for Java; public copy: GitHub ``jacobgx/AICOMSOl``, ``database/applications/``), how often it is
created and every property set on it.

A statement is attributed to a type through the ``create("tag", "Type", ...)`` call that made its
tag, e.g.::

    model.component("comp1").physics("solid").feature("lemm1").create("eiel1", "ExternalStrain", 3);
    model.component("comp1").physics("solid").feature("lemm1").feature("eiel1").set("StrainInput", "StrainTensor");

gives the pair ``ExternalStrain.StrainInput``; ``prop("Group").set("name", ...)`` on a created
interface gives ``Type.prop:Group/name``. Settings of features that an interface creates by itself
(``lemm1``, ``cdm1``, ``init1``) have no ``create`` line and are not attributed (they are cited from
COMSOL-written examples in :mod:`.api_table` instead).

Usage::

    python -m solvers.comsol.evidence check INDEX.json MODEL.java   # exit 1 if a pair has no evidence
    python -m solvers.comsol.evidence index GIT_DIR OUT.json        # rebuild from a git mirror
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EvidenceReport", "check_java", "load_index", "scan"]

_SEG = re.compile(r'\.(\w+)\(((?:"[^"]*"(?:\s*,\s*)?)*)\)')
_CREATE = re.compile(r'^(.*?)\.create\(\s*"([^"]+)"\s*,\s*"([^"]+)"')
_SET = re.compile(r'^(.*?)\.(set|setIndex)\(\s*"([^"]+)"')
#: Methods whose first string argument is a tag (the node they return is named by it).
_TAGGED = frozenset({
    "component", "physics", "feature", "study", "sol", "result", "export", "geom", "mesh", "selection",
    "material", "propertyGroup", "multiphysics", "cpl", "variable", "dataset", "numerical", "table", "func",
    "param", "probe", "common", "nodeGroup", "view", "coordSystem", "pair", "batch", "evaluationGroup", "pde",
    "ode", "shape", "weak", "constraint",
})


def _segments(chain: str) -> list[tuple[str, str | None]]:
    out = []
    for m in _SEG.finditer(chain):
        args = re.findall(r'"([^"]*)"', m.group(2))
        out.append((m.group(1), args[0] if args else None))
    return out


def _norm(segs: list[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    return tuple((n, a) for n, a in segs if a is not None and n != "prop")  # type: ignore[misc]


def scan(text: str) -> tuple[dict[str, int], dict[str, set[str]]]:
    """(created count per type, property names per type) of one ``.java`` model file's text."""
    tag_type: dict[tuple, str] = {}
    counts: dict[str, int] = defaultdict(int)
    props: dict[str, set[str]] = defaultdict(set)
    code = re.sub(r"(?m)^\s*//.*$", "", text)  # line comments (section titles) are not statements
    for raw in code.split(";"):
        line = " ".join(raw.split())
        if not line.startswith("model"):
            continue
        m = _CREATE.match(line)
        if m:
            tag_type[(_norm(_segments(m.group(1))), m.group(2))] = m.group(3)
            counts[m.group(3)] += 1
            continue
        m = _SET.match(line)
        if not m:
            continue
        segs = _segments(m.group(1))
        group, idx = None, None
        for i in range(len(segs) - 1, -1, -1):
            name, arg = segs[i]
            if name == "prop" and arg is not None:
                group = arg
            if arg is not None and name in _TAGGED:
                idx = i
                break
        if idx is None:
            continue
        typ = tag_type.get((_norm(segs[:idx]), segs[idx][1]))
        if typ is not None:
            props[typ].add(m.group(3) if group is None else f"prop:{group}/{m.group(3)}")
    return dict(counts), dict(props)


def load_index(path: str | Path) -> dict[str, dict]:
    """The ``types`` table of an evidence index: type -> ``{"created": n, "properties": [...]}``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["types"]


@dataclass(frozen=True)
class EvidenceReport:
    """Types and pairs of a model file, and those that no COMSOL-written file uses."""

    types: tuple[str, ...]
    pairs: tuple[str, ...]
    missing: tuple[str, ...]


def check_java(index: dict[str, dict], text: str) -> EvidenceReport:
    """Check a model file's text against ``index`` (from :func:`load_index`)."""
    counts, props = scan(text)
    pairs: list[str] = []
    missing: list[str] = []
    for typ in sorted(counts):
        if typ not in index:
            missing.append(f"type {typ}")
        for prop in sorted(props.get(typ, ())):
            pairs.append(f"{typ}.{prop}")
            if typ in index and prop not in index[typ]["properties"]:
                missing.append(f"{typ}.{prop}")
    return EvidenceReport(tuple(sorted(counts)), tuple(pairs), tuple(missing))


def _build(git_dir: str, out: str) -> None:
    files = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.split()
    counts: dict[str, int] = defaultdict(int)
    props: dict[str, set[str]] = defaultdict(set)
    n = 0
    for name in files:
        if not name.endswith(".java"):
            continue
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{name}"],
                              capture_output=True, text=True, errors="replace").stdout
        c, p = scan(text)
        for t, k in c.items():
            counts[t] += k
        for t, s in p.items():
            props[t] |= s
        n += 1
    data = {"files": n, "types": {t: {"created": counts[t], "properties": sorted(props[t])} for t in counts}}
    Path(out).write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")
    print(f"{n} files, {len(counts)} feature types")


def main(argv: list[str] | None = None) -> int:
    """``check INDEX MODEL.java`` or ``index GIT_DIR OUT.json``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "index":
        _build(argv[1], argv[2])
        return 0
    if len(argv) != 3 or argv[0] != "check":
        print(__doc__.split("Usage::")[1], file=sys.stderr)
        return 2
    report = check_java(load_index(argv[1]), Path(argv[2]).read_text(encoding="utf-8"))
    for item in report.missing:
        print("not in COMSOL-written files:", item)
    print(f"{len(report.types)} types, {len(report.pairs)} type.property pairs, {len(report.missing)} without evidence")
    return 1 if report.missing else 0


if __name__ == "__main__":
    sys.exit(main())
