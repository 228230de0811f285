"""Short, readable text for swept values in progress lines and tables."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["format_changes", "format_value", "run_label"]


def format_value(value: Any) -> str:
    """A swept value as text: an inline table by its ``name`` or ``base`` (else compact JSON), numbers
    with 4 significant digits, others as written."""
    if isinstance(value, dict):
        for key in ("name", "base"):
            if isinstance(value.get(key), str):
                return value[key]
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_changes(changes: dict[str, Any], *, short_keys: bool = True) -> str:
    """``radius=2 um, material=Si``; ``-`` when nothing was swept. ``short_keys`` drops the path."""
    if not changes:
        return "-"
    return ", ".join(
        f"{key.rsplit('.', 1)[-1] if short_keys else key}={format_value(value)}" for key, value in changes.items()
    )


def run_label(material: str, changes: dict[str, Any]) -> str:
    """Legend label: the material name, then every swept value other than the material.

    >>> run_label("Si", {"model.material": "Si", "model.particle.radius": "1 um"})
    'Si, radius=1 um'
    """
    others = {k: v for k, v in changes.items() if k != "model.material"}
    return f"{material}, {format_changes(others)}" if others else material
