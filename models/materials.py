"""Active-material properties and the documented presets (SI units throughout).

A :class:`Material` carries everything the lithiation model needs from the particle's material:
the diffusivity law D(theta), the elastic constants, the partial molar volume that sets the
swelling eigenstrain, and the density and specific capacity that set c_max and the surface flux.

Presets (``PRESETS``) are documented defaults from the literature, not truth: every field can be
overridden in a spec (``material: {base: Si, youngs_modulus: 90 GPa}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .constants import FARADAY
from .laws import DiffusivityLaw, StepDiffusivity

__all__ = ["Material", "PRESETS", "UnknownPreset", "get_preset"]


@dataclass(frozen=True)
class Material:
    """An active material.

    Attributes
    ----------
    name: label used in plots and reports.
    diffusivity: D(theta) law [m^2/s].
    youngs_modulus: E [Pa].
    poisson_ratio: nu [-], in (-1, 0.5).
    partial_molar_volume: Omega [m^3/mol]; eigenstrain (Omega/3)(c - c_ref) in each direction.
    density: rho [kg/m^3] of the active material.
    capacity: specific capacity [C/kg] (1 mAh/g = 3600 C/kg).
    sources: where each number comes from.
    """

    name: str
    diffusivity: DiffusivityLaw
    youngs_modulus: float
    poisson_ratio: float
    partial_molar_volume: float
    density: float
    capacity: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

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
