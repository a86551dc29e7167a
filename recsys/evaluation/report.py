"""How an evaluation's results are shown: the tables the page and the CLI render (the models,
the comparison of the splits, the sweep, the segments, the extra cut-offs), the one-line
summaries (:func:`headline`, :func:`best_line`, :func:`advice_line`, :func:`timing_line`) and the
CLI's text report (:func:`render_text`). The results themselves are
:mod:`recsys.evaluation.results`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from recsys.evaluation import metrics as M
from recsys.evaluation.config import HYBRID, weight_column
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.results import EvaluationResult, at_k_rows
from recsys.evaluation.served import label as stages_label
from recsys.evaluation.sweep import pair_total
from recsys.models import registry


def models_table(result: EvaluationResult, stage: str = "test") -> pl.DataFrame:
    """The models x metrics table as shown (the page and the CLI render this frame)."""
    frame = result.models if stage == "test" else result.validation.models if result.validation else None
    if frame is None:
        return pl.DataFrame()
    return _display(frame, "model", result.config.k, list(result.weights), text_weights=True)


def comparison_table(result: EvaluationResult) -> pl.DataFrame:
    """Validation and test side by side: one row per model, the chosen metric on each."""
    label = metric_label(result.config.metric, result.config.k)
    test = result.models.select(
        pl.col("model").alias("Model"), pl.col(result.config.metric).round(4).alias(f"{label} test")
    )
    if result.validation is None:
        return test.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"{label} validation")).select(
            "Model", f"{label} validation", f"{label} test"
        )
    val = result.validation.models.select(
        pl.col("model").alias("Model"), pl.col(result.config.metric).round(4).alias(f"{label} validation")
    )
    return val.join(test, on="Model", how="left", maintain_order="left")


def sweep_table(result: EvaluationResult) -> pl.DataFrame:
    """The sweep as shown (test figures, and the validation metric), best step marked."""
    frame = _display(result.sweep.drop("model"), None, result.config.k, list(result.weights))
    if result.validation is not None and result.validation.sweep.height == result.sweep.height:
        label = metric_label(result.config.metric, result.config.k)
        frame = frame.with_columns(
            result.validation.sweep[result.config.metric].round(4).alias(f"{label} (validation)")
        )
    return frame.with_columns(
        pl.Series("best", ["◀ best" if i == result.best else "" for i in range(result.sweep.height)])
    )


def headline(result: EvaluationResult) -> str:
    """One line: what was evaluated."""
    c = result.counts
    cfg = result.config
    source = "MovieLens + app ratings" if cfg.with_app_data else "MovieLens ratings"
    app = ""
    if cfg.with_app_data:
        app = f" ({_plural(c['app_users'], 'app user')})"
    dropped = f", {c['dropped']:,} future ratings left out of training" if c.get("dropped") else ""
    return (
        f"{source}, {cfg.protocol} protocol, K={cfg.k}: {_plural(c['users'], 'tested user')}{app}, "
        f"{c['items']:,} ranked items, {c['train']:,} training ratings, {c['test']:,} held-out "
        f"positives{dropped}; validation: {_plural(c.get('validation_users', 0), 'user')}."
    )


def best_line(result: EvaluationResult) -> str:
    label = metric_label(result.config.metric, result.config.k)
    weights = registry.format_weights(result.best_weights)
    val = ""
    if result.validation is not None:
        val = f"validation {float(result.validation.sweep[result.config.metric][result.best]):.4f}, "
    where = (
        "chosen on validation"
        if result.chosen_on == "validation"
        else "chosen on the test users (the validation split had no user to test): optimistic"
    )
    return (
        f"Best step by {label} ({where}): {weights} -> {val}test {result.best_value():.4f} "
        f"(popularity baseline {result.baseline():.4f}, current hybrid {result.model_value(HYBRID):.4f})."
    )


def advice_line(result: EvaluationResult) -> str:
    """What the lab recommends, by the rule of :func:`recsys.evaluation.sweep.recommend`."""
    rec = result.recommendation
    if not rec:
        return ""
    label = metric_label(result.config.metric, result.config.k)
    noise = rec.get("noise")
    noise_text = f"{noise:.4f}" if noise is not None else "unknown (too few users)"
    where = f"on {result.chosen_on} ({rec['users']} users)"
    if rec["beats_live"]:
        return (
            f"Recommended: the best step leads the live weights by {rec['lead']:+.4f} {label} {where}, "
            f"beyond the noise ({noise_text} = 1.96 paired standard errors)."
        )
    return (
        f"The live weights are already best: the best step's lead {rec['lead']:+.4f} {label} {where} is "
        f"within the noise ({noise_text} = 1.96 paired standard errors), so nothing is recommended."
    )


def timing_line(result: EvaluationResult) -> str:
    """Where the time went: the sweep (scores computed once + every step re-blended), the run."""
    t = result.timings
    steps = result.sweep.height
    line = (
        f"Timings: sweep of {steps} steps {t['sweep_s']:.2f} s (scores computed once "
        f"{t['scoring_s']:.2f} s), whole run {t['total_s']:.2f} s"
    )
    if "plain_hybrid_s" in t:
        ratio = t["sweep_s"] / t["plain_hybrid_s"]
        line += f"; one plain hybrid evaluation {t['plain_hybrid_s']:.2f} s (sweep / plain = {ratio:.2f})"
    return line + "."


def activity_table(result: EvaluationResult, metric: str | None = None) -> pl.DataFrame:
    """Users and ``metric`` per activity band (rows) and model (columns), test split."""
    return segments_activity(result.to_dict(), metric or result.config.metric, result.config.k)


def popularity_table(result: EvaluationResult) -> pl.DataFrame:
    """Share of recommendations and of hits per item-popularity band (test split)."""
    return segments_popularity(result.to_dict())


def new_user_table(result: EvaluationResult) -> pl.DataFrame:
    """The simulated new user after onboarding: one row per list."""
    return segments_new_user(result.to_dict(), result.config.k)


def at_k_table(doc: dict[str, Any], metrics: Sequence[str] | None = None) -> pl.DataFrame:
    """From a run document: one row per model, one column per metric and cut-off (``NDCG@5``,
    ``NDCG@10``, ``NDCG@20``, ...), the run's own K among them; empty for a run stored without
    extra cut-offs. ``metrics``: which ranking metrics (default every one)."""
    rows = doc.get("at_k") or []
    if not rows:
        return pl.DataFrame()
    wanted = [m for m in (metrics or M.ranking_metrics()) if m in rows[0]]
    ks = sorted({int(r["k"]) for r in rows})
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        out = table.setdefault(str(row["model"]), {"Model": str(row["model"])})
        for m in wanted:
            value = row.get(m)
            out[metric_label(m, int(row["k"]))] = None if value is None else round(float(value), 4)
    columns = ["Model", *(metric_label(m, c) for m in wanted for c in ks)]
    schema: dict[str, pl.DataType] = {c: (pl.String() if c == "Model" else pl.Float64()) for c in columns}
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in table.values()], schema=schema)


def segments_activity(doc: dict[str, Any], metric: str, k: int) -> pl.DataFrame:
    """From a run document (:meth:`EvaluationResult.to_dict`, stored or fresh): per activity band
    the tested users and each model's ``metric`` (the page, the CLI and ``runs show`` use this)."""
    seg = doc.get("segments") or {}
    rows = seg.get("activity") or []
    if not rows:
        return pl.DataFrame()
    frame = pl.DataFrame(rows, infer_schema_length=None)
    users = frame.group_by("band", maintain_order=True).agg(pl.col("users").first())
    wide = frame.pivot(on="model", index="band", values=metric, maintain_order=True)
    label = metric_label(metric, k)
    renamed = {c: f"{c} {label}" for c in wide.columns if c != "band"}
    return (
        users.join(wide.rename(renamed), on="band", how="left", maintain_order="left")
        .rename({"band": "Ratings in training", "users": "Users"})
        .with_columns(pl.col(v).cast(pl.Float64).round(4) for v in renamed.values())
    )


