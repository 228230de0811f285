"""SLURM job scripts that run COMSOL in batch mode, and the check of COMSOL's batch log.

A COMSOL run on a cluster needs no Python and no mph on the compute node's COMSOL side: the job
writes the model file with ``octant export-java``, compiles it with ``comsol compile`` and runs it
with ``comsol batch``; the model file itself exports the mesh and the fields, and
``octant import-comsol ... --into RUN_DIR`` turns them into the run's results. ``comsol batch``
run on a class saves the solved model as ``<outputfile>_<ModelTag>.mph`` -- here
``$WORK/OctantModel_Model.mph`` (``-outputfile OctantModel.mph``, model tag ``Model`` from
``ModelUtil.create("Model")``); octant does not read it (the exports are the results).

``comsol batch`` can exit with status 0 after a failure (an exception in the model, a licence
error), and ``comsol compile`` can exit 0 after a failed compilation, so: the script deletes any old
``OctantModel.class`` before compiling and refuses to run when none was written, and the batch log
is the judge -- :data:`BATCH_ERROR_PATTERNS` is the one list of error patterns, used both by
:func:`check_batch_log` (Python, in ``import-comsol``) and by the script's own ``grep``. The licence
token ``#SBATCH -L comsol:1`` makes SLURM hold the job until a COMSOL licence is free (the cluster
must define the ``comsol`` licence; ask the administrators).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

__all__ = ["BATCH_ERROR_PATTERNS", "MODEL_CLASS", "check_batch_log", "comsol_batch_script", "error_lines"]

#: Lines of a COMSOL batch log that mean the run failed, matched case-insensitively, one line at a
#: time. Written as POSIX extended regular expressions, so that the job script's ``grep -iE`` uses
#: them as they are; Python reads ``[[:space:]]`` as ``\s`` (nothing else differs).
BATCH_ERROR_PATTERNS: tuple[str, ...] = (
    r"^[[:space:]]*(/?\*+[[:space:]]*)?(error|exception)[[:space:]]*(:|\*|$)",
    r"com\.comsol\.util\.exceptions\.[A-Za-z]+",
    r"java\.lang\.[A-Za-z.]*(Exception|Error)",
    r"licen[cs]e error",
    r"out of memory",
)
_COMPILED = tuple(re.compile(p.replace("[[:space:]]", r"\s"), re.IGNORECASE) for p in BATCH_ERROR_PATTERNS)

#: Class (and file stem) of the model file a batch job compiles.
MODEL_CLASS = "OctantModel"


def error_lines(text: str) -> list[str]:
    """The lines of ``text`` that match any of :data:`BATCH_ERROR_PATTERNS` (stripped)."""
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in _COMPILED)]


def check_batch_log(path: str | Path) -> list[str]:
    """Error lines of a COMSOL batch log (empty: no error found). A missing or empty log is an error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [f"batch log {path} is unreadable ({exc.strerror}): COMSOL batch did not run"]
    if not text.strip():
        return [f"batch log {path} is empty: COMSOL batch did not run"]
    return error_lines(text)


def _grep_args() -> str:
    return " ".join(f"-e {shlex.quote(p)}" for p in BATCH_ERROR_PATTERNS)


def comsol_batch_script(
    run_dir: str | Path,
    *,
    partition: str | None = None,
    time: str | None = None,
    cpus: int | None = None,
    mem: str | None = None,
    octant: str = "octant",
    comsol: str = "comsol",
    prepared: bool = True,
) -> str:
    """A ``sbatch`` script that solves the stored run ``run_dir`` with ``comsol batch``.

    ``time`` as SLURM accepts it (``2:00:00``), ``mem`` like ``16G``, ``cpus`` the cores for
    ``comsol batch -np`` (``$SLURM_CPUS_PER_TASK`` at run time). ``octant`` / ``comsol`` are the
    commands to call (override if they are not on the compute node's PATH). The script exits
    non-zero when COMSOL failed, even if ``comsol compile`` or ``comsol batch`` exited 0.
    ``prepared=False`` renders the script of a run directory that does not exist yet (a dry run).

    Raises ``ValueError`` when ``run_dir`` is not a prepared run (``prepared=True``) or its path
    contains whitespace (``#SBATCH --output=`` lines cannot quote it).
    """
    run_dir = Path(run_dir).resolve()
    if prepared and not (run_dir / "spec.yaml").exists():
        raise ValueError(f"{run_dir} is not a run directory (no spec.yaml); prepare the run in the store first")
    if any(ch.isspace() for ch in str(run_dir)):
        raise ValueError(
            f"the run directory {run_dir} contains whitespace, which #SBATCH --output lines cannot quote;"
            " use a --runs-dir without spaces"
        )
    directives = _directives(run_dir, partition=partition, time=time, cpus=cpus, mem=mem)
    return "#!/bin/bash\n" + "\n".join(directives) + "\n" + _body(run_dir, octant, comsol, cpus)


