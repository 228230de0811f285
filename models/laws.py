"""Property laws of theta: one law system for every material property (theta = c / c_max).

A law is a small frozen dataclass with its parameters in SI units (its ``unit`` names them) that
reduces to one :class:`~models.expressions.Expression`, so the numpy solvers and the COMSOL backend
evaluate exactly the same formula, with an exact derivative d/dtheta:

``constant``     f = value
``exponential``  f = low * (high / low)^theta                (log-linear between the end members)
``step``         f = low + (high - low)/2 * (1 + tanh((theta - theta_f) / width))
                 (smoothed two-phase law: Li-poor ``low`` below the front, Li-rich ``high`` above)
``linear``       f = low + (high - low) * theta               (e.g. the softening of lithiated Si)
``expression``   any text of the law grammar, SI units

``scale`` multiplies the whole law (the Si8.5Sn0.5Sb alloy is the Si diffusivity law times 10).
The same classes serve the diffusivity D(theta) [m^2/s], Young's modulus E(theta) [Pa], Poisson's
ratio nu(theta) [-] and the yield stress sigma_Y(theta) [Pa]; the ``*Diffusivity`` names are the
same laws with the unit m^2/s.

:func:`as_law` turns a plain number into a :class:`ConstantLaw`; :func:`law_value` evaluates a
number-or-law at theta arrays; :func:`law_comsol` writes either as COMSOL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Union

import numpy as np

from .expressions import Expression, parse_expression

__all__ = [
    "ConstantDiffusivity",
    "ConstantLaw",
    "DiffusivityLaw",
    "ExponentialDiffusivity",
    "ExponentialLaw",
    "ExpressionDiffusivity",
    "ExpressionLaw",
    "LAW_NAMES",
    "LinearDiffusivity",
    "LinearLaw",
    "PropertyLaw",
    "StepDiffusivity",
    "StepLaw",
    "as_law",
    "is_law",
    "law_comsol",
    "law_derivative",
    "law_from_table",
    "law_value",
]

LAW_NAMES = ("constant", "exponential", "step", "linear", "expression")


class _LawBase:
    """Shared behaviour: evaluation, exact derivative, COMSOL text."""

    scale: float
    unit: str

    @property
    def formula(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @cached_property
    def expression(self) -> Expression:
        """The law as a checked expression (including ``scale``)."""
        text = self.formula if self.scale == 1.0 else f"{self.scale!r}*({self.formula})"
        return parse_expression(text)

    def __call__(self, theta: np.ndarray | float) -> np.ndarray:
        """The property [``unit``] at state of charge ``theta`` [-]."""
        return self.expression(np.asarray(theta, dtype=float))

    def derivative(self, theta: np.ndarray | float) -> np.ndarray:
        """d(property)/dtheta [``unit``], exact."""
        return self.expression.derivative_theta(theta)

    def comsol(self, theta: str = "theta") -> str:
        """COMSOL expression of the property in SI units; ``theta`` is the state-of-charge text."""
        name = theta if theta.isidentifier() else f"({theta})"
        return self.expression.comsol(theta=name, c=name)

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value on theta in [0, 1] (sampled), in ``unit``."""
        values = self(np.linspace(0.0, 1.0, 1001))
        return float(values.min()), float(values.max())

    @property
    def is_constant(self) -> bool:
        """True when the law does not depend on theta."""
        return "theta" not in self.expression.variables and "c" not in self.expression.variables


@dataclass(frozen=True)
class ConstantLaw(_LawBase):
    """f = value [unit]."""

    value: float
    scale: float = 1.0
    unit: str = "1"
    law: Literal["constant"] = "constant"

    @property
    def formula(self) -> str:
        return repr(float(self.value))


@dataclass(frozen=True)
class ExponentialLaw(_LawBase):
    """f = low * (high/low)^theta [unit]: low at theta = 0, high at theta = 1 (same sign)."""

    low: float
    high: float
    scale: float = 1.0
    unit: str = "1"
    law: Literal["exponential"] = "exponential"

    def __post_init__(self) -> None:
        if not float(self.low) * float(self.high) > 0:
            raise ValueError(f"an exponential law needs low and high of the same sign, got {self.low!r}, {self.high!r}")

    @property
    def formula(self) -> str:
        return f"{float(self.low)!r}*({float(self.high) / float(self.low)!r})^theta"


