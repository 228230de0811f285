"""Turn COMSOL result files (a Data export + its mesh) into a stored run.

Two uses:

* ``octant import-comsol RESULT.txt --mesh MESH.mphtxt [--spec SPEC] [--study NAME]``: a result
  computed elsewhere (by hand in the COMSOL GUI, by a colleague) becomes a run of the store, so it
  renders and compares like any other run. The run spec says which model it solved (``--spec``);
  without one, the default Si model of DESIGN.md is assumed and provenance says so. The spec's
  backend is set to ``comsol`` (so its run id differs from the native run of the same physics, and
  its physics id is the same).
* ``... --into RUN_DIR --batch-log LOG --exit-code N``: the last step of a SLURM ``comsol batch``
  job (:func:`solvers.comsol.batch.comsol_batch_script`): a failure shown by the batch log, the exit
  code or missing result files marks the prepared run ``failed`` with the log tail; otherwise the
  results are stored into it and it is marked ``done``.

Fields are stored at every time of the export for a plain import, and at the spec's field times
for ``--into`` (the job's export also holds the evenly spaced times used for the scalars).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from solvers.comsol.batch import check_batch_log
from solvers.comsol.builder import study_times
from solvers.comsol.mphtxt import read_mphtxt
from solvers.comsol.results import convert_results, write_to_sink
from solvers.comsol.spreadsheet import read_spreadsheet
from solvers.errors import SolverError

from .errors import SpecError, StoreError
from .provenance import collect_provenance
from .runspec import RunSpec
from .spec import load_study, study_from_dict
from .store import Run, RunStore

__all__ = ["DEFAULT_IMPORT_MODEL", "import_comsol", "import_into_run", "resolve_import_spec", "select_run"]

log = logging.getLogger(__name__)

#: The model assumed when no spec is given (DESIGN.md section 3 defaults).
DEFAULT_IMPORT_MODEL = {
    "particle": {"radius": "4.11 um"},
    "material": "Si",
    "loading": {"specific_current": "0.1 A/g"},
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_import_spec(spec: Path | None, *, study: str | None = None, run: str | None = None) -> tuple[RunSpec, bool]:
    """The run spec of an imported result and whether the model was assumed (no ``spec``).

    ``spec``: a study spec file (or a stored ``spec.yaml``); with a sweep, ``run`` picks one run by
    id (prefix) or index. ``study`` renames the study. The backend becomes ``comsol``.
    """
    if spec is None:
        study_spec = study_from_dict(
            {"spec_version": 1, "name": study or "comsol-import", "backend": "comsol", "model": DEFAULT_IMPORT_MODEL},
            "<default import spec>",
        )
        assumed = True
    else:
        study_spec = load_study(spec)
        assumed = False
    update = {"backend": "comsol", **({"name": study} if study else {})}
    study_spec = study_from_dict({**study_spec.model_dump(mode="json"), **update}, str(spec or "<spec>"))
    return select_run(study_spec.runs(), run, str(spec or "<default import spec>")), assumed


def select_run(runs: list[RunSpec], run: str | None, source: str) -> RunSpec:
    """One run of a study: the only one, or the one ``run`` names (index below 1000, or run id prefix)."""
    if len(runs) == 1 and run is None:
        return runs[0]
    if run is None:
        listing = ", ".join(r.run_id for r in runs)
        raise SpecError(f"{source}: the study has {len(runs)} runs ({listing}); choose one with --run ID")
    # a short number is an index (0-based, in sweep order); 4+ characters are a run id prefix
    if run.isdigit() and len(run) < 4:
        if int(run) >= len(runs):
            raise SpecError(f"--run {run}: {source} has {len(runs)} runs (indices 0-{len(runs) - 1})")
        return runs[int(run)]
    matches = [r for r in runs if r.run_id.startswith(run)]
    if len(matches) != 1:
        raise SpecError(f"--run {run!r} matches {len(matches)} of the runs of {source} ({', '.join(r.run_id for r in runs)})")
    return matches[0]


def _store_results(run: Run, result: Path, mesh_path: Path, *, field_times, reason: str, extra: dict) -> Run:
    spec = run.spec
    model = spec.model()
    data = read_spreadsheet(result)
    mesh = read_mphtxt(mesh_path)
    converted = convert_results(mesh, data, c_max=model.c_max, c0=model.c0, dod_of_time=model.dod_at_time)
    sink = run.sink()
    try:
        stop = model.stop.value if model.stop.kind == "surface_theta" and field_times is not None else None
        rows, frames, notes = write_to_sink(converted, sink, field_times=field_times, stop_surface_theta=stop)
    finally:
        sink.close()
    if frames == 0:
        raise SolverError(f"{result}: no field frame matched the run's output times; check the export's times")
    _, block = mesh.volume_block()
    run.write_provenance(
        collect_provenance(
            backend="comsol",
            backend_reason=reason,
            run_id=run.run_id,
            physics_id=spec.physics_id,
            comsol_version=data.metadata.get("Version"),
            comsol_model=data.metadata.get("Model"),
            source_files={str(result.resolve()): _sha256(result), str(mesh_path.resolve()): _sha256(mesh_path)},
            solver={
                "backend": "comsol",
                "dofs": {"vertices": int(len(mesh.points)), "tetrahedra": int(len(block.connectivity))},
                "notes": converted.notes + notes,
                "scalar_rows": rows,
                "field_frames": frames,
            },
            **extra,
        )
    )
    run.mark_done()
    log.info("stored %d frames and %d scalar rows in %s", frames, rows, run.path)
    return run


def import_comsol(
    result: str | Path,
    mesh: str | Path,
    store: RunStore,
    run_spec: RunSpec,
    *,
    model_assumed: bool = False,
    force: bool = False,
) -> Run:
    """Store a COMSOL Data export and its mesh as the run of ``run_spec``; return the run (``done``)."""
    result, mesh = Path(result), Path(mesh)
    for path in (result, mesh):
        if not path.is_file():
            raise StoreError(f"{path}: no such file")
    run = store.prepare(run_spec)
    if run.state == "done" and not force:
        raise StoreError(f"{run.path} already holds a finished run of this spec; use --force to replace it")
    run.reset()
    run.mark_running()
    try:
        return _store_results(
            run, result, mesh, field_times=None, reason="imported from COMSOL result files",
            extra={"model_assumed": model_assumed} if model_assumed else {},
        )
    except Exception as exc:
        run.mark_failed(str(exc))
        raise


def import_into_run(
    run_dir: str | Path,
    result: str | Path,
    mesh: str | Path,
    *,
    batch_log: str | Path | None = None,
    exit_code: int = 0,
) -> Run:
    """Finish a ``comsol batch`` job: store its results into the prepared run, or mark it failed.

    Raises :class:`~solvers.errors.SolverError` (after marking the run ``failed`` with the batch
    log's error lines) when the exit code is non-zero, the batch log reports an error, or a result
    file is missing.
    """
    run = Run(run_dir)
    result, mesh = Path(result), Path(mesh)
    problems: list[str] = []
    if exit_code:
        problems.append(f"COMSOL exited with code {exit_code}")
    if batch_log is not None:
        problems += check_batch_log(batch_log)
    problems += [f"result file {p} is missing" for p in (result, mesh) if not p.is_file()]
    if problems:
        tail = ""
        if batch_log is not None and Path(batch_log).is_file():
            lines = Path(batch_log).read_text(encoding="utf-8", errors="replace").splitlines()
            tail = "\n--- batch log (last 40 lines) ---\n" + "\n".join(lines[-40:])
        message = "COMSOL batch run failed: " + "; ".join(problems[:10]) + tail
        run.mark_failed(message)
        raise SolverError(message)
    run.reset()  # results of an earlier attempt must not mix with these
    run.mark_running()
    model = run.spec.model()
    _, field_times = study_times(model, run.spec.outputs())
    try:
        return _store_results(
            run, result, mesh, field_times=np.asarray(field_times), reason="comsol batch (SLURM job)",
            extra={"batch_log": str(Path(batch_log).resolve()) if batch_log else None},
        )
    except Exception as exc:
        run.mark_failed(str(exc))
        raise