def _directives(run_dir: Path, *, partition: str | None, time: str | None, cpus: int | None, mem: str | None) -> list[str]:
    """The ``#SBATCH`` lines (no value may contain whitespace: SLURM cannot quote them)."""
    directives = [
        f"#SBATCH --job-name=octant-comsol-{run_dir.name}",
        f"#SBATCH --output={run_dir / 'comsol'}/slurm-%j.out",
        "#SBATCH --ntasks=1",
        "#SBATCH -L comsol:1",
    ]
    if cpus:
        directives.append(f"#SBATCH --cpus-per-task={int(cpus)}")
    for flag, value in (("partition", partition), ("time", time), ("mem", mem)):
        if value:
            if any(ch.isspace() for ch in str(value)):
                raise ValueError(f"--{flag} {value!r} contains whitespace")
            directives.append(f"#SBATCH --{flag}={value}")
    return directives


def _body(run_dir: Path, octant: str, comsol: str, cpus: int | None) -> str:
    """The job's commands: export, compile (no stale class), batch, log check, import."""
    q = shlex.quote
    work = run_dir / "comsol"
    grep = _grep_args()
    body = f"""
set -u
RUN_DIR={q(str(run_dir))}
WORK={q(str(work))}
OCTANT=${{OCTANT:-{q(octant)}}}
COMSOL=${{COMSOL:-{q(comsol)}}}
NP=${{SLURM_CPUS_PER_TASK:-{int(cpus) if cpus else 1}}}
mkdir -p "$WORK"
cd "$WORK" || exit 2
# a stale class from an earlier job must never run: 'comsol compile' can exit 0 after a failure
rm -f "$WORK/batch.log" "$WORK/compile.log" "$WORK/fields.txt" "$WORK/mesh.mphtxt" \\
    "$WORK/{MODEL_CLASS}.class" "$WORK/{MODEL_CLASS}_Model.mph"

# 1. the model file for this run (it exports mesh.mphtxt and fields.txt into $WORK)
$OCTANT export-java "$RUN_DIR/spec.yaml" -o "$WORK/{MODEL_CLASS}.java" --results-dir "$WORK" || exit 2

# 2. compile and run it (the solved model is saved as {MODEL_CLASS}_Model.mph: <outputfile>_<model tag>);
#    COMSOL may exit 0 after a failure, so the class file and the batch log decide
status=0
"$COMSOL" compile "$WORK/{MODEL_CLASS}.java" > "$WORK/compile.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && [ ! -f "$WORK/{MODEL_CLASS}.class" ]; then
  echo "ERROR: comsol compile wrote no {MODEL_CLASS}.class" >> "$WORK/compile.log"
  status=5
fi
if [ "$status" -eq 0 ]; then
  "$COMSOL" batch -np "$NP" -inputfile "$WORK/{MODEL_CLASS}.class" -outputfile "$WORK/{MODEL_CLASS}.mph" \\
      -batchlog "$WORK/batch.log" || status=$?
else
  cat "$WORK/compile.log" > "$WORK/batch.log"
fi
# the error patterns of solvers.comsol.batch.BATCH_ERROR_PATTERNS (the same list check_batch_log uses)
if grep -qiE {grep} "$WORK/batch.log" 2>/dev/null; then
  echo "COMSOL batch log reports an error:" >&2
  grep -iE {grep} "$WORK/batch.log" >&2
  [ "$status" -eq 0 ] && status=3
fi

# 3. store the results in the run (or mark it failed with the batch log attached)
$OCTANT import-comsol "$WORK/fields.txt" --mesh "$WORK/mesh.mphtxt" --into "$RUN_DIR" \\
    --batch-log "$WORK/batch.log" --exit-code "$status" || exit $(( status > 0 ? status : 4 ))
exit "$status"
"""
    return body.lstrip("\n")
