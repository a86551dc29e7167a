"""The hybrid weights in two dimensions: a grid over two registered scorers' weights, evaluated
on the validation split, its optimum and the live weights marked (:func:`grid_chart`).

With exactly three registered scorers the grid covers the whole simplex: ``x`` and ``y`` vary
and the third weighs ``1 - x - y`` (cells with ``x + y > 1`` do not exist), so the heatmap shows
every blend. With more scorers a chosen pair varies from 0 to 1 each while the others keep their
current (live) weights. As in the sweep, nothing is refitted: every cell re-blends the scores
normalised once (:func:`recsys.evaluation.sweep.run_sweep`).

The live weights are always a cell: each axis holds ``0, step, ..., 1`` plus the live weight
of its scorer, so the grid measures the point the feed serves now next to every alternative, and
axes are labelled with the exact values (:func:`axis_label`).

Example (four scorers, pair content / ALS, step 0.5, live content 0.5, ALS 0.2, taste 0.2,
popularity 0.1): content in ``{0, 0.5, 1}``, ALS in ``{0, 0.2, 0.5, 1}``, twelve cells, each with
taste 0.2 and popularity 0.1; the all-zero cell is skipped only when every other weight is 0 too
(a blend needs one positive weight).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from recsys.errors import EvaluationError
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.scoring import EvalResult, SplitIndex
from recsys.evaluation.sweep import best_step, run_sweep
from recsys.models import registry
from recsys.progress import Progress

if TYPE_CHECKING:
    import altair as alt

_DIGITS = 6
#: The grid frame's column holding the chosen cell's figure on every validation user, when the
#: cells scored a sample of them (``EvaluationConfig.sweep_users``); null in the other cells.
ALL_USERS = "all_users"
MIN_STEP = 0.1  # 11 x 11 cells at most


def grid_values(step: float) -> list[float]:
    """``0, step, ..., 1`` (1 included when step divides it)."""
    if not (math.isfinite(step) and MIN_STEP - 1e-9 <= step <= 1.0):
        raise EvaluationError(f"The grid step must be between {MIN_STEP} and 1, got {step}.")
    n = math.floor(1.0 / step + 1e-9)
    return [round(i * step, _DIGITS) for i in range(n + 1)]


def axis_values(step: float, live: float | None = None) -> list[float]:
    """One axis of the grid: :func:`grid_values` plus the live weight (when given), in order.
    Example: ``(0.25, 0.2) -> [0, 0.2, 0.25, 0.5, 0.75, 1]``."""
    values = grid_values(step)
    if live is not None and math.isfinite(live) and live >= 0:
        live = round(float(live), _DIGITS)
        if all(abs(live - v) > 1e-9 for v in values):
            values = sorted([*values, live])
    return values


def axis_label(value: float) -> str:
    """The exact value as an axis label: ``0.25 -> "0.25"``, ``0.2 -> "0.2"``, ``1 -> "1"``."""
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def check_pair(pair: Sequence[str]) -> tuple[str, str]:
    names = registry.names()
    if len(pair) != 2 or pair[0] == pair[1] or any(p not in names for p in pair):
        raise EvaluationError(f"The grid needs two different scorers out of {', '.join(names)}; got {list(pair)}.")
    return str(pair[0]), str(pair[1])


def grid_points(pair: Sequence[str], step: float, base: Mapping[str, float]) -> list[dict[str, float]]:
    """The weights of every cell, ``x`` slowest (see the module docstring)."""
    x, y = check_pair(pair)
    names = registry.names()
    third = next(n for n in names if n not in (x, y)) if len(names) == 3 else None
    points = []
    for wx in axis_values(step, base.get(x)):
        for wy in axis_values(step, base.get(y)):
            w = {n: float(base.get(n, 0.0)) for n in names}
            w[x], w[y] = wx, wy
            if third is not None:
                rest = round(1.0 - wx - wy, _DIGITS)
                if rest < -1e-9:
                    continue
                w[third] = max(rest, 0.0)
            if sum(w.values()) <= 0:
                continue
            points.append(w)
    return points


def run_grid(
    index: SplitIndex,
    normalised: Mapping[int, Mapping[str, np.ndarray]],
    pair: Sequence[str],
    step: float,
    base: Mapping[str, float],
    k: int,
    metrics: Sequence[str],
    progress: Progress | None = None,
) -> pl.DataFrame:
    """``[x, y, <weight columns>, <metrics>]``: one row per cell, evaluated on ``index``'s split."""
    points = grid_points(pair, step, base)
    results = run_sweep(index, normalised, points, k, progress=progress)
    return grid_frame(pair, points, [r for _, r in results], metrics)