def segments_popularity(doc: dict[str, Any]) -> pl.DataFrame:
    seg = doc.get("segments") or {}
    rows = seg.get("popularity") or []
    if not rows:
        return pl.DataFrame()
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.rename({"band": "Band", "items": "Items"}).with_columns(
        pl.col(c).cast(pl.Float64).round(3) for c in frame.columns if c not in ("band", "items")
    )


def segments_new_user(doc: dict[str, Any], k: int) -> pl.DataFrame:
    seg = doc.get("segments") or {}
    nu = seg.get("new_user")
    if not nu:
        return pl.DataFrame()

    def label(m: str) -> str:
        return f"NDCG@{k} ±95% (over draws)" if m == "ndcg_ci95" else metric_label(m, k)

    rows = [
        {"List": name, **{label(m): round(float(v), 4) for m, v in figures.items()}}
        for name, figures in nu["lists"].items()
    ]
    return pl.DataFrame(rows)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _display(
    frame: pl.DataFrame, name_col: str | None, k: int, scorers: Sequence[str], text_weights: bool = False
) -> pl.DataFrame:
    cols: list[pl.Expr] = []
    if name_col:
        cols.append(pl.col(name_col).alias("Model"))
    cols += [
        (_weight_cell(weight_column(n)) if text_weights else pl.col(weight_column(n)).round(2)).alias(f"{n} w")
        for n in scorers
        if weight_column(n) in frame.columns
    ]
    cols += [pl.col(m).round(4).alias(metric_label(m, k)) for m in M.summary_names() if m in frame.columns]
    return frame.select(cols)


