"""Pointwise mechanics shared by every discretisation: elastic update, J2 return mapping, coupled flux.

Conventions
-----------
Symmetric tensors are Voigt rows (..., 6) ordered xx, yy, zz, yz, xz, xy, with *tensor* shear
components for strains (eps_yz, not gamma_yz), as in the solvers' outputs. Internally, and for the
tangent moduli, the Mandel form is used (shear components times sqrt 2): then tensor contraction is
the dot product, norms are Euclidean and the 6 x 6 tangent is symmetric. :func:`to_mandel` and
:func:`from_mandel` convert. The radial solver calls the same functions on diagonal tensors
(eps_r, eps_t, eps_t, 0, 0, 0).

Small-strain J2 plasticity with linear isotropic hardening (Simo & Hughes, Computational
Inelasticity, 1998, Box 3.1; de Souza Neto, Peric & Owen, Computational Methods for Plasticity,
2008, Box 7.3 and eq. 7.120)
---------------------------------------------------------------------------------------------
    eps = eps_e + eps_p + eps*,   eps* = (e_v / 3) I  (swelling, e_v = Omega (c - c_ref)),
    sigma = K tr(eps_e) I + 2 G dev(eps_e),   K = E / (3 (1 - 2 nu)),  G = E / (2 (1 + nu)),
    f = q - (sigma_Y + H alpha) <= 0,   q = sqrt(3/2 s:s) (von Mises),  s = dev(sigma),
    associative flow d eps_p = d gamma sqrt(3/2) s/|s|,  d alpha = d gamma (equivalent plastic strain).

Backward Euler gives the radial return: with the trial state s_tr = 2 G dev(eps - eps_p,n - eps*),
q_tr = sqrt(3/2) |s_tr|, f_tr = q_tr - sigma_Y - H alpha_n:

    d gamma = max(f_tr, 0) / (3 G + H),   s = (1 - 3 G d gamma / q_tr) s_tr,
    eps_p = eps_p,n + d gamma sqrt(3/2) N,  N = s_tr / |s_tr|,  alpha = alpha_n + d gamma,

and the consistent (algorithmic) tangent

    D = K 1 (x) 1 + 2 G (1 - 3 G d gamma / q_tr) I_dev + 6 G^2 (d gamma / q_tr - 1 / (3 G + H)) N (x) N,

which is symmetric, and for H = 0 annihilates N at a yielding point (perfect plasticity). The yield
stress, E and nu may vary from point to point (laws of theta evaluated by the caller).

Stress-driven diffusion
-----------------------
    J = -D (grad c - (Omega c / (R T)) grad sigma_h),   sigma_h = tr(sigma) / 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import GAS_CONSTANT

__all__ = [
    "ReturnMapping",
    "bulk_shear",
    "elastic_stress",
    "elastic_tangent",
    "from_mandel",
    "hydrostatic",
    "return_mapping",
    "stress_driven_flux",
    "to_mandel",
    "von_mises",
]

_SQ2 = np.sqrt(2.0)
_MANDEL = np.array([1.0, 1.0, 1.0, _SQ2, _SQ2, _SQ2])
_ONE = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
_I_DEV = np.eye(6) - np.outer(_ONE, _ONE) / 3.0
_SQ32 = np.sqrt(1.5)


def to_mandel(voigt: np.ndarray) -> np.ndarray:
    """Mandel components (..., 6) of Voigt rows with tensor shear (shear times sqrt 2)."""
    return np.asarray(voigt, dtype=float) * _MANDEL


def from_mandel(mandel: np.ndarray) -> np.ndarray:
    """Voigt rows with tensor shear (..., 6) from Mandel components."""
    return np.asarray(mandel, dtype=float) / _MANDEL


def bulk_shear(youngs_modulus: np.ndarray | float, poisson_ratio: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(K, G) [Pa] from E [Pa] and nu [-] (arrays broadcast); raises ValueError outside E > 0, -1 < nu < 0.5."""
    e = np.asarray(youngs_modulus, dtype=float)
    nu = np.asarray(poisson_ratio, dtype=float)
    if not (np.all(e > 0) and np.all(nu > -1.0) and np.all(nu < 0.5)):
        raise ValueError(
            f"need E > 0 and -1 < nu < 0.5 everywhere, got E in [{e.min():.4g}, {e.max():.4g}] Pa,"
            f" nu in [{nu.min():.4g}, {nu.max():.4g}]"
        )
    return e / (3.0 * (1.0 - 2.0 * nu)), e / (2.0 * (1.0 + nu))


def hydrostatic(stress: np.ndarray) -> np.ndarray:
    """tr(sigma) / 3 [Pa] of Voigt stresses (..., 6)."""
    return np.asarray(stress)[..., :3].sum(axis=-1) / 3.0


def von_mises(stress: np.ndarray) -> np.ndarray:
    """von Mises stress sqrt(3/2 s:s) [Pa] of Voigt stresses (..., 6)."""
    s = np.asarray(stress, dtype=float)
    normal = (s[..., 0] - s[..., 1]) ** 2 + (s[..., 1] - s[..., 2]) ** 2 + (s[..., 2] - s[..., 0]) ** 2
    return np.sqrt(0.5 * normal + 3.0 * (s[..., 3:] ** 2).sum(axis=-1))


