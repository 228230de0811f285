"""Read and write COMSOL's sectioned text mesh format (``.mphtxt``, mesh versions 2 and 4).

A ``.mphtxt`` file is a list of lines; each meaningful line carries data, optionally followed by a
``#`` comment that names the field (``18 # number of mesh points``). Strings are length-prefixed
(``4 Mesh # class``, ``3 tet # type name``). The layout of one file::

    0 1                       # major & minor version of the serialisation
    N # number of tags        then N length-prefixed tags   (``5 mesh1``)
    N # number of types       then N length-prefixed types  (``3 obj``)
    # --------- Object k ----------
    0 0 1
    4 Mesh # class            (other classes, e.g. ``9 Selection``, may follow the mesh)
    4 # version               2 (COMSOL <= 5.x) or 4 (COMSOL 5.x-6.x)
    3 # sdim
    n # number of mesh vertices      (v2: "mesh points")
    0 # lowest mesh vertex index     (the index of the first vertex in the element lists)
    # Mesh vertex coordinates        n lines of sdim numbers
    T # number of element types
    then for each type: ``3 tet # type name``, vertices per element, element count, the
    connectivity lines, (v2 only: parameter values and parameters, skipped here), the geometric
    entity index of each element, (v2: up/down pairs, skipped).

Element types we care about: ``vtx`` (1), ``edg`` (2), ``tri`` (3), ``tet`` (4) and the
second-order ``edg2`` (3), ``tri2`` (6), ``tet2`` (10); any type is read generically.
Geometric entity indices are stored as in the file: COMSOL numbers domains (the entities of
volume elements) from 1 and vertices, edges and boundaries from 0.

Node order of ``tet2``: the four corners, then the edge midpoints of edges 01, 02, 12, 03, 13, 23
(VTK's ``tetra10`` wants 01, 12, 02, 03, 13, 23: see :data:`TET2_TO_VTK`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solvers.errors import MeshError

__all__ = [
    "TET2_TO_VTK",
    "ElementBlock",
    "MphtxtMesh",
    "MphtxtSelection",
    "read_mphtxt",
    "tet_volumes",
    "write_mphtxt",
]

log = logging.getLogger(__name__)

#: Column permutation from COMSOL ``tet2`` node order to VTK/meshio ``tetra10`` order.
TET2_TO_VTK: np.ndarray = np.array([0, 1, 2, 3, 4, 6, 5, 7, 8, 9])

#: Dimension of each known COMSOL element type.
ELEMENT_DIMENSION: dict[str, int] = {
    "vtx": 0, "edg": 1, "edg2": 1, "tri": 2, "tri2": 2, "quad": 2, "quad2": 2,
    "tet": 3, "tet2": 3, "pyr": 3, "pyr2": 3, "prism": 3, "prism2": 3, "hex": 3, "hex2": 3,
}


@dataclass
class ElementBlock:
    """Elements of one type: ``connectivity`` (m, k) 0-based vertex indices, ``domains`` (m,)
    geometric entity indices as written by COMSOL (1-based for volume elements)."""

    connectivity: np.ndarray
    domains: np.ndarray

    def __post_init__(self) -> None:
        self.connectivity = np.asarray(self.connectivity, dtype=np.int64)
        if self.connectivity.ndim == 1:
            self.connectivity = self.connectivity.reshape(-1, 1)
        self.domains = np.asarray(self.domains, dtype=np.int64).reshape(-1)
        if len(self.domains) != len(self.connectivity):
            raise MeshError(
                f"element block has {len(self.connectivity)} elements but {len(self.domains)} entity indices;"
                " give one geometric entity index per element"
            )


@dataclass
class MphtxtSelection:
    """A named selection stored after the mesh (object ``tag``, e.g. ``mesh1_sel1``): ``entities``
    of dimension ``dimension``, numbered as in the file."""

    label: str
    tag: str
    dimension: int
    entities: np.ndarray


@dataclass
class MphtxtMesh:
    """A COMSOL mesh: ``points`` (n, sdim) [length unit of the model, normally m], element blocks
    keyed by COMSOL type name, the mesh format ``version`` (2 or 4), and stored selections."""

    points: np.ndarray
    elements: dict[str, ElementBlock]
    version: int = 4
    tag: str = "mesh1"
    selections: list[MphtxtSelection] = field(default_factory=list)

    @property
    def sdim(self) -> int:
        """Space dimension."""
        return int(self.points.shape[1])

    def counts(self) -> dict[str, int]:
        """Number of elements per type."""
        return {name: len(block.connectivity) for name, block in self.elements.items()}

    def volume_block(self) -> tuple[str, ElementBlock]:
        """The tetrahedral block (``tet`` or ``tet2``); :class:`MeshError` if there is none."""
        for name in ("tet", "tet2"):
            if name in self.elements:
                return name, self.elements[name]
        raise MeshError(
            f"mesh has no tetrahedra (element types: {', '.join(self.elements) or 'none'});"
            " octant needs a 3D tetrahedral mesh (FreeTet in COMSOL)"
        )

    def volume(self) -> float:
        """Total volume of the tetrahedra [length^3] (corner vertices; curved tet2 edges ignored)."""
        _, block = self.volume_block()
        return float(tet_volumes(self.points, block.connectivity[:, :4]).sum())

    def domain_ids(self) -> list[int]:
        """Sorted domain numbers of the tetrahedra."""
        _, block = self.volume_block()
        return sorted(int(d) for d in np.unique(block.domains))


def tet_volumes(points: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Unsigned volumes of tetrahedra ``tets`` (m, 4) with vertex coordinates ``points`` (n, 3)."""
    p = np.asarray(points, dtype=float)[np.asarray(tets)[:, :4]]
    d = p[:, 1:, :] - p[:, :1, :]
    return np.abs(np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2]))) / 6.0


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
class _Lines:
    """A cursor over the meaningful lines of a file: ``(data, comment)`` pairs, blank lines dropped."""

    def __init__(self, text: str, path: Path):
        self.path = path
        self.items: list[tuple[str, str, int]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            data, _, comment = raw.partition("#")
            data, comment = data.strip(), comment.strip()
            if data or comment:
                self.items.append((data, comment, number))
        self.i = 0

    def error(self, message: str) -> MeshError:
        line = self.items[min(self.i, len(self.items) - 1)][2] if self.items else 0
        return MeshError(f"{self.path}: line {line}: {message}; is this a COMSOL .mphtxt mesh file?")

    def data(self) -> tuple[str, str]:
        """Next line with data (comment-only lines are skipped); returns (data, comment)."""
        while self.i < len(self.items):
            data, comment, _ = self.items[self.i]
            self.i += 1
            if data:
                return data, comment
        raise self.error("unexpected end of file")

    def integer(self, expect: str | None = None) -> int:
        data, comment = self.data()
        if expect is not None and expect not in comment.lower():
            self.i -= 1
            raise self.error(f"expected '{expect}', found {data!r} # {comment}")
        try:
            return int(data.split()[0])
        except ValueError:
            self.i -= 1
            raise self.error(f"expected an integer, found {data!r}") from None

    def string(self) -> str:
        """A length-prefixed string (``4 Mesh``)."""
        data, _ = self.data()
        length, _, rest = data.partition(" ")
        try:
            n = int(length)
        except ValueError:
            self.i -= 1
            raise self.error(f"expected a length-prefixed string, found {data!r}") from None
        return rest[:n] if n <= len(rest) else rest

    def peek_comment(self) -> str:
        return self.items[self.i][1].lower() if self.i < len(self.items) else ""

    def block(self, rows: int, dtype: type) -> np.ndarray:
        """The next ``rows`` data lines as a 2D array."""
        if rows == 0:
            return np.zeros((0, 0), dtype=dtype)
        chunk = []
        while len(chunk) < rows:
            data, _ = self.data()
            chunk.append(data)
        values = np.array(" ".join(chunk).split(), dtype=float if dtype is float else np.int64)
        if values.size % rows:
            raise self.error(f"a block of {rows} rows has {values.size} values (not a multiple)")
        return values.reshape(rows, -1)

    def skip_counted(self, label: str) -> None:
        """If the next counted field is ``label``, skip it and the rows it announces."""
        if label in self.peek_comment():
            rows = self.integer()
            if rows:
                self.block(rows, float)


def read_mphtxt(path: str | Path) -> MphtxtMesh:
    """Read a COMSOL ``.mphtxt`` mesh (format versions 2 and 4); element indices become 0-based.

    Raises :class:`~solvers.errors.MeshError` naming the file and line when the file does not
    follow the format.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise MeshError(f"cannot read mesh file {path}: {exc.strerror}") from None
    cur = _Lines(text, path)
    cur.data()  # serialisation version "0 1"
    tags = [cur.string() for _ in range(cur.integer("number of tags"))]
    types = [cur.string() for _ in range(cur.integer("number of types"))]
    mesh: MphtxtMesh | None = None
    selections: list[MphtxtSelection] = []
    for k in range(len(types)):
        cur.data()  # "0 0 1"
        cls = cur.string().strip()
        if cls == "Mesh":
            if mesh is not None:
                raise cur.error("more than one Mesh object; export a single mesh")
            mesh = _read_mesh_object(cur, tags[k] if k < len(tags) else "mesh1")
        elif cls == "Selection":
            selections.append(_read_selection(cur, tags[k] if k < len(tags) else f"sel{k}"))
        else:
            log.info("%s: stopping at object %d of class %r (not read)", path, k, cls)
            break
    if mesh is None:
        raise cur.error("no Mesh object found")
    mesh.selections = selections
    log.debug("read %s: %d vertices, %s", path, len(mesh.points), mesh.counts())
    return mesh


def _read_mesh_object(cur: _Lines, tag: str) -> MphtxtMesh:
    version = cur.integer("version")
    if version not in (2, 3, 4):
        log.warning("mesh format version %d is untested; reading it like version 4", version)
    sdim = cur.integer("sdim")
    npts = cur.integer("number of mesh")
    lowest = cur.integer("lowest mesh")
    points = cur.block(npts, float).reshape(npts, sdim) if npts else np.zeros((0, sdim))
    elements: dict[str, ElementBlock] = {}
    for _ in range(cur.integer("number of element types")):
        name = cur.string().strip()
        nodes = cur.integer("per element")
        count = cur.integer("number of elements")
        conn = cur.block(count, int).reshape(count, nodes) if count else np.zeros((0, nodes), np.int64)
        if "parameter values per element" in cur.peek_comment():
            cur.integer()  # values per element
            cur.skip_counted("number of parameters")
        nent = cur.integer("number of geometric entity indices")
        ent = cur.block(nent, int).reshape(-1) if nent else np.zeros(0, np.int64)
        cur.skip_counted("up/down")
        conn = conn - lowest
        if conn.size and (conn.min() < 0 or conn.max() >= npts):
            raise cur.error(f"{name} elements reference vertices outside 0..{npts - 1}")
        elements[name] = ElementBlock(conn, ent)
    return MphtxtMesh(points=points, elements=elements, version=version, tag=tag)


def _read_selection(cur: _Lines, tag: str) -> MphtxtSelection:
    cur.integer("version")
    label = cur.string()
    cur.string()  # the geometry/mesh tag it refers to (the mesh's)
    dim = cur.integer("dimension")
    n = cur.integer("number of entities")
    entities = cur.block(n, int).reshape(-1) if n else np.zeros(0, np.int64)
    return MphtxtSelection(label=label, tag=tag, dimension=dim, entities=entities)


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def _s(text: str) -> str:
    return f"{len(text)} {text}"


def _format_rows(rows: np.ndarray, fmt: str) -> str:
    from io import StringIO

    out = StringIO()
    np.savetxt(out, rows, fmt=fmt, delimiter=" ", newline=" \n")
    return out.getvalue()


def write_mphtxt(path: str | Path, mesh: MphtxtMesh) -> None:
    """Write ``mesh`` as a ``.mphtxt`` file of format ``mesh.version`` (2 or 4), lowest index 0.

    Coordinates are written with 17 significant digits, so a read-write-read round trip is exact.
    The file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    if mesh.version not in (2, 4):
        raise MeshError(f"cannot write mesh format version {mesh.version}; use 2 or 4")
    v2 = mesh.version == 2
    pts = np.asarray(mesh.points, dtype=float)
    noun = "point" if v2 else "vertex"
    nodes = "nodes" if v2 else "vertices"
    sel = list(mesh.selections)
    out = [
        "# Created by octant (COMSOL Multiphysics .mphtxt format)",
        "",
        "# Major & minor version",
        "0 1 ",
        f"{1 + len(sel)} # number of tags",
        "# Tags",
        _s(mesh.tag) + " ",
        *[_s(s.tag) + " " for s in sel],
        f"{1 + len(sel)} # number of types",
        "# Types",
        *["3 obj "] * (1 + len(sel)),
        "",
        "# --------- Object 0 ----------",
        "",
        "0 0 1 ",
        "4 Mesh # class",
        f"{mesh.version} # version",
        f"{pts.shape[1]} # sdim",
        f"{len(pts)} # number of mesh {'points' if v2 else 'vertices'}",
        f"0 # lowest mesh {noun} index",
        "",
        f"# Mesh {noun} coordinates",
    ]
    text = "\n".join(out) + "\n" + _format_rows(pts, "%.17g") + "\n"
    parts = [text, f"{len(mesh.elements)} # number of element types\n\n"]
    for k, (name, block) in enumerate(mesh.elements.items()):
        conn = block.connectivity
        parts.append(f"# Type #{k}\n\n{_s(name)} # type name\n\n\n")
        parts.append(f"{conn.shape[1]} # number of {nodes} per element\n{len(conn)} # number of elements\n# Elements\n")
        parts.append(_format_rows(conn, "%d") + "\n")
        if v2:
            parts.append(f"{conn.shape[1]} # number of parameter values per element\n0 # number of parameters\n# Parameters\n\n")
        parts.append(f"{len(block.domains)} # number of geometric entity indices\n# Geometric entity indices\n")
        parts.append(_format_rows(block.domains.reshape(-1, 1), "%d") + "\n")
        if v2:
            parts.append("0 # number of up/down pairs\n# Up/down\n\n")
    for k, s in enumerate(sel, start=1):
        parts.append(
            f"# --------- Object {k} ----------\n\n0 0 1 \n9 Selection # class\n0 # Version\n{_s(s.label)} # Label\n"
            f"{_s(mesh.tag)} # Geometry/mesh tag\n{s.dimension} # Dimension\n{len(s.entities)} # Number of entities\n"
            "# Entities\n" + _format_rows(np.asarray(s.entities).reshape(-1, 1), "%d") + "\n"
        )
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(path)
