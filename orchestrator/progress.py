"""Progress of one run: a live bar with DOD and ETA on a terminal, plain log lines elsewhere.

On a terminal (the stream is a TTY and ``$TERM`` is not ``dumb``) :class:`ProgressPrinter` shows a
rich progress bar: the run, the bar, the percentage of the way to the stop condition, the DOD, the
simulated time, the wall time elapsed and the estimated time remaining (rich's ETA from the rate of
progress). In log files and batch jobs (no TTY) it writes one plain INFO line every ``every_s``
seconds (default 30) with the same numbers, and always one at the start and the end, so a SLURM log
shows how far a run got.

Progress is the fraction of the stop condition reached: DOD / target for ``stop: {dod: X}``,
otherwise t / (the model's bound on the stop time).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import IO, Any

__all__ = ["ProgressPrinter", "interactive"]

log = logging.getLogger(__name__)


def interactive(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (default stderr) is a terminal that can redraw a bar."""
    stream = stream if stream is not None else sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM", "") != "dumb"


class ProgressPrinter:
    """Callable ``(time_s, dod, dt)`` for the solver's progress hook (see the module docstring).

    ``t_end`` [s] bounds the run's duration; ``dod_target`` [-] is the DOD stop value when the run
    stops on DOD (progress then follows DOD, which is what a user waits for).
    """

    def __init__(
        self,
        label: str,
        t_end: float,
        *,
        dod_target: float | None = None,
        every_s: float = 30.0,
        stream: IO[str] | None = None,
    ):
        self.label = label
        self.t_end = max(float(t_end), 1e-300)
        self.dod_target = dod_target if dod_target and dod_target > 0 else None
        self.every_s = every_s
        self.stream = stream if stream is not None else sys.stderr
        self._started = time.monotonic()
        self._last_line = -float("inf")
        self._last: tuple[float, float, float] | None = None
        self._bar: Any = None
        if interactive(self.stream):
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._task = self._bar.add_task(self.label, total=1.0, info="")
        self._bar.start()

    def fraction(self, time_s: float, dod: float) -> float:
        """How far the run is, in [0, 1]."""
        done = dod / self.dod_target if self.dod_target else time_s / self.t_end
        return min(max(done, 0.0), 1.0)

    def __call__(self, time_s: float, dod: float, step: float) -> None:
        self._last = (time_s, dod, step)
        fraction = self.fraction(time_s, dod)
        info = f"DOD {dod:6.4f}  t = {time_s / 3600:7.3f} h"
        if self._bar is not None:
            self._bar.update(self._task, completed=fraction, info=info)
            return
        now = time.monotonic()
        if now - self._last_line >= self.every_s:
            self._last_line = now
            self._log_line(fraction, info, now)

    def _log_line(self, fraction: float, info: str, now: float) -> None:
        elapsed = now - self._started
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else float("nan")
        eta_text = f"{eta:.0f} s" if eta == eta else "?"
        log.info("%s: %3.0f%%  %s  dt = %.3g s  elapsed %.0f s  ETA %s", self.label, 100 * fraction, info,
                 self._last[2] if self._last else 0.0, elapsed, eta_text)

    def close(self) -> None:
        """Stop the bar; in plain mode, write the final line."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._last is not None:
            time_s, dod, _ = self._last
            self._log_line(self.fraction(time_s, dod), f"DOD {dod:6.4f}  t = {time_s / 3600:7.3f} h", time.monotonic())
