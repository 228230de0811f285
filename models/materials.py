"""Active-material properties and the documented presets (SI units throughout).

A :class:`Material` carries everything the lithiation model needs from the particle's material:
the diffusivity law D(theta), the elastic constants, the partial molar volume that sets the
swelling eigenstrain, and the density and specific capacity that set c_max and the surface flux.

Presets (``PRESETS``) are documented defaults from the literature, not truth: every field can be
overridden in a spec (``material: {base: Si, youngs_modulus: 90 GPa}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .constants import FARADAY
from .laws import DiffusivityLaw, PropertyLaw, StepDiffusivity, is_law, law_value

__all__ = ["Material", "PRESETS", "UnknownPreset", "get_preset"]


@dataclass(frozen=True)
class Material:
    """An active material.

    Attributes
    ----------
    name: label used in plots and reports.
    diffusivity: D(theta) law [m^2/s].
    youngs_modulus: E [Pa], a number or a law of theta (lithiated Si softens).
    poisson_ratio: nu [-], in (-1, 0.5), a number or a law of theta.
    partial_molar_volume: Omega [m^3/mol]; eigenstrain (Omega/3)(c - c_ref) in each direction.
    density: rho [kg/m^3] of the active material.
    capacity: specific capacity [C/kg] (1 mAh/g = 3600 C/kg).
    sources: where each number comes from.
    yield_stress: sigma_Y [Pa] for elastoplastic runs, a number or a law of theta, or None
        (then ``model.mechanics.yield_stress`` must give it).

    ``youngs_modulus_at(theta)`` etc. evaluate a number-or-law at theta arrays; where E and nu are
    numbers, ``youngs_modulus``/``poisson_ratio`` stay plain floats for existing callers.
    """

    name: str
    diffusivity: DiffusivityLaw
    youngs_modulus: float | PropertyLaw
    poisson_ratio: float | PropertyLaw
    partial_molar_volume: float
    density: float
    capacity: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    yield_stress: float | PropertyLaw | None = None

    def __post_init__(self) -> None:
        for name in ("youngs_modulus", "poisson_ratio", "yield_stress"):
            value = getattr(self, name)
            if value is not None and not is_law(value):
                object.__setattr__(self, name, float(value))

    def youngs_modulus_at(self, theta: np.ndarray | float) -> np.ndarray:
        """E [Pa] at ``theta`` [-] (an array shaped like ``theta``)."""
        return law_value(self.youngs_modulus, theta)

    def poisson_ratio_at(self, theta: np.ndarray | float) -> np.ndarray:
        """nu [-] at ``theta`` [-]."""
        return law_value(self.poisson_ratio, theta)

    def yield_stress_at(self, theta: np.ndarray | float) -> np.ndarray:
        """sigma_Y [Pa] at ``theta`` [-]; raises ValueError when the material has none."""
        if self.yield_stress is None:
            raise ValueError(f"material {self.name!r} has no yield stress; set model.mechanics.yield_stress")
        return law_value(self.yield_stress, theta)

    @property
    def constant_elasticity(self) -> bool:
        """True when E and nu do not depend on theta (the closed-form and factorise-once paths apply)."""
        return not any(is_law(v) and not v.is_constant for v in (self.youngs_modulus, self.poisson_ratio))

    def elastic_constants(self) -> tuple[float, float]:
        """(E [Pa], nu [-]) as numbers; raises ValueError when either depends on theta."""
        if not self.constant_elasticity:
            raise ValueError(f"material {self.name!r}: E or nu depends on theta; evaluate youngs_modulus_at(theta)")
        return float(self.youngs_modulus_at(0.0)), float(self.poisson_ratio_at(0.0))

    @property
    def c_max(self) -> float:
        """Maximum Li concentration c_max = capacity * density / F [mol/m^3]."""
        return self.capacity * self.density / FARADAY

    def with_(self, **changes) -> Material:
        """A copy with some fields replaced."""
        return replace(self, **changes)


_MAH_PER_G = 3600.0  # C/kg per mAh/g
_SI_DIFFUSIVITY = StepDiffusivity(low=2e-17, high=2e-15, theta_f=0.5, width=0.05)
_SI_SOURCES = {
    "capacity": "3579 mAh/g, Li15Si4 (Obrovac & Christensen, Electrochem. Solid-State Lett. 7 (2004) A93)",
    "density": "2.33 g/cm^3, crystalline Si",
    "diffusivity": (
        "two-level law 2e-17 (Li-poor) to 2e-15 m^2/s (Li-rich), Wang, Xiao, Huang, J. Power Sources 307"
        " (2016) 77; smoothed step at theta_f = 0.5, width 0.05 (octant default, an assumption)"
    ),
    "youngs_modulus": "80 GPa (Gao et al., Nano-Micro Lett. 15:222 (2023), Section 4.1)",
    "poisson_ratio": "0.22 (Gao et al. 2023)",
    "partial_molar_volume": "9e-6 m^3/mol (Gao et al. 2023)",
}

PRESETS: dict[str, Material] = {
    "Si": Material(
        name="Si",
        diffusivity=_SI_DIFFUSIVITY,
        youngs_modulus=80e9,
        poisson_ratio=0.22,
        partial_molar_volume=9e-6,
        density=2330.0,
        capacity=3579.0 * _MAH_PER_G,
        sources=_SI_SOURCES,
    ),
    "Si8.5Sn0.5Sb": Material(
        name="Si8.5Sn0.5Sb",
        diffusivity=replace(_SI_DIFFUSIVITY, scale=10.0),
        youngs_modulus=80e9,
        poisson_ratio=0.22,
        partial_molar_volume=9e-6,
        density=2330.0,
        capacity=3579.0 * _MAH_PER_G,
        sources={
            **_SI_SOURCES,
            "diffusivity": "the Si law times 10 (Gao et al., Nano-Micro Lett. 15:222 (2023): ten times higher"
            " Li diffusivity than Si)",
            "note": "all properties other than D are taken equal to Si's (an assumption; override in the spec)",
        },
    ),
}


class UnknownPreset(KeyError):
    """A material preset name that octant does not know."""


def get_preset(name: str) -> Material:
    """The preset called ``name``; raise :class:`UnknownPreset` listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPreset(f"unknown material preset {name!r}; known presets: {', '.join(PRESETS)}") from None
