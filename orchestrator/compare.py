"""Compare two stored runs field by field (``octant compare RUN_A RUN_B``).

Frames are paired by time (relative tolerance 1e-6). For each pair, the point arrays both runs
have (``c``, ``theta``, ``stress``, ``von_mises``, ... or any other name) are compared on run A's
points: directly when both runs have the same points, otherwise run B is interpolated onto A's
points (piecewise linear on a Delaunay tetrahedralisation of B's points; A's points just outside
B's hull, e.g. on a sphere facetted differently, are extrapolated linearly from the tetrahedron of
their nearest B vertex; a radial run B, whose points lie on one ray, is evaluated at |x| and its
vectors and tensors rotated, so native-vs-radial works in either order). For a vector or tensor
array the difference at a point is the Euclidean norm over its components.

Reported per field and time: the maximum and RMS of |A - B| (in the field's unit), the largest |A|
(the scale) and max|A - B| / max|A|. Scalars (scalars.csv) are compared at A's times inside B's
time range by linear interpolation of B.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from solvers.api import FIELD_UNITS, SCALAR_COLUMNS

from .errors import StoreError
from .store import Run

__all__ = ["Comparison", "FieldDifference", "compare_runs", "format_comparison"]

log = logging.getLogger(__name__)

_TIME_RTOL = 1e-6


@dataclass(frozen=True)
class FieldDifference:
    """|A - B| statistics of one field at one time (units of the field)."""

    time: float
    field: str
    max_abs: float
    rms: float
    scale: float
    max_rel: float

    @property
    def unit(self) -> str:
        return FIELD_UNITS.get(self.field, ("", 1))[0]


@dataclass
class Comparison:
    """The result of :func:`compare_runs`."""

    run_a: str
    run_b: str
    interpolated: bool
    fields: list[FieldDifference] = field(default_factory=list)
    only_in_a: list[float] = field(default_factory=list)
    only_in_b: list[float] = field(default_factory=list)
    fields_only_in_a: list[str] = field(default_factory=list)
    fields_only_in_b: list[str] = field(default_factory=list)
    scalars: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fields"] = [{**asdict(f), "unit": f.unit} for f in self.fields]
        return data

    def max_rel(self, name: str) -> float:
        """Largest relative difference of field ``name`` over all compared times (nan if none)."""
        values = [f.max_rel for f in self.fields if f.field == name]
        return max(values) if values else float("nan")


def _read(path: Path):
    import meshio

    try:
        return meshio.read(path)
    except Exception as exc:  # meshio raises many kinds
        raise StoreError(f"{path}: unreadable field file ({exc})") from None


def _line_direction(points: np.ndarray) -> np.ndarray | None:
    """The unit direction of ``points`` when they all lie on one line through the origin (a radial
    run's mesh), else None."""
    if len(points) < 2:
        return None
    _, sv, vt = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)
    if sv[0] == 0 or sv[1] > 1e-9 * sv[0]:
        return None
    direction = vt[0] * np.sign(vt[0][np.argmax(np.abs(vt[0]))])
    return direction / np.linalg.norm(direction)


_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))  # xx, yy, zz, yz, xz, xy


