"""The native backend's solve(): model -> octant mesh -> P1 transport + P2 elasticity -> sink.

1. Mesh (:mod:`.mesh` / :mod:`.mesh_io`) from ``numerics.mesh``.
2. Transport system (:mod:`.edge_transport` by default, on the vertices or, with
   ``numerics.transport = lumped-p2``, on the P2 node set, :mod:`.refine`) with the flux J = model.surface_flux(V_h, A_h) of the
   *discrete* octant, so DOD = 1 lands exactly at ``model.full_lithiation_time``.
3. Elasticity (:mod:`.elasticity`): assembled and factorised once. Elastoplastic runs and E or nu
   laws of theta use the quadrature-point mechanics of :mod:`.plasticity` (Newton at every
   accepted step, a reused SPD factorisation as preconditioner); stress-driven diffusion wraps
   the Galerkin transport (:mod:`.coupling`).
4. The shared time loop (:func:`solvers.driver.run_transient`): adaptive BDF1/BDF2 + Newton up
   to the stop condition (``surface_theta``: max theta over the sphere vertices), a scalar row
   per accepted step with the stress extrema at the ``outputs.stress_every_dod`` cadence
   (back-substitutions with the stored factor, batched), progress, and full fields at the output
   times (hit exactly) and every ``outputs.every`` steps.

theta may exceed 1 near the surface (pure Fick): never clipped, reported in ``SolveStats.notes``.
A diverging solve raises :class:`~solvers.errors.SolverDiverged`; fields already sent stay sent.
"""

from __future__ import annotations

import hashlib
import logging
import time as _time

import numpy as np

from models import LithiationModel
from models.errors import ModelError

from ..api import Numerics, OutputRequest, ResultSink, SolveStats, heartbeat
from ..driver import Discretisation, run_transient
from ..errors import SolverError
from .coupling import StressDrivenOctantTransport
from .elasticity import ElasticityProblem
from .mechanics_post import QuadraturePost
from .plasticity import QuadratureMechanics
from .edge_transport import LumpedTransport
from .krylov import FrozenKrylovSolver
from .mesh import OctantMesh, mesh_from_options
from .postprocess import NativePost
from .refine import RefinedMesh, refine_octant_mesh
from .transport import OctantTransport

__all__ = ["solve"]

log = logging.getLogger(__name__)


#: The last elasticity factorisation, keyed by mesh, E, nu, order and solver: runs of a sweep that
#: execute in one process and share them (e.g. Si and the alloy) factorise once.
_FACTOR_CACHE: dict[tuple, object] = {}


def _factor_key(mesh: OctantMesh, youngs_modulus, poisson_ratio, numerics: Numerics) -> tuple:
    """Hash of what the reduced stiffness matrix depends on."""
    digest = hashlib.sha256(np.ascontiguousarray(mesh.points).tobytes())
    digest.update(np.ascontiguousarray(mesh.tets).tobytes())
    for value in (youngs_modulus, poisson_ratio):
        digest.update(np.ascontiguousarray(value, dtype=float).tobytes())
    return (digest.hexdigest(), numerics.displacement_order, numerics.linear_solver)


def _refined(mesh: OctantMesh, numerics: Numerics) -> RefinedMesh | None:
    """The 8x split of ``mesh`` when the transport lives on the P2 node set (``lumped-p2``)."""
    if numerics.transport != "lumped-p2":
        return None
    if numerics.displacement_order != 2:
        raise SolverError("numerics.transport = lumped-p2 needs displacement_order 2 (the P2 node set)")
    return refine_octant_mesh(mesh)


def _surface_theta(surface: np.ndarray, c_max: np.ndarray):
    """max theta = c / c_max (vertex c_max) over the sphere vertices (the surface_theta stop probes it)."""
    c_max_s = np.asarray(c_max)[surface]

    def probe(c: np.ndarray) -> float:
        return float((c[surface] / c_max_s).max())

    return probe


def _mesh(model: LithiationModel, numerics: Numerics) -> tuple[OctantMesh, np.ndarray | None]:
    """The octant mesh and the domain of each element (None: one material). With inclusions the mesh
    is made by gmsh (:mod:`.gmsh_mesh`, cached); a mesh file cannot carry them."""
    if not model.inclusions:
        return mesh_from_options(numerics.mesh, model.radius), None
    if numerics.mesh.file:
        raise SolverError(
            f"numerics.mesh.file = {numerics.mesh.file!r} cannot be used with model.particle.inclusions: octant meshes"
            " particles with inclusions itself (gmsh); remove numerics.mesh.file"
        )
    from .gmsh_mesh import gmsh_octant_mesh

    tagged = gmsh_octant_mesh(model.radius, model.inclusions, model.inclusion_domains, numerics.mesh)
    return tagged.mesh, tagged.domain


