"""A small, safe expression language for material laws.

A law such as the concentration-dependent diffusivity D(theta) is written once, as text, in a
restricted grammar, and compiled to two targets:

* a vectorised numpy function ``f(theta, c)`` (SI units) together with its exact derivative
  ``df/dtheta``, used by the native and radial solvers (Newton needs the exact Jacobian);
* a COMSOL expression string, used by the COMSOL backend and the ``.java`` exporter.

Grammar
-------
numbers (``2e-17``), the variables ``theta`` (= c / c_max, dimensionless) and ``c`` (mol/m^3),
the operators ``+ - * /`` and ``^`` (power; ``**`` is accepted as a synonym), parentheses and the
functions ``exp log tanh sqrt min max``. Anything else (attribute access, names, calls to other
functions, comparisons, ...) is rejected with :class:`ExpressionError` *before* anything is
evaluated, so user text never reaches ``eval``.

Derivative
----------
The derivative with respect to theta is computed by the complex-step method,
``f'(x) = Im f(x + i h) / h`` with ``h = 1e-30``: it has no subtractive cancellation, so it is
exact to machine precision for every analytic function of the grammar. ``min``/``max`` are
evaluated on the real part so they remain piecewise analytic.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
import numpy as np

__all__ = ["Expression", "ExpressionError", "parse_expression"]

_FUNCTIONS = {"exp", "log", "tanh", "sqrt", "min", "max"}
_VARIABLES = {"theta", "c"}
_COMPLEX_STEP = 1e-30


class ExpressionError(ValueError):
    """An expression uses something outside the law grammar (or does not parse)."""


def _cmin(a, b):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    return np.where(np.real(a) <= np.real(b), a, b)


def _cmax(a, b):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    return np.where(np.real(a) >= np.real(b), a, b)


_NUMPY = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt, "min": _cmin, "max": _cmax}


def _check(node: ast.AST, text: str) -> None:
    """Raise ExpressionError unless every node of the tree is in the grammar."""
    if isinstance(node, ast.Expression):
        _check(node.body, text)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{text!r}: only numbers are allowed as constants, not {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in _VARIABLES:
            raise ExpressionError(
                f"{text!r}: unknown name {node.id!r}; the variables are 'theta' (c/c_max) and 'c' (mol/m^3)"
            )
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise ExpressionError(f"{text!r}: operator {type(node.op).__name__} is not allowed (use + - * / ^)")
        _check(node.left, text)
        _check(node.right, text)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ExpressionError(f"{text!r}: unary operator {type(node.op).__name__} is not allowed")
        _check(node.operand, text)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = getattr(node.func, "id", ast.unparse(node.func))
            raise ExpressionError(f"{text!r}: function {name!r} is not allowed; use one of {sorted(_FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError(f"{text!r}: keyword arguments are not allowed")
        n_args = 2 if node.func.id in ("min", "max") else 1
        if len(node.args) != n_args:
            raise ExpressionError(f"{text!r}: {node.func.id}() takes {n_args} argument(s)")
        for arg in node.args:
            _check(arg, text)
    else:
        raise ExpressionError(f"{text!r}: {type(node).__name__} is not part of the law grammar")


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
    _code: object = field(repr=False, compare=False)

    def __call__(self, theta: np.ndarray | float, c: np.ndarray | float | None = None) -> np.ndarray:
        """Evaluate the expression (real result) for ``theta`` [-] and ``c`` [mol/m^3]."""
        return np.real(self._evaluate(theta, theta if c is None else c))

    def _evaluate(self, theta, c):
        scope = {"theta": theta, "c": c, **_NUMPY, "__builtins__": {}}
        with np.errstate(all="ignore"):
            value = eval(self._code, scope)  # noqa: S307 -- the tree was checked against the grammar
        return np.broadcast_to(value, np.shape(theta)) if np.ndim(value) < np.ndim(theta) else value

    def derivative_theta(self, theta: np.ndarray | float, c_max: float = 1.0) -> np.ndarray:
        """Exact total derivative d f / d theta, with ``c = c_max * theta`` (complex step)."""
        theta = np.asarray(theta, dtype=float)
        z = theta + 1j * _COMPLEX_STEP
        return np.imag(self._evaluate(z, c_max * z)) / _COMPLEX_STEP

    def comsol(self, theta: str = "theta", c: str = "c") -> str:
        """The expression as a COMSOL string; ``theta`` and ``c`` are replaced by the given names."""
        return _to_comsol(self._tree, theta, c)

    @property
    def variables(self) -> set[str]:
        """The variable names the expression uses."""
        return {n.id for n in ast.walk(self._tree) if isinstance(n, ast.Name) and n.id in _VARIABLES}


def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` if it leaves the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("a law expression must be a non-empty string, e.g. '2e-17*exp(4.605*theta)'")
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} does not parse: {exc.msg}") from None
    _check(tree, text)
    return Expression(text=text.strip(), _tree=tree, _code=compile(tree, "<law>", "eval"))