class _Transfer:
    """Values on B's points -> values on A's points (identity, radial, or linear interpolation).

    When B is a radial run (its points on one ray, e.g. the 1D solver's x axis) the spherically
    symmetric solution is evaluated at |x| of A's points and vectors/tensors are rotated to A's
    directions (u = u_r n, sigma = s_t I + (s_r - s_t) n n^T); a Delaunay triangulation of collinear
    points would be flat. Otherwise B is tetrahedralised (Delaunay) and interpolated linearly.
    """

    def __init__(self, points_a: np.ndarray, points_b: np.ndarray):
        self.points_a, self.points_b = points_a, points_b
        self.n = len(points_a)
        extent = float(np.ptp(points_a, axis=0).max()) or 1.0
        self.same = points_a.shape == points_b.shape and np.allclose(points_a, points_b, rtol=0.0, atol=1e-9 * extent)
        if self.same:
            return
        self.line = _line_direction(points_b)
        if self.line is not None:
            r_b = points_b @ self.line
            self.order = np.argsort(r_b)
            self.r_b = r_b[self.order]
            r_a = np.linalg.norm(points_a, axis=1)
            self.r_a = r_a
            self.normals = np.divide(points_a, r_a[:, None], out=np.tile(self.line, (self.n, 1)), where=r_a[:, None] > 0)
            return
        from scipy.spatial import Delaunay, cKDTree

        self.tri = Delaunay(points_b)
        simplex = self.tri.find_simplex(points_a)
        self.inside = simplex >= 0
        # a point outside B's hull (a sphere facetted differently) uses the tet of its nearest B
        # vertex, i.e. linear extrapolation over a distance much smaller than the element size
        nearest = cKDTree(points_b).query(points_a[~self.inside])[1]
        simplex[~self.inside] = self.tri.vertex_to_simplex[nearest]
        transform = self.tri.transform[simplex]
        bary = np.einsum("ijk,ik->ij", transform[:, :3], points_a - transform[:, 3])
        self.weights = np.concatenate([bary, 1.0 - bary.sum(axis=1, keepdims=True)], axis=1)
        self.vertices = self.tri.simplices[simplex]

    def _radial(self, values_b: np.ndarray) -> np.ndarray:
        def at_a(column: np.ndarray) -> np.ndarray:
            return np.interp(self.r_a, self.r_b, column[self.order])

        d, n = self.line, self.normals
        if values_b.ndim == 1:
            return at_a(values_b)
        if values_b.shape[1] == 3:  # a radial vector field: u_r along the ray
            return at_a(values_b @ d)[:, None] * n
        if values_b.shape[1] == 6:  # a symmetric tensor, Voigt order: s_r along the ray, s_t across
            full = np.zeros((len(values_b), 3, 3))
            for k, (i, j) in enumerate(_VOIGT):
                full[:, i, j] = full[:, j, i] = values_b[:, k]
            s_r = np.einsum("i,nij,j->n", d, full, d)
            s_t = 0.5 * (np.trace(full, axis1=1, axis2=2) - s_r)
            s_r, s_t = at_a(s_r), at_a(s_t)
            out = np.empty((self.n, 6))
            for k, (i, j) in enumerate(_VOIGT):
                out[:, k] = (s_t if i == j else 0.0) + (s_r - s_t) * n[:, i] * n[:, j]
            return out
        return np.stack([at_a(values_b[:, k]) for k in range(values_b.shape[1])], axis=1)

    def __call__(self, values_b: np.ndarray) -> np.ndarray:
        if self.same:
            return values_b
        values_b = np.asarray(values_b, dtype=float)
        if self.line is not None:
            return self._radial(values_b)
        w = self.weights.reshape(self.weights.shape + (1,) * (values_b.ndim - 1))
        return (values_b[self.vertices] * w).sum(axis=1)


