"""Backend-neutral physics of Li insertion into an anode particle.

``models`` knows physics only: the lithiation model (geometry, material, loading), D(c) laws written
in a small safe expression language, material presets with their sources, derived quantities
(c_max, surface flux, time to full lithiation) and the analytical reference solutions used to
verify every solver. It imports neither ``solvers`` nor ``orchestrator``.
"""

from . import analytical
from .constants import FARADAY
from .errors import ModelError, OctantError
from .expressions import Expression, ExpressionError, parse_expression
from . import constitutive
from .laws import (
    ConstantDiffusivity,
    ConstantLaw,
    DiffusivityLaw,
    ExponentialDiffusivity,
    ExponentialLaw,
    ExpressionDiffusivity,
    ExpressionLaw,
    LinearDiffusivity,
    LinearLaw,
    PropertyLaw,
    StepDiffusivity,
    StepLaw,
)
from .inclusions import BarInclusion, Inclusion, InclusionError, SphereInclusion, generate_inclusions
from .lithiation import LithiationModel, StopCondition
from .lithiation import LithiationModel, MechanicsOptions, StopCondition
from .materials import PRESETS, Material, UnknownPreset, get_preset

__all__ = [
    "analytical",
    "BarInclusion",
    "Inclusion",
    "InclusionError",
    "SphereInclusion",
    "generate_inclusions",
    "constitutive",
    "ConstantLaw",
    "ExponentialLaw",
    "ExpressionLaw",
    "LinearDiffusivity",
    "LinearLaw",
    "MechanicsOptions",
    "PropertyLaw",
    "StepLaw",
    "FARADAY",
    "PRESETS",
    "ConstantDiffusivity",
    "DiffusivityLaw",
    "ExponentialDiffusivity",
    "Expression",
    "ExpressionDiffusivity",
    "ExpressionError",
    "LithiationModel",
    "Material",
    "ModelError",
    "OctantError",
    "StepDiffusivity",
    "StopCondition",
    "UnknownPreset",
    "get_preset",
    "parse_expression",
]
