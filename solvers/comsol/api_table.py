"""The part of the COMSOL Java API that octant uses, written down as data.

COMSOL cannot run on every machine octant is tested on, so the model builder is checked against
this table instead: every call chain the builder emits (``model.component("comp1").physics()
.create("tds", "DilutedSpecies", "geom1")``) must be a method listed here for the node it is called
on, with arguments of the listed Java types; every feature type created must be listed for its
family; every property set must be listed for that feature type (and, for enumerations, have a
listed value). :class:`~solvers.comsol.recording.RecordingModel` enforces it.

Sources (COMSOL Multiphysics Programming Reference Manual, 6.x; the interface guides of the
Chemical Species Transport and Structural Mechanics modules; and ``.java`` files that COMSOL
itself wrote with File > Save As > Model File for Java, e.g. ``physics("tds").feature("fl1")
.setIndex("J0", ..., 0)``, ``feature("lemm1").create("exs1", "ExternalStrain", 3)`` with
``StrainInput`` / ``dV``, ``result().export().create("data1", "Data")``). The table is a subset:
only what octant needs, plus the common neighbours (so that a typo is told apart from a real but
unused feature).

Java argument kinds: ``str``, ``int``, ``bool``, ``double``, ``str[]``, ``int[]``, ``double[]``,
``str[][]``; ``value`` is any of them (``set`` is overloaded for all), ``tags`` is a ``String...``
varargs list given as ``str[]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from solvers.errors import SolverError

__all__ = ["FAMILIES", "MESH_DEFAULTS", "NODES", "PHYSICS_PROPS", "ApiError", "FeatureType", "Method", "java_kind", "java_literal"]


@dataclass(frozen=True)
class Method:
    """One overload: argument kinds, the node kind it returns (``None``: void), and what it does.

    ``action``: ``get`` (look up an existing tag), ``create`` (create a tag, typed when the family
    is given), ``set`` (set a property of the current feature), ``named`` (refer to a selection
    tag), ``input`` (geometry object tags), or ``""`` (nothing to check beyond the types).
    ``family``: which :data:`FAMILIES` entry a created type belongs to (``"@children"``: the child
    family of the current feature's type).
    """

    args: tuple[str, ...]
    returns: str | None = None
    action: str = ""
    family: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class FeatureType:
    """A creatable feature type: its properties (name -> kind, or a set of allowed values), the
    features COMSOL creates with it (tag -> type) and the family of its children."""

    properties: dict[str, object] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    children: str | None = None


EXPR = "expr"  # a COMSOL expression: str (or a number)
EXPRS = "expr[]"
ANY = "value"


def java_kind(value: object) -> str:
    """The Java argument kind of a Python value as used in a plan (see the module docstring)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple) and value:
        if all(isinstance(v, tuple) for v in value):
            return "str[][]" if all(isinstance(x, str) for v in value for x in v) else "?"
        kinds = {java_kind(v) for v in value}
        if kinds == {"str"}:
            return "str[]"
        if kinds == {"int"}:
            return "int[]"
        if kinds <= {"double", "int"}:
            return "double[]"
    return "?"


def java_literal(value: object) -> str:
    """Java source text of a plan argument (``"c"``, ``3``, ``true``, ``new String[]{"a", "b"}``)."""
    kind = java_kind(value)
    if kind == "str":
        return json.dumps(value, ensure_ascii=True)  # Java and JSON string escapes agree here
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(value)
    if kind == "double":
        return repr(float(value)).replace("inf", "Double.POSITIVE_INFINITY")
    if kind in ("str[]", "int[]", "double[]"):
        java_type = {"str[]": "String", "int[]": "int", "double[]": "double"}[kind]
        items = ", ".join(java_literal(float(v) if kind == "double[]" else v) for v in value)  # type: ignore[union-attr]
        return f"new {java_type}[]{{{items}}}"
    if kind == "str[][]":
        rows = ", ".join("{" + ", ".join(java_literal(x) for x in row) + "}" for row in value)  # type: ignore[union-attr]
        return f"new String[][]{{{rows}}}"
    raise ApiError(f"cannot express {value!r} as a Java argument; use str, int, float, bool or a non-empty tuple of them")


class ApiError(SolverError, ValueError):
    """A call that the documented COMSOL API (this table) does not have: unknown method, feature
    type, property or tag, or wrong argument types."""


