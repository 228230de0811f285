"""A recording test double of the COMSOL Java API, checked against :mod:`~solvers.comsol.api_table`.

This is NOT COMSOL: it solves nothing and knows only what the table says. It exists because COMSOL
cannot run where octant is tested. It stands in for the ``model.java`` object that mph hands the
worker: the builder's plan is replayed on it with exactly the code that replays it on the real
model (:func:`solvers.comsol.builder.apply_plan`), and it

* records every call as Java source text of the whole chain, e.g.
  ``model.component("comp1").physics().create("tds", "DilutedSpecies", "geom1")``;
* rejects (with :class:`~solvers.comsol.api_table.ApiError`) any method the node does not have,
  arguments of the wrong Java kind, feature types unknown to their family, properties unknown to
  the feature type, enumeration values not listed, and references to tags that were never created
  (features, selections, geometry objects) -- the checks COMSOL itself would make at run time.

Usage::

    double = RecordingModel()
    apply_plan(plan, double)
    assert 'model.study("std1").run()' in double.calls
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .api_table import FAMILIES, MESH_DEFAULTS, NODES, PHYSICS_PROPS, ApiError, FeatureType, Method, java_kind, java_literal

__all__ = ["RecordedNode", "RecordingModel"]


@dataclass
class _Context:
    key: tuple[str, ...]          # identity of this node (for its child namespaces)
    kind: str                     # node kind in NODES
    family: str | None = None     # family of its type (typed features)
    type: str | None = None       # feature type
    component: str | None = None  # enclosing component tag
    geom_key: tuple[str, ...] | None = None


class RecordedNode:
    """One node of the double; attribute access yields the methods the table allows."""

    def __init__(self, recorder: RecordingModel, expr: str, ctx: _Context):
        self._recorder = recorder
        self._expr = expr
        self._ctx = ctx

    def __repr__(self) -> str:
        return f"<recorded {self._ctx.kind} {self._expr}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        methods = NODES.get(self._ctx.kind, {})
        if name not in methods:
            raise ApiError(
                f"{self._expr}: a {self._ctx.kind} node has no method {name!r}; it has: {', '.join(sorted(methods)) or 'none'}"
            )

        def call(*args: Any) -> Any:
            return self._recorder._call(self, name, methods[name], args)

        return call


class RecordingModel(RecordedNode):
    """The root ``model`` object of the double. ``calls`` lists every call made, in order."""

    def __init__(self) -> None:
        super().__init__(self, "model", _Context(key=("model",), kind="Model"))
        self.calls: list[str] = []
        self._tags: dict[tuple[tuple[str, ...], str], dict[str, tuple[str | None, str | None]]] = {}

    # -- the checks ---------------------------------------------------------------------------
    def _call(self, node: RecordedNode, name: str, overloads: list[Method], args: tuple) -> Any:
        kinds = tuple(java_kind(a) for a in args)
        rendered = f"{node._expr}.{name}({', '.join(java_literal(a) for a in args) if '?' not in kinds else args})"
        method = next((m for m in overloads if _matches(m.args, kinds)), None)
        if method is None:
            wanted = " or ".join(f"({', '.join(m.args)})" for m in overloads)
            raise ApiError(f"{rendered}: {name} takes {wanted}, got ({', '.join(kinds)})")
        ctx = node._ctx
        child: _Context | None = None
        if method.action == "create":
            child = self._create(rendered, ctx, method, args)
        elif method.action == "get":
            tag = args[0]
            space = self._tags.get((ctx.key, method.namespace or ""), {})
            if tag not in space:
                raise ApiError(f"{rendered}: no {method.namespace} {tag!r} here; existing: {', '.join(space) or 'none'}")
            child = self._child_context(ctx, method, tag, *space[tag])
        elif method.action == "set":
            self._check_property(rendered, ctx, args[0], args[1])
            if ctx.family == "geometry" and args[0] == "selresult" and args[1] is True:
                # a geometry object's own domain selection, named as COMSOL names it (geom1_inc1_dom)
                geom_tag, tag = (ctx.geom_key or ("", ""))[-1], ctx.key[-1]
                self._tags.setdefault((("component", ctx.component or ""), "selection"), {})[f"{geom_tag}_{tag}_dom"] = (None, None)
        elif method.action == "named":
            space = self._tags.get((("component", ctx.component or ""), "selection"), {})
            if args[0] not in space:
                raise ApiError(f"{rendered}: no selection {args[0]!r} in component {ctx.component!r}; existing: {', '.join(space) or 'none'}")
        elif method.action == "input_name":
            if args[0] != "input":
                raise ApiError(f"{rendered}: geometry features take selection('input') here, not {args[0]!r}")
            child = _Context(key=ctx.key + ("input",), kind="GeomInput", component=ctx.component, geom_key=ctx.geom_key)
        elif method.action == "input":
            space = self._tags.get((ctx.geom_key or (), "feature"), {})
            unknown = [t for t in args[0] if t not in space]
            if unknown:
                raise ApiError(f"{rendered}: no geometry object {unknown}; existing: {', '.join(space) or 'none'}")
        elif method.action == "prop":
            groups = PHYSICS_PROPS.get(ctx.type or "", {})
            if args[0] not in groups:
                raise ApiError(f"{rendered}: {ctx.type} has no property group {args[0]!r}; it has: {', '.join(groups) or 'none'}")
            child = _Context(key=ctx.key + ("prop", args[0]), kind="PhysicsProp", type=args[0], family=ctx.type, component=ctx.component)
        elif method.action == "prop_set":
            allowed = PHYSICS_PROPS.get(ctx.family or "", {}).get(ctx.type or "", set())
            if args[0] not in allowed:
                raise ApiError(f"{rendered}: property group {ctx.type} has no setting {args[0]!r}; it has: {', '.join(sorted(allowed))}")
        self.calls.append(rendered)
        if method.returns is None:
            return None
        if child is None:
            key = ctx.key if method.returns.endswith("List") else ctx.key + (name,)
            child = _Context(key=key, kind=method.returns, family=ctx.family, type=ctx.type,
                             component=ctx.component, geom_key=ctx.geom_key)
        return RecordedNode(self, rendered, child)

    def _create(self, rendered: str, ctx: _Context, method: Method, args: tuple) -> _Context:
        tag = args[0]
        type_name: str | None = None
        family = method.family
        if family == "@children":
            family = FAMILIES.get(ctx.family or "", {}).get(ctx.type or "", FeatureType()).children
            if family is None:
                raise ApiError(f"{rendered}: a {ctx.type} feature has no sub-features")
        if family is not None:
            type_name = args[1]
            types = FAMILIES[family]
            if type_name not in types:
                raise ApiError(
                    f"{rendered}: {type_name!r} is not a documented {family} feature type; known: {', '.join(sorted(types))}"
                )
        space = self._tags.setdefault((ctx.key, method.namespace or ""), {})
        if tag in space:
            raise ApiError(f"{rendered}: tag {tag!r} already exists here")
        space[tag] = (type_name, family)
        child = self._child_context(ctx, method, tag, type_name, family)
        if family is not None:
            child_family = FAMILIES[family][type_name].children
            for default_tag, default_type in FAMILIES[family][type_name].defaults.items():
                self._tags.setdefault((child.key, "feature"), {})[default_tag] = (default_type, child_family)
        if method.returns == "Mesh":
            defaults = {t: (typ, "mesh") for t, typ in MESH_DEFAULTS.items()}
            self._tags.setdefault((child.key, "feature"), {}).update(defaults)
        return child

    def _child_context(self, ctx: _Context, method: Method, tag: str, type_name: str | None, family: str | None) -> _Context:
        key = ("component", tag) if method.namespace == "component" else ctx.key + (method.namespace or "", tag)
        geom_key = key if method.returns == "Geom" else ctx.geom_key
        return _Context(key=key, kind=method.returns or "", family=family, type=type_name,
                        component=tag if method.namespace == "component" else ctx.component, geom_key=geom_key)

    def _check_property(self, rendered: str, ctx: _Context, prop: str, value: object) -> None:
        if ctx.family is None or ctx.type is None:
            raise ApiError(f"{rendered}: cannot set properties on an untyped node")
        spec = FAMILIES[ctx.family][ctx.type].properties
        if prop not in spec:
            raise ApiError(
                f"{rendered}: {ctx.type} ({ctx.family}) has no property {prop!r}; documented: {', '.join(sorted(spec)) or 'none'}"
            )
        allowed = spec[prop]
        if isinstance(allowed, frozenset) and value not in allowed:
            raise ApiError(f"{rendered}: {prop} of {ctx.type} must be one of {', '.join(sorted(allowed))}, not {value!r}")


def _matches(expected: tuple[str, ...], got: tuple[str, ...]) -> bool:
    if len(expected) != len(got):
        return False
    for want, have in zip(expected, got):
        if want == "value":
            if have == "?":
                return False
        elif want == "double":
            if have not in ("double", "int"):
                return False
        elif want != have:
            return False
    return True
