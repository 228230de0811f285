"""A small, safe expression language for material laws.

A law such as the concentration-dependent diffusivity D(theta) is written once, as text, in a
restricted grammar, and compiled to two targets:

* vectorised numpy functions ``f(theta, c)`` (SI units) and ``(f, df/dtheta)`` together, used by
  the native and radial solvers (Newton needs the exact Jacobian);
* a COMSOL expression string, used by the COMSOL backend and the ``.java`` exporter.

Grammar
-------
numbers (``2e-17``), the variables ``theta`` (= c / c_max, dimensionless) and ``c`` (mol/m^3),
the operators ``+ - * /`` and ``^`` (power; ``**`` is accepted as a synonym), parentheses and the
functions ``exp log tanh sqrt min max``. Anything else (attribute access, names, calls to other
functions, comparisons, ...) is rejected with :class:`ExpressionError` *before* anything is
evaluated; user text never reaches ``eval`` (the numpy functions are generated from the checked
tree, not from the text).

Limits (hostile input)
----------------------
At most :data:`MAX_LENGTH` characters, :data:`MAX_NODES` tree nodes and :data:`MAX_DEPTH` levels
of nesting (checked iteratively, so a 1000-term sum is a clean error, never a RecursionError).
Constant sub-expressions are folded in floating point at parse time (never with Python's
unbounded integers, so ``9^9^9^9`` or ``10**10**10`` fail at once): a constant that overflows, is
not finite or not real (``log(0)``, ``sqrt(-1)``, ``(-8)^(1/3)``), a division by a constant zero
(``1/0``, ``theta/(1-1)``) and a constant exponent larger than :data:`MAX_EXPONENT` in magnitude
are rejected with a message naming the sub-expression.

Derivative
----------
The derivative with respect to theta (with ``c = c_max theta``) is symbolic: every node of the
tree is differentiated by its rule (sum, product, quotient, chain rules; d tanh u = (1 - tanh^2 u)
du, d min(a, b) = da where a <= b else db, ...) and the value and derivative of all nodes are
generated as one straight-line numpy function (forward mode, so shared sub-expressions such as
``tanh`` are evaluated once). It is exact up to rounding and costs about twice one evaluation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import OctantError

__all__ = ["MAX_DEPTH", "MAX_EXPONENT", "MAX_LENGTH", "MAX_NODES", "Expression", "ExpressionError", "parse_expression"]

_FUNCTIONS = {"exp", "log", "tanh", "sqrt", "min", "max"}
_VARIABLES = {"theta", "c"}

#: Longest accepted expression text [characters].
MAX_LENGTH = 2000
#: Deepest accepted nesting of the syntax tree.
MAX_DEPTH = 50
#: Largest accepted number of syntax-tree nodes.
MAX_NODES = 1000
#: Largest accepted magnitude of a constant exponent (``theta^p``, |p| <= MAX_EXPONENT).
MAX_EXPONENT = 1000.0


class ExpressionError(OctantError, ValueError):
    """An expression uses something outside the law grammar, exceeds a limit, or does not parse."""


# --------------------------------------------------------------------------------------------------
# checking the Python syntax tree
# --------------------------------------------------------------------------------------------------
def _check_size(tree: ast.AST, text: str) -> None:
    """Reject trees deeper than MAX_DEPTH or larger than MAX_NODES (iterative: no recursion)."""
    stack = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"{_short(text)}: nested deeper than {MAX_DEPTH} levels; simplify the law (split long sums"
                " into fewer terms)"
            )
        if count > MAX_NODES:
            raise ExpressionError(f"{_short(text)}: more than {MAX_NODES} terms/operations; simplify the law")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _check(node: ast.AST, text: str) -> None:
    """Raise ExpressionError unless every node of the tree is in the grammar (depth is bounded)."""
    if isinstance(node, ast.Expression):
        _check(node.body, text)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{_short(text)}: only numbers are allowed as constants, not {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in _VARIABLES:
            raise ExpressionError(
                f"{_short(text)}: unknown name {node.id!r}; the variables are 'theta' (c/c_max) and 'c' (mol/m^3)"
            )
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise ExpressionError(f"{_short(text)}: operator {type(node.op).__name__} is not allowed (use + - * / ^)")
        _check(node.left, text)
        _check(node.right, text)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ExpressionError(f"{_short(text)}: unary operator {type(node.op).__name__} is not allowed")
        _check(node.operand, text)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = getattr(node.func, "id", type(node.func).__name__)
            raise ExpressionError(f"{_short(text)}: function {name!r} is not allowed; use one of {sorted(_FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError(f"{_short(text)}: keyword arguments are not allowed")
        n_args = 2 if node.func.id in ("min", "max") else 1
        if len(node.args) != n_args:
            raise ExpressionError(f"{_short(text)}: {node.func.id}() takes {n_args} argument(s)")
        for arg in node.args:
            _check(arg, text)
    else:
        raise ExpressionError(f"{_short(text)}: {type(node).__name__} is not part of the law grammar")


def _to_comsol(node: ast.AST, theta: str, c: str) -> str:
    """Print a checked tree as a COMSOL expression, fully parenthesised."""
    if isinstance(node, ast.Expression):
        return _to_comsol(node.body, theta, c)
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    if isinstance(node, ast.Name):
        return theta if node.id == "theta" else c
    if isinstance(node, ast.UnaryOp):
        sign = "-" if isinstance(node.op, ast.USub) else ""
        return f"({sign}{_to_comsol(node.operand, theta, c)})"
    if isinstance(node, ast.BinOp):
        op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}[type(node.op)]
        return f"({_to_comsol(node.left, theta, c)}{op}{_to_comsol(node.right, theta, c)})"
    if isinstance(node, ast.Call):
        args = ",".join(_to_comsol(a, theta, c) for a in node.args)
        return f"{node.func.id}({args})"
    raise ExpressionError(f"cannot print {type(node).__name__}")  # unreachable after _check


# --------------------------------------------------------------------------------------------------
# the folded intermediate tree: ("const", x) | ("var", name) | (op, child, ...) | ("call", fn, args)
# --------------------------------------------------------------------------------------------------
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_MATH = {"exp": math.exp, "log": math.log, "tanh": math.tanh, "sqrt": math.sqrt, "min": min, "max": max}


def _fold_value(op: str, args: list[float], source: str, text: str) -> float:
    """Evaluate a constant node in IEEE floats; reject overflow, division by zero, non-real results."""
    try:
        if op == "neg":
            value = -args[0]
        elif op == "add":
            value = args[0] + args[1]
        elif op == "sub":
            value = args[0] - args[1]
        elif op == "mul":
            value = args[0] * args[1]
        elif op == "div":
            value = args[0] / args[1]
        elif op == "pow":
            value = math.pow(args[0], args[1])
        else:
            value = _MATH[op](*args)
    except ZeroDivisionError:
        raise ExpressionError(f"{_short(text)}: division by zero in the constant {source!r}") from None
    except OverflowError:
        raise ExpressionError(f"{_short(text)}: the constant {source!r} overflows a float (|x| > 1.8e308)") from None
    except ValueError:
        raise ExpressionError(
            f"{_short(text)}: the constant {source!r} has no real value (log/sqrt of a non-positive number, or a"
            " negative number to a fractional power)"
        ) from None
    if not math.isfinite(value):
        raise ExpressionError(f"{_short(text)}: the constant {source!r} is not finite")
    return float(value)


def _lower(node: ast.AST, text: str) -> tuple:
    """The checked Python tree as a folded intermediate tree (constant sub-trees evaluated)."""
    if isinstance(node, ast.Expression):
        return _lower(node.body, text)
    if isinstance(node, ast.Constant):
        try:
            value = float(node.value)
        except OverflowError:
            raise ExpressionError(f"{_short(text)}: the number {str(node.value)[:20]}... is too large") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{_short(text)}: the number {node.value!r} is not finite")
        return ("const", value)
    if isinstance(node, ast.Name):
        return ("var", node.id)
    if isinstance(node, ast.UnaryOp):
        child = _lower(node.operand, text)
        if isinstance(node.op, ast.UAdd):
            return child
        op, children = "neg", [child]
    elif isinstance(node, ast.BinOp):
        op, children = _BINOPS[type(node.op)], [_lower(node.left, text), _lower(node.right, text)]
    else:  # ast.Call (checked)
        op, children = node.func.id, [_lower(a, text) for a in node.args]
    if all(ch[0] == "const" for ch in children):
        return ("const", _fold_value(op, [ch[1] for ch in children], ast.unparse(node), text))
    if op == "div" and children[1] == ("const", 0.0):
        raise ExpressionError(f"{_short(text)}: division by zero in {ast.unparse(node)!r}")
    if op == "pow" and children[1][0] == "const" and abs(children[1][1]) > MAX_EXPONENT:
        raise ExpressionError(
            f"{_short(text)}: the exponent in {ast.unparse(node)!r} exceeds {MAX_EXPONENT:g} in magnitude"
        )
    return (op, *children)


# --------------------------------------------------------------------------------------------------
# code generation: value only, and value with the derivative d/dtheta (forward mode)
# --------------------------------------------------------------------------------------------------
_ONE = "1"  # marker: the derivative is exactly 1 (theta itself)


class _Emitter:
    """Generates straight-line numpy code for a folded tree; ``derivative`` adds d/dtheta lines."""

    def __init__(self, derivative: bool):
        self.derivative = derivative
        self.lines: list[str] = []
        self.count = 0

    def _new(self, expr: str) -> str:
        name = f"v{self.count}"
        self.count += 1
        self.lines.append(f"    {name} = {expr}")
        return name

    def _d(self, expr: str) -> str:
        name = f"d{self.count}"
        self.count += 1
        self.lines.append(f"    {name} = {expr}")
        return name

    @staticmethod
    def _times(d: str | None, factor: str) -> str | None:
        if d is None:
            return None
        return factor if d == _ONE else f"({d})*({factor})"

    @staticmethod
    def _sum(a: str | None, b: str | None, sign: str = "+") -> str | None:
        a = "1.0" if a == _ONE else a
        b = "1.0" if b == _ONE else b
        if b is None:
            return a
        if a is None:
            return b if sign == "+" else f"-({b})"
        return f"({a}){sign}({b})"

    def emit(self, node: tuple) -> tuple[str, str | None]:
        """(value name or literal, derivative name/literal/None for zero) of ``node``."""
        kind = node[0]
        if kind == "const":
            return (repr(node[1]) if node[1] >= 0 else f"({node[1]!r})"), None
        if kind == "var":
            return node[1], (_ONE if node[1] == "theta" else "dc")
        args = [self.emit(child) for child in node[1:]]
        (a, da), (b, db) = args[0], (args[1] if len(args) > 1 else (None, None))
        value, deriv = self._rule(kind, a, da, b, db, node)
        v = self._new(value)
        if not self.derivative or deriv is None:
            return v, None
        return v, self._d(deriv(v))

    def _rule(self, kind, a, da, b, db, node) -> tuple[str, Callable[[str], str | None] | None]:
        """The value expression of a node and a function of its value name giving its derivative."""
        t = self._times
        if kind == "neg":
            return f"-{a}", (lambda v: f"-({'1.0' if da == _ONE else da})") if da else None
        if kind in ("add", "sub"):
            sign = "+" if kind == "add" else "-"
            d = self._sum(da, db, sign)
            return f"{a}{sign}{b}", (lambda v: d) if d else None
        if kind == "mul":
            d = self._sum(t(da, b), t(db, a))
            return f"{a}*{b}", (lambda v: d) if d else None
        if kind == "div":
            if db is None:
                return f"{a}/{b}", (lambda v: f"({'1.0' if da == _ONE else da})/{b}") if da else None
            return f"{a}/{b}", lambda v: f"({self._sum(da, t(db, v), '-')})/{b}"
        if kind == "pow":
            return self._pow_rule(a, da, b, db, node)
        fn = node[0]
        if fn in ("min", "max"):
            cmp = "<=" if fn == "min" else ">="
            value = f"np.minimum({a}, {b})" if fn == "min" else f"np.maximum({a}, {b})"
            if da is None and db is None:
                return value, None
            da_, db_ = ("1.0" if da == _ONE else (da or "0.0")), ("1.0" if db == _ONE else (db or "0.0"))
            return value, lambda v: f"np.where({a} {cmp} {b}, {da_}, {db_})"
        rules = {
            "exp": (f"np.exp({a})", lambda v: t(da, v)),
            "log": (f"np.log({a})", lambda v: f"({'1.0' if da == _ONE else da})/{a}"),
            "tanh": (f"np.tanh({a})", lambda v: t(da, f"1.0-{v}*{v}")),
            "sqrt": (f"np.sqrt({a})", lambda v: f"0.5*({'1.0' if da == _ONE else da})/{v}"),
        }
        value, deriv = rules[fn]
        return value, deriv if da else None

    def _pow_rule(self, a, da, b, db, node) -> tuple[str, Callable[[str], str | None] | None]:
        t = self._times
        if node[2][0] == "const":  # constant exponent p
            p = float(node[2][1])
            if p == 2.0:
                return f"{a}*{a}", (lambda v: t(da, f"2.0*{a}")) if da else None
            return f"{a}**{p!r}", (lambda v: t(da, f"{p!r}*{a}**{p - 1.0!r}")) if da else None
        if node[1][0] == "const":  # constant base
            base = float(node[1][1])
            log_base = math.log(base) if base > 0 else math.nan
            return f"{a}**{b}", lambda v: t(db, f"{v}*{log_base!r}")
        return f"{a}**{b}", lambda v: f"{v}*({t(db, f'np.log({a})')}+{t(da, f'{b}/{a}')})"

    def function(self, tree: tuple, name: str) -> str:
        value, deriv = self.emit(tree)
        if self.derivative:
            d = "0.0" if deriv is None else ("1.0" if deriv == _ONE else deriv)
            ret = f"    return {value}, {d}"
        else:
            ret = f"    return {value}"
        return "\n".join([f"def {name}(theta, c, dc):", *self.lines, ret])


def _compile(tree: tuple, derivative: bool) -> Callable:
    source = _Emitter(derivative).function(tree, "law")
    scope: dict = {"np": np, "nan": math.nan, "__builtins__": {}}
    exec(compile(source, "<law>", "exec"), scope)  # noqa: S102 -- generated from the checked, folded tree
    return scope["law"]


def _broadcast(value, theta):
    value = np.asarray(value, dtype=float)
    return np.broadcast_to(value, np.shape(theta)).copy() if value.shape != np.shape(theta) else value


@dataclass(frozen=True)
class Expression:
    """A checked law expression in ``theta`` and ``c``.

    Attributes
    ----------
    text:
        The source text, as written in the spec (``^`` for powers).
    """

    text: str
    _tree: ast.Expression = field(repr=False, compare=False)
    _value: Callable = field(repr=False, compare=False)
    _pair: Callable = field(repr=False, compare=False)

    def __call__(self, theta: np.ndarray | float, c: np.ndarray | float | None = None) -> np.ndarray:
        """Evaluate the expression for ``theta`` [-] and ``c`` [mol/m^3] (default ``c = theta``)."""
        theta = np.asarray(theta, dtype=float)
        c = theta if c is None else np.asarray(c, dtype=float)
        with np.errstate(all="ignore"):
            value = self._value(theta, c, 0.0)
        return _broadcast(value, np.empty(np.broadcast_shapes(np.shape(theta), np.shape(c)), dtype=bool))

    def value_and_derivative(self, theta: np.ndarray | float, c_max: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(f, df/dtheta) with ``c = c_max * theta``, exact (symbolic), in one pass."""
        theta = np.asarray(theta, dtype=float)
        with np.errstate(all="ignore"):
            value, deriv = self._pair(theta, c_max * theta, float(c_max))
        return _broadcast(value, theta), _broadcast(deriv, theta)

    def derivative_theta(self, theta: np.ndarray | float, c_max: float = 1.0) -> np.ndarray:
        """Exact total derivative d f / d theta, with ``c = c_max * theta``."""
        return self.value_and_derivative(theta, c_max)[1]

    def comsol(self, theta: str = "theta", c: str = "c") -> str:
        """The expression as a COMSOL string; ``theta`` and ``c`` are replaced by the given names."""
        return _to_comsol(self._tree, theta, c)

    @property
    def variables(self) -> set[str]:
        """The variable names the expression uses."""
        return {n.id for n in ast.walk(self._tree) if isinstance(n, ast.Name) and n.id in _VARIABLES}


def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` if it leaves the grammar or a limit."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("a law expression must be a non-empty string, e.g. '2e-17*exp(4.605*theta)'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a law expression may have at most {MAX_LENGTH} characters, got {len(text)}")
    source = text.replace("^", "**").strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{_short(text)} does not parse: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"{_short(text)} is nested too deeply to parse; simplify the law") from None
    _check_size(tree, text)
    _check(tree, text)
    folded = _lower(tree, text)
    return Expression(text=text.strip(), _tree=tree, _value=_compile(folded, False), _pair=_compile(folded, True))
