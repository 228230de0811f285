"""Provenance of a run: what produced it, where, with which versions (provenance.json)."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["collect_provenance", "octant_version"]

_LIBRARIES = ("numpy", "scipy", "pydantic", "pint", "meshio", "pyvista", "vtk", "scikit-sparse", "pyamg", "mph", "gmsh")


def octant_version() -> str:
    try:
        return metadata.version("octant")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def collect_provenance(**extra: Any) -> dict[str, Any]:
    """Versions, git state, host and platform, merged with ``extra`` (backend, stats, ...)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "octant_version": octant_version(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "libraries": _library_versions(),
        **extra,
    }
