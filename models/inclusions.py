"""Inclusions of other materials inside the particle: spheres and bars (Gao et al. 2023, Figs. S26/S27).

The particle is the octant x, y, z >= 0 of a sphere of radius R (the matrix, ``LithiationModel.material``).
An inclusion is a sub-domain of another material:

``SphereInclusion(material, center, radius)``
    the ball |x - center| <= radius [m];
``BarInclusion(material, start, end, radius)``
    the right circular cylinder with flat ends around the segment start -> end [m] (a "bar").

Symmetry planes: the octant stands for the whole sphere by mirror symmetry in x = 0, y = 0 and z = 0. An
inclusion centred on a plane (a sphere whose centre has x_i = 0, a bar whose axis lies in the plane x_i = 0)
is cut by that plane and is its own mirror image: that is allowed. An inclusion that crosses a plane
otherwise would overlap its own mirror image: that is an error, as are inclusions that leave the sphere
and inclusions that overlap (or touch) each other.

Domains: index 0 is the matrix; every distinct inclusion material gets the next index in order of first
appearance (all Sn spheres form one domain). :func:`domain_materials` and :func:`domain_index` give the
list and the index of each inclusion; meshes carry one physical group per domain.

:func:`generate_inclusions` places non-overlapping inclusions at random (seeded) for given volume
fractions of the particle, e.g. the paper's composition Si8.5Sn0.5Sb as Sn and Sb spheres in Si.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence, Union

import numpy as np

from .errors import ModelError
from .materials import Material

__all__ = [
    "BarInclusion",
    "Inclusion",
    "InclusionError",
    "SphereInclusion",
    "check_inclusions",
    "domain_index",
    "domain_materials",
    "generate_inclusions",
    "octant_volume",
]

Point = tuple[float, float, float]


class InclusionError(ModelError):
    """An inclusion outside the particle, crossing a symmetry plane, or overlapping another one."""


def _point(p: Sequence[float], what: str) -> Point:
    arr = np.asarray(p, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise InclusionError(f"{what} must be three finite coordinates [m], got {p!r}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


@dataclass(frozen=True)
class SphereInclusion:
    """A ball of ``material`` with ``center`` (3,) [m] and ``radius`` [m]."""

    material: Material
    center: Point
    radius: float
    shape: Literal["sphere"] = "sphere"

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _point(self.center, "sphere center"))
        if not self.radius > 0:
            raise InclusionError(f"sphere radius must be positive, got {self.radius!r} m")

    @property
    def full_volume(self) -> float:
        """Volume of the whole ball [m^3]."""
        return 4.0 / 3.0 * math.pi * self.radius**3

    def cut_planes(self, tol: float) -> int:
        """Number of symmetry planes through the centre (each halves the part inside the octant)."""
        return sum(abs(c) <= tol for c in self.center)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask (n,) of the points (n, 3) [m] inside the ball."""
        return np.linalg.norm(np.asarray(points) - np.asarray(self.center), axis=-1) <= self.radius

    def describe(self) -> str:
        c = ", ".join(f"{x * 1e6:.4g}" for x in self.center)
        return f"{self.material.name} sphere at ({c}) um, r = {self.radius * 1e6:.4g} um"


