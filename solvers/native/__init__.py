"""The native 3D backend: P1 transport and P2 elasticity on a tetrahedral octant of the particle.

Modules, one concept each:

- :mod:`.quadrature`  tetrahedron rules in barycentric coordinates;
- :mod:`.basis`       P1/P2 Lagrange bases and element geometry;
- :mod:`.topology`    boundary faces, unique edges and the P2 dof map (by sorting);
- :mod:`.mesh`        the graded octant mesh (pure numpy) and geometric boundary tagging;
- :mod:`.mesh_io`     ``.mphtxt`` / ``.msh`` import with octant checks;
- :mod:`.assembly`    vectorised scatter-add and a reusable sparse pattern;
- :mod:`.transport`   the semi-discrete Fick system M dc/dt = F(c) with its exact Jacobian;
- :mod:`.elasticity`  quasi-static elasticity with swelling eigenstrain, factorised once;
- :mod:`.linalg`      Cholesky/LU/AMG solvers of the elasticity matrix (factorised once);
- :mod:`.krylov`      Newton systems: GMRES with a frozen, reused factorisation;
- :mod:`.postprocess` scalars, stress recovery and field frames;
- :mod:`.solve`       the backend's ``solve`` (time stepping by :mod:`solvers.stepping`).

Backend contract (:mod:`solvers.api`): ``available()`` and ``solve(model, outputs, numerics, sink)``.
"""

from .elasticity import ElasticityProblem, lame_parameters
from .mesh import SIZE_PRESETS, OctantMesh, classify_boundary, generate_octant_mesh, mesh_from_options
from .mesh_io import octant_from_arrays, read_octant_mesh
from .postprocess import NativePost, max_principal, von_mises
from .solve import solve
from .transport import OctantTransport

__all__ = [
    "SIZE_PRESETS",
    "ElasticityProblem",
    "NativePost",
    "OctantMesh",
    "OctantTransport",
    "available",
    "classify_boundary",
    "generate_octant_mesh",
    "lame_parameters",
    "max_principal",
    "mesh_from_options",
    "octant_from_arrays",
    "read_octant_mesh",
    "solve",
    "von_mises",
]


def available() -> tuple[bool, str]:
    """The native backend needs numpy and scipy only; scikit-sparse (CHOLMOD) makes it much faster."""
    try:
        import sksparse.cholmod  # noqa: F401
    except ImportError:
        return True, (
            "native backend available (scipy SuperLU/pyamg; for fast 3D solves: apt-get install "
            "libsuitesparse-dev libopenblas0-pthread && pip install 'scikit-sparse==0.4.16')"
        )
    return True, "native backend available (CHOLMOD)"
