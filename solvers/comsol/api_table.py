"""The part of the COMSOL Java API that octant uses, written down as data, every entry with its source.

COMSOL cannot run where octant is tested, so the model builder is replayed on a recording double
(:class:`~solvers.comsol.recording.RecordingModel`) that accepts only what this table lists: the
methods of each node with their Java argument kinds, the feature types of each family, the
properties of each type (and, for enumerations, the values). The table is not the judge of what
COMSOL accepts -- what COMSOL itself writes is: every feature type and property here cites where it
comes from,

* ``IDX``: ``tests/data/comsol/api-evidence.json``, the index of the 1810 model files that COMSOL
  6.3 exported from its Application Library (GitHub ``jacobgx/AICOMSOl``, ``database/applications/``);
  ``tests/test_comsol_evidence.py`` checks every such entry against the index, and the exported
  octant model file against the index;
* a named COMSOL-written example (``AICOMSOl:<path>``) for settings of features that an interface
  creates by itself (``cdm1``, ``init1``, ``lemm1``: the index attributes properties only through
  ``create`` lines);
* a page of the COMSOL documentation (``doc.comsol.com``) where COMSOL writes no example.

Only what octant uses is listed (a typo is an error, not a "real but unused" feature).

Java argument kinds: ``str``, ``int``, ``bool``, ``double``, ``str[]``, ``int[]``, ``double[]``,
``str[][]``; ``value`` is any of them (``set`` is overloaded for all), ``tags`` is a ``String...``
varargs list given as ``str[]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from solvers.errors import SolverError

__all__ = ["DOC_CYLINDER", "DOC_DATA_EXPORT", "DOC_MESH_EXPORT", "DOC_TDS_FLUX", "DOC_TDS_TRANSPORT", "EXAMPLES", "FAMILIES", "IDX", "MESH_DEFAULTS", "MESH_EXPORT", "NODE_SOURCES", "NODES", "PHYSICS_PROPS", "ApiError", "FeatureType", "Method", "java_kind", "java_literal"]


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
    """A feature type: its properties (name -> kind, or a set of allowed values), the features COMSOL
    creates with it (tag -> type), the family of its children, and where it all comes from.

    ``source``: ``IDX`` (the type and every property are in the index of COMSOL-written files) or a
    citation; ``cited``: property -> citation, for properties that the index cannot attribute
    (settings of default features) or that only the documentation shows.
    """

    properties: dict[str, object] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    children: str | None = None
    source: str = "IDX"
    cited: dict[str, str] = field(default_factory=dict)


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


#: Citation of the index of COMSOL-written model files (``tests/data/comsol/api-evidence.json``).
IDX = "IDX"

#: COMSOL-written model files (exported by COMSOL itself) cited below; ``AICOMSOl`` is GitHub
#: ``jacobgx/AICOMSOl`` (COMSOL 6.3.0.290 Application Library exports, ``database/applications/``).
EXAMPLES: dict[str, str] = {
    "vacancy": "AICOMSOl:database/applications/Structural_Mechanics_Module/Diffusion_in_Solids/vacancy_electromigration.java",
    "hydrogen": "AICOMSOl:database/applications/Structural_Mechanics_Module/Diffusion_in_Solids/hydrogen_diffusion.java",
    "wire": "AICOMSOl:database/applications/Electrochemistry_Module/Electrochemical_Engineering/wire_electrode.java",
    "smp": "github catyugu/mpfem:cases/surface_mount_package_steady/surface_mount_package.java (COMSOL 6.2.0.290 export)",
    "valve": "AICOMSOl:database/applications/Microfluidics_Module/Fluid_Flow/electrokinetic_valve.java",
    "corrosion": "AICOMSOl:database/applications/Corrosion_Module/Galvanic_Corrosion/under_deposit_corrosion.java",
}
#: Documentation of the Cylinder geometry feature (``axistype`` cartesian + a 3-vector ``axis``).
DOC_CYLINDER = "https://doc.comsol.com/6.4/doc/com.comsol.help.comsol/comsol_api_geom.48.079.html"
#: Documentation of the Flux condition of Transport of Diluted Species: by default it prescribes the
#: flux by diffusion AND migration (so a migration-form stress-driven flux keeps J0 the total flux).
DOC_TDS_FLUX = "https://doc.comsol.com/6.2/doc/com.comsol.help.cfd/cfd_ug_chemsptrans.11.020.html"
#: Documentation of the Transport Properties node of Transport of Diluted Species (temperature model
#: input, electric potential V of the migration term; mobility from D and T by Nernst-Einstein).
DOC_TDS_TRANSPORT = "https://doc.comsol.com/6.2/doc/com.comsol.help.cfd/cfd_ug_chemsptrans.11.011.html"

#: Documentation of the Data export (``looplevelinput``: "all | first | last | manual ... on each level").
DOC_DATA_EXPORT = "https://doc.comsol.com/6.3/doc/com.comsol.help.comsol/comsol_api_results.52.040.html"
#: Documentation of ``model.component(<ctag>).mesh(<tag>).export(<filename>)`` (format from the extension).
DOC_MESH_EXPORT = "https://doc.comsol.com/6.4/doc/com.comsol.help.comsol/comsol_api_mesh.49.046.html"

_BOX = _props("entitydim", "xmin", "xmax", "ymin", "ymax", "zmin", "zmax", condition=frozenset({"inside", "intersects", "allvertices", "somevertex"}))

#: Families of creatable types: family -> type -> FeatureType.
FAMILIES: dict[str, dict[str, FeatureType]] = {
    "geometry": {
        "Sphere": FeatureType(_props("r", "pos", "selresult")),
        "Block": FeatureType(_props("size", "pos")),
        # axistype "cartesian" with a 3-vector axis: DOC_CYLINDER
        "Cylinder": FeatureType(_props("r", "h", "pos", "axis", "selresult", axistype=frozenset({"cartesian"}))),
        "Intersection": FeatureType(_props("intbnd", "selresult")),
        "Union": FeatureType(_props("intbnd", "selresult")),
    },
    "selection": {
        "Box": FeatureType(_BOX),
        "Union": FeatureType(_props("entitydim", "input")),
        "Complement": FeatureType(_props("entitydim", "input")),
        "Adjacent": FeatureType(_props("entitydim", "input", "outputdim", "exterior", "interior")),
        "Difference": FeatureType(_props("entitydim", "add", "subtract")),
    },
    "coupling": {
        "Integration": FeatureType(_props("opname")),
    },
    "physics": {
        "DilutedSpecies": FeatureType(
            defaults={"cdm1": "ConvectionDiffusionMigration", "init1": "init", "nflx1": "NoFlux", "sp1": "SpeciesCharges"},
            children="tds",
        ),
        "SolidMechanics": FeatureType(
            defaults={"lemm1": "LinearElasticModel", "free1": "FreeBoundary", "init1": "init"},
            children="solid",
        ),
    },
    # features of the Transport of Diluted Species interface (tds)
    "tds": {
        # the default "Transport Properties" feature cdm1: never created in a file, so cited by example
        "ConvectionDiffusionMigration": FeatureType(
            _props("D_c", "minput_temperature_src", "minput_temperature", "V"),
            source=f"default feature cdm1 of DilutedSpecies; {EXAMPLES['wire']}",
            cited={
                "D_c": f"{EXAMPLES['wire']}: feature(\"cdm1\").set(\"D_c\", new String[]{{9 entries}})",
                "minput_temperature_src": f"{EXAMPLES['valve']}: cdm1 set(\"minput_temperature_src\", \"userdef\") (with Migration)",
                "minput_temperature": f"{EXAMPLES['valve']}: cdm1 set(\"minput_temperature\", \"T\")",
                "V": f"{EXAMPLES['corrosion']}: Migration on, cdm1 set(\"V\", \"phil\"); {DOC_TDS_TRANSPORT}; {DOC_TDS_FLUX}",
            },
        ),
        # the default "Species Charges" feature sp1 (charge numbers, with Migration)
        "SpeciesCharges": FeatureType(
            _props("z"),
            source=f"default feature sp1 of DilutedSpecies; {EXAMPLES['valve']}",
            cited={"z": f"{EXAMPLES['valve']}: feature(\"sp1\").setIndex(\"z\", \"z_c\", 0); {EXAMPLES['corrosion']}: setIndex(\"z\", 2, 0)"},
        ),
        "init": FeatureType(_props("initc")),
        "NoFlux": FeatureType(source="default feature nflx1 of DilutedSpecies (nothing set)"),
        "FluxBoundary": FeatureType(_props("species", "J0")),
    },
    # features of the Solid Mechanics interface (solid)
    "solid": {
        "LinearElasticModel": FeatureType(_props("E_mat", "E", "nu_mat", "nu", "rho_mat", "rho"), children="lemm"),
        "FreeBoundary": FeatureType(source="default feature free1 of SolidMechanics (nothing set)"),
        "init": FeatureType(),
        "SymmetrySolid": FeatureType(),
    },
    # sub-features of a Linear Elastic Material (lemm)
    "lemm": {
        # the form COMSOL writes: vacancy_electromigration, lemm1 -> eiel1 StrainTensor / eext
        "ExternalStrain": FeatureType(_props("eext", StrainInput=frozenset({"StrainTensor"}))),
        # COMSOL-written: lemm1 -> plsty1 with sigmags_mat/sigmags/Et_mat/Et (linear hardening is the
        # default model: files that set Et never set IsotropicHardeningModel); PerfectlyPlastic is
        # set in three AICOMSOl models (e.g. Nonlinear_Structural_Materials_Module plasticity examples)
        "Plasticity": FeatureType(
            _props("sigmags_mat", "sigmags", "Et_mat", "Et", IsotropicHardeningModel=frozenset({"PerfectlyPlastic"}))
        ),
    },
    "mesh": {
        "FreeTet": FeatureType(),
        "Size": FeatureType(_props("hauto", "custom", "hmax", "hmin")),
    },
    "study": {
        "Transient": FeatureType(_props("tlist", "tunit", "usertol", "rtol")),
    },
    "export": {
        "Data": FeatureType(
            _props("data", "expr", "unit", "filename", "looplevelinput"),
            cited={"looplevelinput": f"{DOC_DATA_EXPORT} (no COMSOL-written file sets it; the documented exception)"},
        ),
    },
}

#: The mesh sequence's own export (a method, no feature type): ``mesh("mesh1").export(FILE.mphtxt)``.
MESH_EXPORT = f"{DOC_MESH_EXPORT}; COMSOL-written: {EXAMPLES['smp']}"

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

_H, _V, _W = EXAMPLES["hydrogen"], EXAMPLES["vacancy"], EXAMPLES["wire"]

#: Where each node kind's methods come from (a COMSOL-written file that calls them, or the
#: documentation): ``tests/test_comsol_evidence.py`` requires one for every kind of :data:`NODES`.
NODE_SOURCES: dict[str, str] = {
    "Model": f"{_H}: param(), component(), study(); {DOC_DATA_EXPORT}: result().export()",
    "Params": f"{_H}: param().set(name, value) and set(name, value, description)",
    "ComponentList": f"{_H}: component().create(\"comp1\", true)",
    "Component": f"{_H}: geom(), mesh(), physics(), variable(); {_W}: cpl(), selection()",
    "GeomList": f"{_H}: geom().create(\"geom1\", 2)",
    "Geom": f"{_H}: create(tag, type), feature(tag), run()",
    "GeomFeature": f"{_H}: set(name, value), selection(\"input\"), label(text)",
    "GeomInput": f"{_H}: feature(\"dif1\").selection(\"input\").set(\"sq1\") (String... varargs)",
    "SelectionList": f"{_W}: selection().create(\"sel1\", \"Explicit\")",
    "CompSelection": "COMSOL-written Box/Union/Complement/Adjacent/Difference selections: IDX (set(name, value))",
    "VariableList": f"{_H}: variable().create(\"var1\")",
    "Variables": f"{_H}: set(name, expr, description); AICOMSOl models: variable(\"var2\").selection().geom(\"geom1\", 3)"
                 ".named(\"geom1_r2_dom\") (per-domain variables)",
    "CouplingList": f"{_W}: cpl().create(\"intop1\", \"Integration\")",
    "Coupling": f"{_W}: cpl(\"intop1\").set(...), selection().geom(\"geom1\", 2), selection().named(...)",
    "EntitySelection": f"{_W}: selection().geom(...).named(...); {_V}: selection().set(1, 2, 3, 4); all()",
    "PhysicsList": f"{_H}: physics().create(\"solid\", \"SolidMechanics\", \"geom1\")",
    "Physics": f"{_V}: create(tag, type, dim), feature(tag), prop(group)",
    "PhysicsProp": f"{_V}: prop(\"StructuralTransientBehavior\").set(...); {EXAMPLES['valve']}: prop(\"TransportMechanism\").set(\"Migration\", true)",
    "PhysicsFeature": f"{_V}: set, setIndex, selection(), feature(\"lemm1\").create(\"eiel1\", \"ExternalStrain\", 2)",
    "MeshList": f"{_H}: mesh().create(\"mesh1\")",
    "Mesh": f"{_H}: create(tag, type), feature(\"size\"), run(); {MESH_EXPORT}: export(filename)",
    "MeshFeature": f"{_H}: feature(\"size\").set(\"hauto\", 2)",
    "StudyList": f"{_H}: study().create(\"std1\")",
    "Study": f"{_H}: create(\"time\", \"Transient\"), feature(\"time\"), createAutoSequences(\"all\"); run(): what mph's"
             " Model.solve() calls on study nodes (mph 1.4, model.py)",
    "StudyStep": f"{_H}: feature(\"time\").set(\"tlist\", ...)",
    "Results": DOC_DATA_EXPORT,
    "ExportList": DOC_DATA_EXPORT,
    "Export": f"{DOC_DATA_EXPORT}: set(property, value), run()",
}

#: Property groups of physics interfaces reachable with ``prop(name)`` and their settings (all in the
#: index as ``Type.prop:Group/name``).
PHYSICS_PROPS: dict[str, dict[str, set[str]]] = {
    "SolidMechanics": {"StructuralTransientBehavior": {"StructuralTransientBehavior"}},
    "DilutedSpecies": {"TransportMechanism": {"Migration"}},
}

#: Default features of a new mesh sequence (``mesh("mesh1").feature("size")``).
MESH_DEFAULTS: dict[str, str] = {"size": "Size"}
