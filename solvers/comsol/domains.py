"""What the COMSOL plan needs from a model beyond the plain particle: domains (matrix + inclusions)
with their materials, and the mechanics options -- read, checked, and turned into COMSOL expressions.

The model side is being extended (``models/inclusions.py``, ``LithiationModel.inclusions``,
``LithiationModel.mechanics``, ``LithiationModel.temperature``, Material ``youngs_modulus`` /
``poisson_ratio`` as laws of theta). This module reads those attributes by their documented names
with the defaults of the plain model, so a model without them builds the plain plan:

* ``model.inclusions``: items with ``shape`` (``sphere`` | ``bar``), ``material`` (a Material or a
  preset name), ``center`` (or ``centre``) and ``radius`` for a sphere, ``start``, ``end`` and
  ``radius`` for a bar (SI, metres);
* ``model.mechanics``: ``constitutive`` (``elastic`` | ``elastoplastic``), ``yield_stress`` [Pa]
  (a number or a law of theta with ``.comsol(theta=...)``; ``None``: the material's
  ``yield_stress``), ``hardening_modulus`` (or ``hardening``) [Pa] (the linear isotropic hardening
  modulus H of sigma_y = sigma_Y + H eps_p; 0 = perfectly plastic), ``stress_driven_diffusion``;
  an inclusion's material uses its own ``yield_stress`` when it has one;
* ``model.temperature`` [K] (298.15 when absent).

What the plan cannot express raises :class:`UnsupportedModel` naming the field and the fix; nothing
is dropped silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.errors import SolverError

__all__ = ["Domain", "MechanicsOptions", "UnsupportedModel", "domains_of", "is_law", "mechanical_properties", "mechanics_of", "property_expr"]

#: Temperature [K] when the model has none (25 degC).
DEFAULT_TEMPERATURE = 298.15
_SHAPES = ("sphere", "bar")
_CONSTITUTIVE = ("elastic", "elastoplastic")


class UnsupportedModel(SolverError, ValueError):
    """A model (or a combination of options) that the COMSOL plan cannot express."""


@dataclass(frozen=True)
class Domain:
    """One material domain of the plan.

    ``key``: suffix of its parameters (``""`` for the matrix, ``_i1``, ``_i2`` ... for inclusions);
    ``geom_tag``: the geometry object of an inclusion (``inc1``; ``""`` for the matrix);
    ``shape``/``points``/``radius``: the inclusion's geometry [m] (``points``: centre, or start and
    end of a bar).
    """

    key: str
    material: Any
    label: str
    geom_tag: str = ""
    shape: str = ""
    points: tuple[tuple[float, float, float], ...] = ()
    radius: float = 0.0

    @property
    def selection(self) -> str:
        """Name of its domain selection (geometry-generated for inclusions)."""
        return f"geom1_{self.geom_tag}_dom" if self.geom_tag else "dom_m"

    @property
    def c_max_name(self) -> str:
        return f"c_max{self.key}"


@dataclass(frozen=True)
class MechanicsOptions:
    """The mechanics options of a model, as the plan uses them."""

    elastoplastic: bool = False
    yield_stress: Any = None
    hardening: float = 0.0
    stress_driven_diffusion: bool = False
    temperature: float = DEFAULT_TEMPERATURE


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if obj is not None and hasattr(obj, name):
            value = getattr(obj, name)
            if value is not None:
                return value
    return default


def mechanics_of(model: Any) -> MechanicsOptions:
    """The mechanics options of ``model`` (plain defaults where the model has none)."""
    mech = getattr(model, "mechanics", None)
    constitutive = str(_get(mech, "constitutive", default=_get(model, "constitutive", default="elastic")))
    if constitutive not in _CONSTITUTIVE:
        raise UnsupportedModel(
            f"model.mechanics.constitutive = {constitutive!r}: the COMSOL backend knows {', '.join(_CONSTITUTIVE)}"
        )
    elastoplastic = constitutive == "elastoplastic"
    # the model's rule: mechanics.yield_stress, else the (matrix) material's own
    yield_stress = _get(mech, "yield_stress", default=getattr(model.material, "yield_stress", None))
    if elastoplastic and yield_stress is None:
        raise UnsupportedModel(
            "model.mechanics.yield_stress is needed for constitutive: elastoplastic (a number in Pa or a law of"
            " theta), or a yield_stress of the material"
        )
    hardening = float(_get(mech, "hardening", "hardening_modulus", default=0.0) or 0.0)
    if hardening < 0 or not math.isfinite(hardening):
        raise UnsupportedModel(f"model.mechanics.hardening = {hardening!r}: a hardening modulus must be finite and >= 0 Pa")
    temperature = float(_get(model, "temperature", default=_get(mech, "temperature", default=DEFAULT_TEMPERATURE)))
    if not temperature > 0:
        raise UnsupportedModel(f"model.temperature = {temperature!r} K: must be positive")
    return MechanicsOptions(
        elastoplastic=elastoplastic,
        yield_stress=yield_stress,
        hardening=hardening,
        stress_driven_diffusion=bool(_get(mech, "stress_driven_diffusion", default=_get(model, "stress_driven_diffusion", default=False))),
        temperature=temperature,
    )


def is_law(value: Any, field: str) -> bool:
    """True for a law of theta (has ``.comsol``), False for a finite number; else UnsupportedModel."""
    if hasattr(value, "comsol"):
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value)):
        return False
    raise UnsupportedModel(f"{field} = {value!r}: the COMSOL backend takes a number (SI) or a law of theta")


def property_expr(value: Any, theta: str, unit: str, param: str, field: str) -> str:
    """COMSOL text of a material property: the parameter ``param`` for a number, or the law's
    expression of ``theta`` (times ``1[unit]``) for a law of theta."""
    if not is_law(value, field):
        return param
    text = value.comsol(theta=theta)
    return f"({text})*1[{unit}]" if unit else f"({text})"


def mechanical_properties(d: Domain, mech: MechanicsOptions) -> list[tuple[str, str, Any, str, str, str]]:
    """(variable, parameter, value, unit, description, field) of E, nu (and the yield stress) of a
    domain. An inclusion's material may carry its own ``yield_stress``; else the model's applies."""
    m, suffix = d.material, d.key or "_p"
    rows = [
        ("E_loc", f"E{suffix}", m.youngs_modulus, "Pa", "Young's modulus", "material.youngs_modulus"),
        ("nu_loc", f"nu{suffix}", m.poisson_ratio, "", "Poisson's ratio", "material.poisson_ratio"),
    ]
    if mech.elastoplastic:
        own = getattr(m, "yield_stress", None) if d.key else None
        rows.append(("sY_loc", f"sY{suffix}", own if own is not None else mech.yield_stress, "Pa", "Initial yield stress",
                     "model.mechanics.yield_stress"))
    return rows


def _point(value: Any, field: str) -> tuple[float, float, float]:
    try:
        point = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise UnsupportedModel(f"{field} = {value!r}: expected three coordinates in metres") from None
    if len(point) != 3 or not all(math.isfinite(v) for v in point):
        raise UnsupportedModel(f"{field} = {value!r}: expected three finite coordinates in metres")
    return point  # type: ignore[return-value]


def _material(value: Any, field: str) -> Any:
    if isinstance(value, str):
        from models import get_preset

        return get_preset(value)
    if value is None or not hasattr(value, "diffusivity"):
        raise UnsupportedModel(f"{field} = {value!r}: expected a material preset name or a Material")
    return value


def _farthest(p: np.ndarray, points: tuple, r: float) -> float:
    """Largest distance from the origin of a sphere (centre ``p``) or of a bar's end disk at ``p``
    (normal along the bar): sqrt((p.a)^2 + (|p - (p.a) a| + r)^2)."""
    if len(points) == 1:
        return float(np.linalg.norm(p) + r)
    a = np.subtract(points[1], points[0])
    a = a / np.linalg.norm(a)
    along = float(p @ a)
    return float(np.hypot(along, np.linalg.norm(p - along * a) + r))


def _inclusion(inc: Any, k: int, radius_particle: float) -> Domain:
    field = f"model.inclusions[{k - 1}]"
    shape = str(_get(inc, "shape", default=""))
    if shape not in _SHAPES:
        raise UnsupportedModel(f"{field}.shape = {shape!r}: the COMSOL backend builds {', '.join(_SHAPES)}")
    r = float(_get(inc, "radius", default=float("nan")))
    if not (r > 0 and math.isfinite(r)):
        raise UnsupportedModel(f"{field}.radius = {r!r}: must be a positive length in metres")
    if shape == "sphere":
        points = (_point(_get(inc, "center", "centre"), f"{field}.center"),)
    else:
        points = (_point(_get(inc, "start"), f"{field}.start"), _point(_get(inc, "end"), f"{field}.end"))
        if np.linalg.norm(np.subtract(points[1], points[0])) <= 0:
            raise UnsupportedModel(f"{field}: a bar needs start != end")
    for p in points:
        if _farthest(np.asarray(p), points, r) > radius_particle * (1 + 1e-9):
            raise UnsupportedModel(
                f"{field} reaches outside the particle (farther than R = {radius_particle:.4g} m from the centre);"
                " inclusions must lie inside the sphere"
            )
        if min(p) < -r * (1 - 1e-9):
            raise UnsupportedModel(f"{field}: a point lies outside the octant (x, y, z >= 0) by more than its radius")
    material = _material(_get(inc, "material"), f"{field}.material")
    name = str(getattr(material, "name", "material"))
    return Domain(key=f"_i{k}", material=material, label=f"{name} ({shape} inclusion {k})", geom_tag=f"inc{k}",
                  shape=shape, points=points, radius=r)


def _segment_distance(a: Domain, b: Domain) -> float:
    """Smallest distance between the axes (segments; a sphere's is a point) of two inclusions,
    sampled finely (inclusions are few; this runs once per plan)."""
    t = np.linspace(0.0, 1.0, 201)[:, None]

    def samples(d: Domain) -> np.ndarray:
        p0 = np.asarray(d.points[0])
        p1 = np.asarray(d.points[-1])
        return p0 + t * (p1 - p0)

    diff = samples(a)[:, None, :] - samples(b)[None, :, :]
    return float(np.sqrt((diff**2).sum(axis=-1)).min())


def domains_of(model: Any) -> list[Domain]:
    """The matrix domain and one domain per inclusion, checked (inside the particle, disjoint)."""
    matrix = model.material
    domains = [Domain(key="", material=matrix, label=f"{getattr(matrix, 'name', 'matrix')} (matrix)")]
    for k, inc in enumerate(getattr(model, "inclusions", None) or (), start=1):
        domains.append(_inclusion(inc, k, float(model.radius)))
    incs = domains[1:]
    for i, a in enumerate(incs):
        for b in incs[i + 1 :]:
            if _segment_distance(a, b) < a.radius + b.radius:
                raise UnsupportedModel(
                    f"inclusions {a.geom_tag[3:]} and {b.geom_tag[3:]} overlap: a shared region would need two"
                    " materials; move them apart or merge them into one inclusion"
                )
    return domains
