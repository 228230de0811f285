"""Submit a study's runs to SLURM as job arrays (``octant submit SPEC --scheduler slurm``).

Steps: expand the study, prepare the run directories (the store's ``prepare``), choose the runs
to submit (:mod:`.plan`: pending and stale runs; ``--resubmit-failed`` only the failed ones;
``--force`` everything), split them into chunks of at most MaxArraySize array tasks (``--pack``
runs per task), and for each chunk write a manifest and an sbatch script under
``runs/<study>/.slurm/<submission id>/`` (see :mod:`.manifest`) and submit it.

Each chunk is submitted *held*; the job id (``<job>_<task>``) and the task's log paths are
written into every run's ``status.json`` and into ``submission.json``, and only then is the job
released -- so no task can start before its run records where it was sent.

COMSOL runs get ``#SBATCH --licenses=comsol:1``. When the COMSOL backend provides
``solvers.comsol.batch.comsol_batch_script``, each COMSOL run is submitted with that script
(one job per run) instead of the generic array script.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import SubmissionError
from ..runspec import RunSpec
from ..store import STALE_AFTER_S, Run, RunStore, atomic_write_text
from . import slurm_commands as sc
from .manifest import SUBMISSIONS_DIRNAME, ChunkRecord, Submission, new_submission_id, write_manifest
from .plan import Decision, decide, job_ended
from .slurm_script import SlurmOptions, package_root, render_array_script
from .status import SlurmRef, slurm_index

__all__ = [
    "COMSOL_LICENSE",
    "SubmitResult",
    "cluster_options",
    "comsol_script_factory",
    "plan_chunks",
    "submit_study",
]

log = logging.getLogger(__name__)

#: Licence token requested by every COMSOL run.
COMSOL_LICENSE = "comsol:1"


@dataclass(frozen=True)
class _Item:
    """A run to submit: its directory, backend, and id (the directory may not exist in a dry run)."""

    path: Path
    run_id: str
    backend: str


@dataclass
class _Chunk:
    """A group of runs that goes into one sbatch call."""

    items: list[_Item]
    licenses: tuple[str, ...]
    per_run_script: bool = False  # a COMSOL batch script of the COMSOL backend (one job per run)


@dataclass
class SubmitResult:
    """The outcome of :func:`submit_study`.

    ``scripts`` are (path, text) of every job script (written, or only rendered in a dry run);
    ``skipped`` the runs not submitted and why; ``submission`` is None when nothing was submitted.
    """

    study: str
    dry_run: bool
    n_runs: int
    submitted: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str, str]] = field(default_factory=list)
    scripts: list[tuple[Path, str]] = field(default_factory=list)
    submission: Submission | None = None

    def summary(self) -> str:
        """One paragraph for the terminal."""
        verb = "would submit" if self.dry_run else "submitted"
        lines = [f"study {self.study!r}: {self.n_runs} run(s); {verb} {len(self.submitted)}"]
        if self.submission is not None:
            lines[0] += f" in {len(self.submission.chunks)} sbatch call(s)"
            if not self.dry_run:
                lines[0] += f" (job ids: {', '.join(self.submission.job_ids)})"
                lines.append(f"submission directory: {self.submission.path}")
                lines.append(f"follow with: octant status {self.study}")
        reasons: dict[str, int] = {}
        for _, _, reason in self.skipped:
            key = reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        if reasons:
            lines.append("skipped: " + ", ".join(f"{n} {k}" for k, n in sorted(reasons.items())))
        if any(reason.startswith("failed") for _, _, reason in self.skipped):
            lines.append("failed runs are not resubmitted by default: use --resubmit-failed")
        return "\n".join(lines)


def cluster_options(
    *,
    partition: str | None = None,
    time: str | None = None,
    cpus: int | None = None,
    mem: str | None = None,
    array_limit: int | None = None,
    pack: int = 1,
) -> SlurmOptions:
    """:class:`SlurmOptions` with ``max_array_size`` read from ``scontrol show config`` (default 1001)."""
    return SlurmOptions(
        partition=partition,
        time=time,
        cpus=cpus,
        mem=mem,
        array_limit=array_limit,
        pack=pack,
        max_array_size=sc.max_array_size(),
    )


# ---------------------------------------------------------------------------------- COMSOL
ComsolScript = Callable[..., str]


def comsol_script_factory() -> ComsolScript | None:
    """``solvers.comsol.batch.comsol_batch_script`` (ships with octant and needs no COMSOL to import;
    an ImportError there is a bug and propagates instead of silently dropping COMSOL batch scripts)."""
    module = importlib.import_module("solvers.comsol.batch")
    return getattr(module, "comsol_batch_script", None)


def _with_license(script: str) -> str:
    """Add ``#SBATCH --licenses=comsol:1`` after the shebang unless the script requests one."""
    if "--licenses" in script or "#SBATCH -L" in script:
        return script
    lines = script.splitlines()
    at = 1 if lines and lines[0].startswith("#!") else 0
    lines.insert(at, f"#SBATCH --licenses={COMSOL_LICENSE}")
    return "\n".join(lines) + "\n"


