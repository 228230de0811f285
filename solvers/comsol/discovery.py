"""Find COMSOL installations without importing mph (the way MPh's ``mph/discovery.py`` does it).

``import mph`` replaces ``sys.exit`` and ``sys.excepthook`` and starts nothing useful without
COMSOL, so the main process never imports it. Discovery here only looks at the file system and
asks the executable for its version:

1. ``$OCTANT_COMSOL`` (an explicit path to the ``comsol`` executable), then ``comsol`` on ``PATH``;
2. the standard install folders: ``/usr/local/comsol*/multiphysics/bin/<arch>/comsol``,
   ``/opt/comsol*/...``, ``~/.local/comsol*/...`` (``/Applications/COMSOL*`` on macOS);
3. for each candidate, ``comsol mphserver --version`` must answer ``COMSOL Multiphysics 6.2.0.290``
   (parsed into name ``6.2``, major, minor, patch, build).

MPh additionally needs the Java VM configuration ``comsol.ini`` next to the real executable (the
one in ``bin/<arch>/``), the Java VM it names, and the ``plugins`` / ``apiplugins`` folders of the
installation root; :attr:`ComsolInstall.java_api` says whether they are there (and ``problem`` why
not). mph itself looks only in ``/usr/local/comsol*``, ``~/.local/comsol*`` and ``which comsol``:
the worker puts the chosen installation's ``bin`` first on PATH
(:func:`solvers.comsol.client.worker_env`), so that mph finds the same installation octant chose,
wherever it is.

Results are cached per process; :func:`clear_cache` forgets them (tests, a changed PATH).
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "ComsolInstall",
    "VERSION_TIMEOUT_S",
    "clear_cache",
    "find_installs",
    "parse_version",
    "select_install",
]

log = logging.getLogger(__name__)

#: Seconds to wait for ``comsol mphserver --version`` (a real COMSOL starts a JVM: a few seconds).
VERSION_TIMEOUT_S: float = 30.0


@dataclass(frozen=True)
class ComsolInstall:
    """One COMSOL installation.

    ``executable``: the ``comsol`` launcher found; ``root``: the installation folder (the one that
    holds ``bin``, ``plugins``); ``name``: short version (``6.2``, ``5.3a``); ``version``: the full
    answer of the version query; ``java_api``: ``comsol.ini`` and the Java API plug-ins are present
    (what MPh needs); ``problem``: why not.
    """

    executable: Path
    root: Path
    name: str
    major: int
    minor: int
    patch: int
    build: int
    version: str
    java_api: bool
    problem: str = ""

    @property
    def server_command(self) -> list[str]:
        """The command that starts a COMSOL server (``comsol mphserver``)."""
        return [str(self.executable), "mphserver"]

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.patch, self.build)


def parse_version(text: str) -> tuple[str, int, int, int, int]:
    """``COMSOL Multiphysics 6.2.0.290`` -> ``("6.2", 6, 2, 0, 290)``; ``ValueError`` otherwise.

    The short name appends a letter for the patch level (``5.3.1`` -> ``5.3a``), as MPh does.
    """
    match = re.search(r"(?i)comsol\D*?(\d+(?:\.\d+){0,3})", text)
    if not match:
        raise ValueError(f"version answer {text.strip()[:120]!r} does not look like 'COMSOL Multiphysics 6.2.0.290'")
    parts = [int(p) for p in match.group(1).split(".")] + [0, 0, 0]
    major, minor, patch, build = parts[:4]
    name = f"{major}.{minor}" + (chr(ord("a") + patch - 1) if patch > 0 else "")
    return name, major, minor, patch, build


def _architecture() -> str:
    system, machine = platform.system(), platform.machine().lower()
    if system == "Linux":
        return "glnxa64" if machine in ("x86_64", "amd64") else "glnxaarm64"
    if system == "Darwin":
        return "macarm64" if machine == "arm64" else "maci64"
    return "win64"


def _candidates() -> list[Path]:
    """Executables to try, in priority order (explicit, PATH, standard folders)."""
    found: list[Path] = []
    explicit = os.environ.get("OCTANT_COMSOL")
    if explicit:
        found.append(Path(explicit))
    on_path = shutil.which("comsol")
    if on_path:
        found.append(Path(on_path))
    arch = _architecture()
    if platform.system() == "Darwin":
        bases = [Path("/Applications"), Path.home() / "Applications"]
    else:
        bases = [Path("/usr/local"), Path("/opt"), Path.home() / ".local"]
    for base in bases:
        try:
            folders = sorted(p for p in base.iterdir() if p.is_dir() and p.name.lower().startswith("comsol"))
        except OSError:
            continue
        for folder in folders:
            root = folder / "multiphysics" if (folder / "multiphysics").is_dir() else folder
            for exe in (root / "bin" / "comsol", root / "bin" / arch / "comsol"):
                if exe.is_file():
                    found.append(exe)
                    break
    unique: list[Path] = []
    for exe in found:
        resolved = exe.resolve() if exe.exists() else exe
        if resolved not in unique:
            unique.append(resolved)
    return unique


def _jvm(ini: Path) -> Path | None:
    """The Java VM that ``comsol.ini`` names (the line after ``-vm``), if that file exists."""
    lines = [line.strip() for line in ini.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    for k, line in enumerate(lines[:-1]):
        if line.startswith("-vm"):
            jvm = ini.parent / lines[k + 1]
            return jvm.resolve() if jvm.exists() else None
    return None


def _java_api(executable: Path) -> tuple[Path, bool, str]:
    """Installation root, whether MPh's requirements are met, and what is missing.

    The checks are MPh's own (``mph/discovery.py``): ``comsol.ini`` next to the executable or in
    ``bin/<arch>``, a Java VM at the path it names, ``plugins`` and ``apiplugins`` in the root.
    """
    arch = _architecture()
    for ini in (executable.parent / "comsol.ini", executable.parent / arch / "comsol.ini"):
        if ini.is_file():
            root = ini.parent.parent.parent
            missing = [d for d in ("plugins", "apiplugins") if not (root / d).is_dir()]
            if missing:
                return root, False, f"no {' or '.join(missing)} folder in {root} (incomplete installation?)"
            if _jvm(ini) is None:
                return root, False, f"{ini} names no Java VM that exists (after -vm); mph cannot start COMSOL's Java"
            return root, True, ""
    root = executable.parent.parent
    return root, False, f"no comsol.ini next to {executable} or in {executable.parent / arch} (MPh needs it)"


def _query(executable: Path) -> str:
    process = subprocess.run(
        [str(executable), "mphserver", "--version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        timeout=VERSION_TIMEOUT_S,
        check=False,
    )
    return process.stdout.strip()


@lru_cache(maxsize=1)
def _find_installs_cached(path_env: str, explicit: str) -> tuple[ComsolInstall, ...]:
    installs: list[ComsolInstall] = []
    for exe in _candidates():
        if not os.access(exe, os.X_OK):
            log.debug("%s is not executable; skipped", exe)
            continue
        try:
            answer = _query(exe)
            name, major, minor, patch, build = parse_version(answer)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            log.debug("%s: version query failed: %s", exe, exc)
            continue
        root, ok, problem = _java_api(exe)
        if any(i.name == name for i in installs):
            log.debug("%s: duplicate of COMSOL %s; ignored", exe, name)
            continue
        installs.append(ComsolInstall(exe, root, name, major, minor, patch, build, answer, ok, problem))
        log.debug("found COMSOL %s at %s (java api: %s)", name, exe, ok or problem)
    return tuple(installs)


def find_installs() -> list[ComsolInstall]:
    """All COMSOL installations found, in priority order (cached per PATH / $OCTANT_COMSOL)."""
    return list(_find_installs_cached(os.environ.get("PATH", ""), os.environ.get("OCTANT_COMSOL", "")))


def clear_cache() -> None:
    """Forget earlier discovery results."""
    _find_installs_cached.cache_clear()


def select_install(version: str | None = None) -> tuple[ComsolInstall | None, str]:
    """The installation to use (``version`` like ``6.2``, else the first one with a usable Java
    API, preferring PATH order, then the newest) and a human explanation when there is none."""
    installs = find_installs()
    if not installs:
        return None, (
            "no COMSOL installation found: 'comsol' is not on PATH, $OCTANT_COMSOL is not set, and"
            " there is no comsol* folder in /usr/local, /opt or ~/.local"
        )
    if version is not None:
        named = [i for i in installs if i.name == version]
        if not named:
            return None, f"COMSOL {version} not found; found {', '.join(i.name for i in installs)}"
        installs = named
    usable = [i for i in installs if i.java_api]
    if not usable:
        return None, "; ".join(f"COMSOL {i.name} at {i.executable}: {i.problem}" for i in installs)
    return usable[0], f"COMSOL {usable[0].name} at {usable[0].executable}"
