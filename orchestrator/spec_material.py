"""Study-spec schema of materials: property laws of theta (D, E, nu, yield stress) and material tables.

A material is a preset name, an inline table, or a table that starts from a preset with ``base:``;
every property may be a number with units or a law of theta (``constant``, ``exponential``,
``step``, ``linear``, ``expression``). After validation everything is SI.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from models import (
    PRESETS,
    ConstantDiffusivity,
    ExponentialDiffusivity,
    ExpressionDiffusivity,
    ExpressionError,
    LinearDiffusivity,
    Material,
    StepDiffusivity,
)
from models.laws import ExpressionLaw, is_law, law_from_table

from .units import Quantity, parse_quantity

__all__ = ["MaterialSpec", "YieldStressLaw"]

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------------


class _LawBase(_Strict):
    scale: float = Field(1.0, gt=0, description="Factor multiplying the whole law (the alloy is the Si law times 10).")


class ConstantLawSpec(_LawBase):
    """D = value."""

    law: Literal["constant"] = Field(description="Law name.")
    value: Annotated[Quantity("diffusivity"), Field(gt=0, description="Diffusivity, e.g. '2e-15 m^2/s'.")]


class ExponentialLawSpec(_LawBase):
    """D = low * (high/low)^theta."""

    law: Literal["exponential"] = Field(description="Law name.")
    low: Annotated[Quantity("diffusivity"), Field(gt=0, description="D at theta = 0 (Li-poor).")]
    high: Annotated[Quantity("diffusivity"), Field(gt=0, description="D at theta = 1 (Li-rich).")]


class StepLawSpec(_LawBase):
    """D = low + (high - low)/2 * (1 + tanh((theta - theta_f)/width))."""

    law: Literal["step"] = Field(description="Law name.")
    low: Annotated[Quantity("diffusivity"), Field(gt=0, description="D of the Li-poor phase.")]
    high: Annotated[Quantity("diffusivity"), Field(gt=0, description="D of the Li-rich phase.")]
    theta_f: float = Field(0.5, gt=0, lt=1, description="State of charge theta at the front (mid-step).")
    width: float = Field(0.05, gt=0, le=1, description="Width of the smoothed step in theta.")


class LinearLawSpec(_LawBase):
    """D = low + (high - low) * theta."""

    law: Literal["linear"] = Field(description="Law name.")
    low: Annotated[Quantity("diffusivity"), Field(gt=0, description="D at theta = 0 (Li-poor).")]
    high: Annotated[Quantity("diffusivity"), Field(gt=0, description="D at theta = 1 (Li-rich).")]


class ExpressionLawSpec(_LawBase):
    """D given as an expression in theta (SI units)."""

    law: Literal["expression"] = Field(description="Law name.")
    expr: str = Field(
        description="Expression in theta (= c/c_max), SI units: numbers, theta, + - * / ^, exp, log, tanh, sqrt, min, max."
    )

    @field_validator("expr")
    @classmethod
    def _check_expr(cls, value: str) -> str:
        try:
            ExpressionDiffusivity(expr=value)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()


DiffusivitySpec = Annotated[
    Union[ConstantLawSpec, ExponentialLawSpec, StepLawSpec, LinearLawSpec, ExpressionLawSpec],
    Field(discriminator="law"),
]


def _property_laws(label: str, dimension: str | None, example: str) -> Any:
    """The law tables (constant | exponential | step | linear | expression) of one property of theta.

    ``dimension``: a :mod:`.units` dimension of the values (None: dimensionless numbers).
    """
    value = float if dimension is None else Quantity(dimension)
    doc = f"{label} as a law of theta (values in SI or with units, e.g. {example})."

    def law(name: str, **fields: Any) -> type[BaseModel]:
        return create_model(
            f"{label.title().replace(' ', '').replace(chr(39), '')}{name.title()}Law",
            __base__=_LawBase,
            __doc__=doc,
            law=(Literal[name], Field(description="Law name.")),
            **fields,
        )

    ends = {
        "low": (value, Field(description=f"{label} at theta = 0 (Li-poor), e.g. {example}.")),
        "high": (value, Field(description=f"{label} at theta = 1 (Li-rich).")),
    }
    return Annotated[
        Union[
            law("constant", value=(value, Field(description=f"{label}, e.g. {example}."))),
            law("exponential", **ends),
            law(
                "step",
                **ends,
                theta_f=(float, Field(0.5, gt=0, lt=1, description="theta at the mid-step.")),
                width=(float, Field(0.05, gt=0, le=1, description="Width of the smoothed step in theta.")),
            ),
            law("linear", **ends),
            law("expression", expr=(str, Field(description="Expression in theta, SI units (e.g. '80e9 - 68e9*theta')."))),
        ],
        Field(discriminator="law"),
    ]


YoungsModulusLaw = _property_laws("Young's modulus", "pressure", "'80 GPa'")
PoissonRatioLaw = _property_laws("Poisson's ratio", None, "0.22")
YieldStressLaw = _property_laws("yield stress", "pressure", "'1.75 GPa'")


def _to_property(value: Any, unit: str) -> Any:
    """A validated number-or-law spec value as a float or a :mod:`models.laws` law (SI, ``unit``)."""
    if isinstance(value, BaseModel):
        return law_from_table(value.model_dump(), unit)
    return value


def _number_or_law(value: Any, dimension: str | None) -> Any:
    """Before-validator: numbers and unit text become SI floats; tables stay for the law union."""
    if isinstance(value, dict) or isinstance(value, BaseModel) or value is None:
        return value
    if dimension is None:
        return value
    return parse_quantity(value, dimension)


def _check_range(name: str, value: Any, lo: float, hi: float, unit: str, lo_open: bool = True) -> Any:
    """Raise ValueError unless the number or the law (sampled on theta in [0, 1]) stays in (lo, hi)."""
    if value is None:
        return value
    if isinstance(value, BaseModel):
        table = value.model_dump()
        if table["law"] == "expression":
            try:
                ExpressionLaw(expr=table["expr"])
            except (ExpressionError, ValueError) as exc:
                raise ValueError(str(exc)) from None
        try:
            vmin, vmax = law_from_table(table, unit).bounds()
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"{name}: {exc}") from None
    else:
        vmin = vmax = float(value)
    if vmin > lo and vmax < hi:
        return value
    bound = f"greater than {lo:g}" + (f" and less than {hi:g}" if hi < float("inf") else "")
    unit_text = f" {unit}" if unit else ""
    if not isinstance(value, BaseModel):
        raise ValueError(f"{name} must be {bound}{unit_text}, got {vmin:.6g}")
    raise ValueError(f"{name} must be {bound}{unit_text} for every theta in [0, 1]; this law spans [{vmin:.6g}, {vmax:.6g}]")


class MaterialSpec(_Strict):
    """A fully resolved material (presets and ``base:`` tables are expanded into this)."""

    name: str = Field(description="Label of the material in tables and plots.")
    diffusivity: DiffusivitySpec = Field(description="D(theta) law: constant | exponential | step | expression.")
    youngs_modulus: Union[float, YoungsModulusLaw] = Field(
        description="Young's modulus E: a number ('80 GPa') or a law of theta, e.g. {law: linear, low: 80 GPa, high: 12 GPa}."
    )
    poisson_ratio: Union[float, PoissonRatioLaw] = Field(
        description="Poisson's ratio nu in (-1, 0.5): a number or a law of theta."
    )
    partial_molar_volume: Annotated[
        Quantity("molar_volume"), Field(ge=0, description="Partial molar volume Omega, e.g. '9e-6 m^3/mol'.")
    ]
    density: Annotated[Quantity("density"), Field(gt=0, description="Density of the active material, e.g. '2.33 g/cm^3'.")]
    capacity: Annotated[
        Quantity("specific_capacity"), Field(gt=0, description="Specific capacity, e.g. '3579 mAh/g'.")
    ]
    sources: dict[str, str] = Field(default_factory=dict, description="Where the numbers come from (free text).")
    yield_stress: Union[float, YieldStressLaw, None] = Field(
        None,
        description="Yield stress sigma_Y for constitutive: elastoplastic (a number or a law of theta);"
        " model.mechanics.yield_stress overrides it.",
    )

    @field_validator("youngs_modulus", "yield_stress", mode="before")
    @classmethod
    def _pressure_or_law(cls, value: Any) -> Any:
        return _number_or_law(value, "pressure")

    @field_validator("youngs_modulus")
    @classmethod
    def _check_youngs(cls, value: Any) -> Any:
        return _check_range("youngs_modulus", value, 0.0, float("inf"), "Pa")

    @field_validator("poisson_ratio")
    @classmethod
    def _check_poisson(cls, value: Any) -> Any:
        return _check_range("poisson_ratio", value, -1.0, 0.5, "")

    @field_validator("yield_stress")
    @classmethod
    def _check_yield(cls, value: Any) -> Any:
        return _check_range("yield_stress", value, 0.0, float("inf"), "Pa")

    def to_material(self) -> Material:
        law = self.diffusivity
        laws = {
            "constant": lambda: ConstantDiffusivity(value=law.value, scale=law.scale),
            "exponential": lambda: ExponentialDiffusivity(low=law.low, high=law.high, scale=law.scale),
            "step": lambda: StepDiffusivity(
                low=law.low, high=law.high, theta_f=law.theta_f, width=law.width, scale=law.scale
            ),
            "linear": lambda: LinearDiffusivity(low=law.low, high=law.high, scale=law.scale),
            "expression": lambda: ExpressionDiffusivity(expr=law.expr, scale=law.scale),
        }
        return Material(
            name=self.name,
            diffusivity=laws[law.law](),
            youngs_modulus=_to_property(self.youngs_modulus, "Pa"),
            poisson_ratio=_to_property(self.poisson_ratio, "1"),
            yield_stress=_to_property(self.yield_stress, "Pa"),
            partial_molar_volume=self.partial_molar_volume,
            density=self.density,
            capacity=self.capacity,
            sources=dict(self.sources),
        )


def _preset_table(name: str) -> dict[str, Any]:
    """A preset as the plain table a spec would spell out."""
    material = PRESETS[name]
    def table(value: Any) -> Any:
        if not is_law(value):
            return value
        return {k: getattr(value, k) for k in value.__dataclass_fields__ if k != "unit"}

    extra = {} if material.yield_stress is None else {"yield_stress": table(material.yield_stress)}
    return {
        **extra,
        "name": material.name,
        "diffusivity": table(material.diffusivity),
        "youngs_modulus": table(material.youngs_modulus),
        "poisson_ratio": table(material.poisson_ratio),
        "partial_molar_volume": material.partial_molar_volume,
        "density": material.density,
        "capacity": material.capacity,
        "sources": dict(material.sources),
    }


def _unknown_preset(name: Any) -> ValueError:
    hint = difflib.get_close_matches(str(name), PRESETS, n=1)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    return ValueError(
        f"unknown material preset {name!r}; known presets: {', '.join(PRESETS)}.{did_you_mean}"
        " Or write an inline table (optionally with 'base: Si')."
    )


def _resolve_material(value: Any) -> Any:
    """Expand a preset name or a ``base:`` table into a full material table."""
    if isinstance(value, str):
        if value not in PRESETS:
            raise _unknown_preset(value)
        return _preset_table(value)
    if isinstance(value, dict) and "base" in value:
        base = value["base"]
        if base not in PRESETS:
            raise _unknown_preset(base)
        table = _preset_table(base)
        overrides = {k: v for k, v in value.items() if k != "base"}
        if "diffusivity" in overrides:  # a new law replaces the preset's law entirely
            table["sources"] = {k: v for k, v in table["sources"].items() if k != "diffusivity"}
        if "name" not in overrides and len(overrides) > 0:
            overrides["name"] = f"{base} (modified)"
        table.update(overrides)
        return table
    return value