def _transport(
    model: LithiationModel, mesh: OctantMesh, field: OctantMesh, domain: np.ndarray | None, numerics: Numerics
) -> tuple[OctantTransport | LumpedTransport, float]:
    """The P1 transport system on ``field`` (``mesh`` or its 8x split, with ``domain`` per element of
    ``field``) and its surface flux J [mol/m^2/s]; the scheme is ``numerics.transport``.

    One material: J = i_m rho V_h / (F A_h). Several: J = sum_d V_d,h (c_max,d - c0) / (A_h t_full), so
    that DOD = 1 lands exactly at the model's full-lithiation time (t_full uses the exact domain
    volumes; the discrete ones differ by the meshing of the inclusions).
    """
    galerkin = numerics.transport == "galerkin" or model.mechanics.stress_driven_diffusion  # the drift's scheme
    kind = OctantTransport if galerkin else LumpedTransport
    if domain is None:
        flux = model.surface_flux(volume=mesh.volume, area=mesh.sphere_area)
        return kind(field, model.material.diffusivity, model.c_max, flux), flux
    materials = model.domain_materials
    volumes = np.bincount(domain, weights=field.volumes, minlength=len(materials))
    flux = model.insertable_amount(volumes) / (mesh.sphere_area * model.full_lithiation_time)
    laws, c_max = [m.diffusivity for m in materials], [m.c_max for m in materials]
    return kind(field, laws, c_max, flux, domains=domain), flux


def _elasticity(
    model: LithiationModel, mesh: OctantMesh, domain: np.ndarray | None, numerics: Numerics, refined: RefinedMesh | None
) -> ElasticityProblem:
    """Elasticity with the matrix's constants, or per-element E, nu and Omega (eigen field c - c_ref);
    the factorisation is reused from the previous run in this process when mesh, E and nu match."""
    options = {"order": numerics.displacement_order, "linear_solver": numerics.linear_solver, "refined": refined}
    theta0 = model.initial_theta  # E, nu laws (quadrature mechanics): the first factorisation at theta0
    try:
        table = np.array(
            [[m.youngs_modulus_at(theta0), m.poisson_ratio_at(theta0), m.partial_molar_volume] for m in model.domain_materials]
            if _quadrature_mechanics(model)
            else [[*m.elastic_constants(), m.partial_molar_volume] for m in model.domain_materials]
        )
    except ValueError as exc:
        raise SolverError(f"the native solver needs constant E and nu in every material: {exc}") from None
    if domain is None:
        (e, nu, _), omega = table[0], None
    else:
        e, nu, omega = table[domain].T
    key = _factor_key(mesh, e, nu, numerics)
    cached = _FACTOR_CACHE.get(key)
    elasticity = ElasticityProblem(mesh, e, nu, eigen_scale=omega, factor=cached, **options)
    _FACTOR_CACHE.clear()  # keep one factorisation (memory)
    _FACTOR_CACHE[key] = elasticity.solver
    elasticity.reused_factorisation = cached is not None
    return elasticity


def _quadrature_mechanics(model: LithiationModel) -> bool:
    """True when mechanics needs the quadrature-point solver (plasticity or E/nu laws of theta)."""
    return model.mechanics.plastic or not all(m.constant_elasticity for m in model.domain_materials)


def _mechanics(
    model: LithiationModel,
    numerics: Numerics,
    field: OctantMesh,
    field_domain: np.ndarray | None,
    transport: OctantTransport | LumpedTransport,
    elasticity: ElasticityProblem,
    domain: np.ndarray | None,
    refined: RefinedMesh | None,
) -> tuple[NativePost, object, QuadratureMechanics | None]:
    """(post-processor, transport, quadrature mechanics or None): linear elasticity, or the
    quadrature-point mechanics (plasticity, E/nu laws), with stress-driven diffusion wrapping the
    transport when asked for."""
    quadrature = None
    if _quadrature_mechanics(model):
        if domain is not None or refined is not None:
            raise SolverError(
                "elastoplastic mechanics and E/nu laws of theta run on one material with numerics.transport"
                " galerkin or lumped (not lumped-p2) in the native solver; use the radial backend or remove the inclusions"
            )
        quadrature = QuadratureMechanics(elasticity, model, linear_solver=numerics.linear_solver)
        post = QuadraturePost(model, field, transport.ones_mass, elasticity, quadrature)
        hydrostatic = post.hydrostatic
    else:
        post = NativePost(model, field, transport.ones_mass, elasticity, domain=field_domain)
        hydrostatic = lambda c: post.mechanics(c)["hydrostatic"]  # noqa: E731
    if model.mechanics.stress_driven_diffusion:
        if domain is not None or refined is not None:
            raise SolverError("stress_driven_diffusion in the native solver needs one material and no lumped-p2 transport")
        transport = StressDrivenOctantTransport(transport, model, hydrostatic)
    return post, transport, quadrature