def models_display(rows: list[dict[str, Any]], k: int, scorers: Sequence[str]) -> pl.DataFrame:
    """A document's model rows (``to_dict()["models"]``) as the models table is shown."""
    schema: dict[str, pl.DataType] = {"model": pl.String()}
    for key in rows[0]:
        if key != "model":
            schema[key] = pl.Float64()
    return _display(pl.DataFrame(rows, schema=schema), "model", k, scorers, text_weights=True)


def _weight_cell(column: str) -> pl.Expr:
    """A weight as shown in the models table: ``"0.50"``, or an empty cell for a model outside
    the hybrid (the popularity baseline), never the text "None"."""
    cents = (pl.col(column) * 100).round(0).cast(pl.Int64)
    text = pl.concat_str([(cents // 100).cast(pl.String), pl.lit("."), (cents % 100).cast(pl.String).str.zfill(2)])
    return pl.when(cents.is_null()).then(pl.lit("")).otherwise(text)


def sweep_caption(result: EvaluationResult) -> str:
    """``"Weight sweep: content's share of content + als (total 0.70) from 0 to 1 step 0.1 ..."``."""
    c0, c1, step = result.config.sweep
    x, y = result.config.sweep_pair
    total = pair_total(result.weights, (x, y))
    fixed = ", ".join(f"{n} {w:.2f}" for n, w in result.sweep_fixed().items())
    return (
        f"Weight sweep: {x}'s share of {x} + {y} (their live total {total:.2f}) from {c0:g} to {c1:g} step {step:g}, "
        f"plus the live point; {fixed or 'nothing else'} fixed."
    )


def sample_line(result: EvaluationResult) -> str | None:
    """How many validation users the sweep steps, the grid cells and the stage settings scored when
    they scored a seeded sample (``EvaluationConfig.sweep_users``); ``None`` when every user."""
    swept_on = result.validation.counts.get("sweep_users") if result.validation is not None else None
    if not swept_on:
        return None
    return (
        f"On validation the sweep steps, the grid cells and the ranking-stage settings scored a seeded sample of "
        f"{swept_on:,} of the {result.counts['validation_users']:,} users; the chosen ones are reported on all of them."
    )


def render_text(result: EvaluationResult) -> str:
    """The result as the CLI prints it: headline, models table, sweep table, best step,
    significance (the same frames and lines the page shows)."""
    lines = [headline(result), f"Content model: {result.content_source}.", ""]
    lines += ["Test split:", text_table(models_table(result)), ""]
    at_k = at_k_table({"at_k": at_k_rows(result.at_k)}, [result.config.metric, "recall", "hit_rate"])
    if at_k.height:
        lines += ["Test split at several cut-offs:", text_table(at_k), ""]
    if result.validation is not None:
        lines += ["Validation split (chooses the sweep step):", text_table(models_table(result, "validation")), ""]
    lines += [*definitions_lines(), ""]
    lines += [
        sweep_caption(result),
        *([line] if (line := sample_line(result)) else []),
        text_table(sweep_table(result)),
        "",
        best_line(result),
        advice_line(result),
        result.significance.summary(),
    ]
    doc = result.to_dict()
    seg = segments_text(doc, result.config.metric, result.config.k)
    if seg:
        lines += ["", seg]
    if doc["grid"] is not None:
        g = doc["grid"]
        lines += [
            "",
            f"Weight grid ({' x '.join(g['pair'])}, step {g['step']:g}, on {g['split']}): best "
            f"{registry.format_weights(g['best']['weights'])} -> {g['best']['value']:.4f}.",
        ]
    if result.stage_grid is not None and result.stage_grid.height:
        lines += ["", stages_text(result)]
    lines.append(timing_line(result))
    return "\n".join(lines)


def stages_text(result: EvaluationResult) -> str:
    """The ranking-stage settings tried and the one the served row uses."""
    grid = result.stage_grid if result.stage_grid is not None else pl.DataFrame()
    wanted = ("stages", result.config.metric, "miscalibration", "popularity_lift", "tail_share", "coverage")
    shown = [c for c in wanted if c in grid.columns]
    return "\n".join(
        [
            f"Ranking stages (after the blend), tried on {result.stages_on}; served: {stages_label(result.stages)} "
            "(the strongest setting within 2% of the best NDCG):",
            text_table(grid.select(shown)),
        ]
    )


def definitions_lines() -> list[str]:
    """The one-line definitions of the beyond-accuracy columns (list measures), as the CLI
    report prints them under the models tables."""
    return ["Beyond-accuracy columns (per-user means over tested users; coverage over the whole run):"] + [
        f"  {line}" for line in M.definitions()
    ]


def segments_text(doc: dict[str, Any], metric: str, k: int) -> str:
    """The segment tables as text (CLI, ``runs show``)."""
    out = []
    activity = segments_activity(doc, metric, k)
    if activity.height:
        out += ["By user activity (test split):", text_table(activity), ""]
    pop = segments_popularity(doc)
    if pop.height:
        out += ["By item popularity (share of recommendations / of hits):", text_table(pop), ""]
    nu = segments_new_user(doc, k)
    if nu.height:
        info = doc["segments"]["new_user"]
        out += [
            f"Simulated new user after onboarding ({info['likes']} likes + {info['genres']} genres, "
            f"{info['draws']} seeded draws of up to {info['users']} users):",
            text_table(nu),
        ]
    return "\n".join(out).rstrip()


def text_table(frame: pl.DataFrame) -> str:
    def cell(value: object, dtype: pl.DataType) -> str:
        if value is None:
            return "-"
        if dtype in (pl.Float64, pl.Float32):
            f = float(value) if isinstance(value, int | float) else math.nan
            return "nan" if math.isnan(f) else f"{f:.4f}"
        return str(value)

    header = list(frame.columns)
    body = [[cell(v, frame.schema[c]) for c, v in zip(header, row, strict=True)] for row in frame.iter_rows()]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    numeric = [frame.schema[c].is_numeric() for c in header]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in body)])
