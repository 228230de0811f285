"""Quadrature rules on the reference tetrahedron, written in barycentric coordinates.

A point of a tetrahedron T with vertices x_0..x_3 is x = sum_k lambda_k x_k with lambda_k >= 0 and
sum_k lambda_k = 1 (barycentric coordinates). A rule is a set of points lambda^(q) and weights w_q
normalised so that sum_q w_q = 1; then

    integral_T f dx  ~=  |T| * sum_q w_q f(x(lambda^(q))),

exactly when f is a polynomial of degree <= the rule's degree. Exactness is checked against the
closed form for monomials in barycentric coordinates,

    integral_T lambda_0^a lambda_1^b lambda_2^c lambda_3^d dx = |T| 3! a! b! c! d! / (a+b+c+d+3)!.

Rules (all weights positive):

- degree 1: the centroid;
- degree 2: 4 points (a, b, b, b) and permutations, a = (5 + 3 sqrt 5)/20, b = (5 - sqrt 5)/20;
- degree 5: 14 points (Walkington 2000 / Keast family): two orbits of 4 and one orbit of 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

__all__ = ["QuadratureRule", "tetrahedron_rule"]


@dataclass(frozen=True)
class QuadratureRule:
    """Barycentric points ``lambdas`` (nq, 4) and weights ``weights`` (nq,) summing to 1."""

    degree: int
    lambdas: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        """Number of points."""
        return int(self.weights.size)


def _orbit(point: tuple[float, float, float, float]) -> np.ndarray:
    """All distinct permutations of a barycentric point (the symmetry orbit)."""
    return np.array(sorted(set(permutations(point))), dtype=float)


def _rule_degree1() -> QuadratureRule:
    return QuadratureRule(1, np.full((1, 4), 0.25), np.ones(1))


def _rule_degree2() -> QuadratureRule:
    a = (5.0 + 3.0 * np.sqrt(5.0)) / 20.0
    b = (5.0 - np.sqrt(5.0)) / 20.0
    pts = _orbit((a, b, b, b))
    return QuadratureRule(2, pts, np.full(4, 0.25))


def _rule_degree5() -> QuadratureRule:
    a1, w1 = 0.31088591926330060980, 0.11268792571801585080
    a2, w2 = 0.092735250310891226402, 0.073493043116361949544
    b3, w3 = 0.045503704125649649492, 0.042546020777081466438
    o1 = _orbit((1.0 - 3.0 * a1, a1, a1, a1))
    o2 = _orbit((1.0 - 3.0 * a2, a2, a2, a2))
    o3 = _orbit((b3, b3, 0.5 - b3, 0.5 - b3))
    pts = np.vstack([o1, o2, o3])
    w = np.concatenate([np.full(4, w1), np.full(4, w2), np.full(6, w3)])
    return QuadratureRule(5, pts, w / w.sum())


_RULES = {1: _rule_degree1, 2: _rule_degree2, 5: _rule_degree5}


def tetrahedron_rule(degree: int) -> QuadratureRule:
    """The cheapest stored rule exact for polynomials of ``degree`` (1, 2 or up to 5)."""
    for d in sorted(_RULES):
        if d >= degree:
            return _RULES[d]()
    raise ValueError(f"no tetrahedron quadrature rule of degree {degree}; the highest stored is 5")