def grid_frame(
    pair: Sequence[str], points: Sequence[Mapping[str, float]], results: Sequence[EvalResult], metrics: Sequence[str]
) -> pl.DataFrame:
    """The grid's table from each cell's weights and result (:func:`run_grid`'s columns)."""
    x, y = check_pair(pair)
    rows = []
    for w, r in zip(points, results, strict=True):
        row: dict[str, Any] = {"x": w[x], "y": w[y]}
        row.update({f"{n}_weight": w[n] for n in registry.names()})
        row.update({m: float(r.summary.get(m, math.nan)) for m in metrics})
        rows.append(row)
    return pl.DataFrame(rows)


def grid_best(grid: pl.DataFrame, metric: str) -> int:
    """Row of the best cell (ties: the first, i.e. the lowest x then y)."""
    return best_step(grid[metric].to_list())


def grid_chart(
    grid: pl.DataFrame,
    pair: Sequence[str],
    metric: str,
    k: int,
    live: Mapping[str, float],
    step: float,
) -> alt.LayerChart:
    """Heatmap of ``metric`` over the pair's weights (validation), the optimum as a red diamond and
    the live weights as an orange ring (their own cell: :func:`axis_values`). Ordinal cells: the page shows it
    with ``width="stretch"`` (with ``"content"`` Streamlit collapses a layered chart's width)."""
    import altair as alt

    x, y = check_pair(pair)
    label = metric_label(metric, k)
    frame = grid.select(
        pl.col("x").map_elements(axis_label, return_dtype=pl.String).alias("xc"),
        pl.col("y").map_elements(axis_label, return_dtype=pl.String).alias("yc"),
        pl.col("x").alias("xw"),
        pl.col("y").alias("yw"),
        pl.col(metric).alias("value"),
    ).to_pandas()
    x_order = [axis_label(v) for v in sorted(set(grid["x"].to_list()))]
    y_order = [axis_label(v) for v in sorted(set(grid["y"].to_list()), reverse=True)]
    best = grid.row(grid_best(grid, metric), named=True)
    xs = alt.X("xc:O", title=f"{x} weight", sort=x_order, scale=alt.Scale(domain=x_order))
    ys = alt.Y("yc:O", title=f"{y} weight", sort=y_order, scale=alt.Scale(domain=y_order))
    cells = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=xs,
            y=ys,
            color=alt.Color("value:Q", title=f"{label} (validation)", scale=alt.Scale(scheme="viridis")),
            tooltip=[
                alt.Tooltip("xw:Q", title=f"{x} weight", format=".2f"),
                alt.Tooltip("yw:Q", title=f"{y} weight", format=".2f"),
                alt.Tooltip("value:Q", title=label, format=".4f"),
            ],
        )
    )
    optimum = f"optimum {best[metric]:.4f}"
    live_x, live_y = float(live.get(x, 0.0)), float(live.get(y, 0.0))
    marks = pl.DataFrame(
        {
            "xc": [axis_label(best["x"]), axis_label(live_x)],
            "yc": [axis_label(best["y"]), axis_label(live_y)],
            "what": [optimum, f"live weights ({x} {live_x:.2f}, {y} {live_y:.2f})"],
        }
    ).to_pandas()
    domain = list(marks["what"])
    points = (
        alt.Chart(marks)
        .mark_point(size=420, strokeWidth=3, filled=False)
        .encode(
            x=xs,
            y=ys,
            shape=alt.Shape("what:N", title="Marked", scale=alt.Scale(domain=domain, range=["diamond", "circle"])),
            color=alt.Color("what:N", title="Marked", scale=alt.Scale(domain=domain, range=["#d62728", "#ff7f0e"])),
            tooltip=[alt.Tooltip("what:N", title="")],
        )
    )
    others = [n for n in registry.names() if n not in (x, y)]
    if len(registry.names()) == 3:
        note = f"{others[0]} = 1 - {x} - {y}"
    else:
        note = ", ".join(f"{n} {float(live.get(n, 0.0)):.2f}" for n in others) + " fixed (live)"
    return (
        alt.layer(cells, points)
        .resolve_scale(color="independent", shape="independent")
        .properties(title=f"{label} on validation by {x} and {y} weight ({note})", height=380, width=440)
    )
