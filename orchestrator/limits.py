"""Limits against hostile or mistaken input: every refusal is a :class:`SpecError` within seconds.

- Spec files: regular files of at most :data:`MAX_SPEC_BYTES` (``/dev/zero`` is refused at once).
- YAML: the alias-expanded document may hold at most :data:`MAX_YAML_NODES` nodes (billion
  laughs), no recursive aliases; syntax errors name the line and column (YAML, JSON, TOML).
- Quantities: finite, and of a magnitude any solver can represent (:data:`HARD_RANGES`), checked
  when each value is parsed (``units.parse_quantity``).
- Property laws: D finite and positive on theta in [0, 1.2]; E and the yield stress positive and
  nu in (-1, 0.5) on [0, 1].
- Sweeps: at most ``max_runs`` points (default :data:`DEFAULT_MAX_RUNS`; ``--max-runs`` overrides),
  counted before anything is expanded.
- Field output: at most :data:`MAX_FIELD_FRAMES` requested frames (each a full 3D file).
- Native meshes: the element count (and a rough memory need) is estimated before meshing and
  refused past ``max_elements`` (default :data:`DEFAULT_MAX_ELEMENTS`; ``--max-elements`` overrides).
- Plausibility: bare numbers are SI (``radius: 4.11`` is 4.11 m); values outside a plausible range
  for their quantity give warnings (``octant validate`` prints them loudly), never errors.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from .spec import StudySpec

__all__ = [
    "DEFAULT_MAX_ELEMENTS",
    "DEFAULT_MAX_RUNS",
    "HARD_RANGES",
    "MAX_FIELD_FRAMES",
    "MAX_SPEC_BYTES",
    "MAX_YAML_NODES",
    "MeshEstimate",
    "check_field_outputs",
    "check_laws",
    "check_magnitude",
    "check_mesh_size",
    "check_sweep_size",
    "estimate_mesh",
    "load_yaml",
    "plausibility_warnings",
    "read_spec_text",
    "sweep_size",
    "syntax_error",
]

MAX_SPEC_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
DEFAULT_MAX_RUNS = 10_000
DEFAULT_MAX_ELEMENTS = 150_000
MAX_FIELD_FRAMES = 1000
#: theta range on which every property law must be finite and positive (Fick overshoots theta = 1)
LAW_THETA_MAX = 1.2

#: dimension -> (smallest non-zero magnitude, largest magnitude), SI. Far outside anything physical,
#: but inside what double precision survives through the solvers (c_max, fluxes, stresses, times).
HARD_RANGES: dict[str, tuple[float, float]] = {
    "length": (1e-12, 1e3),
    "time": (1e-9, 1e12),
    "diffusivity": (1e-40, 1.0),
    "pressure": (1e-6, 1e15),
    "molar_volume": (1e-15, 1e-2),
    "density": (1e-3, 1e6),
    "specific_capacity": (1e-3, 1e9),
    "specific_current": (1e-12, 1e9),
    "concentration": (1e-12, 1e9),
    "temperature": (1e-3, 1e5),
}


def check_magnitude(value: float, dimension: str, text: Any = None) -> float:
    """``value`` (SI) if finite and of a representable magnitude for ``dimension``; else ValueError."""
    shown = repr(text) if text is not None else repr(value)
    if not math.isfinite(value):
        raise ValueError(f"{shown} is not a finite number; give a finite {dimension.replace('_', ' ')}")
    low, high = HARD_RANGES.get(dimension, (0.0, math.inf))
    magnitude = abs(value)
    if magnitude > high or (0.0 < magnitude < low):
        raise ValueError(
            f"{shown} ({value:.3g} in SI units) is outside the range a {dimension.replace('_', ' ')} can"
            f" take here ({low:g} to {high:g} in SI units); check the value and its unit"
        )
    return value


# ------------------------------------------------------------------------------ files and syntax
def read_spec_text(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> str:
    """The text of a spec file: a regular file of at most ``max_bytes`` bytes, UTF-8."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"{path}: not a regular file (a device, pipe or folder); give a spec file")
    if info.st_size > max_bytes:
        raise SpecError(f"{path}: {info.st_size} bytes; a spec file may have at most {max_bytes} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise SpecError(f"{path}: a spec file may have at most {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}); save the spec as UTF-8") from None


