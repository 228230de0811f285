"""``octant verify``: run the verification cases of the radial and native backends.

Prints a table (case, backend, mesh, error, observed order, tolerance, pass, detail) and exits
non-zero when any case fails (a SKIP row, for an optional peer that is not installed, does not).
``--level quick`` (default, ~10-30 s) uses coarse meshes; ``--level full`` adds the finer meshes,
the medium native mesh, the Si step law and the PyBaMM cross-check (several minutes).
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from ..verify import CASES, LEVELS, format_table, run_verification

__all__ = ["cmd_verify", "register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify the radial and native solvers against analytical solutions")
    p.add_argument("--level", choices=LEVELS, default="quick", help="quick (coarse meshes) or full (finer, slower)")
    p.add_argument(
        "--backend",
        choices=("radial", "native"),
        action="append",
        dest="backends",
        help="only this backend (repeatable; default both)",
    )
    p.add_argument("--case", choices=CASES, action="append", dest="cases", help="only this case (repeatable)")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    backends = tuple(args.backends) if args.backends else ("radial", "native")
    results = run_verification(args.level, backends=backends, cases=args.cases)
    failed = [r for r in results if not r.passed]
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        print(format_table(results))
        skipped = sum(r.skipped for r in results)
        print(
            f"\n{len(results) - len(failed) - skipped} passed, {len(failed)} failed, {skipped} skipped"
            f" ({time.perf_counter() - t0:.1f} s, level {args.level})"
        )
        for r in failed:
            print(
                f"FAILED {r.case} [{r.backend}, {r.mesh}]: error {r.error:.3e} > tolerance {r.tolerance:.1e} "
                f"or order {r.order if r.order is None else round(r.order, 2)} too low; {r.detail}"
            )
    return 1 if failed or not results else 0
