"""The lithiation model of a spherical particle under galvanostatic insertion (Gao et al. 2023, 4.1).

Domain: the octant x, y, z >= 0 of a sphere of radius R; theta = c / c_max.

Transport
    dc/dt = div(D(theta) grad c),  c(x, 0) = c0,
    -n . (-D grad c) = J on the sphere (inward), no flux on the symmetry planes.
    J = i_m rho V / (F A): the specific current i_m [A/kg] times the particle mass, per unit
    area, in mol/m^2/s. V and A are those of the *discrete* octant a solver uses, so that
    DOD = 1 is reached exactly at t = (1 - theta0) * capacity / i_m.

Depth of discharge
    DOD(t) = integral(c - c0) dV / ((c_max - c0) V) = (1 - theta0)^-1 * i_m t / capacity.

Mechanics
    small strain, eigenstrain (Omega/3)(c - c_ref) I, rollers on the planes x=0, y=0, z=0,
    traction-free sphere; quasi-static at each time. ``mechanics`` (:class:`MechanicsOptions`):
    isotropic linear elasticity (default, the paper) or J2 elastic-(perfectly-)plastic flow with
    yield stress sigma_Y(theta) and optional linear isotropic hardening; E, nu, sigma_Y may be laws
    of theta. Optional stress-driven diffusion J = -D (grad c - Omega c / (R T) grad sigma_h) at the
    absolute ``temperature`` T [K].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

from .constants import FARADAY, GAS_CONSTANT
from .errors import ModelError
from .inclusions import Inclusion, check_inclusions, domain_index, domain_materials, octant_volume
from .laws import PropertyLaw, is_law
from .materials import Material

__all__ = ["CONSTITUTIVE_CHOICES", "LithiationModel", "MechanicsOptions", "StopCondition"]

CONSTITUTIVE_CHOICES = ("elastic", "elastoplastic")

StopKind = Literal["dod", "time", "surface_theta", "capacity"]


@dataclass(frozen=True)
class StopCondition:
    """When a transient run ends: at a DOD [-], a time [s], a surface theta [-], or an inserted specific
    capacity [C/kg] (charge per mass of active material, i_m t; 1 Ah/g = 3.6e6 C/kg)."""

    kind: StopKind = "dod"
    value: float = 1.0


@dataclass(frozen=True)
class MechanicsOptions:
    """How the particle deforms and whether stress drives Li.

    Attributes
    ----------
    constitutive: ``elastic`` (default; isotropic linear elasticity, the paper) or ``elastoplastic``
        (small-strain J2 flow, radial return, consistent tangent).
    yield_stress: sigma_Y [Pa], a number or a law of theta; elastoplastic only. ``None`` takes the
        material's ``yield_stress``.
    hardening_modulus: H [Pa] >= 0 of linear isotropic hardening, sigma_y = sigma_Y + H eps_p
        (0: perfectly plastic); elastoplastic only.
    stress_driven_diffusion: two-way coupling J = -D (grad c - Omega c/(R T) grad sigma_h).
    """

    constitutive: str = "elastic"
    yield_stress: float | PropertyLaw | None = None
    hardening_modulus: float = 0.0
    stress_driven_diffusion: bool = False

    def __post_init__(self) -> None:
        if self.constitutive not in CONSTITUTIVE_CHOICES:
            raise ModelError(
                f"mechanics.constitutive must be one of {', '.join(CONSTITUTIVE_CHOICES)}, got {self.constitutive!r}"
            )
        plastic = self.constitutive == "elastoplastic"
        if not plastic and self.yield_stress is not None:
            raise ModelError(
                "mechanics.yield_stress is given but mechanics.constitutive is 'elastic': set"
                " constitutive: elastoplastic, or remove yield_stress"
            )
        if not plastic and self.hardening_modulus != 0.0:
            raise ModelError(
                "mechanics.hardening_modulus applies to constitutive: elastoplastic only; remove it or switch"
            )
        if not self.hardening_modulus >= 0.0:
            raise ModelError(f"mechanics.hardening_modulus must be >= 0 Pa, got {self.hardening_modulus!r}")
        ys = self.yield_stress
        if ys is not None and not is_law(ys):
            if not float(ys) > 0:
                raise ModelError(f"mechanics.yield_stress must be positive, got {ys!r} Pa")
            object.__setattr__(self, "yield_stress", float(ys))
        elif ys is not None and not ys.bounds()[0] > 0:
            raise ModelError(f"mechanics.yield_stress law must stay positive on theta in [0, 1], got {ys!r}")

    @property
    def plastic(self) -> bool:
        """True for J2 elastoplasticity."""
        return self.constitutive == "elastoplastic"


@dataclass(frozen=True)
class LithiationModel:
    """Backend-neutral definition of one lithiation case (SI units).

    Attributes
    ----------
    radius: particle radius R [m].
    material: the active material.
    specific_current: galvanostatic specific current i_m [A/kg] (0.1 A/g = 100 A/kg).
    stop: when the run ends.
    inclusions: spheres and bars of other materials (:mod:`models.inclusions`); ``material`` is the
        matrix. Domains: 0 the matrix, then each distinct inclusion material (``domain_materials``).
        c is continuous across interfaces; each domain has its own D law at theta = c / c_max,d, its own
        eigenstrain (Omega_d / 3)(c - c_ref), E_d and nu_d; DOD and the surface flux use the particle's
        total capacity sum_d V_d (c_max,d - c0) and mass sum_d rho_d V_d.
    initial_theta: theta0 = c0 / c_max, uniform initial state [-] (c_max of the matrix: c0 is one
        concentration in every domain).
    reference_theta: c_ref / c_max, the stress-free state [-]; ``None`` means theta0 (c_ref is one
        concentration in every domain, so the initial state is stress free).
    mechanics: constitutive law and coupling options (:class:`MechanicsOptions`).
    temperature: absolute temperature T [K] (stress-driven diffusion).
    """

    radius: float
    material: Material
    specific_current: float
    stop: StopCondition = field(default_factory=StopCondition)
    inclusions: tuple[Inclusion, ...] = ()
    initial_theta: float = 0.0
    reference_theta: float | None = None
    mechanics: MechanicsOptions = field(default_factory=MechanicsOptions)
    temperature: float = 298.15

    def __post_init__(self) -> None:
        object.__setattr__(self, "inclusions", tuple(self.inclusions))
        if self.inclusions:
            check_inclusions(self.inclusions, self.radius)
        if not self.temperature > 0:
            raise ModelError(f"temperature must be positive (absolute, K), got {self.temperature!r}")
        if self.mechanics.plastic and self.mechanics.yield_stress is None and self.material.yield_stress is None:
            raise ModelError(
                f"constitutive: elastoplastic needs a yield stress: set model.mechanics.yield_stress (e.g. '1.75 GPa',"
                f" lithiated Si, Sethuraman et al. 2010) or the material's yield_stress ({self.material.name!r} has none)"
            )

    @property
    def yield_stress(self) -> float | PropertyLaw:
        """sigma_Y [Pa] (number or law of theta) of an elastoplastic run: mechanics' or else the material's."""
        ys = self.mechanics.yield_stress if self.mechanics.yield_stress is not None else self.material.yield_stress
        if ys is None:
            raise ModelError("this model has no yield stress (constitutive is elastic)")
        return ys

    @property
    def coupling_coefficient(self) -> float:
        """Omega / (R T) [1/Pa]: the stress-driven flux is D c (Omega / (R T)) grad sigma_h."""
        return self.material.partial_molar_volume / (GAS_CONSTANT * self.temperature)

    def stress_driven_enhancement(self) -> float:
        """A = 2 E Omega^2 c_max / (9 (1 - nu) R T) [-]: for a free elastic sphere the coupled flux equals
        the uncoupled one with D_eff = D (1 + A theta) (constant E and nu only)."""
        e, nu = self.material.elastic_constants()
        omega = self.material.partial_molar_volume
        return 2.0 * e * omega**2 * self.c_max / (9.0 * (1.0 - nu) * GAS_CONSTANT * self.temperature)

    # -- derived quantities -------------------------------------------------------------------
    @property
    def c_max(self) -> float:
        """Maximum concentration of the matrix [mol/m^3]."""
        return self.material.c_max

    # -- domains (inclusions) -----------------------------------------------------------------
    @property
    def domain_materials(self) -> tuple[Material, ...]:
        """Materials by domain index: 0 the matrix, then each distinct inclusion material."""
        return domain_materials(self.material, self.inclusions)

    @property
    def inclusion_domains(self) -> tuple[int, ...]:
        """The domain index of each inclusion."""
        return domain_index(self.material, self.inclusions)

    def domain_volumes(self) -> tuple[float, ...]:
        """Exact volumes [m^3] of the domains inside the octant (pi R^3 / 6 minus the inclusions for 0)."""
        volumes = [math.pi * self.radius**3 / 6.0] + [0.0] * (len(self.domain_materials) - 1)
        for inc, d in zip(self.inclusions, self.inclusion_domains):
            v = octant_volume(inc, self.radius)
            volumes[d] += v
            volumes[0] -= v
        return tuple(volumes)

    def _volumes(self, domain_volumes: Sequence[float] | None) -> tuple[float, ...]:
        vols = self.domain_volumes() if domain_volumes is None else tuple(float(v) for v in domain_volumes)
        if len(vols) != len(self.domain_materials):
            raise ModelError(f"need {len(self.domain_materials)} domain volumes, got {len(vols)}")
        return vols

    def mass(self, domain_volumes: Sequence[float] | None = None) -> float:
        """Mass [kg] of the octant particle, sum_d rho_d V_d (exact volumes by default)."""
        return sum(m.density * v for m, v in zip(self.domain_materials, self._volumes(domain_volumes)))

    def insertable_amount(self, domain_volumes: Sequence[float] | None = None) -> float:
        """Li [mol] from the initial state to full lithiation, sum_d V_d (c_max,d - c0)."""
        return sum((m.c_max - self.c0) * v for m, v in zip(self.domain_materials, self._volumes(domain_volumes)))

    @property
    def particle_capacity(self) -> float:
        """Specific capacity [C/kg] of the whole particle (the matrix's when there are no inclusions)."""
        if not self.inclusions:
            return self.material.capacity
        return FARADAY * sum(m.c_max * v for m, v in zip(self.domain_materials, self.domain_volumes())) / self.mass()

    @property
    def c0(self) -> float:
        """Initial concentration [mol/m^3]."""
        return self.initial_theta * self.c_max

    @property
    def c_ref(self) -> float:
        """Stress-free reference concentration [mol/m^3]."""
        theta = self.initial_theta if self.reference_theta is None else self.reference_theta
        return theta * self.c_max

    def surface_flux(
        self, volume: float | None = None, area: float | None = None, *, domain_volumes: Sequence[float] | None = None
    ) -> float:
        """Inward molar flux J [mol/m^2/s] for a domain of ``volume`` [m^3] and flux ``area`` [m^2].

        J = i_m m / (F A) with the particle mass m = sum_d rho_d V_d. Without arguments, the exact octant
        (V / A = R / 3) is used. With inclusions, ``domain_volumes`` (per domain, e.g. of a mesh; default
        exact) give the mass; ``volume`` then only serves the exact-octant default of ``area``.
        """
        if self.inclusions:
            area = math.pi * self.radius**2 / 2.0 if area is None else area
            return self.specific_current * self.mass(domain_volumes) / (FARADAY * area)
        ratio = self.radius / 3.0 if volume is None or area is None else volume / area
        return self.specific_current * self.material.density * ratio / FARADAY

    @property
    def full_lithiation_time(self) -> float:
        """Time to DOD = 1 [s]: (1 - theta0) * capacity / i_m; with inclusions
        F sum_d V_d (c_max,d - c0) / (i_m sum_d rho_d V_d)."""
        if self.inclusions:
            return FARADAY * self.insertable_amount() / (self.specific_current * self.mass())
        return (1.0 - self.initial_theta) * self.material.capacity / self.specific_current

    def time_at_capacity(self, capacity: float) -> float:
        """Time [s] at which the inserted specific capacity i_m t reaches ``capacity`` [C/kg]."""
        return float(capacity) / self.specific_current

    def time_at_dod(self, dod: float) -> float:
        """Time [s] at which the galvanostatic loading reaches ``dod``."""
        return dod * self.full_lithiation_time

    def dod_at_time(self, time: float) -> float:
        """DOD [-] reached at ``time`` [s]."""
        return time / self.full_lithiation_time

    @property
    def stop_time_bound(self) -> float:
        """The end time [s] for dod/time/capacity stops; for surface_theta, an upper bound (DOD 1)."""
        if self.stop.kind == "dod":
            return self.time_at_dod(self.stop.value)
        if self.stop.kind == "time":
            return self.stop.value
        if self.stop.kind == "capacity":
            return self.time_at_capacity(self.stop.value)
        return self.full_lithiation_time

    def end_time(self) -> float:
        """The integration end time [s] for the stop condition (an upper bound for surface_theta).

        Raises :class:`ModelError` for stops that can never be reached.
        """
        kind, value = self.stop.kind, float(self.stop.value)
        if kind != "time" and not self.specific_current > 0:
            raise ModelError(
                f"stop by {kind} needs a positive specific current (got {self.specific_current!r} A/kg); "
                "use a stop by time for a zero-current (relaxation) run"
            )
        if kind == "time":
            if not value > 0:
                raise ModelError(f"the stop time must be positive, got {value!r} s")
            return value
        if kind == "dod" and not value > 0:
            raise ModelError(f"the stop DOD must be positive, got {value!r}")
        if kind == "capacity":
            cap = (1.0 - self.initial_theta) * self.particle_capacity if not self.inclusions else (
                self.specific_current * self.full_lithiation_time
            )
            if not 0 < value <= cap * (1 + 1e-9):
                raise ModelError(
                    f"the stop capacity {value / 3.6e6:.6g} Ah/g must be positive and at most what the particle can take"
                    f" from its initial state ({cap / 3.6e6:.6g} Ah/g for {self.material.name}); lower it or stop by dod"
                )
        if kind == "surface_theta" and not self.initial_theta < value:
            raise ModelError(f"stop at surface theta {value!r} is already met by the initial theta {self.initial_theta!r}")
        return self.stop_time_bound

    def quasi_steady_stress_scale(self, diffusivity: float | None = None) -> float:
        """s = Omega E J R / (15 (1 - nu) D) [Pa], the constant-D quasi-steady stress scale."""
        m = self.material
        d = m.diffusivity(0.0) if diffusivity is None else diffusivity
        e, nu = m.elastic_constants()
        return m.partial_molar_volume * e * self.surface_flux() * self.radius / (15.0 * (1.0 - nu) * float(d))

    def describe(self) -> str:
        """A one-line human summary."""
        return (
            f"{self.material.name}, R = {self.radius * 1e6:.4g} um, i_m = {self.specific_current / 1e3:.4g} A/g, "
            f"c_max = {self.c_max:.6g} mol/m^3, J = {self.surface_flux():.4g} mol/m^2/s, "
            f"t_full = {self.full_lithiation_time / 3600:.4g} h"
            + (f", {len(self.inclusions)} inclusion(s)" if self.inclusions else "")
        )