@dataclass(frozen=True)
class StepLaw(_LawBase):
    """Smoothed two-level law: f = low + (high-low)/2 (1 + tanh((theta - theta_f)/width)) [unit]."""

    low: float
    high: float
    theta_f: float = 0.5
    width: float = 0.05
    scale: float = 1.0
    unit: str = "1"
    law: Literal["step"] = "step"

    @property
    def formula(self) -> str:
        half = (float(self.high) - float(self.low)) / 2.0
        return f"{float(self.low)!r}+{half!r}*(1+tanh((theta-{float(self.theta_f)!r})/{float(self.width)!r}))"


@dataclass(frozen=True)
class LinearLaw(_LawBase):
    """f = low + (high - low) theta [unit]: low at theta = 0, high at theta = 1."""

    low: float
    high: float
    scale: float = 1.0
    unit: str = "1"
    law: Literal["linear"] = "linear"

    @property
    def formula(self) -> str:
        return f"{float(self.low)!r}+{float(self.high) - float(self.low)!r}*theta"


@dataclass(frozen=True)
class ExpressionLaw(_LawBase):
    """f given as text of the law grammar in SI units, in ``theta`` (= c / c_max)."""

    expr: str
    scale: float = 1.0
    unit: str = "1"
    law: Literal["expression"] = "expression"

    def __post_init__(self) -> None:
        parsed = parse_expression(self.expr)
        if "c" in parsed.variables:
            raise ValueError(
                f"law expression {self.expr!r} uses 'c'; write it in 'theta' (= c/c_max) so that"
                " it does not depend on the material's c_max"
            )

    @property
    def formula(self) -> str:
        return self.expr


# The diffusivity laws: the same laws, in m^2/s.
@dataclass(frozen=True)
class ConstantDiffusivity(ConstantLaw):
    """D = value [m^2/s]."""

    unit: str = "m^2/s"


@dataclass(frozen=True)
class ExponentialDiffusivity(ExponentialLaw):
    """D = low * (high/low)^theta [m^2/s]."""

    unit: str = "m^2/s"


@dataclass(frozen=True)
class StepDiffusivity(StepLaw):
    """D = low + (high-low)/2 (1 + tanh((theta - theta_f)/width)) [m^2/s]."""

    unit: str = "m^2/s"


@dataclass(frozen=True)
class LinearDiffusivity(LinearLaw):
    """D = low + (high - low) theta [m^2/s]."""

    unit: str = "m^2/s"


@dataclass(frozen=True)
class ExpressionDiffusivity(ExpressionLaw):
    """D given as text of the law grammar in m^2/s, in ``theta``."""

    unit: str = "m^2/s"


PropertyLaw = Union[ConstantLaw, ExponentialLaw, StepLaw, LinearLaw, ExpressionLaw]
DiffusivityLaw = PropertyLaw

_CLASSES = {"constant": ConstantLaw, "exponential": ExponentialLaw, "step": StepLaw, "linear": LinearLaw,
            "expression": ExpressionLaw}


def is_law(value: object) -> bool:
    """True for a law object (not a plain number)."""
    return isinstance(value, _LawBase)


def as_law(value: float | PropertyLaw, unit: str = "1") -> PropertyLaw:
    """``value`` as a law: a number becomes a :class:`ConstantLaw` in ``unit``."""
    return value if is_law(value) else ConstantLaw(value=float(value), unit=unit)


def law_value(value: float | PropertyLaw, theta: np.ndarray | float) -> np.ndarray:
    """A number-or-law evaluated at ``theta`` (an array shaped like ``theta``)."""
    theta = np.asarray(theta, dtype=float)
    if is_law(value):
        return np.asarray(value(theta), dtype=float) * np.ones_like(theta)
    return np.full(theta.shape, float(value))


def law_derivative(value: float | PropertyLaw, theta: np.ndarray | float) -> np.ndarray:
    """d/dtheta of a number-or-law (zero for a number), shaped like ``theta``."""
    theta = np.asarray(theta, dtype=float)
    if is_law(value):
        return np.asarray(value.derivative(theta), dtype=float) * np.ones_like(theta)
    return np.zeros(theta.shape)


def law_comsol(value: float | PropertyLaw, theta: str = "theta") -> str:
    """COMSOL text (SI units, no unit suffix) of a number-or-law; ``theta`` names the state of charge."""
    return value.comsol(theta) if is_law(value) else repr(float(value))


def law_from_table(table: dict, unit: str = "1") -> PropertyLaw:
    """A law from its plain table (``{"law": "linear", "low": ..., "high": ...}``) in SI units."""
    kind = table.get("law")
    if kind not in _CLASSES:
        raise ValueError(f"unknown law {kind!r}; use one of {', '.join(LAW_NAMES)}")
    fields = {k: v for k, v in table.items() if k not in ("law", "unit")}
    return _CLASSES[kind](**fields, unit=unit)
