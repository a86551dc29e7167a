"""The hybrid weight sweep, through the live weights: the share ``s`` of a pair of scorers
(default content and ALS) goes from ``start`` to ``stop`` in ``step``; the pair keeps the total
weight it has in the current (live) weights, ``x = s * T``, ``y = (1 - s) * T``, and every other
scorer keeps its current weight. So the line passes through the live weights, and the live share
``x / T`` is always one of the steps: what the sweep recommends is measured against what the
feed serves now. Example: live ``content 0.5, als 0.2, taste 0.2, popularity 0.1`` (T = 0.7),
share 0.5 -> ``content 0.35, als 0.35, taste 0.2, popularity 0.1``; the live point is share 0.714.

Every step is evaluated on validation and test; the best one on validation (by the chosen metric)
is marked, and recommended over the live weights only when its lead beats the noise (see
:func:`recommend`).

The sweep never refits and never rescores: the runner computes each scorer's scores once per
tested user (:func:`recsys.evaluation.scoring.component_scores`), normalises them once, and every
step only re-blends (:func:`recsys.evaluation.scoring.hybrid_fn`) and re-ranks.

:func:`sweep_chart` draws a result's sweep (Altair), shared by the evaluation page and the notebook.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from recsys.errors import EvaluationError
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.scoring import EvalResult, SplitIndex, evaluate, hybrid_fn
from recsys.evaluation.taste import TasteContext
from recsys.models import registry
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:  # altair loads only when a chart is drawn
    import altair as alt

log = logging.getLogger(__name__)

Weights = dict[str, float]


class _ChartConfig(Protocol):
    @property
    def metric(self) -> str: ...
    @property
    def k(self) -> int: ...
    @property
    def sweep_pair(self) -> tuple[str, str]: ...
    @property
    def protocol(self) -> str: ...


class _SplitSweep(Protocol):
    @property
    def sweep(self) -> pl.DataFrame: ...


class SweepResult(Protocol):
    """What :func:`sweep_chart` reads of a run (``report.EvaluationResult`` is one). A protocol,
    not an import: ``report`` imports this module, and a cycle between the two (even one only for
    typing) is what made concurrent first imports in a fresh server fail (issue 20)."""

    @property
    def config(self) -> _ChartConfig: ...
    @property
    def sweep(self) -> pl.DataFrame: ...
    @property
    def validation(self) -> _SplitSweep | None: ...
    @property
    def best(self) -> int: ...
    @property
    def chosen_on(self) -> str: ...
    @property
    def recommendation(self) -> dict[str, Any] | None: ...
    def baseline(self, metric: str | None = None) -> float: ...


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
    """The shares of a sweep (of the first scorer of its pair; content by default): ``start,
    start + step, ...`` up to ``stop`` inclusive.

    Example: ``(0, 1, 0.25) -> [0.0, 0.25, 0.5, 0.75, 1.0]``; ``(0, 1, 0.3) -> [0, 0.3, 0.6, 0.9]``.
    """
    if not all(math.isfinite(x) for x in (start, stop, step)):
        raise EvaluationError("Sweep bounds and step must be finite numbers, such as 0:1:0.1.")
    if not 0.0 <= start <= stop <= 1.0:
        raise EvaluationError(f"Sweep shares go from 0 to 1: need 0 <= start <= stop <= 1, got {start}:{stop}.")
    if step <= 0:
        raise EvaluationError(f"The sweep step must be positive, got {step}.")
    n = math.floor((stop - start) / step + 1e-9)
    if n > 1000:
        raise EvaluationError(f"A sweep of {n + 1} steps is too fine; use a step of at least 0.001.")
    return [round(start + i * step, _DIGITS) for i in range(n + 1)]


def pair_total(base: Mapping[str, float], pair: tuple[str, str] = ("content", "als")) -> float:
    """The weight the sweep's pair shares: their sum in ``base``, or 1 when both are 0."""
    total = float(base.get(pair[0], 0.0)) + float(base.get(pair[1], 0.0))
    return total if total > 0 else 1.0


def live_share(base: Mapping[str, float], pair: tuple[str, str] = ("content", "als")) -> float | None:
    """The share of ``pair[0]`` in ``base`` (the step that *is* the live weights), or None when
    the pair weighs nothing there (then no step reproduces them)."""
    x, y = float(base.get(pair[0], 0.0)), float(base.get(pair[1], 0.0))
    return round(x / (x + y), _DIGITS) if x + y > 0 else None


def step_weights(
    share: float,
    base: Mapping[str, float] | None = None,
    pair: tuple[str, str] = ("content", "als"),
    popularity: float | None = None,
) -> Weights:
    """The blend weights of one sweep step: ``pair[0]`` gets ``share`` of the pair's total weight
    in ``base`` (the current weights, default the registry's), ``pair[1]`` the rest, every other
    scorer its ``base`` weight (``popularity``: override the popularity weight, for the CLI's
    ``--popularity-weight``). Example: share 0.3 of live ``content 0.5, als 0.2, taste 0.2,
    popularity 0.1`` -> ``content 0.21, als 0.49, taste 0.2, popularity 0.1``."""
    if not 0.0 <= share <= 1.0:
        raise EvaluationError(f"A sweep share must be between 0 and 1, got {share}.")
    if popularity is not None and not (math.isfinite(popularity) and popularity >= 0):
        raise EvaluationError(f"The popularity weight must be 0 or more, got {popularity}.")
    base = registry.default_weights() if base is None else base
    total = pair_total(base, pair)
    out = {name: round(float(base.get(name, 0.0)), _DIGITS) for name in registry.names()}
    if popularity is not None and "popularity" in out and "popularity" not in pair:
        out["popularity"] = round(popularity, _DIGITS)
    out[pair[0]] = round(share * total, _DIGITS)
    out[pair[1]] = round((1.0 - share) * total, _DIGITS)
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


