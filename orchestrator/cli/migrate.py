"""``octant migrate-ids [STUDY]``: re-key run directories stored under another run-id scheme.

Run ids used to hash the whole canonical spec, free text included (a study's description, material
display names and sources); they now hash physics and numerics only (:mod:`orchestrator.runspec`),
and a new spec field (with its default) changes the canonical form too. A run directory whose name
is not the id its stored spec gets today is renamed to that id, and its ``run.json``, the header of
``spec.yaml`` and ``provenance.json`` are updated; results, logs and images move with the
directory. A spec.yaml edited by hand (its text no longer matches the checksum in run.json) is
left alone, and so is a run whose new id exists already (two old runs that differed only in free
text); both are reported.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import yaml

from ..errors import OctantError, StoreError
from ..runspec import RUN_META, RunSpec, text_sha256
from ..spec import study_from_dict
from ..store import RunStore, atomic_write_text

__all__ = ["migrate_store", "old_id_runs", "register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "migrate-ids",
        help="rename run directories stored under the old run-id scheme (ids now ignore free text)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("study", nargs="?", default=None, help="one study (default: every study in the store)")
    p.add_argument("--runs-dir", type=Path, default=None, help="run store folder")
    p.add_argument("--dry-run", action="store_true", help="only list what would be renamed")
    p.set_defaults(func=cmd_migrate)


def _new_spec(path: Path, changes: dict) -> RunSpec:
    try:
        data = yaml.safe_load((path / "spec.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"{path / 'spec.yaml'}: unreadable ({exc})") from None
    return RunSpec.from_study(study_from_dict(data, str(path / "spec.yaml")), changes)


def _stale(path: Path) -> tuple[RunSpec, dict, str | None]:
    """(the run as this octant keys it, run.json, why it must be left alone or None)."""
    meta_path = path / RUN_META
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    new = _new_spec(path, meta.get("changes", {}))
    recorded = meta.get("spec_sha256")
    if recorded is not None and recorded != text_sha256((path / "spec.yaml").read_text(encoding="utf-8")):
        return new, meta, "spec.yaml was edited by hand (checksum differs): left alone"
    return new, meta, None


def migrate_store(store: RunStore, study: str | None = None, *, dry_run: bool = False) -> list[tuple[Path, Path | None, str]]:
    """(old path, new path or None, note) for every run directory that is not named by its current id."""
    actions: list[tuple[Path, Path | None, str]] = []
    for name in [study] if study else store.studies():
        folder = store.root / name
        for path in sorted(p for p in folder.iterdir() if (p / "spec.yaml").is_file()) if folder.is_dir() else []:
            try:
                new, meta, problem = _stale(path)
            except (OctantError, OSError, ValueError) as exc:
                actions.append((path, None, f"unreadable ({exc}): left alone"))
                continue
            if path.name == new.run_id:
                continue
            target = path.with_name(new.run_id)
            if problem is None and target.exists():
                problem = f"{target.name} exists already (same physics and numerics): left alone"
            if problem is not None:
                actions.append((path, None, problem))
                continue
            actions.append((path, target, "renamed" if not dry_run else "would be renamed"))
            if dry_run:
                continue
            path.rename(target)
            atomic_write_text(target / RUN_META, json.dumps({**meta, **new.meta()}, indent=2, sort_keys=True) + "\n")
            atomic_write_text(target / "spec.yaml", new.to_yaml())
            _rekey_provenance(target / "provenance.json", new, path.name)
    return actions


def _rekey_provenance(path: Path, new: RunSpec, old_id: str) -> None:
    if not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(run_id=new.run_id, physics_id=new.physics_id, run_id_before_migration=old_id)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def old_id_runs(store: RunStore, runs: list[RunSpec]) -> list[Path]:
    """Run directories holding one of ``runs`` under another id (not yet migrated, not edited by hand)."""
    wanted = {(r.study, r.run_id) for r in runs}
    found = []
    for study in sorted({r.study for r in runs}):
        folder = store.root / study
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if (p / "spec.yaml").is_file()):
            if (study, path.name) in wanted:
                continue
            try:
                new, _, problem = _stale(path)
            except (OctantError, OSError, ValueError):
                continue  # an unreadable run is not one of ours; status/show report it
            if problem is None and (study, new.run_id) in wanted and not (folder / new.run_id).exists():
                found.append(path)
    return found


def cmd_migrate(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    if args.study is not None and args.study not in store.studies():
        raise StoreError(f"no study {args.study!r} in {store.root} (studies: {', '.join(store.studies()) or 'none'})")
    actions = migrate_store(store, args.study, dry_run=args.dry_run)
    for old, new, note in actions:
        print(f"{old.parent.name}/{old.name} -> {new.name if new else '-'}: {note}")
    moved = sum(1 for _, new, _ in actions if new is not None)
    print(f"{moved} run(s) {'to re-key' if args.dry_run else 're-keyed'} in {store.root}; the others already use the new ids")
    return 0
