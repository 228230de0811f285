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
from .laws import ConstantDiffusivity, DiffusivityLaw, PropertyLaw, StepDiffusivity, is_law, law_value

__all__ = ["Material", "PRESETS", "UnknownPreset", "composite_properties", "get_preset", "stoichiometric_capacity"]


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
_FARADAY_MAH_PER_MOL = FARADAY / 3.6  # 26801.5 mAh per mol of Li

# Molar masses [g/mol] (IUPAC standard atomic weights).
_MOLAR_MASS = {"Si": 28.0855, "Sn": 118.71, "Sb": 121.76}
# Li atoms per host atom in the fully lithiated phase: Li15Si4, Li22Sn5, Li3Sb.
_LI_PER_HOST = {"Si": 15.0 / 4.0, "Sn": 22.0 / 5.0, "Sb": 3.0}


def stoichiometric_capacity(element: str) -> float:
    """Specific capacity [C/kg] of ``element`` lithiated to its end phase (Li15Si4, Li22Sn5, Li3Sb):
    x_Li F / M_host (Si 3579, Sn 993.6, Sb 660.3 mAh/g)."""
    return _LI_PER_HOST[element] * _FARADAY_MAH_PER_MOL / _MOLAR_MASS[element] * _MAH_PER_G


# -- Si ---------------------------------------------------------------------------------------------
# D(theta): a smoothed two-level step. The two levels are the Li-poor (2e-17) / Li-rich (2e-15 m^2/s)
# range quoted for Si by Wang, Xiao & Huang, J. Power Sources 307 (2016) 77 (value as carried by
# octant's design notes; the paper itself was not read here). Fitted to the paper's Fig. 5 picture (a
# Li-rich shell behind "a distinct phase boundary"): D_low = 1e-17 (the low end, halved: at 2e-17 the
# surface is only at theta 0.58 at DOD 0.25 and no shell forms), front theta_f = 0.85 (the Li-rich
# shell LixSi with x >= 3, i.e. theta >= 0.8), width 0.02. Measured with the radial backend at
# 0.1 A/g, R = 4.11 um (tests/test_paper_presets.py): Si shell 0.77 / 0.84, core <= 0.016, 20-80 %
# front width 0.18 R / 0.20 R at DOD 0.25 / 0.5. Trade-off: the Si shell needs D <~ 1e-17 below
# theta ~0.77 (2e-17 leaves the surface at 0.58 at DOD 0.25), while the alloy (this law x 10) is the
# more uniform the larger D is; with the alloy's own, lower capacity (2367 mAh/g, so a larger theta
# rate at 0.1 A/g) its profile at DOD 0.5 spans theta 0.33..0.63 (spread 0.33, at most 0.20 from the
# uniform theta 0.5); with Si's capacity it would span 0.22. D_low 5e-18 would sharpen the Si front
# to 0.10 R but leave the alloy 0.26 from uniform.
_SI_DIFFUSIVITY = StepDiffusivity(low=1e-17, high=2e-15, theta_f=0.85, width=0.02)
_SI_SOURCES = {
    "capacity": "3579 mAh/g: Li15Si4, 3.75 Li per Si x F / M_Si = 3578.6 mAh/g (Obrovac & Christensen, Electrochem. Solid-State"
    " Lett. 7 (2004) A93 identify Li15Si4 as the fully lithiated phase)",
    "density": "2.33 g/cm^3, crystalline Si (handbook value)",
    "diffusivity": (
        "step D_low 1e-17 -> D_high 2e-15 m^2/s at theta_f 0.85, width 0.02. Range from Wang, Xiao, Huang,"
        " J. Power Sources 307 (2016) 77 (2e-17..2e-15; not read here, as quoted in octant's design notes);"
        " D_low halved to 1e-17, theta_f and width FITTED to the core-shell picture of Gao et al. 2023 Fig. 5"
        " (shell theta >= 0.75 behind a front <= 0.25 R wide at DOD 0.25 and 0.5, radial backend at 0.1 A/g)"
    ),
    "youngs_modulus": (
        "80 GPa: ASSUMPTION (octant default), between crystalline Si (130-188 GPa, CRC/WebElements table of"
        " elastic properties of the elements) and lithiated Si, which softens with Li content; NOT from Gao et al."
        " 2023, whose Section 4.1 gives no elastic constants"
    ),
    "poisson_ratio": "0.22: ASSUMPTION (a value commonly used for Si; not from Gao et al. 2023)",
    "partial_molar_volume": (
        "9e-6 m^3/mol: (V(Li15Si4)/4 - V(Si)) per Li = (75.1 - 20.0) A^3 / 3.75 = 8.85e-6 m^3/mol from the"
        " Li15Si4 lattice a = 10.632 A, Z = 4 (Zeilinger et al., Chem. Mater. 2013, single crystal at 123 K)"
        " and Si a = 5.431 A, rounded to 9e-6 (Omega c_max = 2.8, the ~280 % swelling of Li15Si4);"
        " NOT from Gao et al. 2023"
    ),
}
_SI = Material(
    name="Si",
    diffusivity=_SI_DIFFUSIVITY,
    youngs_modulus=80e9,
    poisson_ratio=0.22,
    partial_molar_volume=9e-6,
    density=2330.0,
    capacity=3579.0 * _MAH_PER_G,
    sources=_SI_SOURCES,
)

