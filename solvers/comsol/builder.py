"""Build the octant model for COMSOL as a *plan*: the list of Java-API calls, made once, used thrice.

:func:`build_plan` turns a :class:`~models.LithiationModel` (+ outputs, numerics) into a
:class:`ModelPlan`, an ordered list of :class:`Call` chains such as::

    model.component("comp1").physics("tds").feature("fl1").setIndex("J0", "J_in", 0)

The same plan is

* replayed on the live ``model.java`` object of mph in the worker (:func:`apply_plan`),
* replayed on the checked recording double in the tests (:mod:`~solvers.comsol.recording`),
* printed as a COMSOL ``.java`` model file (:mod:`~solvers.comsol.java_export`),

so the model solved through mph, the exported file and the tested calls cannot drift apart.

The model (all values in SI; COMSOL unit brackets make the parameters unit-checked; every feature
type and property is one that COMSOL itself writes, see :mod:`.api_table` and
``tests/test_comsol_evidence.py``):

* parameters ``R``, ``c0``, ``c_ref``, ``i_m``, ``T_K`` and, per material domain, ``c_max``,
  ``rho``, ``Omega``, ``E``, ``nu`` (``_p`` for the matrix, ``_i1``, ``_i2``... for inclusions);
* geometry: ``sph1`` Sphere(R) (united with the inclusions, Sphere or Cylinder objects that keep
  their domain selections ``geom1_incN_dom``) intersected with ``blk1`` Block(R, R, R);
* selections: ``plx``/``ply``/``plz`` (Box, boundaries inside a thin slab around each plane),
  ``pln`` = their union, ``sph`` = the spherical surface (exterior boundaries off the planes),
  ``dom_m`` the matrix domain (with inclusions);
* per-domain variable groups (one per material): theta, ``D_Li`` (the law's COMSOL expression),
  ``E_loc``, ``nu_loc`` (numbers or laws of theta), ``rho_loc``, ``Omega_loc``, ``sY_loc``;
  couplings ``intop1`` (domain) and ``intop2`` (sphere), so that the inward flux comes from the
  *discrete* volume and area, J_in = i_m int(rho) / (F A), as DESIGN.md requires;
* ``tds`` DilutedSpecies: ``D_c`` = D_Li, initial ``c0``, ``fl1`` FluxBoundary J0 = J_in on ``sph``;
  stress-driven diffusion as COMSOL's migration term (z = 1, V = Omega*solid.pm/F_const);
* ``solid`` SolidMechanics, quasi-static: ``lemm1`` with user-defined E_loc, nu_loc, rho_loc,
  ``eiel1`` ExternalStrain (StrainInput StrainTensor, ``eext`` = Omega_loc*(c - c_ref)/3 on the
  diagonal: the form COMSOL writes), ``plsty1`` Plasticity (elastoplastic runs: sigmags = sY_loc,
  perfectly plastic or linear hardening), ``sym1`` SymmetrySolid on ``pln`` (rollers);
* ``mesh1`` FreeTet with the requested size; ``std1`` Transient with output times = 0, the requested
  field times and ``scalar_samples`` evenly spaced times (for scalars.csv);
* exports: the mesh (``.mphtxt``, the mesh sequence's own export) and a Data export (spreadsheet
  text) of c, u, v, w, the six stress components, solid.mises and solid.evol at every stored time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable

import numpy as np

from models import LithiationModel
from solvers.api import Numerics, OutputRequest
from solvers.errors import SolverError

from .api_table import java_literal
from .domains import Domain, MechanicsOptions, domains_of, is_law, mechanical_properties, mechanics_of, property_expr
from .results import CMAX_COLUMN, PLASTIC_COLUMN

__all__ = [
    "EXPORT_FIELDS",
    "HAUTO",
    "Call",
    "ModelPlan",
    "apply_plan",
    "plan_from_json",
    "plan_to_json",
    "build_plan",
    "study_times",
]

log = logging.getLogger(__name__)

#: Fields exported at every stored time: (COMSOL expression, unit). Order = spreadsheet order.
EXPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("c", "mol/m^3"),
    ("u", "m"),
    ("v", "m"),
    ("w", "m"),
    ("solid.sx", "Pa"),
    ("solid.sy", "Pa"),
    ("solid.sz", "Pa"),
    ("solid.syz", "Pa"),
    ("solid.sxz", "Pa"),
    ("solid.sxy", "Pa"),
    ("solid.mises", "Pa"),
    ("solid.evol", "1"),
)

#: COMSOL's predefined element sizes (``hauto``: 1 extremely fine ... 5 normal ... 9 extremely coarse).
HAUTO: dict[str, int] = {"fine": 4, "medium": 5, "coarse": 6}

#: Default number of evenly spaced stored times (besides the field output times), for scalars.
SCALAR_SAMPLES = 20

#: Relative half-width of the slabs that select the symmetry planes (times R).
_PLANE_SLAB = 1e-3


@dataclass(frozen=True)
class Call:
    """One statement: a chain of ``(method, args)`` applied to the root ``model``."""

    chain: tuple[tuple[str, tuple[Any, ...]], ...]

    def java(self, root: str = "model") -> str:
        """Java source of the statement (without the trailing semicolon)."""
        return root + "".join(f".{name}({', '.join(java_literal(a) for a in args)})" for name, args in self.chain)


@dataclass
class ModelPlan:
    """The calls that build, solve and export the model, with section titles and result files.

    ``sections``: (index of first call, title) in order; ``mesh_file`` / ``data_file``: where the
    exports land (paths as COMSOL will see them); ``times``: every stored time [s];
    ``field_times``: the times at which the orchestrator wants field frames [s].
    """

    calls: list[Call] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)
    mesh_file: str = ""
    data_file: str = ""
    times: tuple[float, ...] = ()
    field_times: tuple[float, ...] = ()
    notes: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.sections.append((len(self.calls), title))

    def add(self, *chain: tuple[str, tuple[Any, ...]]) -> None:
        self.calls.append(Call(tuple(chain)))

    def section_of(self, index: int) -> str:
        """Title of the section that call ``index`` belongs to."""
        title = ""
        for start, name in self.sections:
            if start <= index:
                title = name
        return title


def _m(name: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
    return (name, tuple(args))


def _q(value: float, unit: str = "") -> str:
    """A COMSOL quantity: ``4.11e-06[m]``."""
    text = repr(float(value))
    return f"{text}[{unit}]" if unit else text


def study_times(model: LithiationModel, outputs: OutputRequest, samples: int = SCALAR_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """(all stored times, field output times) [s] for the COMSOL study.

    Stored times: 0, ``samples`` evenly spaced times up to the end time, and the field times.
    Field times beyond the end time are dropped (with a log line).
    """
    t_end = float(model.stop_time_bound)
    targets = outputs.target_times(model)
    late = targets[targets > t_end * (1 + 1e-12)]
    if late.size:
        log.warning("field output times %s are after the end time %.6g s and are skipped", late.tolist(), t_end)
    targets = targets[targets <= t_end * (1 + 1e-12)]
    grid = np.linspace(0.0, t_end, max(int(samples), 1) + 1)
    times = np.unique(np.concatenate([grid, targets, [0.0]]))
    return times, targets


def _length(value: float) -> str:
    """A geometry length in metres, to 12 significant digits (no 1.9999999999999995e-06 noise)."""
    return f"{float(value):.12g}[m]"


def _iso(expr: str) -> tuple[str, ...]:
    """A 3x3 tensor (row-major, as COMSOL writes ``D_c`` and ``eext``) with ``expr`` on the diagonal."""
    return (expr, "0", "0", "0", expr, "0", "0", "0", expr)


def _tlist(times: np.ndarray) -> str:
    return " ".join(repr(float(t)) for t in times)


_COMP = ("component", ("comp1",))
_GEOM = (_COMP, ("geom", ("geom1",)))


def build_plan(
    model: LithiationModel,
    outputs: OutputRequest,
    numerics: Numerics,
    *,
    results_dir: str,
    scalar_samples: int = SCALAR_SAMPLES,
) -> ModelPlan:
    """The full call plan for one run; exports go to ``results_dir`` (``mesh.mphtxt``, ``fields.txt``).

    ``results_dir`` is written into the plan as given (it is the path COMSOL will see: absolute for
    a batch job). Raises :class:`~solvers.errors.SolverError` for numerics the COMSOL backend does
    not support (a mesh file) and :class:`~solvers.comsol.domains.UnsupportedModel` for a model it
    cannot express.
    """
    if numerics.mesh.file:
        raise SolverError(
            f"numerics.mesh.file = {numerics.mesh.file!r}: the COMSOL backend meshes the geometry itself (FreeTet);"
            " remove mesh.file (use mesh.size / mesh.element_size) or run the native backend on that mesh"
        )
    domains = domains_of(model)
    mech = mechanics_of(model)
    plan = ModelPlan()
    results = PurePosixPath(results_dir.replace("\\", "/"))
    plan.mesh_file = str(results / "mesh.mphtxt")
    plan.data_file = str(results / "fields.txt")
    times, targets = study_times(model, outputs, scalar_samples)
    plan.times = tuple(float(t) for t in times)
    plan.field_times = tuple(float(t) for t in targets)
    _parameters(plan, model, domains, mech)
    _geometry(plan, domains)
    _selections(plan, domains)
    _definitions(plan, domains, mech)
    _transport(plan, mech)
    _mechanics(plan, mech)
    _mesh(plan, numerics)
    _study(plan, times, numerics)
    fields = EXPORT_FIELDS + (((CMAX_COLUMN, "mol/m^3"),) if len(domains) > 1 else ())
    _exports(plan, fields + (((PLASTIC_COLUMN, "1"),) if mech.elastoplastic else ()))
    return plan


def _parameters(plan: ModelPlan, model: LithiationModel, domains: list[Domain], mech: MechanicsOptions) -> None:
    plan.section("Parameters (SI)")
    rows = [
        ("R", model.radius, "m", "Particle radius"),
        ("c0", model.c0, "mol/m^3", "Initial concentration"),
        ("c_ref", model.c_ref, "mol/m^3", "Stress-free reference concentration"),
        ("i_m", model.specific_current, "A/kg", "Specific current"),
        ("T_K", mech.temperature, "K", "Temperature"),
    ]
    for d in domains:
        m, key, who = d.material, d.key, d.label
        rows.append((d.c_max_name, m.c_max, "mol/m^3", f"Maximum Li concentration, {who}"))
        rows.append((f"rho{key or '_p'}", m.density, "kg/m^3", f"Density, {who}"))
        rows.append((f"Omega{key}", m.partial_molar_volume, "m^3/mol", f"Partial molar volume, {who}"))
        for _, param, value, unit, what, field in mechanical_properties(d, mech):
            if not is_law(value, field):
                rows.append((param, value, unit, f"{what}, {who}"))
    if mech.elastoplastic and mech.hardening > 0:
        rows.append(("H_p", mech.hardening, "Pa", "Linear isotropic hardening modulus"))
    for name, value, unit, descr in rows:
        plan.add(_m("param"), _m("set", name, _q(float(value), unit), descr))


def _geometry(plan: ModelPlan, domains: list[Domain]) -> None:
    plan.section("Component and geometry: the octant = Sphere(R) intersected with Block(R, R, R)")
    plan.add(_m("component"), _m("create", "comp1", True))
    plan.add(_COMP, _m("geom"), _m("create", "geom1", 3))
    geom = _GEOM
    plan.add(*geom, _m("create", "sph1", "Sphere"))
    plan.add(*geom, _m("feature", "sph1"), _m("set", "r", "R"))
    particle = "sph1"
    if len(domains) > 1:
        for d in domains[1:]:
            _inclusion_geometry(plan, d)
        plan.add(*geom, _m("create", "uni1", "Union"))
        plan.add(*geom, _m("feature", "uni1"), _m("selection", "input"), _m("set", ("sph1", *(d.geom_tag for d in domains[1:]))))
        plan.add(*geom, _m("feature", "uni1"), _m("set", "intbnd", True))
        particle = "uni1"
    plan.add(*geom, _m("create", "blk1", "Block"))
    plan.add(*geom, _m("feature", "blk1"), _m("set", "size", ("R", "R", "R")))
    plan.add(*geom, _m("create", "int1", "Intersection"))
    plan.add(*geom, _m("feature", "int1"), _m("selection", "input"), _m("set", (particle, "blk1")))
    if len(domains) > 1:
        plan.add(*geom, _m("feature", "int1"), _m("set", "intbnd", True))
    plan.add(*geom, _m("run"))


def _inclusion_geometry(plan: ModelPlan, d: Domain) -> None:
    """A Sphere or a Cylinder (a bar: start, axis = end - start, h = |axis|) that keeps a domain
    selection of itself (``selresult``: ``geom1_incN_dom`` through the Boolean operations)."""
    geom, tag = _GEOM, d.geom_tag
    feature = (*geom, _m("feature", tag))
    if d.shape == "sphere":
        plan.add(*geom, _m("create", tag, "Sphere"))
        plan.add(*feature, _m("set", "pos", tuple(_length(v) for v in d.points[0])))
    else:
        start, end = np.asarray(d.points[0]), np.asarray(d.points[1])
        axis = end - start
        plan.add(*geom, _m("create", tag, "Cylinder"))
        plan.add(*feature, _m("set", "pos", tuple(_length(v) for v in start)))
        plan.add(*feature, _m("set", "axistype", "cartesian"))
        plan.add(*feature, _m("set", "axis", tuple(f"{v:.12g}" for v in axis / np.linalg.norm(axis))))
        plan.add(*feature, _m("set", "h", _length(np.linalg.norm(axis))))
    plan.add(*feature, _m("set", "r", _length(d.radius)))
    plan.add(*feature, _m("set", "selresult", True))


def _selections(plan: ModelPlan, domains: list[Domain]) -> None:
    plan.section("Selections: the three symmetry planes, the spherical surface, the material domains")
    comp = _COMP
    slab = f"{_PLANE_SLAB!r}*R"
    wide_lo, wide_hi = "-0.1*R", "1.1*R"
    for tag, axis in (("plx", "x"), ("ply", "y"), ("plz", "z")):
        plan.add(comp, _m("selection"), _m("create", tag, "Box"))
        sel = (comp, _m("selection", tag))
        plan.add(*sel, _m("set", "entitydim", 2))
        for a in "xyz":
            lo, hi = (f"-{slab}", slab) if a == axis else (wide_lo, wide_hi)
            plan.add(*sel, _m("set", f"{a}min", lo))
            plan.add(*sel, _m("set", f"{a}max", hi))
        plan.add(*sel, _m("set", "condition", "inside"))
    _combine(plan, "pln", "Union", 2, input=("plx", "ply", "plz"))
    if len(domains) == 1:  # one domain: every boundary off the planes is the sphere
        _combine(plan, "sph", "Complement", 2, input=("pln",))
        return
    # material domains: the inclusions' own selections; the matrix is everything else
    _combine(plan, "incs", "Union", 3, input=tuple(d.selection for d in domains[1:]))
    _combine(plan, "dom_m", "Complement", 3, input=("incs",))
    _combine(plan, "doms", "Union", 3, input=("dom_m", "incs"))
    # the sphere: exterior boundaries of the particle (interfaces are interior) minus the planes
    plan.add(comp, _m("selection"), _m("create", "ext", "Adjacent"))
    for prop, value in (("entitydim", 3), ("input", ("doms",)), ("outputdim", 2), ("exterior", True), ("interior", False)):
        plan.add(comp, _m("selection", "ext"), _m("set", prop, value))
    plan.add(comp, _m("selection"), _m("create", "sph", "Difference"))
    for prop, value in (("entitydim", 2), ("add", ("ext",)), ("subtract", ("pln",))):
        plan.add(comp, _m("selection", "sph"), _m("set", prop, value))


def _combine(plan: ModelPlan, tag: str, kind: str, dim: int, *, input: tuple[str, ...]) -> None:
    plan.add(_COMP, _m("selection"), _m("create", tag, kind))
    plan.add(_COMP, _m("selection", tag), _m("set", "entitydim", dim))
    plan.add(_COMP, _m("selection", tag), _m("set", "input", input))


def _definitions(plan: ModelPlan, domains: list[Domain], mech: MechanicsOptions) -> None:
    plan.section("Definitions: integration operators, per-domain material variables, the inward flux")
    comp = _COMP
    plan.add(comp, _m("cpl"), _m("create", "intop1", "Integration"))
    plan.add(comp, _m("cpl", "intop1"), _m("selection"), _m("geom", "geom1", 3))
    plan.add(comp, _m("cpl", "intop1"), _m("selection"), _m("all"))
    plan.add(comp, _m("cpl"), _m("create", "intop2", "Integration"))
    plan.add(comp, _m("cpl", "intop2"), _m("selection"), _m("geom", "geom1", 2))
    plan.add(comp, _m("cpl", "intop2"), _m("selection"), _m("named", "sph"))
    for k, d in enumerate(domains, start=1):
        _material_variables(plan, f"var{k}", d, mech, selection=d.selection if len(domains) > 1 else None)
    tag = f"var{len(domains) + 1}"
    plan.add(comp, _m("variable"), _m("create", tag))
    plan.add(comp, _m("variable", tag), _m("set", "J_in", "i_m*intop1(rho_loc)/(F_const*intop2(1))", "Inward molar flux on the sphere"))


def _material_variables(plan: ModelPlan, tag: str, d: Domain, mech: MechanicsOptions, *, selection: str | None) -> None:
    """The variables of one material on its domain: theta, D_Li, E_loc, nu_loc, rho_loc, Omega_loc
    (and sY_loc for elastoplastic runs). The same names on disjoint domains = piecewise definitions."""
    comp, m, key = _COMP, d.material, d.key
    var = (comp, _m("variable", tag))
    plan.add(comp, _m("variable"), _m("create", tag))
    if selection is not None:
        plan.add(*var, _m("selection"), _m("geom", "geom1", 3))
        plan.add(*var, _m("selection"), _m("named", selection))
    theta = f"c/{d.c_max_name}"
    suffix = key or "_p"
    law = getattr(m.diffusivity, "law", "law")
    rows = [
        ("theta", theta, f"State of charge, {d.label}"),
        ("D_Li", f"({m.diffusivity.comsol(theta=theta)})*1[m^2/s]", f"Diffusivity D(theta), {law} law, {d.label}"),
        ("rho_loc", f"rho{suffix}", f"Density, {d.label}"),
        ("cmax_loc", d.c_max_name, f"Maximum Li concentration, {d.label}"),
        ("Omega_loc", f"Omega{key}", f"Partial molar volume, {d.label}"),
    ]
    for name, param, value, unit, what, field in mechanical_properties(d, mech):
        rows.append((name, property_expr(value, theta, unit, param, field), f"{what}, {d.label}"))
    for name, expr, descr in rows:
        plan.add(*var, _m("set", name, expr, descr))
    plan.add(*var, _m("label", f"Material: {d.label}"))


def _transport(plan: ModelPlan, mech: MechanicsOptions) -> None:
    plan.section("Transport of Diluted Species")
    comp = _COMP
    plan.add(comp, _m("physics"), _m("create", "tds", "DilutedSpecies", "geom1"))
    tds = (comp, _m("physics", "tds"))
    plan.add(*tds, _m("feature", "cdm1"), _m("set", "D_c", _iso("D_Li")))
    if mech.stress_driven_diffusion:
        _stress_driven_flux(plan, tds)
    plan.add(*tds, _m("feature", "init1"), _m("setIndex", "initc", "c0", 0))
    plan.add(*tds, _m("create", "fl1", "FluxBoundary", 2))
    plan.add(*tds, _m("feature", "fl1"), _m("selection"), _m("named", "sph"))
    plan.add(*tds, _m("feature", "fl1"), _m("setIndex", "species", True, 0))
    plan.add(*tds, _m("feature", "fl1"), _m("setIndex", "J0", "J_in", 0))


def _stress_driven_flux(plan: ModelPlan, tds: tuple) -> None:
    """J = -D (grad c - Omega c/(R T) grad sigma_h) as COMSOL's migration term.

    Migration of a species of charge z = 1 in a potential V with the Nernst-Einstein mobility
    D/(R T) adds -D c F/(R T) grad V; V = Omega*solid.pm/F_const (solid.pm = -sigma_h) makes that
    +D Omega c/(R T) grad sigma_h. The Flux boundary condition prescribes diffusion + migration, so
    the inward flux stays the galvanostatic J_in.
    """
    plan.add(*tds, _m("prop", "TransportMechanism"), _m("set", "Migration", True))
    plan.add(*tds, _m("feature", "sp1"), _m("setIndex", "z", 1, 0))
    plan.add(*tds, _m("feature", "cdm1"), _m("set", "minput_temperature_src", "userdef"))
    plan.add(*tds, _m("feature", "cdm1"), _m("set", "minput_temperature", "T_K"))
    plan.add(*tds, _m("feature", "cdm1"), _m("set", "V", "Omega_loc*solid.pm/F_const"))


def _mechanics(plan: ModelPlan, mech: MechanicsOptions) -> None:
    plan.section("Solid Mechanics: quasi-static, swelling eigenstrain, rollers on the planes")
    comp = _COMP
    plan.add(comp, _m("physics"), _m("create", "solid", "SolidMechanics", "geom1"))
    solid = (comp, _m("physics", "solid"))
    plan.add(*solid, _m("prop", "StructuralTransientBehavior"), _m("set", "StructuralTransientBehavior", "Quasistatic"))
    lemm = (*solid, _m("feature", "lemm1"))
    for prop, value in (("E_mat", "userdef"), ("E", "E_loc"), ("nu_mat", "userdef"), ("nu", "nu_loc"), ("rho_mat", "userdef"), ("rho", "rho_loc")):
        plan.add(*lemm, _m("set", prop, value))
    # the form COMSOL writes (Structural Mechanics Module, Diffusion in Solids, vacancy_electromigration):
    # an external strain tensor with ev/3 on the diagonal
    plan.add(*lemm, _m("create", "eiel1", "ExternalStrain", 3))
    plan.add(*lemm, _m("feature", "eiel1"), _m("set", "StrainInput", "StrainTensor"))
    plan.add(*lemm, _m("feature", "eiel1"), _m("set", "eext", _iso("Omega_loc*(c-c_ref)/3")))
    if mech.elastoplastic:
        plsty = (*lemm, _m("feature", "plsty1"))
        plan.add(*lemm, _m("create", "plsty1", "Plasticity", 3))
        plan.add(*plsty, _m("set", "sigmags_mat", "userdef"))
        plan.add(*plsty, _m("set", "sigmags", "sY_loc"))
        if mech.hardening > 0:  # linear isotropic hardening (COMSOL's default model): tangent modulus
            plan.add(*plsty, _m("set", "Et_mat", "userdef"))
            plan.add(*plsty, _m("set", "Et", "E_loc*H_p/(E_loc+H_p)"))
        else:
            plan.add(*plsty, _m("set", "IsotropicHardeningModel", "PerfectlyPlastic"))
    plan.add(*solid, _m("create", "sym1", "SymmetrySolid", 2))
    plan.add(*solid, _m("feature", "sym1"), _m("selection"), _m("named", "pln"))


def _mesh(plan: ModelPlan, numerics: Numerics) -> None:
    plan.section("Mesh: free tetrahedral")
    comp = _COMP
    plan.add(comp, _m("mesh"), _m("create", "mesh1"))
    mesh = (comp, _m("mesh", "mesh1"))
    plan.add(*mesh, _m("create", "ftet1", "FreeTet"))
    size = (*mesh, _m("feature", "size"))
    if numerics.mesh.element_size:
        plan.add(*size, _m("set", "custom", True))  # as COMSOL writes it (electrokinetic_valve: set("custom", true))
        plan.add(*size, _m("set", "hmax", _q(numerics.mesh.element_size, "m")))
        plan.add(*size, _m("set", "hmin", _q(numerics.mesh.element_size / 10.0, "m")))
    else:
        plan.add(*size, _m("set", "hauto", HAUTO[numerics.mesh.size]))
    if numerics.mesh.surface_grading != 3.0:
        plan.notes.append("numerics.mesh.surface_grading is not used by the COMSOL mesh (FreeTet, uniform size)")
    plan.add(*mesh, _m("run"))


def _study(plan: ModelPlan, times: np.ndarray, numerics: Numerics) -> None:
    plan.section("Study: transient, stored at the output times")
    plan.add(_m("study"), _m("create", "std1"))
    plan.add(_m("study", "std1"), _m("create", "time", "Transient"))
    step = (_m("study", "std1"), _m("feature", "time"))
    plan.add(*step, _m("set", "tunit", "s"))
    plan.add(*step, _m("set", "tlist", _tlist(times)))
    plan.add(*step, _m("set", "usertol", True))
    plan.add(*step, _m("set", "rtol", repr(float(numerics.time.rtol))))
    plan.add(_m("study", "std1"), _m("createAutoSequences", "all"))
    plan.section("Solve")
    plan.add(_m("study", "std1"), _m("run"))


def _exports(plan: ModelPlan, fields: tuple[tuple[str, str], ...]) -> None:
    plan.section("Export: mesh (.mphtxt) and fields at every stored time (spreadsheet text)")
    # the mesh sequence's own export; the format follows the extension (see api_table.MESH_EXPORT)
    plan.add(_COMP, _m("mesh", "mesh1"), _m("export", plan.mesh_file))
    data = (_m("result"), _m("export", "data1"))
    plan.add(_m("result"), _m("export"), _m("create", "data1", "Data"))
    plan.add(*data, _m("set", "data", "dset1"))
    plan.add(*data, _m("set", "expr", tuple(e for e, _ in fields)))
    plan.add(*data, _m("set", "unit", tuple(u for _, u in fields)))
    plan.add(*data, _m("set", "looplevelinput", ("all",)))
    plan.add(*data, _m("set", "filename", plan.data_file))
    plan.add(*data, _m("run"))


def _default_convert(value: Any) -> Any:
    return value


def apply_plan(
    plan: ModelPlan,
    model: Any,
    *,
    convert: Callable[[Any], Any] = _default_convert,
    on_section: Callable[[str], None] | None = None,
) -> None:
    """Replay ``plan`` on a Java ``model`` object (mph's ``model.java``, or the recording double).

    ``convert`` turns plan arguments into what the object's methods take (JPype arrays in the
    worker); ``on_section(title)`` is called when a new section starts (timings, logs). A failing
    call is re-raised as :class:`~solvers.errors.SolverError` naming the Java statement.
    """
    starts = dict(plan.sections)
    for index, call in enumerate(plan.calls):
        if index in starts and on_section is not None:
            on_section(starts[index])
        obj = model
        try:
            for name, args in call.chain:
                obj = getattr(obj, name)(*(convert(a) for a in args))
        except SolverError:
            raise
        except Exception as exc:  # a Java exception through JPype, or an AttributeError
            raise SolverError(f"COMSOL rejected `{call.java()};` ({plan.section_of(index)}): {exc}") from exc


# --------------------------------------------------------------------------------------------
# JSON form (the worker process receives the plan as a file)
# --------------------------------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"array": [_encode(v) for v in value]}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(_decode(v) for v in value["array"])
    return value


def plan_to_json(plan: ModelPlan) -> dict[str, Any]:
    """A JSON-serialisable dict of ``plan`` (tuples, i.e. Java arrays, become ``{"array": [...]}``)."""
    return {
        "calls": [[[name, [_encode(a) for a in args]] for name, args in call.chain] for call in plan.calls],
        "sections": [list(s) for s in plan.sections],
        "mesh_file": plan.mesh_file,
        "data_file": plan.data_file,
        "times": list(plan.times),
        "field_times": list(plan.field_times),
        "notes": list(plan.notes),
    }


def plan_from_json(data: dict[str, Any]) -> ModelPlan:
    """The inverse of :func:`plan_to_json`."""
    calls = [Call(tuple((name, tuple(_decode(a) for a in args)) for name, args in chain)) for chain in data["calls"]]
    return ModelPlan(
        calls=calls,
        sections=[(int(i), str(t)) for i, t in data["sections"]],
        mesh_file=data["mesh_file"],
        data_file=data["data_file"],
        times=tuple(float(t) for t in data["times"]),
        field_times=tuple(float(t) for t in data["field_times"]),
        notes=list(data.get("notes", [])),
    )