def _pair_times(ta: list[float], tb: list[float]) -> tuple[list[tuple[int, int]], list[float], list[float]]:
    """Index pairs of equal times (relative tolerance), and the times found on one side only."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    tb_arr = np.asarray(tb, dtype=float)
    for i, t in enumerate(ta):
        if not tb_arr.size:
            break
        j = int(np.argmin(np.abs(tb_arr - t)))
        close = abs(tb_arr[j] - t) <= _TIME_RTOL * max(abs(t), abs(tb_arr[j])) or t == tb_arr[j]
        if close and j not in used:
            pairs.append((i, j))
            used.add(j)
    paired_a = {i for i, _ in pairs}
    only_a = [ta[i] for i in range(len(ta)) if i not in paired_a]
    only_b = [tb[j] for j in range(len(tb)) if j not in used]
    return pairs, only_a, only_b


def compare_runs(run_a: Run, run_b: Run) -> Comparison:
    """Field and scalar differences between two stored runs (see the module docstring)."""
    steps_a, steps_b = run_a.field_steps(), run_b.field_steps()
    if not steps_a or not steps_b:
        empty = run_a if not steps_a else run_b
        raise StoreError(f"{empty.path} has no stored fields (state {empty.state}); run it first")
    pairs, only_a, only_b = _pair_times([t for t, _ in steps_a], [t for t, _ in steps_b])
    result = Comparison(run_a=str(run_a.path), run_b=str(run_b.path), interpolated=False, only_in_a=only_a, only_in_b=only_b)
    transfer: _Transfer | None = None
    names_a: set[str] = set()
    names_b: set[str] = set()
    for i, j in pairs:
        time, path_a = steps_a[i]
        mesh_a, mesh_b = _read(path_a), _read(steps_b[j][1])
        pa, pb = np.asarray(mesh_a.points, float), np.asarray(mesh_b.points, float)
        if transfer is None or not (np.array_equal(pa, transfer.points_a) and np.array_equal(pb, transfer.points_b)):
            transfer = _Transfer(pa, pb)
        result.interpolated = result.interpolated or not transfer.same
        names_a |= set(mesh_a.point_data)
        names_b |= set(mesh_b.point_data)
        for name in sorted(set(mesh_a.point_data) & set(mesh_b.point_data)):
            a = np.asarray(mesh_a.point_data[name], dtype=float)
            b = transfer(np.asarray(mesh_b.point_data[name], dtype=float))
            if a.shape != b.shape:
                log.warning("field %s has shapes %s and %s; skipped", name, a.shape, b.shape)
                continue
            diff = np.abs(a - b) if a.ndim == 1 else np.linalg.norm((a - b).reshape(len(a), -1), axis=1)
            size = np.abs(a) if a.ndim == 1 else np.linalg.norm(a.reshape(len(a), -1), axis=1)
            scale = float(np.nanmax(size)) if size.size else 0.0
            max_abs = float(np.nanmax(diff)) if diff.size else 0.0
            result.fields.append(
                FieldDifference(
                    time=float(time), field=name, max_abs=max_abs, rms=float(np.sqrt(np.nanmean(diff**2))),
                    scale=scale, max_rel=max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf")),
                )
            )
    result.fields_only_in_a = sorted(names_a - names_b)
    result.fields_only_in_b = sorted(names_b - names_a)
    sa, sb = run_a.scalars(), run_b.scalars()
    if sa["time_s"].size and sb["time_s"].size > 1:
        inside = (sa["time_s"] >= sb["time_s"].min()) & (sa["time_s"] <= sb["time_s"].max())
        for name in SCALAR_COLUMNS[1:]:
            a, b = sa[name][inside], np.interp(sa["time_s"][inside], sb["time_s"], sb[name])
            if a.size and np.isfinite(a).any() and np.isfinite(b).any():
                result.scalars[name] = float(np.nanmax(np.abs(a - b)))
    return result


def format_comparison(c: Comparison) -> str:
    """A human-readable table of a comparison."""
    lines = [f"A: {c.run_a}", f"B: {c.run_b}" + ("  (interpolated onto A's points)" if c.interpolated else "  (same points)")]
    lines.append(f"{'time [s]':>14}  {'field':<22} {'max |A-B|':>12} {'RMS':>12} {'max |A|':>12} {'rel':>10}  unit")
    for f in c.fields:
        lines.append(
            f"{f.time:14.6g}  {f.field:<22} {f.max_abs:12.4g} {f.rms:12.4g} {f.scale:12.4g} {f.max_rel:10.3g}  {f.unit}"
        )
    if c.only_in_a or c.only_in_b:
        lines.append(f"times only in A: {c.only_in_a or '-'}; only in B: {c.only_in_b or '-'}")
    if c.fields_only_in_a or c.fields_only_in_b:
        lines.append(f"fields only in A: {', '.join(c.fields_only_in_a) or '-'}; only in B: {', '.join(c.fields_only_in_b) or '-'}")
    if c.scalars:
        lines.append("scalars, max |A-B| at A's times: " + ", ".join(f"{k} {v:.4g}" for k, v in c.scalars.items()))
    return "\n".join(lines)
