"""Progress reporting shared by the CLI (lines) and the app (progress bars).

Long-running functions take ``progress: Progress | None`` and call it as
``progress(stage, done, total)``: ``stage`` is a short human label ("title.basics.tsv.gz"),
``done`` and ``total`` are in the stage's own unit (bytes, rows, steps); ``total`` is ``None``
when unknown.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from recsys.urls import mask_urls_in


class Progress(Protocol):
    def __call__(self, stage: str, done: float, total: float | None) -> None: ...


def null_progress(stage: str, done: float, total: float | None) -> None:
    """A progress sink that ignores everything."""


class LineProgress:
    """Prints progress lines, at most one per ``interval`` seconds per stage plus the last one."""

    def __init__(self, stream: TextIO | None = None, interval: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: float, total: float | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last.get(stage, -1e9) < self.interval:
            return
        self._last[stage] = now
        stage = mask_urls_in(stage)  # a stage may name its source
        if total:
            pct = 100.0 * done / total
            self.stream.write(f"{stage}: {_fmt(done)} / {_fmt(total)} ({pct:5.1f}%)\n")
        else:
            self.stream.write(f"{stage}: {_fmt(done)}\n")
        self.stream.flush()


def _fmt(n: float) -> str:
    return f"{int(n):,}"