@dataclass(frozen=True)
class BarInclusion:
    """A cylinder of ``material`` around the segment ``start`` -> ``end`` (3,) [m], ``radius`` [m], flat ends."""

    material: Material
    start: Point
    end: Point
    radius: float
    shape: Literal["bar"] = "bar"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _point(self.start, "bar start"))
        object.__setattr__(self, "end", _point(self.end, "bar end"))
        if not self.radius > 0:
            raise InclusionError(f"bar radius must be positive, got {self.radius!r} m")
        if not self.length > 0:
            raise InclusionError(f"bar start and end must differ, got {self.start!r} and {self.end!r}")

    @property
    def length(self) -> float:
        """Axis length [m]."""
        return float(np.linalg.norm(np.subtract(self.end, self.start)))

    @property
    def axis(self) -> np.ndarray:
        """Unit axis vector (3,)."""
        return np.subtract(self.end, self.start) / self.length

    @property
    def full_volume(self) -> float:
        """Volume of the whole cylinder [m^3]."""
        return math.pi * self.radius**2 * self.length

    def cut_planes(self, tol: float) -> int:
        """Number of symmetry planes that contain the axis (each halves the part inside the octant)."""
        return sum(abs(self.start[i]) <= tol and abs(self.end[i]) <= tol for i in range(3))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask (n,) of the points (n, 3) [m] inside the cylinder."""
        rel = np.asarray(points) - np.asarray(self.start)
        s = rel @ self.axis
        radial = np.linalg.norm(rel - s[..., None] * self.axis, axis=-1)
        return (s >= 0.0) & (s <= self.length) & (radial <= self.radius)

    def cap_extremes(self) -> tuple[float, np.ndarray]:
        """(largest |x| over the cylinder, smallest x_i over the cylinder (3,)) [m].

        Both are attained on the end circles (the cylinder is convex).
        """
        t = self.axis
        far = 0.0
        low = np.full(3, np.inf)
        for p in (np.asarray(self.start), np.asarray(self.end)):
            perp = p - (p @ t) * t
            far = max(far, math.hypot(float(np.linalg.norm(perp)) + self.radius, float(p @ t)))
            low = np.minimum(low, p - self.radius * np.sqrt(np.clip(1.0 - t**2, 0.0, None)))
        return far, low

    def describe(self) -> str:
        a = ", ".join(f"{x * 1e6:.4g}" for x in self.start)
        b = ", ".join(f"{x * 1e6:.4g}" for x in self.end)
        return f"{self.material.name} bar ({a}) -> ({b}) um, r = {self.radius * 1e6:.4g} um"


Inclusion = Union[SphereInclusion, BarInclusion]


def octant_volume(inclusion: Inclusion, radius: float) -> float:
    """Volume [m^3] of the part of ``inclusion`` inside the octant (halved per symmetry plane through it)."""
    return inclusion.full_volume / 2 ** inclusion.cut_planes(1e-9 * radius)


def domain_materials(matrix: Material, inclusions: Sequence[Inclusion]) -> tuple[Material, ...]:
    """Materials by domain index: 0 the matrix, then each distinct inclusion material by first appearance."""
    out: list[Material] = [matrix]
    for inc in inclusions:
        if inc.material not in out:
            out.append(inc.material)
    return tuple(out)


def domain_index(matrix: Material, inclusions: Sequence[Inclusion]) -> tuple[int, ...]:
    """The domain index of each inclusion (see :func:`domain_materials`)."""
    materials = domain_materials(matrix, inclusions)
    return tuple(materials.index(inc.material) for inc in inclusions)


# -- validation ---------------------------------------------------------------------------------------
def _segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> float:
    """Shortest distance between the segments p0-p1 and q0-q1 (closed form with clamping)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a, e, f = d1 @ d1, d2 @ d2, d2 @ r
    c, b = d1 @ r, d1 @ d2
    denom = a * e - b * b
    s = float(np.clip((b * f - c * e) / denom, 0.0, 1.0)) if denom > 1e-30 * a * e else 0.0
    t = (b * s + f) / e
    if t < 0.0:
        t, s = 0.0, float(np.clip(-c / a, 0.0, 1.0))
    elif t > 1.0:
        t, s = 1.0, float(np.clip((b - c) / a, 0.0, 1.0))
    return float(np.linalg.norm((p0 + s * d1) - (q0 + t * d2)))