# -- Sn and Sb (inclusions of Figs. S26/S27) ----------------------------------------------------------
_SN = Material(
    name="Sn",
    diffusivity=ConstantDiffusivity(6.6e-12),
    youngs_modulus=49.9e9,
    poisson_ratio=0.357,
    partial_molar_volume=9.6e-6,
    density=7300.0,
    capacity=stoichiometric_capacity("Sn"),
    sources={
        "capacity": "993.6 mAh/g: Li22Sn5, 4.4 Li per Sn x F / M_Sn (the usual 994 mAh/g)",
        "density": "7.30 g/cm^3, beta-Sn (MaTecK Sn single-crystal data sheet; MatWeb: 7.29 g/cm^3)",
        "youngs_modulus": "49.9 GPa, polycrystalline Sn (MaTecK Sn data sheet; CRC/WebElements: 50 GPa)",
        "poisson_ratio": "0.357 (MaTecK Sn data sheet)",
        "diffusivity": (
            "constant 6.6e-12 m^2/s: low end of the DFT range 6.6e-8..5.6e-7 cm^2/s for Li in LixSn (Shi, Wang, Fu,"
            " J. Mater. Sci. 51 (2016) 3271, abstract; experiments quoted there 8.0e-8..5.9e-7 cm^2/s)"
        ),
        "partial_molar_volume": (
            "9.6e-6 m^3/mol = 2.6 x V_m(Sn) / 4.4 with V_m(Sn) = 16.26 cm^3/mol: ASSUMPTION of the commonly quoted"
            " ~260 % volume expansion Sn -> Li22Sn5 (no primary crystallographic source read here)"
        ),
    },
)
_SB = Material(
    name="Sb",
    diffusivity=ConstantDiffusivity(6.6e-12),
    youngs_modulus=54.7e9,
    poisson_ratio=0.25,
    partial_molar_volume=8.2e-6,
    density=6696.0,
    capacity=stoichiometric_capacity("Sb"),
    sources={
        "capacity": "660.3 mAh/g: Li3Sb, 3 Li per Sb x F / M_Sb",
        "density": "6.696 g/cm^3 (matmake Sb data page, citing the CRC Handbook 97th ed. and Cardarelli 2018)",
        "youngs_modulus": "54.7 GPa (matmake and MaTecK Sb data pages; CRC/WebElements: 55 GPa)",
        "poisson_ratio": "0.25 (matmake Sb data page; MaTecK gives 0.25-0.33)",
        "diffusivity": "6.6e-12 m^2/s: ASSUMPTION, taken equal to the Sn preset (no value for Li in Sb read)",
        "partial_molar_volume": (
            "8.2e-6 m^3/mol = 1.35 x V_m(Sb) / 3 with V_m(Sb) = 18.18 cm^3/mol: ASSUMPTION of the commonly quoted"
            " ~135 % volume expansion Sb -> Li3Sb (no primary crystallographic source read here)"
        ),
    },
)

# -- the Si8.5Sn0.5Sb alloy ----------------------------------------------------------------------------
_ALLOY_COMPOSITION = {"Si": 8.5, "Sn": 0.5, "Sb": 1.0}  # atoms per formula unit


