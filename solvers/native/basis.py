"""Lagrange P1 and P2 bases on straight-sided tetrahedra, written in barycentric coordinates.

Geometry. For a tetrahedron with vertices x_0..x_3, the barycentric coordinates lambda_k(x) are
affine, so their gradients are constant. With the edge matrix A = [x_1 - x_0, x_2 - x_0, x_3 - x_0]
(columns), lambda_{1,2,3} = A^{-1} (x - x_0), hence grad lambda_{1..3} are the rows of A^{-1} and
grad lambda_0 = -(sum of the others). The volume is |T| = det(A) / 6 (positive for a well
oriented element).

P1: phi_k = lambda_k (k = 0..3), grad phi_k = grad lambda_k.

P2 (10 functions; the local order is the one meshio calls ``tetra10``):
- vertices  k = 0..3:       phi_k = lambda_k (2 lambda_k - 1),  grad = (4 lambda_k - 1) grad lambda_k;
- edges (a, b) in ``P2_EDGES`` (local 4..9): phi = 4 lambda_a lambda_b,
  grad = 4 (lambda_a grad lambda_b + lambda_b grad lambda_a).

Everything is vectorised over elements: geometry arrays are (m, ...) and a basis evaluated at one
barycentric point returns (10,) values or (m, 10, 3) gradients.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "P2_EDGES",
    "barycentric_gradients",
    "basis_gradients",
    "basis_values",
    "gradient_coefficients",
    "n_local",
    "tet_volumes",
]

#: Local vertex pairs of the six tetrahedron edges, in meshio/VTK ``tetra10`` order.
P2_EDGES: np.ndarray = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]], dtype=np.int64)


def tet_volumes(points: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Signed volumes det(A)/6 [m^3] of the tetrahedra ``tets`` (m, >=4) over ``points`` (n, 3)."""
    x0 = points[tets[:, 0]]
    a = np.stack([points[tets[:, 1]] - x0, points[tets[:, 2]] - x0, points[tets[:, 3]] - x0], axis=2)
    return np.linalg.det(a) / 6.0


def barycentric_gradients(points: np.ndarray, tets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of lambda_0..3 (m, 4, 3) [1/m] and signed volumes (m,) [m^3]."""
    x0 = points[tets[:, 0]]
    a = np.stack([points[tets[:, 1]] - x0, points[tets[:, 2]] - x0, points[tets[:, 3]] - x0], axis=2)
    det = np.linalg.det(a)
    inv = np.linalg.inv(a)  # rows of A^{-1} are grad lambda_1..3
    grads = np.empty((tets.shape[0], 4, 3))
    grads[:, 1:, :] = inv
    grads[:, 0, :] = -inv.sum(axis=1)
    return grads, det / 6.0


def n_local(order: int) -> int:
    """Number of local basis functions of the P``order`` tetrahedron (4 or 10)."""
    if order == 1:
        return 4
    if order == 2:
        return 10
    raise ValueError(f"Lagrange order {order} is not supported on tetrahedra; use 1 or 2")


def basis_values(order: int, lam: np.ndarray) -> np.ndarray:
    """Values (n_local,) of the P``order`` basis at one barycentric point ``lam`` (4,)."""
    lam = np.asarray(lam, dtype=float)
    if order == 1:
        return lam.copy()
    n_local(order)
    vals = np.empty(10)
    vals[:4] = lam * (2.0 * lam - 1.0)
    vals[4:] = 4.0 * lam[P2_EDGES[:, 0]] * lam[P2_EDGES[:, 1]]
    return vals


def gradient_coefficients(order: int, lam: np.ndarray) -> np.ndarray:
    """Matrix C (n_local, 4) with grad phi_a = sum_k C[a, k] grad lambda_k at barycentric ``lam``.

    The same for every element: element geometry enters only through grad lambda_k.
    """
    lam = np.asarray(lam, dtype=float)
    if order == 1:
        return np.eye(4)
    n_local(order)
    coef = np.zeros((10, 4))
    coef[np.arange(4), np.arange(4)] = 4.0 * lam - 1.0
    a, b = P2_EDGES[:, 0], P2_EDGES[:, 1]
    rows = np.arange(4, 10)
    coef[rows, b] = 4.0 * lam[a]
    coef[rows, a] = 4.0 * lam[b]
    return coef


def basis_gradients(order: int, lam: np.ndarray, grad_lambda: np.ndarray) -> np.ndarray:
    """Gradients (m, n_local, 3) [1/m] of the basis at barycentric point ``lam`` (4,).

    ``grad_lambda`` (m, 4, 3) from :func:`barycentric_gradients`.
    """
    return np.einsum("ak,mkd->mad", gradient_coefficients(order, lam), grad_lambda)