def syntax_error(exc: Exception, fmt: str, source: str) -> SpecError:
    """A SpecError naming the line and column of a YAML, JSON or TOML syntax error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:  # yaml.MarkedYAMLError
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{problem}" + (f" ({context})" if context else "")
        return SpecError(f"{source}: line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {detail}")
    if hasattr(exc, "lineno") and hasattr(exc, "colno"):  # json.JSONDecodeError
        return SpecError(f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}")
    if isinstance(exc, RecursionError):
        return SpecError(f"{source}: nested too deeply to read; a study spec is a few levels deep")
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return SpecError(f"{source}: not valid {fmt.upper()}: {detail}")  # TOML names line and column itself


def load_yaml(text: str, source: str, max_nodes: int = MAX_YAML_NODES) -> Any:
    """``yaml.safe_load`` that refuses documents whose aliases expand past ``max_nodes`` nodes."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, max_nodes)
        if size > max_nodes:
            raise SpecError(
                f"{source}: the document expands to more than {max_nodes} values through its aliases"
                " (&anchor/*alias); a study spec needs far fewer: write the values out"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(root: Any, limit: int) -> int:
    """Node count of the tree with every alias expanded (iterative, memoised; stops past ``limit``)."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            active.discard(key)
            size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in children(node)))
            continue
        if key in size:
            continue
        if key in active:
            mark = node.start_mark
            raise SpecError(f"line {mark.line + 1}: a recursive alias (an anchor used inside itself); remove it")
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in size)
    return size[id(root)]


# ------------------------------------------------------------------------------ laws
#: attribute -> (symbol, check, what is expected, largest theta checked). Transport evaluates D past
#: theta = 1 (Fick overshoots); the mechanics laws are checked on [0, 1] as their linear laws
#: extrapolate (E from 80 to 12 GPa is negative at theta = 1.2): the solvers must clamp theta for them.
_LAWS = {
    "diffusivity": ("D", lambda v: (v > 0) & (v <= HARD_RANGES["diffusivity"][1]), "finite and positive", LAW_THETA_MAX),
    "youngs_modulus": ("E", lambda v: (v > 0) & (v <= HARD_RANGES["pressure"][1]), "finite and positive", 1.0),
    "yield_stress": ("sigma_Y", lambda v: (v > 0) & (v <= HARD_RANGES["pressure"][1]), "finite and positive", 1.0),
    "poisson_ratio": ("nu", lambda v: (v > -1.0) & (v < 0.5), "in (-1, 0.5)", 1.0),
}


def _materials(spec: Any, path: str = "model") -> Iterator[tuple[str, Any]]:
    """(field path, spec object with ``to_material``) for every material anywhere in the model."""
    from pydantic import BaseModel

    if hasattr(spec, "to_material"):
        yield path, spec
        return
    if isinstance(spec, BaseModel):
        for name in type(spec).model_fields:
            yield from _materials(getattr(spec, name), f"{path}.{name}")
    elif isinstance(spec, (list, tuple)):
        for i, item in enumerate(spec):
            yield from _materials(item, f"{path}[{i}]")


def check_laws(study: StudySpec, source: str) -> None:
    """Every property law of every material finite and in range on theta in [0, LAW_THETA_MAX]."""
    for path, spec in _materials(study.model):
        material = spec.to_material()
        for attribute, (symbol, ok, expected, theta_max) in _LAWS.items():
            law = getattr(material, attribute, None)
            if law is None or not callable(law):
                continue  # a plain number: checked by its field
            theta = np.linspace(0.0, theta_max, 241)
            with np.errstate(all="ignore"):
                values = np.broadcast_to(np.asarray(law(theta), dtype=float), theta.shape)
            bad = ~(np.isfinite(values) & ok(values))
            if bad.any():
                at = int(np.argmax(bad))
                raise SpecError(
                    f"{source}: {path}.{attribute}: {symbol}(theta) must be {expected} for theta in"
                    f" [0, {theta_max:g}]" + (" (transport overshoots theta = 1 slightly)" if theta_max > 1 else "")
                    + f", but {symbol}({theta[at]:.3g}) = {float(values[at])!r}; fix the law"
                )


# ------------------------------------------------------------------------------ sizes
def sweep_size(study: StudySpec) -> int:
    """Number of runs the study's sweep expands to (computed without expanding it)."""
    sweep = study.sweep
    if sweep is None:
        return 1
    grid = math.prod(len(v) for v in sweep.grid.values()) if sweep.grid else 1
    rows = len(next(iter(sweep.zip.values()))) if sweep.zip else 1
    return grid * rows


def check_sweep_size(study: StudySpec, max_runs: int | None = None) -> int:
    """The sweep size, or SpecError past ``max_runs`` (default :data:`DEFAULT_MAX_RUNS`)."""
    limit = DEFAULT_MAX_RUNS if max_runs is None else max_runs
    n = sweep_size(study)
    if n > limit:
        raise SpecError(
            f"study {study.name!r}: the sweep expands to {n} runs, more than the limit of {limit};"
            f" shrink the sweep, or pass --max-runs {n} if you really mean it"
        )
    return n


def check_field_outputs(study: StudySpec, source: str = "", limit: int = MAX_FIELD_FRAMES) -> None:
    """Refuse more than ``limit`` requested field frames (each is a full 3D file on disk)."""
    fields_at = study.outputs.fields_at
    n = len(getattr(fields_at, "dod", ()) or ()) + len(getattr(fields_at, "times", ()) or ())
    if n > limit:
        where = f"{source}: " if source else ""
        raise SpecError(
            f"{where}outputs.fields_at asks for {n} field frames, more than {limit}; each is a full 3D file:"
            " ask for fewer (scalars.csv has every step anyway)"
        )


@dataclass(frozen=True)
class MeshEstimate:
    """Size of the native octant mesh a run would build (before building it)."""

    divisions: int
    elements: int
    p2_dofs: int
    memory_gb: float  # rough: sparse direct factor of P2 elasticity, fill ~ 19 N^(4/3) doubles (fitted)

    def describe(self) -> str:
        return (
            f"about {self.elements:,} tetrahedra ({self.divisions} cells per cube edge), {self.p2_dofs:,}"
            f" displacement unknowns, roughly {self.memory_gb:.3g} GB to factorise"
        )


def estimate_mesh(study: StudySpec) -> MeshEstimate | None:
    """The native mesh size of a (swept) study's run; None for meshes read from files or other backends."""
    mesh = study.numerics.mesh
    if study.backend in ("radial", "comsol") or mesh.file is not None:
        return None
    from solvers.native.mesh import SIZE_PRESETS

    radius = study.model.particle.radius
    if mesh.element_size is not None:  # the mapped octant's rule (solvers.native.mesh.divisions_for)
        n = max(2, math.ceil(math.pi * radius / (4.0 * mesh.element_size)))
    else:
        n = SIZE_PRESETS.get(mesh.size, max(SIZE_PRESETS.values()))
    dofs = 3 * (2 * n + 1) ** 3
    # assumption, fitted to CHOLMOD on this machine class (RECIPES.md: ~300k DOFs, ~3 GB): labelled rough
    memory = 19.0 * dofs ** (4.0 / 3.0) * 8.0 / 1e9
    return MeshEstimate(divisions=n, elements=6 * n**3, p2_dofs=dofs, memory_gb=memory)


def check_mesh_size(study: StudySpec, max_elements: int | None = None, source: str = "") -> MeshEstimate | None:
    """Refuse (SpecError) a native mesh of more than ``max_elements`` tetrahedra, before meshing."""
    estimate = estimate_mesh(study)
    limit = DEFAULT_MAX_ELEMENTS if max_elements is None else max_elements
    if estimate is not None and estimate.elements > limit:
        where = f"{source}: " if source else ""
        raise SpecError(
            f"{where}numerics.mesh gives {estimate.describe()} for R = {study.model.particle.radius:.3g} m,"
            f" more than the limit of {limit:,} elements; use a coarser mesh (size: medium, or a larger"
            f" element_size), or pass --max-elements {estimate.elements} if this machine can take it"
        )
    return estimate


# ------------------------------------------------------------------------------ plausibility
#: leaf key -> (low, high, SI unit, example with units): outside -> a warning (bare numbers are SI)
PLAUSIBLE: dict[str, tuple[float, float, str, str]] = {
    "radius": (10e-9, 1e-3, "m", "4.11 um"),
    "element_size": (1e-10, 1e-3, "m", "0.2 um"),
    "specific_current": (1.0, 1e5, "A/kg", "0.1 A/g"),
    "youngs_modulus": (1e8, 1e12, "Pa", "80 GPa"),
    "yield_stress": (1e6, 1e11, "Pa", "1.75 GPa"),
    "partial_molar_volume": (1e-7, 1e-4, "m^3/mol", "9e-6 m^3/mol"),
    "density": (300.0, 25000.0, "kg/m^3", "2.33 g/cm^3"),
    "capacity": (3.6e4, 2e7, "C/kg", "3579 mAh/g"),
    "temperature": (150.0, 600.0, "K", "298.15 K"),
}
_D_PLAUSIBLE = (1e-22, 1e-8, "m^2/s", "2e-15 m^2/s")


def plausibility_warnings(study: StudySpec) -> list[str]:
    """Warnings for values outside a plausible range for their quantity (never errors)."""
    warnings: list[str] = []
    data = study.model_dump(mode="python", exclude={"sweep"})
    for path, key, value in _leaves(data):
        rule = PLAUSIBLE.get(key)
        if rule is None and ".diffusivity" in path and key in ("value", "low", "high"):
            rule = _D_PLAUSIBLE
        if rule is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        low, high, unit, example = rule
        if not low <= abs(value) <= high:
            warnings.append(
                f"{path} = {value:g} {unit} is outside the plausible range {low:g} to {high:g} {unit};"
                f" a bare number is in SI units ({unit}): did you mean e.g. '{example}'?"
            )
    return warnings


def _leaves(data: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            yield from _leaves(value, f"{path}[{i}]")
    else:
        yield path, path.rsplit(".", 1)[-1].split("[")[0], data