def _props(*names: str, **special: object) -> dict[str, object]:
    table: dict[str, object] = {n: ANY for n in names}
    table.update(special)
    return table


_SEL_BOX = _props(
    "entitydim", "xmin", "xmax", "ymin", "ymax", "zmin", "zmax", "inputent", "input", "groupcontang", "angletol",
    condition=frozenset({"inside", "intersects", "allvertices", "somevertex"}),
)

#: Families of creatable types: family -> type -> FeatureType.
FAMILIES: dict[str, dict[str, FeatureType]] = {
    "geometry": {
        "Sphere": FeatureType(_props("r", "pos", "axis", "axistype", "rot", "base", "layername", "layer", "selresult", "selresultshow", "type")),
        "Block": FeatureType(_props("size", "pos", "axis", "axistype", "rot", "base", "layername", "layer", "selresult", "selresultshow", "type")),
        "Cylinder": FeatureType(_props("r", "h", "pos", "axis", "axistype", "rot", "selresult")),
        "Intersection": FeatureType(_props("keep", "intbnd", "face", "edge", "repairtol", "selresult", "selresultshow")),
        "Union": FeatureType(_props("keep", "intbnd", "face", "edge", "repairtol", "selresult", "selresultshow")),
        "Difference": FeatureType(_props("keep", "intbnd", "face", "edge", "repairtol", "selresult", "selresultshow")),
    },
    "selection": {
        "Box": FeatureType(_SEL_BOX),
        "Ball": FeatureType(_props("entitydim", "posx", "posy", "posz", "r", "inputent", "input", condition=_SEL_BOX["condition"])),
        "Explicit": FeatureType(_props("entitydim", "groupcontang", "angletol")),
        "Union": FeatureType(_props("entitydim", "input")),
        "Intersection": FeatureType(_props("entitydim", "input")),
        "Difference": FeatureType(_props("entitydim", "add", "subtract")),
        "Complement": FeatureType(_props("entitydim", "input")),
        "Adjacent": FeatureType(_props("entitydim", "outputdim", "input", "exterior", "interior")),
    },
    "coupling": {
        "Integration": FeatureType(_props("opname", "axisym", "method", "intorder", "frame")),
        "Average": FeatureType(_props("opname", "axisym", "method", "intorder", "frame")),
        "Maximum": FeatureType(_props("opname", "frame")),
        "Minimum": FeatureType(_props("opname", "frame")),
    },
    "physics": {
        "DilutedSpecies": FeatureType(
            _props("Convection", "Migration", "ConvectiveTerm", "ShapeFunctionType"),
            defaults={"cdm1": "ConvectionDiffusionMigration", "init1": "init", "nflx1": "NoFlux"},
            children="tds",
        ),
        "SolidMechanics": FeatureType(
            _props("StructuralTransientBehavior", "ShapeFunctionType", "d"),
            defaults={"lemm1": "LinearElasticModel", "free1": "FreeBoundary", "init1": "init"},
            children="solid",
        ),
    },
    # features of the Transport of Diluted Species interface (tds)
    "tds": {
        "ConvectionDiffusionMigration": FeatureType(_props("D_c", "u", "u_src", "minput_temperature", "minput_temperature_src", "DiffusionMaterialList", "V_src")),
        "init": FeatureType(_props("initc")),
        "NoFlux": FeatureType(),
        "FluxBoundary": FeatureType(_props("species", "J0", "FluxType", "kc", "cb")),
        "Concentration": FeatureType(_props("species", "c0", "constraintOptions")),
        "Symmetry": FeatureType(),
        "Outflow": FeatureType(),
        "ReactionCoefficients": FeatureType(_props("R_c")),
    },
    # features of the Solid Mechanics interface (solid)
    "solid": {
        "LinearElasticModel": FeatureType(
            _props(
                "E_mat", "E", "nu_mat", "nu", "rho_mat", "rho", "SolidModel", "IsotropicOption",
                "minput_temperature", "minput_temperature_src",
            ),
            children="lemm",
        ),
        "FreeBoundary": FeatureType(),
        "init": FeatureType(_props("u_init", "ut_init")),
        "SymmetrySolid": FeatureType(_props("SymmetryType")),
        "Roller": FeatureType(),
        "Fixed": FeatureType(),
        "BoundaryLoad": FeatureType(_props("LoadType", "FperArea", "Ftot")),
    },
    # sub-features of a Linear Elastic Material (lemm)
    "lemm": {
        "ExternalStrain": FeatureType(
            _props(
                "dV", "eext", "eext_src", "Fext", "Fext_src",
                StrainInput=frozenset({"StrainTensor", "DeformationGradient", "VolumetricStrain", "StretchTensor"}),
            )
        ),
        "ThermalExpansion": FeatureType(_props("alpha_mat", "alpha", "Tref", "minput_temperature", "minput_temperature_src")),
        "Hygroscopic": FeatureType(_props("beta_h", "cmo", "cmo_ref")),
        "InitialStressandStrain": FeatureType(_props("eil", "Sil")),
    },
    "mesh": {
        "FreeTet": FeatureType(_props("method"), children="meshattr"),
        "FreeTri": FeatureType(_props("method"), children="meshattr"),
        "Size": FeatureType(_props("hauto", "custom", "hmax", "hmin", "hgrad", "hcurve", "hnarrow", "hmaxactive", "hminactive", "table")),
    },
    "meshattr": {
        "Size": FeatureType(_props("hauto", "custom", "hmax", "hmin", "hgrad", "hcurve", "hnarrow", "hmaxactive", "hminactive")),
    },
    "study": {
        "Transient": FeatureType(_props("tlist", "tunit", "usertol", "rtol", "atolglobal", "plot", "useinitsol", "solnum")),
        "Stationary": FeatureType(_props("useinitsol", "plot")),
    },
    "export": {
        "Data": FeatureType(
            _props(
                "data", "expr", "unit", "descr", "filename", "header", "fullprec", "sort", "location", "resolution",
                "smooth", "recover", "lagorder", "looplevelinput", "looplevel", "solnum", "timeinterp", "t",
                "separator", "struct", "exporttype",
            )
        ),
        "Mesh": FeatureType(_props("data", "filename", "type")),
    },
}

