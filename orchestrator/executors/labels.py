"""Short, readable text for swept values in progress lines and tables."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["format_changes", "format_value"]


def format_value(value: Any) -> str:
    """A swept value as text: an inline table by its ``name`` (else compact JSON), others as written."""
    if isinstance(value, dict):
        if isinstance(value.get("name"), str):
            return value["name"]
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def format_changes(changes: dict[str, Any], *, short_keys: bool = True) -> str:
    """``radius=2 um, material=Si``; ``-`` when nothing was swept. ``short_keys`` drops the path."""
    if not changes:
        return "-"
    return ", ".join(
        f"{key.rsplit('.', 1)[-1] if short_keys else key}={format_value(value)}" for key, value in changes.items()
    )
