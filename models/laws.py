"""Concentration-dependent diffusivity laws D(theta), theta = c / c_max.

Every law is a small frozen dataclass that knows its parameters in SI units (m^2/s) and reduces to
one :class:`~models.expressions.Expression`, so the numpy solvers and the COMSOL backend evaluate
exactly the same formula:

``constant``     D = value
``exponential``  D = low * (high / low)^theta                (log-linear between the end members)
``step``         D = low + (high - low)/2 * (1 + tanh((theta - theta_f) / width))
                 (smoothed two-phase law: Li-poor ``low`` below the front, Li-rich ``high`` above)
``expression``   any text of the law grammar, SI units

``scale`` multiplies the whole law (the Si8.5Sn0.5Sb alloy is the Si law times 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from .expressions import Expression, parse_expression

__all__ = [
    "ConstantDiffusivity",
    "DiffusivityLaw",
    "ExponentialDiffusivity",
    "ExpressionDiffusivity",
    "StepDiffusivity",
]


class _LawBase:
    """Shared behaviour: evaluation, exact derivative, COMSOL text."""

    scale: float

    @property
    def formula(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @cached_property
    def expression(self) -> Expression:
        """The law as a checked expression (including ``scale``)."""
        text = self.formula if self.scale == 1.0 else f"{self.scale!r}*({self.formula})"
        return parse_expression(text)

    def __call__(self, theta: np.ndarray | float) -> np.ndarray:
        """D [m^2/s] at state of charge ``theta`` [-]."""
        return self.expression(np.asarray(theta, dtype=float))

    def derivative(self, theta: np.ndarray | float) -> np.ndarray:
        """dD/dtheta [m^2/s], exact."""
        return self.expression.derivative_theta(theta)

    def comsol(self, theta: str = "theta") -> str:
        """COMSOL expression of D in m^2/s; ``theta`` names the state-of-charge variable."""
        name = theta if theta.isidentifier() else f"({theta})"
        return self.expression.comsol(theta=name, c=name)

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest D on theta in [0, 1] (sampled), m^2/s."""
        values = self(np.linspace(0.0, 1.0, 1001))
        return float(values.min()), float(values.max())


@dataclass(frozen=True)
class ConstantDiffusivity(_LawBase):
    """D = value [m^2/s]."""

    value: float
    scale: float = 1.0
    law: Literal["constant"] = "constant"

    @property
    def formula(self) -> str:
        return repr(float(self.value))


@dataclass(frozen=True)
class ExponentialDiffusivity(_LawBase):
    """D = low * (high/low)^theta [m^2/s]: low at theta = 0, high at theta = 1."""

    low: float
    high: float
    scale: float = 1.0
    law: Literal["exponential"] = "exponential"

    @property
    def formula(self) -> str:
        return f"{float(self.low)!r}*({float(self.high) / float(self.low)!r})^theta"


@dataclass(frozen=True)
class StepDiffusivity(_LawBase):
    """Smoothed two-level law: D = low + (high-low)/2 (1 + tanh((theta - theta_f)/width)) [m^2/s]."""

    low: float
    high: float
    theta_f: float = 0.5
    width: float = 0.05
    scale: float = 1.0
    law: Literal["step"] = "step"

    @property
    def formula(self) -> str:
        half = (float(self.high) - float(self.low)) / 2.0
        return f"{float(self.low)!r}+{half!r}*(1+tanh((theta-{float(self.theta_f)!r})/{float(self.width)!r}))"


@dataclass(frozen=True)
class ExpressionDiffusivity(_LawBase):
    """D given as text of the law grammar in SI units, in ``theta`` (and ``c``, mol/m^3)."""

    expr: str
    scale: float = 1.0
    law: Literal["expression"] = "expression"

    def __post_init__(self) -> None:
        parsed = parse_expression(self.expr)
        if "c" in parsed.variables:
            raise ValueError(
                f"diffusivity expression {self.expr!r} uses 'c'; write it in 'theta' (= c/c_max) so that"
                " it does not depend on the material's c_max"
            )

    @property
    def formula(self) -> str:
        return self.expr


DiffusivityLaw = ConstantDiffusivity | ExponentialDiffusivity | StepDiffusivity | ExpressionDiffusivity
