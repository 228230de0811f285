"""Analytical reference solutions for a sphere under galvanostatic insertion (DESIGN.md section 8).

Diffusion with constant D (Crank, *The Mathematics of Diffusion*, 2nd ed., eq. 6.44)
------------------------------------------------------------------------------------
dc/dt = D (1/r^2) d/dr (r^2 dc/dr) on 0 <= r <= R, c(r, 0) = c0, inward flux D dc/dr = J at r = R.
With x = r / R, tau = D t / R^2 and theta = (c - c0) D / (J R):

    theta(x, tau) = 3 tau + x^2/2 - 3/10 - 2 sum_n sin(l_n x) / (x l_n^2 sin l_n) exp(-l_n^2 tau),

where l_n are the positive roots of tan l = l (l_1 = 4.4934, l_n -> (n + 1/2) pi). The volume
average is exactly 3 tau, i.e. 3/R^3 int_0^R (c - c0) r^2 dr = 3 J t / R (mass balance), because
int_0^1 x sin(l x) dx = (sin l - l cos l)/l^2 = 0. For tau >~ 0.2 the series has died out and the
profile is the quasi-steady parabola (c - <c>) = (J R / D)(x^2/2 - 3/10).

Stresses (Cheng & Verbrugge, J. Power Sources 190 (2009) 453; Timoshenko's thermal sphere)
------------------------------------------------------------------------------------------
Small strain, isotropic elasticity (E, nu), eigenstrain (Omega/3)(c - c_ref) in each direction,
traction-free surface. With the mean concentration inside radius r,

    Cbar(r) = 3 / r^3 int_0^r (c(s) - c_ref) s^2 ds,      Cbar(0) = c(0) - c_ref,

the radial and hoop (tangential) stresses, tension positive, are

    sigma_r = 2 Omega E / (9 (1 - nu)) (Cbar(R) - Cbar(r)),
    sigma_t = Omega E / (9 (1 - nu)) (2 Cbar(R) + Cbar(r) - 3 (c - c_ref)),

the von Mises stress |sigma_t - sigma_r| = Omega E / (3 (1 - nu)) |Cbar(r) - (c - c_ref)|, the
hydrostatic stress (sigma_r + 2 sigma_t) / 3 = 2 Omega E / (9 (1 - nu)) (Cbar(R) - (c - c_ref)),
the radial displacement

    u(r) = Omega r / (9 (1 - nu)) ((1 + nu) Cbar(r) + 2 (1 - 2 nu) Cbar(R)),  u(R) = Omega R Cbar(R) / 3,

and the total volumetric strain du/dr + 2u/r = (1/r^2) d(r^2 u)/dr
= Omega / (3 (1 - nu)) ((1 + nu)(c - c_ref) + 2 (1 - 2 nu) Cbar(R)) (= Omega (c - c_ref) for uniform c).

For a piecewise-linear profile on nodes 0 = r_0 < ... < r_N = R the integrand c s^2 is a cubic on
each segment, so Simpson's rule integrates it *exactly*; the cumulative sum gives int_0^{r_i} at
every node with no quadrature error (a naive cumulative rule is O(1) wrong next to r = 0, where
Cbar is a ratio of two small numbers).

Composite sphere (two materials, uniform eigenstrains; Lame)
-----------------------------------------------------------
A core 0 <= r <= a (E1, nu1, linear eigenstrain e1 = Omega1 (c - c_ref) / 3) bonded to a shell
a <= r <= b (E2, nu2, e2), traction free at r = b. With K = E / (3 (1 - 2 nu)), mu = E / (2 (1 + nu)):
core u = A1 r (uniform: sigma_r = sigma_t = 3 K1 (A1 - e1)); shell u = A2 r + B2 / r^2,
sigma_r = 3 K2 (A2 - e2) - 4 mu2 B2 / r^3, sigma_t = 3 K2 (A2 - e2) + 2 mu2 B2 / r^3.
Conditions sigma_r(b) = 0, u and sigma_r continuous at a give a 3 x 3 linear system for A1, A2, B2.

Eshelby (small spherical inclusion in an infinite matrix, equal elastic constants)
--------------------------------------------------------------------------------
An eigenstrain mismatch e* (linear, e* I inside the inclusion) gives the uniform interior stress
sigma = -2 E e* / (3 (1 - nu)) I (Eshelby 1957; the b -> infinity limit of the composite sphere).

Quasi-steady constant-D state
-----------------------------
Inserting the parabola above: sigma_r = s (1 - x^2), sigma_t = s (1 - 2 x^2), von Mises = s x^2,
with s = Omega E J R / (15 (1 - nu) D). Insertion (J > 0) puts the centre in hydrostatic tension
(sigma_r = sigma_t = s) and the surface in hoop compression (sigma_t = -s, sigma_r = 0).
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError

__all__ = [
    "composite_sphere",
    "crank_concentration",
    "eshelby_sphere_hydrostatic",
    "hill_sphere_pressure",
    "hill_sphere_stresses",
    "mean_concentration_inside",
    "quasi_steady_stresses",
    "radial_stresses",
    "tan_roots",
]


def tan_roots(n_terms: int) -> np.ndarray:
    """The first ``n_terms`` positive roots of tan l = l (l_1 = 4.493409...), to machine precision.

    Each root lies in (n pi, (n + 1/2) pi); Newton on g(l) = sin l - l cos l (g' = l sin l) from the
    asymptotic expansion q - 1/q - 2/(3 q^3) (q = (n + 1/2) pi) converges in a few iterations.
    """
    if n_terms < 1:
        raise ModelError(f"n_terms must be at least 1, got {n_terms}")
    q = (np.arange(1, n_terms + 1) + 0.5) * np.pi
    lam = q - 1.0 / q - 2.0 / (3.0 * q**3)
    for _ in range(50):
        step = (np.sin(lam) - lam * np.cos(lam)) / (lam * np.sin(lam))
        lam = lam - step
        if np.max(np.abs(step)) < 1e-15 * lam[-1]:
            break
    return lam


def crank_concentration(
    r: np.ndarray | float,
    t: float,
    *,
    D: float,
    J: float,
    R: float,
    c0: float = 0.0,
    n_terms: int = 200,
) -> np.ndarray:
    """Concentration c(r, t) [mol/m^3] in a sphere of radius ``R`` [m] with constant ``D`` [m^2/s]
    under the inward flux ``J`` [mol/m^2/s] from the uniform state ``c0`` (Crank's series).

    ``r`` [m] in [0, R]; ``t`` [s] >= 0. The truncated series is accurate to about
    exp(-l_N^2 tau) / (l_N^2 x) (N = ``n_terms``): use more terms for very small tau.
    """
    if D <= 0 or R <= 0:
        raise ModelError(f"crank_concentration needs D > 0 and R > 0, got D={D!r}, R={R!r}")
    if t < 0:
        raise ModelError(f"time must be >= 0, got {t!r}")
    x = np.asarray(r, dtype=float) / R
    tau = D * t / R**2
    lam = tan_roots(n_terms)
    xs = x.reshape(-1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(xs > 0, np.sin(lam * xs) / np.where(xs > 0, xs, 1.0), lam)  # sin(l x)/x -> l at 0
    series = ratio / (lam**2 * np.sin(lam)) * np.exp(-(lam**2) * tau)
    theta = 3.0 * tau + x.reshape(-1) ** 2 / 2.0 - 0.3 - 2.0 * series.sum(axis=1)
    return (c0 + theta * J * R / D).reshape(np.shape(x))


def mean_concentration_inside(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Cbar(r_i) = 3 / r_i^3 int_0^{r_i} c s^2 ds for piecewise-linear c on nodes ``r`` (exact).

    ``r`` must start at 0 and increase strictly; Cbar(0) = c(0). Units: those of ``c``.
    """
    r = np.asarray(r, dtype=float)
    c = np.asarray(c, dtype=float)
    if r.ndim != 1 or r.shape != c.shape or r.size < 2:
        raise ModelError(f"r and c must be 1D arrays of the same length >= 2, got {r.shape} and {c.shape}")
    if r[0] != 0.0 or np.any(np.diff(r) <= 0):
        raise ModelError("radial nodes must start at r = 0 and increase strictly")
    h = np.diff(r)
    rm = 0.5 * (r[:-1] + r[1:])
    cm = 0.5 * (c[:-1] + c[1:])
    # Simpson's rule, exact for the cubic c(s) s^2 on each segment
    segment = h / 6.0 * (c[:-1] * r[:-1] ** 2 + 4.0 * cm * rm**2 + c[1:] * r[1:] ** 2)
    integral = np.concatenate(([0.0], np.cumsum(segment)))
    cbar = np.empty_like(c)
    cbar[0] = c[0]
    cbar[1:] = 3.0 * integral[1:] / r[1:] ** 3
    return cbar


def radial_stresses(
    r: np.ndarray,
    c: np.ndarray,
    *,
    E: float,
    nu: float,
    Omega: float,
    c_ref: float = 0.0,
) -> dict[str, np.ndarray]:
    """Stresses and strains of a free sphere with the radial profile ``c`` [mol/m^3] on nodes ``r`` [m].

    ``r`` runs from 0 to the radius R (strictly increasing), ``c`` is piecewise linear between the
    nodes; ``E`` [Pa], ``nu`` [-], ``Omega`` [m^3/mol], ``c_ref`` [mol/m^3] the stress-free state.

    Returns a dict of nodal arrays: ``sigma_r``, ``sigma_t`` (hoop), ``von_mises``, ``hydrostatic``
    [Pa] (tension positive), ``u`` radial displacement [m], ``volumetric_strain`` [-] (total,
    du/dr + 2u/r) and ``cbar`` (mean of c - c_ref inside r) [mol/m^3].
    """
    if not (E > 0 and -1.0 < nu < 0.5):
        raise ModelError(f"need E > 0 and -1 < nu < 0.5, got E={E!r}, nu={nu!r}")
    r = np.asarray(r, dtype=float)
    dc = np.asarray(c, dtype=float) - c_ref
    cbar = mean_concentration_inside(r, dc)
    cbar_R = cbar[-1]
    k = Omega * E / (9.0 * (1.0 - nu))
    sigma_r = 2.0 * k * (cbar_R - cbar)
    sigma_t = k * (2.0 * cbar_R + cbar - 3.0 * dc)
    u = Omega * r / (9.0 * (1.0 - nu)) * ((1.0 + nu) * cbar + 2.0 * (1.0 - 2.0 * nu) * cbar_R)
    vol = Omega / (3.0 * (1.0 - nu)) * ((1.0 + nu) * dc + 2.0 * (1.0 - 2.0 * nu) * cbar_R)
    return {
        "sigma_r": sigma_r,
        "sigma_t": sigma_t,
        "von_mises": np.abs(sigma_t - sigma_r),
        "hydrostatic": (sigma_r + 2.0 * sigma_t) / 3.0,
        "u": u,
        "volumetric_strain": vol,
        "cbar": cbar,
    }


def quasi_steady_stresses(
    r: np.ndarray | float, *, R: float, D: float, J: float, E: float, nu: float, Omega: float
) -> dict[str, np.ndarray]:
    """Quasi-steady (tau >~ 0.2) constant-D stresses [Pa] at ``r`` [m], tension positive.

    sigma_r = s (1 - x^2), sigma_t = s (1 - 2 x^2), von Mises = s x^2, hydrostatic = s (1 - 5x^2/3),
    x = r / R, s = Omega E J R / (15 (1 - nu) D) (``s`` is returned too).
    """
    x = np.asarray(r, dtype=float) / R
    s = Omega * E * J * R / (15.0 * (1.0 - nu) * D)
    return {
        "sigma_r": s * (1.0 - x**2),
        "sigma_t": s * (1.0 - 2.0 * x**2),
        "von_mises": s * x**2,
        "hydrostatic": s * (1.0 - 5.0 * x**2 / 3.0),
        "s": np.asarray(s),
    }


def composite_sphere(
    a: float, b: float, *, core: tuple[float, float, float], shell: tuple[float, float, float]
) -> dict[str, object]:
    """Lame solution of a core (radius ``a`` [m]) bonded in a free shell (outer radius ``b`` [m]).

    ``core`` and ``shell`` are (E [Pa], nu [-], e [-]) with e the linear eigenstrain (Omega (c - c_ref) / 3
    for uniform c). Returns ``A1``, ``A2``, ``B2`` and the functions ``sigma_r(r)``, ``sigma_t(r)``,
    ``u(r)`` [Pa, m] plus ``core_hydrostatic`` and ``surface_hoop`` [Pa] (tension positive).
    """
    (e1, n1, s1), (e2, n2, s2) = core, shell
    if not (0 < a < b):
        raise ModelError(f"composite sphere needs 0 < a < b, got a={a!r}, b={b!r}")
    k1, k2 = e1 / (3 * (1 - 2 * n1)), e2 / (3 * (1 - 2 * n2))
    mu2 = e2 / (2 * (1 + n2))
    # unknowns x = (A1, A2, B2)
    mat = np.array(
        [
            [0.0, 3 * k2, -4 * mu2 / b**3],  # sigma_r(b) = 0
            [a, -a, -1.0 / a**2],  # u continuous at a
            [3 * k1, -3 * k2, 4 * mu2 / a**3],  # sigma_r continuous at a
        ]
    )
    rhs = np.array([3 * k2 * s2, 0.0, 3 * k1 * s1 - 3 * k2 * s2])
    a1, a2, b2 = np.linalg.solve(mat, rhs)

    def sigma_r(r):
        r = np.asarray(r, dtype=float)
        return np.where(r <= a, 3 * k1 * (a1 - s1), 3 * k2 * (a2 - s2) - 4 * mu2 * b2 / np.maximum(r, a) ** 3)

    def sigma_t(r):
        r = np.asarray(r, dtype=float)
        return np.where(r <= a, 3 * k1 * (a1 - s1), 3 * k2 * (a2 - s2) + 2 * mu2 * b2 / np.maximum(r, a) ** 3)

    def u(r):
        r = np.asarray(r, dtype=float)
        return np.where(r <= a, a1 * r, a2 * r + b2 / np.maximum(r, a) ** 2)

    return {
        "A1": float(a1),
        "A2": float(a2),
        "B2": float(b2),
        "sigma_r": sigma_r,
        "sigma_t": sigma_t,
        "u": u,
        "core_hydrostatic": float(3 * k1 * (a1 - s1)),
        "surface_hoop": float(sigma_t(b)),
    }


def eshelby_sphere_hydrostatic(youngs_modulus: float, poisson_ratio: float, eigenstrain: float) -> float:
    """Interior hydrostatic stress [Pa] of a spherical inclusion with linear eigenstrain mismatch
    ``eigenstrain`` e* [-] in an infinite matrix of equal E [Pa], nu [-]: -2 E e* / (3 (1 - nu))."""
    return -2.0 * youngs_modulus * eigenstrain / (3.0 * (1.0 - poisson_ratio))
# --------------------------------------------------------------------------------------------------
# Hill's elastic-perfectly-plastic thick-walled sphere under internal pressure
# (R. Hill, The Mathematical Theory of Plasticity, Oxford 1950, ch. V.3)
# --------------------------------------------------------------------------------------------------
def hill_sphere_pressure(plastic_radius: float, *, a: float, b: float, yield_stress: float) -> float:
    """Internal pressure p [Pa] at which the plastic zone of a hollow sphere a < r < b (Tresca = von
    Mises in spherical symmetry, yield stress sigma_Y [Pa]) reaches radius c = ``plastic_radius``:

        p = 2 sigma_Y ln(c / a) + (2 sigma_Y / 3) (1 - c^3 / b^3),   a <= c <= b.

    At c = a it is the first-yield pressure (2 sigma_Y / 3)(1 - a^3/b^3).
    """
    c = float(plastic_radius)
    if not (0 < a <= c <= b):
        raise ModelError(f"need 0 < a <= c <= b, got a={a!r}, c={c!r}, b={b!r}")
    return 2.0 * yield_stress * np.log(c / a) + 2.0 * yield_stress / 3.0 * (1.0 - c**3 / b**3)


def hill_sphere_stresses(
    r: np.ndarray | float, *, plastic_radius: float, a: float, b: float, yield_stress: float
) -> dict[str, np.ndarray]:
    """Radial and hoop stresses [Pa] of Hill's partly plastic hollow sphere at radii ``r`` [m].

    Plastic zone (r <= c): sigma_r = -2 sY ln(c/r) - (2 sY/3)(1 - c^3/b^3), sigma_t = sigma_r + sY;
    elastic zone (r >= c): sigma_r = -(2 sY c^3 / (3 b^3)) (b^3/r^3 - 1),
    sigma_t = (2 sY c^3 / (3 b^3)) (b^3 / (2 r^3) + 1). Statically determined: independent of E, nu.
    """
    r = np.asarray(r, dtype=float)
    c, sy = float(plastic_radius), float(yield_stress)
    k = 2.0 * sy * c**3 / (3.0 * b**3)
    with np.errstate(divide="ignore"):
        sr_p = -2.0 * sy * np.log(c / r) - 2.0 * sy / 3.0 * (1.0 - c**3 / b**3)
    sr = np.where(r <= c, sr_p, -k * (b**3 / r**3 - 1.0))
    st = np.where(r <= c, sr_p + sy, k * (b**3 / (2.0 * r**3) + 1.0))
    return {"sigma_r": sr, "sigma_t": st}