def elastic_stress(
    strain: np.ndarray, eigen_volumetric: np.ndarray | float, youngs_modulus, poisson_ratio
) -> np.ndarray:
    """sigma = K tr(eps - eps*) I + 2 G dev(eps) [Pa], Voigt (..., 6), eps* = (e_v/3) I.

    ``strain`` Voigt with tensor shear (..., 6); ``eigen_volumetric`` e_v (...); E [Pa], nu [-]
    broadcast against (...).
    """
    k, g = bulk_shear(youngs_modulus, poisson_ratio)
    eps = np.asarray(strain, dtype=float)
    tr = eps[..., :3].sum(axis=-1)
    stress = 2.0 * g[..., None] * eps
    stress[..., :3] += ((k - 2.0 * g / 3.0) * tr - k * np.asarray(eigen_volumetric, dtype=float))[..., None]
    return stress


def elastic_tangent(youngs_modulus, poisson_ratio) -> np.ndarray:
    """Isotropic elastic moduli in Mandel form (..., 6, 6): K 1 (x) 1 + 2 G I_dev."""
    k, g = bulk_shear(youngs_modulus, poisson_ratio)
    return k[..., None, None] * np.outer(_ONE, _ONE) + 2.0 * g[..., None, None] * _I_DEV


@dataclass
class ReturnMapping:
    """Result of :func:`return_mapping` at every point (...).

    stress: Voigt (..., 6) [Pa]; plastic_strain: Voigt, tensor shear (..., 6) [-];
    alpha: equivalent plastic strain (...) [-]; tangent: consistent tangent, Mandel (..., 6, 6) [Pa]
    (None when not requested); yielding: (...) bool, points where the step was plastic;
    secant: the SPD secant moduli K 1 (x) 1 + 2 G (q / q_tr) I_dev, Mandel (..., 6, 6) [Pa] (the
    consistent tangent without its N (x) N softening term; a preconditioner for Newton's systems).
    """

    stress: np.ndarray
    plastic_strain: np.ndarray
    alpha: np.ndarray
    tangent: np.ndarray | None
    yielding: np.ndarray
    secant: np.ndarray | None = None


def return_mapping(
    strain: np.ndarray,
    eigen_volumetric: np.ndarray | float,
    plastic_strain: np.ndarray,
    alpha: np.ndarray,
    *,
    youngs_modulus,
    poisson_ratio,
    yield_stress,
    hardening_modulus: float = 0.0,
    tangent: bool = True,
) -> ReturnMapping:
    """J2 radial return from the converged state (``plastic_strain``, ``alpha``) of the last step.

    ``strain`` total strain, Voigt tensor shear (..., 6); ``eigen_volumetric`` e_v (...);
    ``plastic_strain`` (..., 6) and ``alpha`` (...) the history; E [Pa], nu [-], ``yield_stress``
    sigma_Y [Pa] and ``hardening_modulus`` H [Pa] broadcast against (...). Fully vectorised.
    """
    k, g = bulk_shear(youngs_modulus, poisson_ratio)
    shape = np.shape(strain)[:-1]
    k, g = np.broadcast_to(k, shape), np.broadcast_to(g, shape)
    sy = np.broadcast_to(np.asarray(yield_stress, dtype=float), shape)
    h = float(hardening_modulus)
    alpha_n = np.broadcast_to(np.asarray(alpha, dtype=float), shape)
    eps_e = to_mandel(strain) - to_mandel(plastic_strain)
    tr = eps_e[..., :3].sum(axis=-1) - np.asarray(eigen_volumetric, dtype=float)
    dev = eps_e @ _I_DEV
    s_tr = 2.0 * g[..., None] * dev
    norm = np.linalg.norm(s_tr, axis=-1)
    q_tr = _SQ32 * norm
    f_tr = q_tr - (sy + h * alpha_n)
    yielding = f_tr > 0.0
    dgamma = np.where(yielding, f_tr, 0.0) / (3.0 * g + h)
    safe = np.where(norm > 0.0, norm, 1.0)
    n_dir = s_tr / safe[..., None]
    s = s_tr - (2.0 * g * _SQ32 * dgamma)[..., None] * n_dir
    stress = s + (k * tr)[..., None] * _ONE
    new_plastic = to_mandel(plastic_strain) + (_SQ32 * dgamma)[..., None] * n_dir
    out = ReturnMapping(
        stress=from_mandel(stress),
        plastic_strain=from_mandel(new_plastic),
        alpha=alpha_n + dgamma,
        tangent=None,
        yielding=yielding,
    )
    if tangent:
        q_safe = np.where(q_tr > 0.0, q_tr, 1.0)
        beta = 1.0 - 3.0 * g * dgamma / q_safe
        gamma = np.where(yielding, 6.0 * g**2 * (dgamma / q_safe - 1.0 / (3.0 * g + h)), 0.0)
        out.secant = k[..., None, None] * np.outer(_ONE, _ONE) + (2.0 * g * beta)[..., None, None] * _I_DEV
        out.tangent = out.secant + gamma[..., None, None] * n_dir[..., :, None] * n_dir[..., None, :]
    return out


def stress_driven_flux(
    diffusivity, concentration, grad_c: np.ndarray, grad_hydrostatic: np.ndarray, *, partial_molar_volume: float,
    temperature: float,
) -> np.ndarray:
    """J = -D (grad c - (Omega c / (R T)) grad sigma_h) [mol/m^2/s] (gradients on the last axis).

    D [m^2/s] and c [mol/m^3] broadcast against the points (...); gradients (..., dim) in
    mol/m^4 and Pa/m; Omega [m^3/mol]; T [K].
    """
    drift = partial_molar_volume * np.asarray(concentration, dtype=float) / (GAS_CONSTANT * temperature)
    d = np.asarray(diffusivity, dtype=float)
    return -d[..., None] * (np.asarray(grad_c) - drift[..., None] * np.asarray(grad_hydrostatic))
