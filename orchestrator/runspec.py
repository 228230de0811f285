"""One run: a validated study spec without a sweep, its canonical SI form and its ids.

Canonical form: the validated spec dumped in SI (floats), ``sweep`` removed, keys sorted, floats
printed by ``repr`` (``json.dumps`` does exactly that); it is what ``spec.yaml`` stores. The run id
is the SHA-256 (first 12 hex digits) of its *identity*: the canonical form without free text (the
study ``description``, every material's display ``name`` and ``sources``, see :func:`identity`), so
the same run written in other units, another key order or with other prose gets the same id and is
not rerun. The study ``name`` stays in: it is the run store folder, and run ids are looked up across
studies. The physics id hashes the identity's ``model`` alone and matches the same case across
backends and numerics.

Stores written under another id scheme (ids that hashed the free text, :func:`legacy_run_id`, or
specs from before a new spec field) keep working for reading under their stored id; ``octant
migrate-ids`` renames their run directories to the current ids. run.json records the SHA-256 of
spec.yaml, which tells such a run from a spec.yaml edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from models import LithiationModel
from solvers.api import Numerics, OutputRequest

from .errors import SpecError, StoreError
from .spec import StudySpec, study_from_dict

__all__ = ["FREE_TEXT_KEYS", "RunSpec", "canonical_json", "identity", "legacy_run_id", "short_hash", "text_sha256"]

log = logging.getLogger(__name__)

RUN_META = "run.json"

#: Keys that carry prose, not physics or numerics, dropped (at any depth) from what run ids hash.
FREE_TEXT_KEYS = frozenset({"description", "sources"})
_warned_legacy: set[str] = set()


def canonical_json(data: Any) -> str:
    """Deterministic JSON text: sorted keys, no spaces, floats by repr."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def short_hash(data: Any) -> str:
    """First 12 hex digits of the SHA-256 of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:12]


def _canonical_dict(spec: StudySpec) -> dict[str, Any]:
    data = spec.model_dump(mode="json", exclude={"sweep"})
    return json.loads(canonical_json(data))


def identity(canonical: dict[str, Any]) -> dict[str, Any]:
    """What the run id hashes: ``canonical`` without :data:`FREE_TEXT_KEYS` anywhere and without
    ``name`` below the top level (material display names; the top-level ``name`` is the study)."""

    def strip(value: Any, top: bool) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v, False)
                for k, v in value.items()
                if k not in FREE_TEXT_KEYS and (top or k != "name")
            }
        if isinstance(value, list):
            return [strip(v, False) for v in value]
        return value

    return strip(canonical, True)


def text_sha256(text: str) -> str:
    """The full SHA-256 hex digest of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def legacy_run_id(canonical: dict[str, Any]) -> str:
    """The run id of octant versions that hashed the whole canonical form, free text included."""
    return short_hash(canonical)


@dataclass(frozen=True)
class RunSpec:
    """A single run of a study (frozen, SI units).

    ``changes`` maps each swept field path to the value as written in the spec (for tables).
    """

    study: str
    run_id: str
    physics_id: str
    spec: StudySpec
    changes: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_study(cls, spec: StudySpec, changes: dict[str, Any] | None = None) -> RunSpec:
        spec = spec.model_copy(update={"sweep": None})
        hashed = identity(_canonical_dict(spec))
        return cls(
            study=spec.name,
            run_id=short_hash(hashed),
            physics_id=short_hash(hashed["model"]),
            spec=spec,
            changes=dict(changes or {}),
        )

    # -- conversions ----------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return self.spec.backend

    def model(self) -> LithiationModel:
        """The backend-neutral physics."""
        return self.spec.model.to_model()

    def outputs(self) -> OutputRequest:
        return self.spec.outputs.to_request()

    def numerics(self) -> Numerics:
        return self.spec.numerics.to_numerics()

    def canonical(self) -> dict[str, Any]:
        """The canonical SI form (what spec.yaml stores; the run id hashes its :func:`identity`)."""
        return _canonical_dict(self.spec)

    # -- files ----------------------------------------------------------------------------------
    def to_yaml(self) -> str:
        header = (
            f"# octant resolved run spec (SI units): study {self.study}, run {self.run_id},"
            f" physics {self.physics_id}\n"
        )
        return header + yaml.safe_dump(self.canonical(), sort_keys=True, default_flow_style=False)

    def meta(self) -> dict[str, Any]:
        """What run.json stores: ids, swept values and the SHA-256 of :meth:`to_yaml` (to tell a
        spec.yaml edited by hand from one written by an older octant whose id scheme differed)."""
        return {
            "study": self.study, "run_id": self.run_id, "physics_id": self.physics_id, "changes": self.changes,
            "spec_sha256": text_sha256(self.to_yaml()),
        }

    @classmethod
    def from_yaml(cls, path: str | Path) -> RunSpec:
        """Load a stored ``spec.yaml`` (and the ``run.json`` next to it, if any).

        A run stored under another id than the current scheme gives (older octant versions hashed
        free text, and new spec fields change the canonical form) keeps its stored id, with a
        warning naming ``octant migrate-ids``; a spec.yaml whose text no longer matches the
        checksum in run.json was edited by hand and raises :class:`SpecError`.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = yaml.safe_load(text)
        except (OSError, yaml.YAMLError) as exc:
            raise StoreError(f"{path}: cannot read the stored run spec ({exc})") from None
        spec = study_from_dict(data, str(path))
        meta_path = path.with_name(RUN_META)
        meta: dict[str, Any] = {}
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError) as exc:
                raise StoreError(f"{meta_path}: unreadable ({exc})") from None
        run = cls.from_study(spec, meta.get("changes", {}))
        stored_id = meta.get("run_id")
        if not stored_id or stored_id == run.run_id or path.parent.name != stored_id:
            return run
        recorded = meta.get("spec_sha256")
        if recorded is not None and recorded != text_sha256(text):
            raise SpecError(
                f"{path}: the spec no longer hashes to its run id {stored_id} (got {run.run_id});"
                " it was edited by hand: restore it or rerun the study from its spec file"
            )
        if str(path) not in _warned_legacy:
            _warned_legacy.add(str(path))
            log.warning(
                "%s is stored under run id %s, but this octant version computes %s for its spec (ids now"
                " ignore descriptions, material names and sources, and new spec fields change them): run"
                " 'octant migrate-ids' to re-key the store, or 'octant run' will run it again",
                path.parent, stored_id, run.run_id,
            )
        return replace(run, run_id=stored_id, physics_id=meta.get("physics_id", run.physics_id))
