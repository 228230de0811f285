"""The study spec: schema, loading from YAML/TOML/JSON, and the errors a researcher sees.

A study spec names a study, picks a backend, defines the lithiation model (particle, material,
loading), the outputs, the numerics and an optional sweep. Every quantity is a number in SI or a
string with units (``4.11 um``, ``0.1 A/g``); after validation everything is SI floats.

Every model forbids unknown keys and every field has a description (``octant schema`` prints the
JSON Schema for editor completion). Specs are frozen: sweeps make validated copies.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from models import (
    PRESETS,
    BarInclusion,
    InclusionError,
    SphereInclusion,
    generate_inclusions,
    LithiationModel,
    MechanicsOptions,
    StopCondition,
)
from models.inclusions import check_inclusions
from solvers.api import MeshOptions, Numerics, OutputRequest, TimeOptions

from . import limits
from .errors import SpecError
from .spec_material import MaterialSpec, YieldStressLaw, _check_range, _number_or_law, _resolve_material, _Strict, _to_property, _unknown_preset
from .units import Quantity

__all__ = [
    "BACKEND_CHOICES",
    "StudySpec",
    "load_study",
    "parse_study",
    "study_from_dict",
]

BACKEND_CHOICES = ("auto", "native", "radial", "comsol")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


Length = Quantity("length")
Point3 = tuple[Length, Length, Length]


class _InclusionBase(_Strict):
    material: MaterialSpec = Field(description="A preset name (Sn, Sb, Si, ...) or an inline material table (optionally 'base: Sn').")
    radius: Annotated[Length, Field(gt=0, description="Sphere or bar radius, e.g. '0.5 um'.")]

    @field_validator("material", mode="before")
    @classmethod
    def _expand_material(cls, value: Any) -> Any:
        return _resolve_material(value)


class SphereInclusionSpec(_InclusionBase):
    """A sphere of another material: {material: Sn, shape: sphere, center: [1.5 um, 1.5 um, 1.5 um], radius: 0.5 um}."""

    shape: Literal["sphere"] = Field(description="Inclusion shape.")
    center: Point3 = Field(description="Centre [x, y, z] in the octant x, y, z >= 0; a coordinate 0 cuts it by that plane.")

    def to_inclusion(self) -> SphereInclusion:
        return SphereInclusion(self.material.to_material(), tuple(self.center), self.radius)


class BarInclusionSpec(_InclusionBase):
    """A bar (cylinder with flat ends) of another material around the segment start -> end."""

    shape: Literal["bar"] = Field(description="Inclusion shape.")
    start: Point3 = Field(description="One end of the bar axis [x, y, z].")
    end: Point3 = Field(description="The other end of the bar axis [x, y, z].")

    def to_inclusion(self) -> BarInclusion:
        return BarInclusion(self.material.to_material(), tuple(self.start), tuple(self.end), self.radius)


InclusionSpec = Annotated[Union[SphereInclusionSpec, BarInclusionSpec], Field(discriminator="shape")]


class InclusionGeneratorSpec(_Strict):
    """Random non-overlapping inclusions for given volume fractions (e.g. the paper's Si8.5Sn0.5Sb as Sn and
    Sb in Si: fractions {Sn: 0.063, Sb: 0.141}). Expanded into an explicit list when the spec is validated,
    so the stored spec and the run id name every inclusion."""

    fractions: dict[str, Annotated[float, Field(ge=0, lt=1)]] = Field(
        description="Material preset name -> volume fraction of the particle, e.g. {Sn: 0.063, Sb: 0.141}."
    )
    shape: Literal["sphere", "bar"] = Field("sphere", description="Shape of every generated inclusion.")
    size: Annotated[Length, Field(gt=0, description="Radius of each sphere or bar, e.g. '0.4 um'.")]
    length: Annotated[Length, Field(gt=0, description="Bar length; default 4 x size.")] | None = None
    seed: int = Field(0, ge=0, description="Random seed: the same seed gives the same inclusions.")

    @field_validator("fractions")
    @classmethod
    def _known_materials(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if name not in PRESETS:
                raise _unknown_preset(name)
        return value


class ParticleSpec(_Strict):
    """The particle geometry: radius and optional inclusions of other materials."""

    radius: Annotated[Quantity("length"), Field(gt=0, description="Particle radius R, e.g. '4.11 um' (mean size 8.22 um).")]
    inclusions: list[InclusionSpec] = Field(
        default_factory=list,
        description="Spheres and bars of other materials inside the particle (model.material is the matrix);"
        " or {generate: {fractions: {Sn: 0.063, Sb: 0.141}, shape: sphere, size: 0.4 um, seed: 1}}.",
    )

    @model_validator(mode="before")
    @classmethod
    def _generate(cls, data: Any) -> Any:
        if not (isinstance(data, dict) and isinstance(data.get("inclusions"), dict)):
            return data
        table = data["inclusions"]
        if set(table) != {"generate"}:
            raise ValueError(
                "'inclusions' is a list of spheres/bars or {generate: {fractions: ..., shape: ..., size: ..., seed: ...}},"
                f" got a table with keys {sorted(table)}"
            )
        generator = InclusionGeneratorSpec.model_validate(table["generate"])
        from .units import parse_quantity

        radius_m = parse_quantity(data.get("radius"), "length")
        placed = generate_inclusions(
            [(PRESETS[name], f) for name, f in generator.fractions.items()],
            radius=radius_m,
            shape=generator.shape,
            size=generator.size,
            length=generator.length,
            seed=generator.seed,
        )
        return {**data, "inclusions": [_inclusion_table(inc) for inc in placed]}

    @model_validator(mode="after")
    def _check_geometry(self) -> ParticleSpec:
        try:
            check_inclusions([inc.to_inclusion() for inc in self.inclusions], self.radius)
        except InclusionError as exc:
            raise ValueError(str(exc).replace("inclusions[", "model.particle.inclusions[")) from None
        return self


def _inclusion_table(inc: SphereInclusion | BarInclusion) -> dict[str, Any]:
    """A generated inclusion as the table a spec would spell out (material by preset name)."""
    if isinstance(inc, SphereInclusion):
        return {"material": inc.material.name, "shape": "sphere", "center": list(inc.center), "radius": inc.radius}
    return {"material": inc.material.name, "shape": "bar", "start": list(inc.start), "end": list(inc.end), "radius": inc.radius}


class StopSpec(_Strict):
    """When the run ends: give exactly one of dod, time, surface_theta, capacity."""

    dod: float | None = Field(None, gt=0, le=1.0, description="Stop at this depth of discharge (0, 1].")
    time: Annotated[Quantity("time"), Field(gt=0, description="Stop at this time, e.g. '10 h'.")] | None = None
    surface_theta: float | None = Field(
        None, gt=0, le=1.5, description="Stop when the maximum surface theta reaches this value."
    )
    capacity: Annotated[
        Quantity("specific_capacity"),
        Field(gt=0, description="Stop when the inserted specific capacity (current x time per mass) reaches this, e.g. '1 Ah/g'."),
    ] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StopSpec:
        given = [k for k in _STOP_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one stop condition (dod, time, surface_theta or capacity), got {given or 'none'};"
                " e.g. stop: {dod: 1.0} or stop: {capacity: 1 Ah/g}"
            )
        return self

    def to_condition(self) -> StopCondition:
        for kind in _STOP_KINDS:
            if getattr(self, kind) is not None:
                return StopCondition(kind=kind, value=float(getattr(self, kind)))
        raise AssertionError("unreachable")  # pragma: no cover


_STOP_KINDS = ("dod", "time", "surface_theta", "capacity")


class LoadingSpec(_Strict):
    """Galvanostatic loading."""

    specific_current: Annotated[
        Quantity("specific_current"),
        Field(gt=0, description="Specific current per gram of active material, e.g. '0.1 A/g'."),
    ]
    stop: StopSpec = Field(default_factory=lambda: StopSpec(dod=1.0), description="When to stop.")


class MechanicsSpec(_Strict):
    """Constitutive law of the particle and stress-driven diffusion."""

    constitutive: Literal["elastic", "elastoplastic"] = Field(
        "elastic",
        description="elastic (default; isotropic linear elasticity, the paper) | elastoplastic (small-strain J2 flow).",
    )
    yield_stress: Union[float, YieldStressLaw, None] = Field(
        None,
        description="elastoplastic only: yield stress sigma_Y, a number ('1.75 GPa', lithiated Si, Sethuraman et al."
        " 2010) or a law of theta; default: the material's yield_stress.",
    )
    hardening_modulus: Annotated[
        Quantity("pressure"), Field(ge=0, description="elastoplastic only: linear isotropic hardening modulus H (0 = perfectly plastic).")
    ] = 0.0
    stress_driven_diffusion: bool = Field(
        False, description="Two-way coupling: flux J = -D (grad c - Omega c/(R T) grad sigma_h) (uses model.temperature)."
    )

    @field_validator("yield_stress", mode="before")
    @classmethod
    def _pressure_or_law(cls, value: Any) -> Any:
        return _number_or_law(value, "pressure")

    @field_validator("yield_stress")
    @classmethod
    def _check_yield(cls, value: Any) -> Any:
        return _check_range("yield_stress", value, 0.0, float("inf"), "Pa")

    @model_validator(mode="after")
    def _consistent(self) -> MechanicsSpec:
        if self.constitutive == "elastic" and self.yield_stress is not None:
            raise ValueError(
                "yield_stress is given but constitutive is 'elastic': write constitutive: elastoplastic, or remove yield_stress"
            )
        if self.constitutive == "elastic" and self.hardening_modulus != 0.0:
            raise ValueError("hardening_modulus applies to constitutive: elastoplastic only; set it or remove hardening_modulus")
        return self

    def to_options(self) -> MechanicsOptions:
        return MechanicsOptions(
            constitutive=self.constitutive,
            yield_stress=_to_property(self.yield_stress, "Pa"),
            hardening_modulus=self.hardening_modulus,
            stress_driven_diffusion=self.stress_driven_diffusion,
        )


class ModelSpec(_Strict):
    """The physics: particle, material, loading, initial and stress-free states."""

    particle: ParticleSpec = Field(description="Particle geometry.")
    material: MaterialSpec = Field(description="The matrix: a preset name (Si, Si8.5Sn0.5Sb, Sn, Sb) or an inline table (optionally 'base: Si').")
    loading: LoadingSpec = Field(description="Galvanostatic loading and stop condition.")
    initial_theta: float = Field(0.0, ge=0, lt=1, description="Uniform initial state of charge theta0 = c0/c_max.")
    reference_theta: float | None = Field(
        None, ge=0, le=1, description="Stress-free state c_ref/c_max; default: the initial state."
    )
    mechanics: MechanicsSpec = Field(
        default_factory=MechanicsSpec, description="Constitutive law (elastic | elastoplastic) and stress-driven diffusion."
    )
    temperature: Annotated[
        Quantity("temperature"), Field(gt=0, description="Absolute temperature T, e.g. '298.15 K' (stress-driven diffusion).")
    ] = 298.15

    @model_validator(mode="after")
    def _yield_stress_given(self) -> ModelSpec:
        if self.mechanics.constitutive == "elastoplastic" and self.mechanics.yield_stress is None and self.material.yield_stress is None:
            raise ValueError(
                "constitutive: elastoplastic needs a yield stress: add model.mechanics.yield_stress (e.g. 1.75 GPa for"
                " lithiated Si, Sethuraman et al. 2010) or material.yield_stress"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _explain_moved_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "inclusions" in data:
                raise ValueError("'model.inclusions' belongs to the particle: write 'model.particle.inclusions'")
            if "radius" in data:
                raise ValueError("'model.radius' has moved: write 'model.particle.radius'")
            if "specific_current" in data:
                raise ValueError("'model.specific_current' has moved: write 'model.loading.specific_current'")
            for key in ("constitutive", "yield_stress", "stress_driven_diffusion", "plasticity"):
                if key in data:
                    raise ValueError(f"'model.{key}' belongs under 'model.mechanics' (e.g. mechanics: {{constitutive: elastoplastic, yield_stress: 1.75 GPa}})")
        return data

    @field_validator("material", mode="before")
    @classmethod
    def _expand_material(cls, value: Any) -> Any:
        return _resolve_material(value)

    def to_model(self) -> LithiationModel:
        return LithiationModel(
            radius=self.particle.radius,
            material=self.material.to_material(),
            specific_current=self.loading.specific_current,
            stop=self.loading.stop.to_condition(),
            inclusions=tuple(inc.to_inclusion() for inc in self.particle.inclusions),
            initial_theta=self.initial_theta,
            reference_theta=self.reference_theta,
            mechanics=self.mechanics.to_options(),
            temperature=self.temperature,
        )


# --------------------------------------------------------------------------------------------------
# outputs and numerics
# --------------------------------------------------------------------------------------------------
class FieldsAtSpec(_Strict):
    """When full 3D fields are stored."""

    dod: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: [0.25, 0.5, 1.0], description="Depths of discharge at which to store fields."
    )
    times: list[Quantity("time")] = Field(default_factory=list, description="Times at which to store fields, e.g. ['1 h', '2 h'].")
    capacity: list[Annotated[Quantity("specific_capacity"), Field(gt=0)]] = Field(
        default_factory=list,
        description="Inserted specific capacities (current x time per mass) at which to store fields, e.g. ['0.5 Ah/g', '1 Ah/g'].",
    )
    every: int | None = Field(None, ge=1, description="Also store fields every N accepted time steps.")


class ScalarsSpec(_Strict):
    """What scalars.csv carries besides the per-step transport scalars."""

    every_dod: Annotated[float, Field(ge=0, le=1)] | None = Field(
        0.005,
        description=(
            "Cadence of the stress extrema (max von Mises, min/max hydrostatic) in scalars.csv: evaluated"
            " whenever the DOD passes the next multiple of this (and at fields and the last step);"
            " 0 = every time step, null = never. The default gives a smooth curve with ~200 mechanics solves."
        ),
    )


class OutputsSpec(_Strict):
    """What to store."""

    fields_at: FieldsAtSpec = Field(default_factory=FieldsAtSpec, description="Field output times.")
    scalars: ScalarsSpec = Field(default_factory=ScalarsSpec, description="Scalar time series (scalars.csv).")

    def to_request(self) -> OutputRequest:
        f = self.fields_at
        return OutputRequest(
            dods=tuple(f.dod),
            times=tuple(f.times),
            every=f.every,
            stress_every_dod=self.scalars.every_dod,
            capacities=tuple(f.capacity),
        )


class MeshSpec(_Strict):
    """Native mesh."""

    size: Literal["coarse", "medium", "fine"] = Field("medium", description="Mesh size preset.")
    element_size: Annotated[Quantity("length"), Field(gt=0, description="Element size at the surface; overrides size.")] | None = None
    surface_grading: float = Field(3.0, ge=1.0, le=20.0, description="Ratio of element size at the centre to the surface.")
    file: str | None = Field(None, description="A .mphtxt or .msh mesh file in metres (relative to the spec file).")
    radial_nodes: int | None = Field(None, ge=8, le=100000, description="Node count of the 1D radial solver.")

    @field_validator("file")
    @classmethod
    def _mesh_suffix(cls, value: str | None) -> str | None:
        if value is not None and Path(value).suffix.lower() not in (".mphtxt", ".msh"):
            raise ValueError(f"mesh file {value!r} must be a COMSOL .mphtxt or a Gmsh .msh file")
        return value


class TimeSpec(_Strict):
    """Adaptive time stepping."""

    rtol: float = Field(1e-4, gt=0, lt=1, description="Relative local error tolerance.")
    atol: float = Field(1e-6, gt=0, lt=1, description="Absolute local error tolerance on theta.")
    order: Literal[1, 2] = Field(2, description="BDF order (1 or 2).")
    initial_step: Annotated[Quantity("time"), Field(gt=0, description="First step size.")] | None = None
    max_step: Annotated[Quantity("time"), Field(gt=0, description="Largest step size.")] | None = None


class NumericsSpec(_Strict):
    """Solver numerics (native and radial backends; COMSOL uses mesh.size)."""

    mesh: MeshSpec = Field(default_factory=MeshSpec, description="Mesh.")
    time: TimeSpec = Field(default_factory=TimeSpec, description="Time stepping.")
    linear_solver: Literal["auto", "cholmod", "pardiso", "superlu", "amg"] = Field(
        "auto", description="Linear solver for elasticity: auto = CHOLMOD if installed, else PARDISO (pypardiso), else SuperLU (small) or AMG-CG."
    )
    transport: Literal["lumped", "lumped-p2", "galerkin"] = Field(
        "lumped",
        description=(
            "Native transport scheme: lumped (lumped-mass edge scheme on the vertices; no undershoot at sharp"
            " fronts), lumped-p2 (the same on the P2 node set, 8x the transport resolution, slower), galerkin"
            " (consistent mass; undershoots at sharp fronts)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _explain_moved_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "stress_every_step" in data:
            raise ValueError(
                "'numerics.stress_every_step' has moved to 'outputs.scalars.every_dod' (the stress-extrema"
                " cadence in DOD): write outputs: {scalars: {every_dod: 0}} for every step, the default 0.005"
                " for a smooth curve at ~200 mechanics solves, or null for none; then remove the key"
            )
        return data

    def to_numerics(self) -> Numerics:
        m, t = self.mesh, self.time
        return Numerics(
            mesh=MeshOptions(
                size=m.size,
                element_size=m.element_size,
                surface_grading=m.surface_grading,
                file=m.file,
                radial_nodes=m.radial_nodes,
            ),
            time=TimeOptions(rtol=t.rtol, atol=t.atol, order=t.order, initial_step=t.initial_step, max_step=t.max_step),
            linear_solver=self.linear_solver,
            transport=self.transport,
        )


class SweepSpec(_Strict):
    """Parameter sweep: grid = Cartesian product, zip = lists advanced in lockstep."""

    grid: dict[str, list[Any]] = Field(default_factory=dict, description="Field path -> list of values (product).")
    zip: dict[str, list[Any]] = Field(default_factory=dict, description="Field path -> list of values (lockstep).")

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        for kind in ("grid", "zip"):
            for path, values in getattr(self, kind).items():
                if not values:
                    raise ValueError(f"sweep.{kind}.{path} is an empty list; give at least one value")
        lengths = {len(v) for v in self.zip.values()}
        if len(lengths) > 1:
            raise ValueError(f"sweep.zip lists must have the same length, got lengths {sorted(lengths)}")
        both = set(self.grid) & set(self.zip)
        if both:
            raise ValueError(f"{sorted(both)} appear in both sweep.grid and sweep.zip; keep each path in one")
        return self


class StudySpec(_Strict):
    """A study: one lithiation model, its outputs and numerics, and an optional sweep."""

    spec_version: Literal[1] = Field(description="Spec format version; this octant reads version 1.")
    name: str = Field(pattern=NAME_PATTERN, description="Study name: letters, digits, '.', '_', '-' (the runs/ folder).")
    description: str = Field("", description="Free text.")
    backend: Literal["auto", "native", "radial", "comsol"] = Field(
        "auto", description="auto (COMSOL if found, else native) | native | radial | comsol."
    )
    model: ModelSpec = Field(description="The physics.")
    outputs: OutputsSpec = Field(default_factory=OutputsSpec, description="What to store.")
    numerics: NumericsSpec = Field(default_factory=NumericsSpec, description="Solver numerics.")
    sweep: SweepSpec | None = Field(None, description="Parameter sweep over field paths, e.g. model.material.")

    @model_validator(mode="before")
    @classmethod
    def _explain_renamed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "version" in data and "spec_version" not in data:
                raise ValueError("'version' is called 'spec_version' (write spec_version: 1)")
            if "outputs" in data and isinstance(data["outputs"], dict) and "fields" in data["outputs"]:
                raise ValueError("'outputs.fields' is called 'outputs.fields_at' (e.g. fields_at: {dod: [0.5, 1.0]})")
        return data

    @model_validator(mode="after")
    def _radial_has_no_inclusions(self) -> StudySpec:
        if self.backend == "radial" and self.model.particle.inclusions:
            raise ValueError(
                "backend 'radial' is spherically symmetric and cannot model model.particle.inclusions;"
                " use backend native (or comsol), or remove the inclusions"
            )
        return self

    def runs(self, max_runs: int | None = None):
        """Expand the sweep into frozen :class:`~orchestrator.runspec.RunSpec` objects (at most ``max_runs``)."""
        from .sweep import expand

        return expand(self, max_runs)

    def physics(self) -> LithiationModel:
        return self.model.to_model()


# --------------------------------------------------------------------------------------------------
# loading and errors
# --------------------------------------------------------------------------------------------------
def _field_names(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Names of the fields allowed at ``path`` inside ``model`` (for close-match suggestions)."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            return []
        current = _first_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = _clean_loc(err["loc"])
        path = ".".join(str(p) for p in loc) or "(top level)"
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _field_names(StudySpec, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            msg = f"unknown key {str(loc[-1])!r}.{hint} Allowed here: {', '.join(allowed)}"
            lines.append(f"  {path}: {msg}")
            continue
        if err["type"] == "missing":
            lines.append(f"  {path}: required field is missing")
            continue
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        if len(shown) > 80:  # never echo a huge hostile value back
            shown = f"{shown[:60]}... ({len(shown)} characters)"
        lines.append(f"  {path} = {shown}: {msg}")
    return f"{source}: invalid study spec\n" + "\n".join(lines)


_UNION_TAGS = {"constant", "exponential", "step", "expression"}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (``diffusivity.step.low`` -> ``diffusivity.low``)."""
    cleaned: list[Any] = []
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or (part in _UNION_TAGS and cleaned[-1:] == ["diffusivity"])):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def study_from_dict(data: Any, source: str = "<spec>") -> StudySpec:
    """Validate a parsed document; raise :class:`SpecError` naming ``source`` and the fields."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a study spec must be a mapping of keys (spec_version, name, model, ...), got {type(data).__name__}")
    try:
        study = StudySpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_format_errors(exc, source)) from None
    limits.check_laws(study, source)  # every law finite and in range on theta in [0, 1.2]
    return study


def parse_study(text: str, fmt: str, source: str = "<spec>") -> StudySpec:
    """Parse ``text`` in ``fmt`` (yaml, toml, json) and validate it."""
    try:
        if fmt == "yaml":
            data = limits.load_yaml(text, source)  # refuses alias bombs
        elif fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            raise SpecError(f"{source}: unknown spec format {fmt!r}; use .yaml, .yml, .toml or .json")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise limits.syntax_error(exc, fmt, source) from None
    return study_from_dict(data, source)


_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


def load_study(path: str | Path) -> StudySpec:
    """Load and validate a study spec file (format from the extension).

    A relative ``numerics.mesh.file`` is resolved against the spec file's folder.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SpecError(f"{path}: unknown spec file extension {path.suffix!r}; use .yaml, .yml, .toml or .json")
    text = limits.read_spec_text(path)  # a regular file of bounded size (not /dev/zero)
    study = parse_study(text, fmt, str(path))
    mesh_file = study.numerics.mesh.file
    if mesh_file is not None and not Path(mesh_file).is_absolute():
        resolved = (path.parent / mesh_file).resolve()
        mesh = study.numerics.mesh.model_copy(update={"file": str(resolved)})
        study = study.model_copy(update={"numerics": study.numerics.model_copy(update={"mesh": mesh})})
    if mesh_file is not None and not Path(study.numerics.mesh.file).exists():
        raise SpecError(f"{path}: numerics.mesh.file = {mesh_file!r}: no such file")
    return study


def check_name(name: str) -> str:
    """Raise SpecError unless ``name`` is a safe study name (no path separators, no '..')."""
    if not re.match(NAME_PATTERN, name or ""):
        raise SpecError(f"study name {name!r} must match {NAME_PATTERN} (letters, digits, '.', '_', '-')")
    return name