def _point_segment_distance(x: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> float:
    d = p1 - p0
    s = float(np.clip((x - p0) @ d / (d @ d), 0.0, 1.0))
    return float(np.linalg.norm(x - (p0 + s * d)))


def _point_cylinder_distance(x: np.ndarray, bar: BarInclusion) -> float:
    """Distance [m] from the point ``x`` to the solid cylinder ``bar`` (0 inside)."""
    rel = x - np.asarray(bar.start)
    s = float(rel @ bar.axis)
    radial = float(np.linalg.norm(rel - s * bar.axis))
    axial = max(-s, s - bar.length, 0.0)
    return math.hypot(axial, max(radial - bar.radius, 0.0))


def _gap(a: Inclusion, b: Inclusion) -> float:
    """A lower bound of the distance between two inclusions (exact for sphere pairs and sphere-bar;
    bar pairs are tested as capsules, which is conservative near the flat ends)."""
    if isinstance(a, SphereInclusion) and isinstance(b, SphereInclusion):
        return float(np.linalg.norm(np.subtract(a.center, b.center))) - a.radius - b.radius
    if isinstance(a, BarInclusion) and isinstance(b, SphereInclusion):
        a, b = b, a
    if isinstance(a, SphereInclusion):
        return _point_cylinder_distance(np.asarray(a.center), b) - a.radius
    p = [np.asarray(v) for v in (a.start, a.end, b.start, b.end)]
    return _segment_distance(*p) - a.radius - b.radius


def _check_inside(inc: Inclusion, radius: float, where: str, tol: float) -> None:
    if isinstance(inc, SphereInclusion):
        c = np.asarray(inc.center)
        far = float(np.linalg.norm(c)) + inc.radius
        crossing = [axis for i, axis in enumerate("xyz") if tol < c[i] < inc.radius - tol or c[i] < -tol]
        hint = "centre it on the plane (coordinate 0) or move it at least one radius away"
    else:
        far, low = inc.cap_extremes()
        in_plane = [abs(inc.start[i]) <= tol and abs(inc.end[i]) <= tol for i in range(3)]
        crossing = [axis for i, axis in enumerate("xyz") if low[i] < -tol and not in_plane[i]]
        hint = "lay its axis in the plane (both ends with coordinate 0) or keep the whole bar at coordinate >= 0"
    if far > radius + tol:
        raise InclusionError(
            f"{where}: the {inc.describe()} reaches |x| = {far * 1e6:.4g} um, outside the particle of radius"
            f" {radius * 1e6:.4g} um; move it inward or make it smaller"
        )
    if crossing:
        raise InclusionError(
            f"{where}: the {inc.describe()} crosses the symmetry plane(s) {', '.join(a + ' = 0' for a in crossing)}"
            f" and would overlap its own mirror image; {hint}"
        )


def check_inclusions(inclusions: Sequence[Inclusion], radius: float) -> None:
    """Raise :class:`InclusionError` unless every inclusion lies in the octant of the sphere of ``radius``
    [m] (cut only by the planes through its centre/axis) and no two overlap or touch."""
    tol = 1e-9 * radius
    for i, inc in enumerate(inclusions):
        _check_inside(inc, radius, f"inclusions[{i}]", tol)
    for i in range(len(inclusions)):
        for j in range(i + 1, len(inclusions)):
            gap = _gap(inclusions[i], inclusions[j])
            if gap <= tol:
                raise InclusionError(
                    f"inclusions[{i}] ({inclusions[i].describe()}) and inclusions[{j}] ({inclusions[j].describe()})"
                    f" overlap or touch (gap {gap * 1e6:.3g} um); move them apart or make them smaller"
                )


# -- generator ----------------------------------------------------------------------------------------
def _random_direction(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _candidate(
    material: Material, shape: str, size: float, length: float, radius: float, rng: np.random.Generator
) -> Inclusion:
    """One random inclusion strictly inside the octant, away from the planes."""
    lo = size
    if shape == "sphere":
        c = rng.uniform(lo, radius - size, size=3)
        return SphereInclusion(material, tuple(c), size)
    mid = rng.uniform(lo, radius - lo, size=3)
    half = 0.5 * length * _random_direction(rng)
    return BarInclusion(material, tuple(mid - half), tuple(mid + half), size)


def generate_inclusions(
    fractions: dict[str, float] | Sequence[tuple[Material, float]],
    *,
    radius: float,
    shape: Literal["sphere", "bar"] = "sphere",
    size: float,
    length: float | None = None,
    seed: int = 0,
    max_tries: int = 20000,
) -> tuple[Inclusion, ...]:
    """Random non-overlapping inclusions giving the volume ``fractions`` of the octant particle.

    ``fractions``: (material, fraction of the particle volume) pairs; ``shape``: sphere or bar; ``size``:
    the sphere or bar radius [m]; ``length``: bar length [m] (default 4 x size); ``seed``: the random seed
    (same inputs -> same inclusions). The count per material is round(f V / v) with V = pi R^3 / 6 and v
    the volume of one inclusion (at least 1). Inclusions are kept away from the symmetry planes (whole).
    Raises :class:`InclusionError` when they do not fit after ``max_tries`` attempts.
    """
    pairs = list(fractions.items()) if isinstance(fractions, dict) else list(fractions)
    if shape not in ("sphere", "bar"):
        raise InclusionError(f"inclusion shape must be 'sphere' or 'bar', got {shape!r}")
    if not size > 0:
        raise InclusionError(f"inclusion size (radius) must be positive, got {size!r} m")
    length = 4.0 * size if length is None else float(length)
    one = 4.0 / 3.0 * math.pi * size**3 if shape == "sphere" else math.pi * size**2 * length
    if shape == "bar" and radius - length - 3 * size <= 0 or shape == "sphere" and radius <= 3 * size:
        raise InclusionError(f"inclusions of size {size!r} m (length {length!r} m) do not fit a particle of radius {radius!r} m")
    total = math.pi * radius**3 / 6.0
    rng = np.random.default_rng(seed)
    placed: list[Inclusion] = []
    tol = 1e-9 * radius
    for material, fraction in pairs:
        if not 0.0 <= fraction < 1.0:
            raise InclusionError(f"volume fraction of {getattr(material, 'name', material)} must be in [0, 1), got {fraction!r}")
        count = max(1, round(fraction * total / one)) if fraction > 0 else 0
        for _ in range(count):
            for _attempt in range(max_tries):
                cand = _candidate(material, shape, size, length, radius, rng)
                try:
                    _check_inside(cand, radius, "generated", tol)
                except InclusionError:
                    continue
                if all(_gap(cand, other) > 0.1 * size for other in placed):
                    placed.append(cand)
                    break
            else:
                raise InclusionError(
                    f"could not place {count} {getattr(material, 'name', material)} {shape}(s) of size {size * 1e6:.3g} um"
                    f" without overlap after {max_tries} tries; lower the fractions or the size"
                )
    return tuple(placed)