def composite_properties(composition: dict[str, float], constituents: dict[str, Material]) -> dict[str, float]:
    """Properties of a compound from its constituents (atoms per formula unit of each element).

    - capacity = sum(n_i x_Li,i) F / sum(n_i M_i) (each element to its lithiated end phase);
    - density = sum(n_i M_i) / sum(n_i V_m,i): the molar volumes add (no excess volume, an assumption);
    - Omega = sum(n_i x_Li,i Omega_i) / sum(n_i x_Li,i): the swelling of each phase per inserted Li;
    - E, nu: Hill average (mean of Voigt and Reuss) of E and the volume-fraction mean of nu.
    Returns a dict with ``capacity`` [C/kg], ``density`` [kg/m^3], ``partial_molar_volume`` [m^3/mol],
    ``youngs_modulus`` [Pa], ``poisson_ratio`` [-] and ``volume_fractions``.
    """
    mass = sum(n * _MOLAR_MASS[e] for e, n in composition.items()) * 1e-3  # kg per mol of formula units
    volumes = {e: n * _MOLAR_MASS[e] * 1e-3 / constituents[e].density for e, n in composition.items()}
    volume = sum(volumes.values())
    fractions = {e: v / volume for e, v in volumes.items()}
    li = {e: n * _LI_PER_HOST[e] for e, n in composition.items()}
    li_total = sum(li.values())
    voigt = sum(f * constituents[e].youngs_modulus for e, f in fractions.items())
    reuss = 1.0 / sum(f / constituents[e].youngs_modulus for e, f in fractions.items())
    return {
        "capacity": li_total * FARADAY / mass,
        "density": mass / volume,
        "partial_molar_volume": sum(li[e] * constituents[e].partial_molar_volume for e in li) / li_total,
        "youngs_modulus": 0.5 * (voigt + reuss),
        "poisson_ratio": sum(f * constituents[e].poisson_ratio for e, f in fractions.items()),
        "volume_fractions": fractions,
    }


_ALLOY = composite_properties(_ALLOY_COMPOSITION, {"Si": _SI, "Sn": _SN, "Sb": _SB})
_ALLOY_SOURCES = {
    "capacity": (
        f"{_ALLOY['capacity'] / _MAH_PER_G:.0f} mAh/g derived: Si8.5Sn0.5Sb lithiated to Li15Si4 + Li22Sn5 + Li3Sb,"
        " 37.075 Li per 419.8 g/mol (models.materials.composite_properties). The paper's measured first discharge,"
        " 2.78 Ah/g, exceeds this full-lithiation capacity, so it cannot all be Li stored in the particle (first-cycle"
        " losses); octant uses the stoichiometric value"
    ),
    "density": (
        f"{_ALLOY['density'] / 1000:.3f} g/cm^3 derived: formula mass / sum of the constituents' molar volumes"
        " (Si 2.33, Sn 7.30, Sb 6.696 g/cm^3; no excess volume, an ASSUMPTION)"
    ),
    "diffusivity": "the Si law times 10 (Gao et al., Nano-Micro Lett. 15:222 (2023): ten times higher Li diffusivity"
    " than Si at the same Li concentration), evaluated at the alloy's own theta",
    "youngs_modulus": (
        f"{_ALLOY['youngs_modulus'] / 1e9:.1f} GPa derived: Hill average of the Si, Sn and Sb presets by volume fraction"
        f" (Si {_ALLOY['volume_fractions']['Si']:.3f}); as uncertain as the Si preset's 80 GPa"
    ),
    "poisson_ratio": f"{_ALLOY['poisson_ratio']:.3f} derived: volume-fraction mean of the Si, Sn and Sb presets",
    "partial_molar_volume": (
        f"{_ALLOY['partial_molar_volume']:.3g} m^3/mol derived: Li-weighted mean of the Si, Sn and Sb presets"
        " (each element swells as in its own lithiated phase)"
    ),
}

PRESETS: dict[str, Material] = {
    "Si": _SI,
    "Si8.5Sn0.5Sb": Material(
        name="Si8.5Sn0.5Sb",
        diffusivity=replace(_SI_DIFFUSIVITY, scale=10.0),
        youngs_modulus=_ALLOY["youngs_modulus"],
        poisson_ratio=_ALLOY["poisson_ratio"],
        partial_molar_volume=_ALLOY["partial_molar_volume"],
        density=_ALLOY["density"],
        capacity=_ALLOY["capacity"],
        sources=_ALLOY_SOURCES,
    ),
    "Sn": _SN,
    "Sb": _SB,
}


class UnknownPreset(KeyError):
    """A material preset name that octant does not know."""


def get_preset(name: str) -> Material:
    """The preset called ``name``; raise :class:`UnknownPreset` listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPreset(f"unknown material preset {name!r}; known presets: {', '.join(PRESETS)}") from None