def _solver_extra(
    model: LithiationModel,
    numerics: Numerics,
    mesh: OctantMesh,
    elasticity: ElasticityProblem,
    linear_solve: FrozenKrylovSolver,
    post: NativePost,
    flux: float,
) -> dict:
    """The native solver's own ``SolveStats.extra`` entries (solvers, mesh, flux, mechanics)."""
    return {
        "linear_solver": elasticity.solver.method,
        "transport_linear_solver": linear_solve.method,
        "transport_factorisations": linear_solve.factorisations,
        "krylov_iterations": linear_solve.krylov_iterations,
        "elasticity_solves": elasticity.solver.solves,
        "displacement_order": numerics.displacement_order,
        "transport": numerics.transport,
        "theta_min": float(post.theta_min),
        "factorisation_reused": elasticity.reused_factorisation,
        "mesh": {
            "source": mesh.source,
            "vertices": mesh.n_points,
            "tetrahedra": mesh.n_tets,
            "volume_m3": mesh.volume,
            "sphere_area_m2": mesh.sphere_area,
            **dict(mesh.info.items()),
        },
        "surface_flux_mol_m2_s": flux,
        "mechanics": model.mechanics.constitutive,
        "stress_driven_diffusion": model.mechanics.stress_driven_diffusion,
    }


def solve(model: LithiationModel, outputs: OutputRequest, numerics: Numerics, sink: ResultSink) -> SolveStats:
    """Run ``model`` with the native 3D octant solver; results go to ``sink``.

    Returns :class:`SolveStats` (``backend="native"``): dofs ``{"c", "u"}``, timings (mesh,
    assembly, factorisation, transient, total), step and Newton counts, notes, and ``extra``
    entries (linear solvers, mesh statistics, stop reason, final time/DOD, theta max, mass
    balance error).
    """
    wall0 = _time.perf_counter()
    if not 0.0 <= model.initial_theta < 1.0:
        raise ModelError(f"initial_theta must be in [0, 1), got {model.initial_theta!r}")
    if numerics.displacement_order not in (1, 2):
        raise SolverError(f"numerics.displacement_order must be 1 or 2, got {numerics.displacement_order!r}")
    stats = SolveStats(backend="native")
    timings: dict[str, float] = {}

    t0 = _time.perf_counter()
    mesh, domain = _mesh(model, numerics)
    timings["mesh"] = _time.perf_counter() - t0
    heartbeat(sink)  # set-up sends no progress: keep the run's heartbeat fresh
    if numerics.mesh.radial_nodes is not None:
        stats.notes.append("numerics.mesh.radial_nodes ignored: it applies to the radial backend only")

    t0 = _time.perf_counter()
    refined = _refined(mesh, numerics)
    field = mesh if refined is None else refined.mesh
    field_domain = domain if domain is None or refined is None else np.repeat(domain, 8)
    transport, flux = _transport(model, mesh, field, field_domain, numerics)
    t_transport = _time.perf_counter() - t0
    heartbeat(sink)
    elasticity = _elasticity(model, mesh, domain, numerics, refined)
    heartbeat(sink)
    timings["assembly"] = t_transport + elasticity.timings["assembly"]
    timings["factorisation"] = elasticity.timings["factorisation"]
    post, transport, quadrature = _mechanics(model, numerics, field, field_domain, transport, elasticity, domain, refined)
    stats.dofs = {"c": field.n_points, "u": elasticity.n_dofs}
    stats.extra["materials"] = [m.name for m in model.domain_materials]

    disc = Discretisation(
        backend="native",
        problem=transport,
        post=post,
        c0=np.full(field.n_points, model.c0),
        surface_theta=_surface_theta(field.sphere_vertices, post.vertex_c_max),
        influx=flux * mesh.sphere_area,
        linear_solve=FrozenKrylovSolver(),
    )
    stats.timings_s = timings
    result = run_transient(model, outputs, numerics, sink, disc, stats)
    stats.extra.update(_solver_extra(model, numerics, mesh, elasticity, disc.linear_solve, post, flux))
    if quadrature is not None:
        stats.extra["quadrature_mechanics"] = {**quadrature.stats, "point_von_mises_max": post.point_von_mises_max}
        timings["mechanics_factorisation"] = quadrature.stats["factorisation_s"]
    final_dod = stats.extra["final_dod"]
    timings["total"] = _time.perf_counter() - wall0
    stats.timings_s = timings
    log.info(
        "native: %d vertices, %d displacement unknowns, %d steps (%d rejected), %d Newton iterations, "
        "t = %.6g s, DOD = %.6g, %.2f s",
        mesh.n_points,
        elasticity.n_dofs,
        result.steps_accepted,
        result.steps_rejected,
        result.newton_iterations,
        result.t,
        final_dod,
        timings["total"],
    )
    return stats