#: What each kind of node accepts: method name -> overloads.
NODES: dict[str, dict[str, list[Method]]] = {
    "Model": {
        "param": [Method((), "Params")],
        "component": [Method((), "ComponentList"), Method(("str",), "Component", "get", namespace="component")],
        "study": [Method((), "StudyList"), Method(("str",), "Study", "get", namespace="study")],
        "result": [Method((), "Results")],
        "label": [Method(("str",))],
        "comments": [Method(("str",))],
        "modelPath": [Method(("str",))],
        "save": [Method(("str",)), Method(("str", "str"))],
    },
    "Params": {"set": [Method(("str", "str")), Method(("str", "str", "str"))]},
    "ComponentList": {"create": [Method(("str", "bool"), "Component", "create", namespace="component")]},
    "Component": {
        "geom": [Method((), "GeomList"), Method(("str",), "Geom", "get", namespace="geom")],
        "selection": [Method((), "SelectionList"), Method(("str",), "CompSelection", "get", namespace="selection")],
        "variable": [Method((), "VariableList"), Method(("str",), "Variables", "get", namespace="variable")],
        "cpl": [Method((), "CouplingList"), Method(("str",), "Coupling", "get", namespace="cpl")],
        "physics": [Method((), "PhysicsList"), Method(("str",), "Physics", "get", namespace="physics")],
        "mesh": [Method((), "MeshList"), Method(("str",), "Mesh", "get", namespace="mesh")],
    },
    "GeomList": {"create": [Method(("str", "int"), "Geom", "create", namespace="geom")]},
    "Geom": {
        "create": [Method(("str", "str"), "GeomFeature", "create", "geometry", namespace="feature")],
        "feature": [Method(("str",), "GeomFeature", "get", namespace="feature")],
        "run": [Method(()), Method(("str",))],
        "lengthUnit": [Method(("str",))],
    },
    "GeomFeature": {
        "set": [Method(("str", ANY), None, "set")],
        "selection": [Method(("str",), "GeomInput", "input_name")],
        "label": [Method(("str",))],
    },
    "GeomInput": {"set": [Method(("str[]",), None, "input")]},
    "SelectionList": {"create": [Method(("str", "str"), "CompSelection", "create", "selection", namespace="selection")]},
    "CompSelection": {"set": [Method(("str", ANY), None, "set")], "label": [Method(("str",))]},
    "VariableList": {"create": [Method(("str",), "Variables", "create", namespace="variable")]},
    "Variables": {
        "set": [Method(("str", "str")), Method(("str", "str", "str"))],
        "label": [Method(("str",))],
        "selection": [Method((), "EntitySelection")],
    },
    "CouplingList": {"create": [Method(("str", "str"), "Coupling", "create", "coupling", namespace="cpl")]},
    "Coupling": {"set": [Method(("str", ANY), None, "set")], "selection": [Method((), "EntitySelection")], "label": [Method(("str",))]},
    "EntitySelection": {
        "geom": [Method(("str", "int"))],
        "named": [Method(("str",), None, "named")],
        "set": [Method(("int[]",))],
        "all": [Method(())],
    },
    "PhysicsList": {"create": [Method(("str", "str", "str"), "Physics", "create", "physics", namespace="physics")]},
    "Physics": {
        "create": [Method(("str", "str", "int"), "PhysicsFeature", "create", "@children", namespace="feature")],
        "feature": [Method(("str",), "PhysicsFeature", "get", namespace="feature")],
        "prop": [Method(("str",), "PhysicsProp", "prop")],
        "selection": [Method((), "EntitySelection")],
        "label": [Method(("str",))],
    },
    "PhysicsProp": {"set": [Method(("str", ANY), None, "prop_set")]},
    "PhysicsFeature": {
        "set": [Method(("str", ANY), None, "set")],
        "setIndex": [Method(("str", ANY, "int"), None, "set")],
        "selection": [Method((), "EntitySelection")],
        "create": [Method(("str", "str", "int"), "PhysicsFeature", "create", "@children", namespace="feature")],
        "feature": [Method(("str",), "PhysicsFeature", "get", namespace="feature")],
        "label": [Method(("str",))],
    },
    "MeshList": {"create": [Method(("str",), "Mesh", "create", namespace="mesh"), Method(("str", "str"), "Mesh", "create", namespace="mesh")]},
    "Mesh": {
        "create": [Method(("str", "str"), "MeshFeature", "create", "mesh", namespace="feature")],
        "feature": [Method(("str",), "MeshFeature", "get", namespace="feature")],
        "autoMeshSize": [Method(("int",))],
        "run": [Method(())],
        "export": [Method(("str",))],
    },
    "MeshFeature": {
        "set": [Method(("str", ANY), None, "set")],
        "create": [Method(("str", "str"), "MeshFeature", "create", "@children", namespace="feature")],
        "feature": [Method(("str",), "MeshFeature", "get", namespace="feature")],
        "selection": [Method((), "EntitySelection")],
    },
    "StudyList": {"create": [Method(("str",), "Study", "create", namespace="study")]},
    "Study": {
        "create": [Method(("str", "str"), "StudyStep", "create", "study", namespace="feature")],
        "feature": [Method(("str",), "StudyStep", "get", namespace="feature")],
        "createAutoSequences": [Method(("str",))],
        "run": [Method(())],
        "label": [Method(("str",))],
    },
    "StudyStep": {"set": [Method(("str", ANY), None, "set")]},
    "Results": {"export": [Method((), "ExportList"), Method(("str",), "Export", "get", namespace="export")]},
    "ExportList": {"create": [Method(("str", "str"), "Export", "create", "export", namespace="export")]},
    "Export": {
        "set": [Method(("str", ANY), None, "set")],
        "setIndex": [Method(("str", ANY, "int"), None, "set")],
        "run": [Method(())],
        "label": [Method(("str",))],
    },
}

#: Property groups of physics interfaces reachable with ``prop(name)`` and their settings.
PHYSICS_PROPS: dict[str, dict[str, set[str]]] = {
    "SolidMechanics": {"StructuralTransientBehavior": {"StructuralTransientBehavior"}, "ShapeProperty": {"order_displacement"}},
    "DilutedSpecies": {"ShapeProperty": {"order_concentration"}, "TransportMechanism": {"Convection", "Migration"}},
}

#: Default features of a new mesh sequence (``mesh("mesh1").feature("size")``).
MESH_DEFAULTS: dict[str, str] = {"size": "Size"}