#: A step is recommended over the live weights only when its mean lead on validation exceeds this
#: many paired standard errors (1.96: a two-sided 95% interval of the lead excludes 0).
NOISE_Z = 1.96


def recommend(
    best: int,
    live: int | None,
    best_values: Sequence[float],
    live_values: Sequence[float],
) -> dict[str, Any]:
    """Whether the lab should offer the best sweep step instead of the live weights.

    ``best_values`` / ``live_values``: the chosen metric per validation user (same users, same
    order) for the best step and for the live weights. The rule: the mean lead must exceed
    :data:`NOISE_Z` paired standard errors (``sd(best - live) / sqrt(n)``); otherwise the live
    weights stay preselected ("already best within the noise"). Example: leads per user
    ``[0.1, 0.0, 0.1, 0.0]`` -> mean 0.05, SE 0.029, noise 0.057: not recommended.
    Returns ``{"step", "best", "live", "lead", "noise", "users", "beats_live"}`` (``step``: the
    step to preselect, the live one when it is not beaten; None when no step is the live point
    and the best does not beat it).
    """
    a = np.asarray(best_values, dtype=np.float64)
    b = np.asarray(live_values, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = a[keep] - b[keep]
    n = int(diff.size)
    lead = float(diff.mean()) if n else 0.0
    noise = float(NOISE_Z * diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    beats = best != live and n > 1 and lead > noise
    return {
        "step": best if beats else live,
        "best": best,
        "live": live,
        "lead": lead,
        "noise": noise if math.isfinite(noise) else None,
        "users": n,
        "beats_live": bool(beats),
        "rule": f"the best step's mean lead over the live weights on validation exceeds {NOISE_Z} paired standard errors",
    }


def sweep_chart(result: SweepResult, metric: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """The chosen metric against the share of the sweep's first scorer: one line per split
    (validation, test), the popularity baseline (test) as a dashed reference line, the best step
    marked on the test line (a larger point and its value) and the live point ringed."""
    import altair as alt

    metric = metric or result.config.metric
    label = metric_label(metric, result.config.k)
    x_name, y_name = result.config.sweep_pair
    share_title = f"{x_name} share of {x_name} + {y_name}"

    def line_frame(sweep: pl.DataFrame, split: str) -> pl.DataFrame:
        xw, yw = pl.col(f"{x_name}_weight"), pl.col(f"{y_name}_weight")
        return sweep.select(
            pl.when(xw + yw > 0).then(xw / (xw + yw)).otherwise(0.0).round(4).alias("share"),
            xw.alias(f"{x_name} weight"),
            yw.alias(f"{y_name} weight"),
            pl.col(metric).alias(label),
            pl.lit(split).alias("split"),
        )

    parts = [line_frame(result.sweep, "test")]
    if result.validation is not None:
        parts.insert(0, line_frame(result.validation.sweep, "validation"))
    frame = pl.concat(parts).to_pandas()
    best = line_frame(result.sweep, "test").slice(result.best, 1).to_pandas()
    live_at = (result.recommendation or {}).get("live")
    live = line_frame(result.sweep, "test").slice(int(live_at), 1).to_pandas() if live_at is not None else None
    baseline = result.baseline(metric)
    x = alt.X("share:Q", scale=alt.Scale(domain=[0, 1]), title=share_title)
    y = alt.Y(f"{label}:Q", title=label, scale=alt.Scale(zero=False))
    tooltip: list[Any] = [
        alt.Tooltip("split:N"),
        alt.Tooltip(f"{x_name} weight:Q", format=".3f"),
        alt.Tooltip(f"{y_name} weight:Q", format=".3f"),
        alt.Tooltip(f"{label}:Q", format=".4f"),
    ]
    color = alt.Color("split:N", title="Split", scale=alt.Scale(domain=["validation", "test"]))
    line = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, color=color, tooltip=tooltip)
    marked = alt.Chart(best).mark_point(size=220, filled=True, color="#d62728").encode(x=x, y=y, tooltip=tooltip)
    text = (
        alt.Chart(best).mark_text(dy=-14, color="#d62728").encode(x=x, y=y, text=alt.Text(f"{label}:Q", format=".4f"))
    )
    layers: list[Any] = []
    if live is not None:
        layers.append(
            alt.Chart(live)
            .mark_point(size=420, strokeWidth=3, filled=False, color="#ff7f0e")
            .encode(x=x, y=y, tooltip=[alt.Tooltip("split:N"), alt.Tooltip(f"{label}:Q", format=".4f")])
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
    title = (
        f"{label} by {share_title} (others fixed at their live weights; {result.config.protocol} protocol; "
        f"best step on {result.chosen_on}; orange ring: the live weights)"
    )
    return alt.layer(line, rule, rule_text, marked, text, *layers).properties(title=title, height=320)
