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
    small strain, isotropic linear elasticity, eigenstrain (Omega/3)(c - c_ref) I, rollers on the
    planes x=0, y=0, z=0, traction-free sphere; quasi-static at each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .constants import FARADAY
from .errors import ModelError
from .materials import Material

__all__ = ["LithiationModel", "StopCondition"]

StopKind = Literal["dod", "time", "surface_theta"]


@dataclass(frozen=True)
class StopCondition:
    """When a transient run ends: at a DOD [-], a time [s], or a surface theta [-]."""

    kind: StopKind = "dod"
    value: float = 1.0


@dataclass(frozen=True)
class LithiationModel:
    """Backend-neutral definition of one lithiation case (SI units).

    Attributes
    ----------
    radius: particle radius R [m].
    material: the active material.
    specific_current: galvanostatic specific current i_m [A/kg] (0.1 A/g = 100 A/kg).
    stop: when the run ends.
    initial_theta: theta0 = c0 / c_max, uniform initial state [-].
    reference_theta: c_ref / c_max, the stress-free state [-]; ``None`` means theta0.
    """

    radius: float
    material: Material
    specific_current: float
    stop: StopCondition = field(default_factory=StopCondition)
    initial_theta: float = 0.0
    reference_theta: float | None = None

    # -- derived quantities -------------------------------------------------------------------
    @property
    def c_max(self) -> float:
        """Maximum concentration [mol/m^3]."""
        return self.material.c_max

    @property
    def c0(self) -> float:
        """Initial concentration [mol/m^3]."""
        return self.initial_theta * self.c_max

    @property
    def c_ref(self) -> float:
        """Stress-free reference concentration [mol/m^3]."""
        theta = self.initial_theta if self.reference_theta is None else self.reference_theta
        return theta * self.c_max

    def surface_flux(self, volume: float | None = None, area: float | None = None) -> float:
        """Inward molar flux J [mol/m^2/s] for a domain of ``volume`` [m^3] and flux ``area`` [m^2].

        Without arguments, the exact octant (V / A = R / 3) is used.
        """
        ratio = self.radius / 3.0 if volume is None or area is None else volume / area
        return self.specific_current * self.material.density * ratio / FARADAY

    @property
    def full_lithiation_time(self) -> float:
        """Time to DOD = 1 [s]: (1 - theta0) * capacity / i_m."""
        return (1.0 - self.initial_theta) * self.material.capacity / self.specific_current

    def time_at_dod(self, dod: float) -> float:
        """Time [s] at which the galvanostatic loading reaches ``dod``."""
        return dod * self.full_lithiation_time

    def dod_at_time(self, time: float) -> float:
        """DOD [-] reached at ``time`` [s]."""
        return time / self.full_lithiation_time

    @property
    def stop_time_bound(self) -> float:
        """The end time [s] for dod/time stops; for surface_theta, an upper bound (DOD 1)."""
        if self.stop.kind == "dod":
            return self.time_at_dod(self.stop.value)
        if self.stop.kind == "time":
            return self.stop.value
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
        if kind == "surface_theta" and not self.initial_theta < value:
            raise ModelError(f"stop at surface theta {value!r} is already met by the initial theta {self.initial_theta!r}")
        return self.stop_time_bound

    def quasi_steady_stress_scale(self, diffusivity: float | None = None) -> float:
        """s = Omega E J R / (15 (1 - nu) D) [Pa], the constant-D quasi-steady stress scale."""
        m = self.material
        d = m.diffusivity(0.0) if diffusivity is None else diffusivity
        return m.partial_molar_volume * m.youngs_modulus * self.surface_flux() * self.radius / (
            15.0 * (1.0 - m.poisson_ratio) * float(d)
        )

    def describe(self) -> str:
        """A one-line human summary."""
        return (
            f"{self.material.name}, R = {self.radius * 1e6:.4g} um, i_m = {self.specific_current / 1e3:.4g} A/g, "
            f"c_max = {self.c_max:.6g} mol/m^3, J = {self.surface_flux():.4g} mol/m^2/s, "
            f"t_full = {self.full_lithiation_time / 3600:.4g} h"
        )

