"""Particles with inclusions on the native solver's building blocks: gmsh meshes (conforming, tagged,
cached), per-element elasticity against the composite-sphere (Lame) and Eshelby solutions, and
per-domain diffusivity laws. Solver-level loads (a uniform concentration) that the spec does not expose."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("gmsh", reason="inclusion meshes need gmsh (pip install gmsh)")

from models import SphereInclusion, BarInclusion, get_preset  # noqa: E402
from models.analytical import composite_sphere, eshelby_sphere_hydrostatic  # noqa: E402
from models.laws import ConstantDiffusivity  # noqa: E402
from solvers.api import MeshOptions  # noqa: E402
from solvers.errors import MeshError  # noqa: E402
from solvers.native.elasticity import ElasticityProblem  # noqa: E402
from solvers.native.gmsh_mesh import gmsh_octant_mesh  # noqa: E402
from solvers.native.transport import OctantTransport  # noqa: E402

R = 4.11e-6
UM = 1e-6
SI, SN, SB = get_preset("Si"), get_preset("Sn"), get_preset("Sb")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("meshes")


def _uniform_stress(dm, materials, x: float):
    """Vertex stresses for the uniform eigen field x = c - c_ref with per-domain E, nu, Omega."""
    d = dm.domain
    e = np.array([m.youngs_modulus for m in materials])[d]
    nu = np.array([m.poisson_ratio for m in materials])[d]
    omega = np.array([m.partial_molar_volume for m in materials])[d]
    el = ElasticityProblem(dm.mesh, e, nu, eigen_scale=omega)
    field = np.full(dm.mesh.n_points, x)
    return el.vertex_stress_of(el.displacements(field[:, None])[:, 0], field)


def _hoop_on_sphere(mesh, stress):
    sv = mesh.sphere_vertices
    n = mesh.points[sv] / np.linalg.norm(mesh.points[sv], axis=1)[:, None]
    s = stress[sv]
    tensor = np.stack([s[:, [0, 5, 4]], s[:, [5, 1, 3]], s[:, [4, 3, 2]]], axis=1)
    radial = np.einsum("ni,nij,nj->n", n, tensor, n)
    return (s[:, :3].sum(axis=1) - radial) / 2.0


def test_octant_without_inclusions_is_tagged(cache) -> None:
    dm = gmsh_octant_mesh(R, (), (), MeshOptions(size="coarse"), cache_dir=cache)
    mesh = dm.mesh
    assert np.all(dm.domain == 0)
    assert mesh.volume == pytest.approx(math.pi * R**3 / 6, rel=0.01)
    assert mesh.sphere_area == pytest.approx(math.pi * R**2 / 2, rel=0.01)
    assert all(len(faces) > 10 for faces in mesh.plane_faces)
    assert np.linalg.norm(mesh.points[mesh.center]) == 0.0


def test_inclusion_mesh_is_conforming_tagged_and_cached(cache) -> None:
    incs = [
        SphereInclusion(SN, (1.5 * UM, 1.5 * UM, 1.5 * UM), 0.5 * UM),
        BarInclusion(SB, (0.6 * UM, 2.2 * UM, 0.7 * UM), (2.6 * UM, 2.2 * UM, 0.7 * UM), 0.3 * UM),
        SphereInclusion(SN, (0.0, 0.0, 0.0), 0.8 * UM),
    ]
    dm = gmsh_octant_mesh(R, incs, (1, 2, 1), MeshOptions(size="coarse"), cache_dir=cache)
    assert not dm.cached
    vols = dm.volumes(3)
    exact_sn = 4 / 3 * math.pi * (0.5 * UM) ** 3 + 4 / 3 * math.pi * (0.8 * UM) ** 3 / 8
    exact_sb = math.pi * (0.3 * UM) ** 2 * 2 * UM
    assert vols[1] == pytest.approx(exact_sn, rel=0.06) and vols[2] == pytest.approx(exact_sb, rel=0.06)
    assert vols.sum() == pytest.approx(math.pi * R**3 / 6, rel=0.01)
    # conforming: every interior face is shared by two tetrahedra, so the only boundary faces are on
    # the sphere and the planes (octant_from_arrays checked that); each domain is one region of elements
    assert set(np.unique(dm.domain)) == {0, 1, 2}
    again = gmsh_octant_mesh(R, incs, (1, 2, 1), MeshOptions(size="coarse"), cache_dir=cache)
    assert again.cached and np.array_equal(again.domain, dm.domain)
    assert np.array_equal(again.mesh.points, dm.mesh.points)
    assert len(list(cache.glob("*.npz"))) >= 1


def test_mesher_failures_are_clear_errors(cache) -> None:
    tiny = SphereInclusion(SN, (1.0 * UM, 1.0 * UM, 1.0 * UM), 1e-10)
    with pytest.raises(MeshError, match=r"Sn sphere at \(1, 1, 1\) um.*not usable.*enlarge or move"):
        gmsh_octant_mesh(R, [tiny], (1,), MeshOptions(size="coarse"), cache_dir="")


def test_concentric_inclusion_matches_the_composite_sphere(cache) -> None:
    a, x = 0.5 * R, 0.5 * SI.c_max
    dm = gmsh_octant_mesh(R, [SphereInclusion(SN, (0.0, 0.0, 0.0), a)], (1,), MeshOptions(size="coarse"), cache_dir=cache)
    stress = _uniform_stress(dm, [SI, SN], x)
    ref = composite_sphere(
        a, R,
        core=(SN.youngs_modulus, SN.poisson_ratio, SN.partial_molar_volume * x / 3),
        shell=(SI.youngs_modulus, SI.poisson_ratio, SI.partial_molar_volume * x / 3),
    )
    hydro = stress[:, :3].sum(axis=1) / 3
    core = np.linalg.norm(dm.mesh.points, axis=1) < 0.8 * a
    assert hydro[dm.mesh.center] == pytest.approx(ref["core_hydrostatic"], rel=0.03)
    assert hydro[core].mean() == pytest.approx(ref["core_hydrostatic"], rel=0.03)
    assert _hoop_on_sphere(dm.mesh, stress).mean() == pytest.approx(ref["surface_hoop"], rel=0.03)
    assert ref["core_hydrostatic"] < 0 < ref["surface_hoop"]  # the more swelling Sn core is compressed


@pytest.mark.parametrize("center, radius, tol", [((0.0, 0.0, 0.0), 0.15, 0.01), ((0.3, 0.3, 0.3), 0.1, 0.03)])
def test_small_inclusion_matches_eshelby(cache, center, radius, tol) -> None:
    star = SI.with_(name="Si*", partial_molar_volume=1.1 * SI.partial_molar_volume)
    c, a = np.asarray(center) * R, radius * R
    dm = gmsh_octant_mesh(R, [SphereInclusion(star, tuple(c), a)], (1,), MeshOptions(size="coarse"),
                          inclusion_resolution=0.4, cache_dir=cache)
    x = 1e4
    stress = _uniform_stress(dm, [SI, star], x)
    inside = np.linalg.norm(dm.mesh.points - c, axis=1) < 0.6 * a
    mismatch = (star.partial_molar_volume - SI.partial_molar_volume) * x / 3
    expected = eshelby_sphere_hydrostatic(SI.youngs_modulus, SI.poisson_ratio, mismatch)
    assert inside.sum() >= 5
    assert stress[inside, :3].sum(axis=1).mean() / 3 == pytest.approx(expected, rel=tol)


def test_uniform_eigenstrain_with_equal_materials_is_stress_free(cache) -> None:
    dm = gmsh_octant_mesh(R, [SphereInclusion(SI.with_(name="Si copy"), (0.0, 0.0, 0.0), 0.5 * R)], (1,),
                          MeshOptions(size="coarse"), cache_dir=cache)
    stress = _uniform_stress(dm, [SI, SI.with_(name="Si copy")], 1e4)
    assert np.abs(stress).max() < 1e-6 * SI.youngs_modulus * SI.partial_molar_volume * 1e4


def test_per_domain_laws_use_each_domains_theta(cache) -> None:
    dm = gmsh_octant_mesh(R, [SphereInclusion(SB, (0.0, 0.0, 0.0), 0.5 * R)], (1,), MeshOptions(size="coarse"), cache_dir=cache)
    si_law = SI.diffusivity
    tr = OctantTransport(dm.mesh, [si_law, si_law], [SI.c_max, SB.c_max], 0.0, domains=dm.domain)
    c_q = np.full((dm.mesh.n_tets, 4), 0.5 * SB.c_max)
    d, dprime = tr._coefficients(c_q)
    inc = dm.domain == 1
    assert np.allclose(d[inc], si_law(0.5)) and np.allclose(d[~inc], si_law(0.5 * SB.c_max / SI.c_max))
    assert np.allclose(dprime[inc], si_law.derivative(0.5) / SB.c_max)
    # one law and one c_max everywhere: the same residual as the one-material system
    one = OctantTransport(dm.mesh, ConstantDiffusivity(1e-15), SI.c_max, 1e-6)
    two = OctantTransport(dm.mesh, [ConstantDiffusivity(1e-15)] * 2, [SI.c_max] * 2, 1e-6, domains=dm.domain)
    y = np.linspace(0, 1, dm.mesh.n_points) * SI.c_max
    assert np.allclose(one.rhs(y, 0.0), two.rhs(y, 0.0))
