"""The hybrid weight sweep: content weight ``c`` from ``start`` to ``stop`` in ``step``, ALS weight
``1 - c``, popularity weight a separate constant ``p``, any other registered scorer at its current
weight; every step is evaluated on validation and test, and the best one on validation (by the
chosen metric) is marked.

The sweep never refits and never rescores: the runner computes each scorer's scores once per
tested user (:func:`recsys.evaluation.scoring.component_scores`), normalises them once, and every
step only re-blends (:func:`recsys.evaluation.scoring.hybrid_fn`) and re-ranks.

:func:`sweep_chart` draws a result's sweep (Altair), shared by the evaluation page and the notebook.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from recsys.errors import EvaluationError
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.scoring import EvalResult, SplitIndex, evaluate, hybrid_fn
from recsys.models import registry
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:  # altair loads only when a chart is drawn
    import altair as alt

    from recsys.evaluation.report import EvaluationResult
    from recsys.evaluation.taste import TasteContext

log = logging.getLogger(__name__)

Weights = dict[str, float]
SWEEP_STAGE = "evaluation: weight sweep"
_DIGITS = 6  # weights are rounded so 0.1 * 3 is 0.3, not 0.30000000000000004


def parse_sweep(text: str) -> tuple[float, float, float]:
    """``"start:stop:step"`` (e.g. ``"0:1:0.1"``) as three floats, checked by :func:`content_weights`."""
    parts = text.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise EvaluationError(f"A sweep is start:stop:step with numbers such as 0:1:0.1; got {text!r}.") from None
    content_weights(start, stop, step)
    return start, stop, step


def content_weights(start: float, stop: float, step: float) -> list[float]:
    """The content weights of a sweep: ``start, start + step, ...`` up to ``stop`` inclusive.

    Example: ``(0, 1, 0.25) -> [0.0, 0.25, 0.5, 0.75, 1.0]``; ``(0, 1, 0.3) -> [0, 0.3, 0.6, 0.9]``.
    """
    if not all(math.isfinite(x) for x in (start, stop, step)):
        raise EvaluationError("Sweep bounds and step must be finite numbers, such as 0:1:0.1.")
    if not 0.0 <= start <= stop <= 1.0:
        raise EvaluationError(f"Content weights go from 0 to 1: need 0 <= start <= stop <= 1, got {start}:{stop}.")
    if step <= 0:
        raise EvaluationError(f"The sweep step must be positive, got {step}.")
    n = math.floor((stop - start) / step + 1e-9)
    if n > 1000:
        raise EvaluationError(f"A sweep of {n + 1} steps is too fine; use a step of at least 0.001.")
    return [round(start + i * step, _DIGITS) for i in range(n + 1)]


def step_weights(content: float, popularity: float, base: Mapping[str, float] | None = None) -> Weights:
    """The blend weights of one sweep step: content ``c``, ALS ``1 - c``, popularity ``p`` and
    every other registered scorer at its weight in ``base`` (the current weights; 0 if absent)."""
    if not 0.0 <= content <= 1.0:
        raise EvaluationError(f"A content weight must be between 0 and 1, got {content}.")
    if not (math.isfinite(popularity) and popularity >= 0):
        raise EvaluationError(f"The popularity weight must be 0 or more, got {popularity}.")
    out = {name: round(float((base or {}).get(name, 0.0)), _DIGITS) for name in registry.names()}
    out.update(
        content=round(content, _DIGITS), als=round(1.0 - content, _DIGITS), popularity=round(popularity, _DIGITS)
    )
    return out


def step_label(weights: Mapping[str, float]) -> str:
    """The name of a sweep step in tables and significance choices, e.g.
    ``"sweep content=0.30 als=0.70 taste=0.10 popularity=0.10"`` (registry order)."""
    return "sweep " + " ".join(f"{n}={float(weights.get(n, 0.0)):.2f}" for n in registry.names())


def run_sweep(
    index: SplitIndex,
    normalised: Mapping[int, Mapping[str, np.ndarray]],
    steps: Sequence[Mapping[str, float]],
    k: int,
    *,
    genres: Mapping[str, Sequence[str]] | None = None,
    progress: Progress | None = None,
    taste: TasteContext | None = None,
    at_ks: Sequence[int] = (),
) -> list[tuple[Weights, EvalResult]]:
    """Evaluate every step's weights from the normalised per-user scores; returns
    ``[(weights, result)]`` in sweep order (``taste``: the split's taste metrics, built once)."""
    progress = progress or null_progress
    out: list[tuple[Weights, EvalResult]] = []
    total = len(steps)
    progress(SWEEP_STAGE, 0, total)
    for i, w in enumerate(steps):
        weights = dict(w)
        out.append(
            (weights, evaluate(index, hybrid_fn(normalised, weights), k, genres=genres, taste=taste, at_ks=at_ks))
        )
        progress(SWEEP_STAGE, i + 1, total)
    return out


def best_step(values: Sequence[float]) -> int:
    """Position of the best (largest) value; ties go to the first (lowest content weight);
    NaN never wins. Example: ``[0.1, 0.3, 0.3, nan] -> 1``."""
    best, best_value = 0, -math.inf
    for i, v in enumerate(values):
        if v is not None and math.isfinite(v) and v > best_value:
            best, best_value = i, v
    return best


def sweep_chart(result: EvaluationResult, metric: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """The chosen metric against the content weight: one line per split (validation, test), the
    popularity baseline (test) as a dashed reference line and the chosen step marked on the test
    line (a larger point and its value)."""
    import altair as alt

    metric = metric or result.config.metric
    label = metric_label(metric, result.config.k)

    def line_frame(sweep: pl.DataFrame, split: str) -> pl.DataFrame:
        return sweep.select(
            pl.col("content_weight").alias("content weight"),
            pl.col("als_weight").alias("ALS weight"),
            pl.col(metric).alias(label),
            pl.lit(split).alias("split"),
        )

    parts = [line_frame(result.sweep, "test")]
    if result.validation is not None:
        parts.insert(0, line_frame(result.validation.sweep, "validation"))
    frame = pl.concat(parts).to_pandas()
    best = line_frame(result.sweep, "test").slice(result.best, 1).to_pandas()
    baseline = result.baseline(metric)
    x = alt.X("content weight:Q", scale=alt.Scale(domain=[0, 1]), title="Content weight (ALS = 1 - content)")
    y = alt.Y(f"{label}:Q", title=label, scale=alt.Scale(zero=False))
    tooltip: list[Any] = [
        alt.Tooltip("split:N"),
        alt.Tooltip("content weight:Q", format=".2f"),
        alt.Tooltip("ALS weight:Q", format=".2f"),
        alt.Tooltip(f"{label}:Q", format=".4f"),
    ]
    color = alt.Color("split:N", title="Split", scale=alt.Scale(domain=["validation", "test"]))
    line = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, color=color, tooltip=tooltip)
    marked = alt.Chart(best).mark_point(size=220, filled=True, color="#d62728").encode(x=x, y=y, tooltip=tooltip)
    text = (
        alt.Chart(best).mark_text(dy=-14, color="#d62728").encode(x=x, y=y, text=alt.Text(f"{label}:Q", format=".4f"))
    )
    rule_frame = pl.DataFrame({"value": [baseline], "name": ["popularity baseline (test)"]}).to_pandas()
    rule = (
        alt.Chart(rule_frame)
        .mark_rule(strokeDash=[6, 4], color="gray")
        .encode(y=alt.Y("value:Q"), tooltip=[alt.Tooltip("name:N"), alt.Tooltip("value:Q", format=".4f")])
    )
    rule_text = (
        alt.Chart(rule_frame)
        .mark_text(align="left", dx=4, dy=-6, color="gray")
        .encode(x=alt.value(0), y=alt.Y("value:Q"), text="name:N")
    )
    p = result.config.popularity_weight
    title = (
        f"{label} by content weight (popularity weight {p:g}, {result.config.protocol} protocol; "
        f"step chosen on {result.chosen_on})"
    )
    return alt.layer(line, rule, rule_text, marked, text).properties(title=title, height=320)
