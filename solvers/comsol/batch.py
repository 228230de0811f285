"""SLURM job scripts that run COMSOL in batch mode, and the check of COMSOL's batch log.

A COMSOL run on a cluster needs no Python and no mph on the compute node's COMSOL side: the job
writes the model file with ``octant export-java``, compiles it with ``comsol compile`` and runs it
with ``comsol batch``; the model file itself exports the mesh and the fields, and
``octant import-comsol ... --into RUN_DIR`` turns them into the run's results.

``comsol batch`` can exit with status 0 after a failure (an exception in the model, a licence
error), so the batch log is the judge: :func:`check_batch_log` looks for error lines, and the
import step marks the run ``failed`` with the log tail when it finds any. The licence token
``#SBATCH -L comsol:1`` makes SLURM hold the job until a COMSOL licence is free (the cluster must
define the ``comsol`` licence; ask the administrators).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

__all__ = ["BATCH_ERROR", "check_batch_log", "comsol_batch_script"]

#: Lines of a COMSOL batch log that mean the run failed.
BATCH_ERROR = re.compile(
    r"(?im)^\s*(?:/?\*+\s*)?(?:error|exception)\s*(?::|\*|$).*$"
    r"|^.*com\.comsol\.util\.exceptions\.\w+.*$"
    r"|^.*\bjava\.lang\.\w*(?:Exception|Error)\b.*$"
    r"|^.*\blicen[cs]e error\b.*$"
    r"|^.*\bout of memory\b.*$"
)

MODEL_CLASS = "OctantModel"


def check_batch_log(path: str | Path) -> list[str]:
    """Error lines of a COMSOL batch log (empty: no error found). A missing or empty log is an error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [f"batch log {path} is unreadable ({exc.strerror}): COMSOL batch did not run"]
    if not text.strip():
        return [f"batch log {path} is empty: COMSOL batch did not run"]
    return [m.group(0).strip() for m in BATCH_ERROR.finditer(text)]


def comsol_batch_script(
    run_dir: str | Path,
    *,
    partition: str | None = None,
    time: str | None = None,
    cpus: int | None = None,
    mem: str | None = None,
    octant: str = "octant",
    comsol: str = "comsol",
) -> str:
    """A ``sbatch`` script that solves the stored run ``run_dir`` with ``comsol batch``.

    ``time`` as SLURM accepts it (``2:00:00``), ``mem`` like ``16G``, ``cpus`` the cores for
    ``comsol batch -np`` (``$SLURM_CPUS_PER_TASK`` at run time). ``octant`` / ``comsol`` are the
    commands to call (override if they are not on the compute node's PATH). The script exits
    non-zero when COMSOL failed, even if ``comsol batch`` itself exited 0.
    """
    run_dir = Path(run_dir).resolve()
    if not (run_dir / "spec.yaml").exists():
        raise ValueError(f"{run_dir} is not a run directory (no spec.yaml); prepare the run in the store first")
    work = run_dir / "comsol"
    q = shlex.quote
    directives = [
        f"#SBATCH --job-name=octant-comsol-{run_dir.name}",
        f"#SBATCH --output={work}/slurm-%j.out",
        "#SBATCH --ntasks=1",
        "#SBATCH -L comsol:1",
    ]
    if cpus:
        directives.append(f"#SBATCH --cpus-per-task={int(cpus)}")
    if partition:
        directives.append(f"#SBATCH --partition={partition}")
    if time:
        directives.append(f"#SBATCH --time={time}")
    if mem:
        directives.append(f"#SBATCH --mem={mem}")
    body = f"""
set -u
RUN_DIR={q(str(run_dir))}
WORK={q(str(work))}
OCTANT=${{OCTANT:-{q(octant)}}}
COMSOL=${{COMSOL:-{q(comsol)}}}
NP=${{SLURM_CPUS_PER_TASK:-{int(cpus) if cpus else 1}}}
mkdir -p "$WORK"
cd "$WORK" || exit 2
rm -f "$WORK/batch.log" "$WORK/fields.txt" "$WORK/mesh.mphtxt"

# 1. the model file for this run (it exports mesh.mphtxt and fields.txt into $WORK)
$OCTANT export-java "$RUN_DIR/spec.yaml" -o "$WORK/{MODEL_CLASS}.java" --results-dir "$WORK" || exit 2

# 2. compile and run it; COMSOL may exit 0 after a failure, so the batch log decides (step 3)
status=0
"$COMSOL" compile "$WORK/{MODEL_CLASS}.java" > "$WORK/compile.log" 2>&1 || status=$?
if [ "$status" -eq 0 ]; then
  "$COMSOL" batch -np "$NP" -inputfile "$WORK/{MODEL_CLASS}.class" -outputfile "$WORK/{MODEL_CLASS}.mph" \\
      -batchlog "$WORK/batch.log" || status=$?
else
  cat "$WORK/compile.log" > "$WORK/batch.log"
fi
if grep -qiE '^[[:space:]]*(/?\\*+[[:space:]]*)?(error|exception)[[:space:]]*(:|\\*|$)|com\\.comsol\\.util\\.exceptions|licen[cs]e error' "$WORK/batch.log" 2>/dev/null; then
  echo "COMSOL batch log reports an error:" >&2
  grep -iE '^[[:space:]]*(/?\\*+[[:space:]]*)?(error|exception)[[:space:]]*(:|\\*|$)|com\\.comsol\\.util\\.exceptions|licen[cs]e error' "$WORK/batch.log" >&2
  [ "$status" -eq 0 ] && status=3
fi

# 3. store the results in the run (or mark it failed with the batch log attached)
$OCTANT import-comsol "$WORK/fields.txt" --mesh "$WORK/mesh.mphtxt" --into "$RUN_DIR" \\
    --batch-log "$WORK/batch.log" --exit-code "$status" || exit $(( status > 0 ? status : 4 ))
exit "$status"
"""
    return "#!/bin/bash\n" + "\n".join(directives) + "\n" + body.lstrip("\n")