def _with_pythonpath(script: str) -> str:
    """Export PYTHONPATH (the imported octant) after the ``#SBATCH`` block of a foreign script."""
    lines = script.splitlines()
    at = 0
    while at < len(lines) and (lines[at].startswith("#!") or lines[at].startswith("#SBATCH")):
        at += 1
    lines.insert(at, f"export PYTHONPATH={shlex.quote(str(package_root()))}${{PYTHONPATH:+:$PYTHONPATH}}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- planning
def plan_chunks(items: Sequence[_Item], options: SlurmOptions, comsol_script: ComsolScript | None) -> list[_Chunk]:
    """Group runs by licence need and split them into chunks that fit MaxArraySize."""
    chunks: list[_Chunk] = []
    plain = [i for i in items if i.backend != "comsol"]
    comsol = [i for i in items if i.backend == "comsol"]
    size = options.runs_per_chunk
    for start in range(0, len(plain), size):
        chunks.append(_Chunk(plain[start : start + size], ()))
    if comsol and comsol_script is not None:
        chunks.extend(_Chunk([i], (COMSOL_LICENSE,), per_run_script=True) for i in comsol)
    else:
        for start in range(0, len(comsol), size):
            chunks.append(_Chunk(comsol[start : start + size], (COMSOL_LICENSE,)))
    return chunks


def _queue_view(runs: Sequence[Run], index: dict[str, SlurmRef]) -> tuple[dict[str, str] | None, dict[str, str]]:
    """(squeue states of the jobs the runs were sent to, or None if unreadable; run dir -> job).

    A run's job is its status' ``slurm_job`` (until ``run-one`` resets the status) or the latest
    submission record that lists it.
    """
    jobs: dict[str, str] = {}
    for run in runs:
        status = run.status
        job = status.get("slurm_job") or (index[str(run.path)].job if str(run.path) in index else None)
        if job and status.get("state") in ("pending", "failed", "running"):
            jobs[str(run.path)] = str(job)
    if not jobs:
        return {}, jobs
    return sc.squeue_states(jobs.values()), jobs


def _select(
    run_specs: Sequence[RunSpec],
    store: RunStore,
    *,
    prepare: bool,
    force: bool,
    resubmit_failed: bool,
    stale_after_s: float,
) -> tuple[list[_Item], list[tuple[Path, str, str]]]:
    """Runs to submit and (path, state, reason) of those skipped. Prepares dirs unless a dry run."""
    runs: list[tuple[RunSpec, Path, Run | None]] = []
    study_dir = store.run_dir(run_specs[0].study, run_specs[0].run_id).parent  # checks the name once
    study_exists = study_dir.is_dir()
    for spec in run_specs:
        if prepare:
            run = store.prepare(spec)
            runs.append((spec, run.path, run))
        else:
            path = study_dir / spec.run_id  # run ids are 12 hex digits (RunSpec hashes them)
            exists = study_exists and (path / "spec.yaml").exists()
            runs.append((spec, path, Run(path) if exists else None))
    existing = [r for _, _, r in runs if r is not None]
    queue, jobs = _queue_view(existing, slurm_index(study_dir) if existing else {})
    queued = None if queue is None else set(queue)
    chosen: list[_Item] = []
    skipped: list[tuple[Path, str, str]] = []
    for spec, path, run in runs:
        if run is None:  # dry run of a run never prepared
            if resubmit_failed:
                skipped.append((path, "new", "new: not failed"))
            else:
                chosen.append(_Item(path, spec.run_id, spec.backend))
            continue
        decision: Decision = decide(
            run,
            force=force,
            include_failed=False,
            only_failed=resubmit_failed,
            stale_after_s=stale_after_s,
            queued_jobs=queued,
            job_ended=job_ended(run.status, jobs.get(str(run.path)), queued),
        )
        if decision.execute:
            chosen.append(_Item(run.path, spec.run_id, spec.backend))
        else:
            skipped.append((run.path, decision.state, decision.reason))
    return chosen, skipped


# ---------------------------------------------------------------------------------- submission
def _render(
    chunk: _Chunk,
    index: int,
    sub_dir: Path,
    study: str,
    options: SlurmOptions,
    comsol_script: ComsolScript | None,
    skip_done: bool,
) -> tuple[Path, Path, str]:
    """(script path, manifest path, script text) of one chunk."""
    manifest = sub_dir / f"chunk-{index:03d}.manifest"
    script_path = sub_dir / f"chunk-{index:03d}.sbatch"
    if chunk.per_run_script:
        assert comsol_script is not None
        run_dir = chunk.items[0].path
        extra: dict[str, object] = {}
        if "octant" in inspect.signature(comsol_script).parameters:  # call this very octant
            extra["octant"] = f"{sys.executable} -m orchestrator.cli"
        # a dry run renders the real script also for a run directory that is not prepared yet
        extra["prepared"] = (run_dir / "spec.yaml").exists()
        try:
            text = comsol_script(
                run_dir, partition=options.partition, time=options.time, cpus=options.cpus, mem=options.mem, **extra
            )
        except ValueError as exc:
            raise SubmissionError(f"cannot write the COMSOL batch script of {run_dir}: {exc}") from None
        return script_path, manifest, _with_pythonpath(_with_license(text))
    text = render_array_script(
        study=study,
        manifest=manifest,
        n_runs=len(chunk.items),
        log_dir=sub_dir / "logs",
        options=options,
        licenses=chunk.licenses,
        skip_done=skip_done,
    )
    return script_path, manifest, text


def submit_study(
    run_specs: Sequence[RunSpec],
    store: RunStore,
    options: SlurmOptions | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    resubmit_failed: bool = False,
    stale_after_s: float = STALE_AFTER_S,
) -> SubmitResult:
    """Prepare and submit the runs of one study; see the module docstring.

    Build ``options`` with :func:`cluster_options` to size chunks by the cluster's MaxArraySize.
    A dry run prepares, writes and submits nothing (``result.scripts`` holds the rendered scripts).
    Raises :class:`SubmissionError` when sbatch fails (chunks submitted before stay recorded).
    """
    if not run_specs:
        raise SubmissionError("the study has no runs to submit")
    study = run_specs[0].study
    if any(r.study != study for r in run_specs):
        raise SubmissionError("submit_study takes the runs of one study at a time")
    options = options or SlurmOptions()
    comsol_script = comsol_script_factory()
    items, skipped = _select(
        run_specs,
        store,
        prepare=not dry_run,
        force=force,
        resubmit_failed=resubmit_failed,
        stale_after_s=stale_after_s,
    )
    result = SubmitResult(study=study, dry_run=dry_run, n_runs=len(run_specs), skipped=skipped)
    if not items:
        return result
    submission, rendered = _build_submission(items, store, study, options, comsol_script, force, resubmit_failed)
    result.scripts = [(path, text) for path, text, _ in rendered]
    result.submitted = [item.path for item in items]
    result.submission = submission
    if dry_run:
        return result
    (submission.path / "logs").mkdir(parents=True, exist_ok=True)
    for (script_path, text, chunk), record in zip(rendered, submission.chunks, strict=True):
        write_manifest(Path(record.manifest), [item.path for item in chunk.items])
        atomic_write_text(script_path, text)
        script_path.chmod(0o755)
    submission.save()
    try:
        for (_, _, chunk), record in zip(rendered, submission.chunks, strict=True):
            _submit_chunk(chunk, record, submission, options)
    finally:
        submission.save()
    jobs = ", ".join(submission.job_ids)
    log.info("submitted %d run(s) of %s in %d job(s): %s", len(items), study, len(rendered), jobs)
    return result


def _build_submission(
    items: Sequence[_Item],
    store: RunStore,
    study: str,
    options: SlurmOptions,
    comsol_script: ComsolScript | None,
    force: bool,
    resubmit_failed: bool,
) -> tuple[Submission, list[tuple[Path, str, _Chunk]]]:
    """The submission record and (script path, script text, chunk) of every chunk; writes nothing."""
    sub_id = new_submission_id()
    sub_dir = store.root / study / SUBMISSIONS_DIRNAME / sub_id
    submission = Submission(
        id=sub_id,
        study=study,
        path=sub_dir,
        created=time.time(),
        options=asdict(options),
        mode="force" if force else ("resubmit-failed" if resubmit_failed else "default"),
    )
    rendered = []
    for index, chunk in enumerate(plan_chunks(items, options, comsol_script)):
        script_path, manifest, text = _render(chunk, index, sub_dir, study, options, comsol_script, not force)
        rendered.append((script_path, text, chunk))
        submission.chunks.append(
            ChunkRecord(
                index=index,
                script=str(script_path),
                manifest=str(manifest),
                n_runs=len(chunk.items),
                n_tasks=1 if chunk.per_run_script else -(-len(chunk.items) // options.pack),
                licenses=list(chunk.licenses),
                array=not chunk.per_run_script,
            )
        )
    return submission, rendered


def _submit_chunk(chunk: _Chunk, record: ChunkRecord, submission: Submission, options: SlurmOptions) -> None:
    """sbatch (held), record the job id in every run's status, release."""
    done_before = [c.job_id for c in submission.chunks if c.job_id]
    try:
        job_id = sc.sbatch(Path(record.script), hold=True)
    except SubmissionError as exc:
        note = f" (already submitted: jobs {', '.join(done_before)})" if done_before else ""
        raise SubmissionError(f"{exc}{note}") from None
    record.job_id = job_id
    try:
        for line, item in enumerate(chunk.items):
            task = record.task_job_id(line, options.pack) or job_id
            if chunk.per_run_script:  # the COMSOL script writes <run>/comsol/slurm-<job>.out
                out = err = item.path / "comsol" / f"slurm-{job_id}.out"
            else:
                out = submission.log_dir / f"{task}.out"
                err = submission.log_dir / f"{task}.err"
            run = Run(item.path)
            requeue = {}
            if run.state in ("failed", "running"):  # a new attempt is queued; keep the last error
                requeue = {"state": "pending", "previous_error": run.status.get("error"), "error": None}
            run.update_status(
                **requeue,
                slurm_job=task,
                slurm_submission=submission.id,
                slurm_output=str(out) if out else None,
                slurm_error=str(err) if err else None,
            )
        sc.release(job_id)
    except BaseException:
        sc.cancel(job_id)
        record.job_id = None
        raise
