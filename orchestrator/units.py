"""Physical quantities in specs: SI numbers or strings with units, parsed by pint.

``parse_quantity("4.11 um", "length")`` returns 4.11e-6 (metres). A bare number is taken as SI.
Values must be finite and of a magnitude the solvers can represent (:func:`limits.check_magnitude`).
A wrong dimension is a ``ValueError`` naming the value, its dimension and the expected one, which
pydantic turns into a field error with the field path.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from .limits import check_magnitude

__all__ = ["DIMENSIONS", "Quantity", "parse_quantity"]

#: name -> (pint dimensionality text, SI unit used for the stored float, an example)
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "length": ("[length]", "m", "4.11 um"),
    "time": ("[time]", "s", "10 h"),
    "diffusivity": ("[length]**2/[time]", "m**2/s", "2e-15 m^2/s"),
    "pressure": ("[mass]/[length]/[time]**2", "Pa", "80 GPa"),
    "molar_volume": ("[length]**3/[substance]", "m**3/mol", "9e-6 m^3/mol"),
    "density": ("[mass]/[length]**3", "kg/m**3", "2.33 g/cm^3"),
    "specific_capacity": ("[current]*[time]/[mass]", "C/kg", "3579 mAh/g"),
    "specific_current": ("[current]/[mass]", "A/kg", "0.1 A/g"),
    "concentration": ("[substance]/[length]**3", "mol/m**3", "311140 mol/m^3"),
    "temperature": ("[temperature]", "K", "298.15 K"),
}


#: a power with a 3+ digit exponent, or a power of a power: pint would compute 9**9**9 exactly (hangs)
_HUGE_POWER = re.compile(r"(\*\*|\^)\s*[-+(\s]*\d{3,}")
_CHAINED_POWER = re.compile(r"(\*\*|\^)[\s\d.()+-]*(\*\*|\^)")


@lru_cache(maxsize=1)
def _registry():
    import pint

    return pint.UnitRegistry()


def parse_quantity(value: Any, dimension: str) -> float:
    """Convert ``value`` (number in SI, or text with units) to a float in the SI unit of ``dimension``."""
    dim_text, si_unit, example = DIMENSIONS[dimension]
    if isinstance(value, bool):
        raise ValueError(f"expected a {dimension.replace('_', ' ')} such as '{example}', got {value!r}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond double precision
            number = math.inf
        return check_magnitude(number, dimension, value)
    if not isinstance(value, str):
        raise ValueError(
            f"expected a {dimension.replace('_', ' ')} as a number in {si_unit} or text with units such as"
            f" '{example}', got {value!r}"
        )
    if len(value) > 200:
        raise ValueError(f"a quantity is a short text such as '{example}', got {len(value)} characters")
    try:  # a number written as text ("1e300": YAML 1.1 reads exponents without a dot as strings) is SI
        return check_magnitude(float(value), dimension, value)
    except ValueError as exc:
        if "finite" in str(exc) or "outside" in str(exc):
            raise
    if _HUGE_POWER.search(value) or _CHAINED_POWER.search(value):  # pint evaluates integer powers exactly
        raise ValueError(f"cannot read {value!r} as a quantity (a number and a unit, such as '{example}')")
    return check_magnitude(_parse_text(value.strip(), dimension), dimension, value)


@lru_cache(maxsize=8192)
def _parse_text(value: str, dimension: str) -> float:
    """Text with units -> SI float (cached: sweeps repeat the same strings thousands of times)."""
    dim_text, si_unit, example = DIMENSIONS[dimension]
    ureg = _registry()
    try:
        quantity = ureg.Quantity(value)
    except Exception as exc:  # pint raises several unrelated classes for bad text
        raise ValueError(f"cannot read {value!r} as a quantity ({exc}); write e.g. '{example}'") from None
    if not hasattr(quantity, "dimensionality"):
        return float(f"{float(quantity):.12g}")
    expected = ureg.parse_expression(si_unit).dimensionality
    if quantity.dimensionality != expected:
        got = str(quantity.dimensionality) if quantity.dimensionality else "dimensionless"
        raise ValueError(
            f"{value!r} has dimension {got}, but a {dimension.replace('_', ' ')} ({dim_text}) is expected,"
            f" e.g. '{example}'"
        )
    # 12 significant digits: unit conversion round-off (4.11 um -> 4.1100000000000005e-06) must not
    # change run ids; no physical input is known to better than that.
    return float(f"{float(quantity.to(si_unit).magnitude):.12g}")


def Quantity(dimension: str) -> Any:  # noqa: N802 - reads like a type in annotations
    """An annotated float type accepting SI numbers or unit strings of ``dimension``."""
    _, si_unit, example = DIMENSIONS[dimension]
    return Annotated[
        float,
        BeforeValidator(lambda v: parse_quantity(v, dimension)),
        WithJsonSchema(
            {
                "anyOf": [{"type": "number"}, {"type": "string"}],
                "description": f"{dimension.replace('_', ' ')}: a number in {si_unit} or text with units, e.g. '{example}'",
            }
        ),
    ]
