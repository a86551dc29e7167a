"""Progress reporting shared by the CLI (lines) and the app (progress bars).

Long-running functions take ``progress: Progress | None`` and call it as
``progress(stage, done, total)``: ``stage`` is a short human label ("title.basics.tsv.gz"),
``done`` and ``total`` are in the stage's own unit (bytes, rows, steps); ``total`` is ``None``
when unknown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Phase:
    """One step of a job in the overall progress: ``name`` (what the job calls it), ``label``
    (what a person reads: "Downloading"), ``weight`` (its share of the whole bar) and ``parts``:
    how many differently named stages it reports, each counting ``done / total`` on its own
    (a download reports one per file); ``None`` when every report's ``done / total`` is already
    the phase's own fraction (the build's numbered steps)."""

    name: str
    label: str
    weight: float = 1.0
    parts: int | None = None


class OverallProgress:
    """Folds the progress of a job's phases into one overall fraction and a line of text.

    ``phase(name)`` returns the :class:`Progress` to hand to that phase's function; every report
    calls ``sink(text, fraction)`` with e.g. ``("Downloading: title.basics.tsv.gz (12.0M of
    40.0M)", 0.12)``. The fraction never goes back (a phase that reports fewer or more stages
    than announced still moves one bar forward, from 0 to 1).

    Example: phases download (weight 1, 2 files) and build (weight 1); the first file half done
    is 0.125 of the whole, the build's step 4 of 8 is 0.5 + 0.25 = 0.75.
    """

    def __init__(self, phases: list[Phase], sink: Callable[[str, float], None]) -> None:
        self.phases = phases
        self.sink = sink
        total = sum(p.weight for p in phases) or 1.0
        self._start: dict[str, float] = {}
        self._share: dict[str, float] = {}
        acc = 0.0
        for p in phases:
            self._start[p.name] = acc / total
            self._share[p.name] = p.weight / total
            acc += p.weight
        self.fraction = 0.0
        self.text = ""

    def phase(self, name: str) -> Progress:
        spec = next(p for p in self.phases if p.name == name)
        seen: list[str] = []

        def report(stage: str, done: float, total: float | None) -> None:
            part = min(max(done / total, 0.0), 1.0) if total else 0.0
            if spec.parts is None:
                inner = part
            else:
                if stage not in seen:
                    seen.append(stage)
                inner = (seen.index(stage) + part) / max(spec.parts, len(seen))
            frac = self._start[name] + self._share[name] * min(inner, 1.0)
            self.fraction = min(max(self.fraction, frac), 1.0)
            counts = f" ({short_count(done)} of {short_count(total)})" if total and spec.parts is not None else ""
            self.text = f"{spec.label}: {stage}{counts}" if spec.label else f"{stage}{counts}"
            self.sink(self.text, self.fraction)

        return report

    def enter(self, name: str) -> None:
        """Announce the start of a phase (its text shows before its first report)."""
        spec = next(p for p in self.phases if p.name == name)
        self.fraction = max(self.fraction, self._start[name])
        self.text = f"{spec.label}…"
        self.sink(self.text, self.fraction)


def short_count(n: float) -> str:
    """1234567 -> "1.2M", 950 -> "950"."""
    for unit in ("", "K", "M", "G"):
        if abs(n) < 1000:
            return f"{n:,.0f}" if unit == "" else f"{n:,.1f}{unit}"
        n /= 1000
    return f"{n:,.1f}T"


#: What the app shows for the short stage names the build and the models report (issue 20: "check",
#: "people", "write", "tokens", "als" read as jargon on the data page).
PLAIN_STAGES = {
    "check": "checking the downloaded files",
    "crew": "directors and writers",
    "people": "cast names",
    "languages": "title languages",
    "movielens": "MovieLens ratings",
    "write": "writing the catalogue",
    "verify": "checking the new catalogue",
    "swap": "switching to the new catalogue",
    "als": "collaborative model",
    "content": "content model",
    "tokens": "title words",
    "iterations": "training rounds",
}


def plain_stage(stage: str) -> str:
    """``stage`` with each ``": "``-separated part that is a short stage name replaced by words
    (:data:`PLAIN_STAGES`); a count in brackets after it is kept.

    >>> plain_stage("Training the recommender: als: iterations (6 of 15)")
    'Training the recommender: collaborative model: training rounds (6 of 15)'
    """
    parts = []
    for part in stage.split(": "):
        word, sep, rest = part.partition(" (")
        parts.append(PLAIN_STAGES.get(word, word) + sep + rest)
    return ": ".join(parts)
