"""An evaluation's results (:class:`EvaluationResult`, one :class:`StageResult` per split) and
how they are shown: the tables the page and the CLI render, the text report
(:func:`render_text`), the JSON form and the Parquet dump (:func:`dump`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recsys.columns import Columns as C
from recsys.errors import EvaluationError
from recsys.evaluation import metrics as M
from recsys.evaluation.config import HYBRID, POPULARITY, USER, EvaluationConfig, dump_names, weight_column
from recsys.evaluation.grid import grid_best
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.served import label as stages_label
from recsys.evaluation.significance import Significance, compare
from recsys.evaluation.sweep import pair_total, step_label
from recsys.models import registry
from recsys.models.registry import Weights


@dataclass
class StageResult:
    """One split's figures: ``models`` a row per model (:func:`model_names`) with its blend
    weights (null for models outside the hybrid) and every summary figure; ``sweep`` a row per
    sweep step; ``per_user`` per configuration (model names and sweep step labels) the per-user
    metric values; ``tops`` each model's top-K list per tested user; ``counts`` the split's sizes."""

    models: pl.DataFrame
    sweep: pl.DataFrame
    per_user: dict[str, pl.DataFrame] = field(repr=False)
    tops: dict[str, dict[int, list[str]]] = field(repr=False)
    counts: dict[str, int]
    grid: pl.DataFrame | None = None
    #: the ranking stages' strengths of the served row, and (on the split they were chosen on)
    #: one row per setting tried: the stages' strengths and every summary figure
    stages: dict[str, float] = field(default_factory=dict)
    stage_grid: pl.DataFrame | None = None
    #: per model the mean of every ranking metric at each extra cut-off (``config.cutoffs``)
    at_k: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict, repr=False)
    #: per model each tested user's list at the longest cut-off (the user inspector's lists)
    lists: dict[str, dict[int, list[str]]] = field(default_factory=dict, repr=False)


@dataclass
class EvaluationResult:
    """One run's figures on the test split (``models``, ``sweep``, ``per_user``, ``tops``) and on
    the validation split (``validation``, None when it had no testable user). ``best``: the sweep
    step chosen on ``chosen_on`` ("validation", or "test" when validation was empty); ``test``:
    the held-out positives ``[user_id, tconst]``; ``train``: the test split's training ratings
    ``[user_id, tconst, rating, timestamp]``; ``timings`` in seconds."""

    config: EvaluationConfig
    weights: Weights
    normalisation: str
    counts: dict[str, int]
    models: pl.DataFrame
    sweep: pl.DataFrame
    best: int
    per_user: dict[str, pl.DataFrame] = field(repr=False)
    tops: dict[str, dict[int, list[str]]] = field(repr=False)
    test: pl.DataFrame = field(repr=False)
    significance: Significance
    timings: dict[str, float]
    content_source: str
    validation: StageResult | None = None
    chosen_on: str = "validation"
    train: pl.DataFrame | None = field(default=None, repr=False)
    plain_matches: bool | None = None
    segments: dict[str, Any] | None = None
    grid: pl.DataFrame | None = None
    grid_on: str = "validation"
    #: the served row's ranking-stage strengths, and the settings tried on ``stages_on``
    stages: dict[str, float] = field(default_factory=dict)
    stage_grid: pl.DataFrame | None = None
    stages_on: str = "validation"
    #: whether the best step beats the live weights beyond the noise (:func:`sweep.recommend`)
    recommendation: dict[str, Any] | None = None
    #: test split, per model: the ranking metrics at each cut-off of ``config.cutoffs``
    at_k: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict, repr=False)
    #: test split, per model: each tested user's list at the longest cut-off (not in the document)
    lists: dict[str, dict[int, list[str]]] = field(default_factory=dict, repr=False)

    @property
    def best_weights(self) -> Weights:
        row = self.sweep.row(self.best, named=True)
        return {name: float(row[weight_column(name)]) for name in self.weights}

    def best_value(self, metric: str | None = None) -> float:
        """The best step's figure on the test split."""
        return float(self.sweep[metric or self.config.metric][self.best])

    def model_value(self, model: str, metric: str | None = None, stage: str = "test") -> float:
        frame = self.models if stage == "test" else self.validation.models if self.validation else None
        if frame is None:
            return math.nan
        return float(frame.filter(pl.col("model") == model)[metric or self.config.metric][0])

    def baseline(self, metric: str | None = None) -> float:
        """The popularity baseline's value of ``metric`` (the chart's reference line)."""
        return self.model_value(POPULARITY, metric)

    @property
    def configurations(self) -> list[str]:
        """Names usable in :meth:`compare`: the models, then the sweep steps."""
        return list(self.per_user)

    def compare(self, a: str, b: str, metric: str | None = None) -> Significance:
        """Per-user paired Wilcoxon signed-rank test between two configurations (test split)."""
        metric = metric or self.config.metric
        return compare(self.per_user, a, b, metric, user_col=USER, label=metric_label(metric, self.config.k))

    def models_table(self, stage: str = "test") -> pl.DataFrame:
        """The models x metrics table as shown (the page and the CLI render this frame)."""
        frame = self.models if stage == "test" else self.validation.models if self.validation else None
        if frame is None:
            return pl.DataFrame()
        return _display(frame, "model", self.config.k, list(self.weights), text_weights=True)

    def comparison_table(self) -> pl.DataFrame:
        """Validation and test side by side: one row per model, the chosen metric on each."""
        label = metric_label(self.config.metric, self.config.k)
        test = self.models.select(
            pl.col("model").alias("Model"), pl.col(self.config.metric).round(4).alias(f"{label} test")
        )
        if self.validation is None:
            return test.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"{label} validation")).select(
                "Model", f"{label} validation", f"{label} test"
            )
        val = self.validation.models.select(
            pl.col("model").alias("Model"), pl.col(self.config.metric).round(4).alias(f"{label} validation")
        )
        return val.join(test, on="Model", how="left", maintain_order="left")

    def sweep_table(self) -> pl.DataFrame:
        """The sweep as shown (test figures, and the validation metric), best step marked."""
        frame = _display(self.sweep.drop("model"), None, self.config.k, list(self.weights))
        if self.validation is not None and self.validation.sweep.height == self.sweep.height:
            label = metric_label(self.config.metric, self.config.k)
            frame = frame.with_columns(
                self.validation.sweep[self.config.metric].round(4).alias(f"{label} (validation)")
            )
        return frame.with_columns(
            pl.Series("best", ["◀ best" if i == self.best else "" for i in range(self.sweep.height)])
        )

    def headline(self) -> str:
        """One line: what was evaluated."""
        c = self.counts
        cfg = self.config
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

    def best_line(self) -> str:
        label = metric_label(self.config.metric, self.config.k)
        weights = registry.format_weights(self.best_weights)
        val = ""
        if self.validation is not None:
            val = f"validation {float(self.validation.sweep[self.config.metric][self.best]):.4f}, "
        where = (
            "chosen on validation"
            if self.chosen_on == "validation"
            else "chosen on the test users (the validation split had no user to test): optimistic"
        )
        return (
            f"Best step by {label} ({where}): {weights} -> {val}test {self.best_value():.4f} "
            f"(popularity baseline {self.baseline():.4f}, current hybrid {self.model_value(HYBRID):.4f})."
        )

    def sweep_fixed(self) -> dict[str, float]:
        """The weights the sweep holds fixed (every scorer outside its pair, as in its steps)."""
        row = self.sweep.row(0, named=True) if self.sweep.height else {}
        return {n: float(row.get(weight_column(n)) or 0.0) for n in self.weights if n not in self.config.sweep_pair}

    def advice_line(self) -> str:
        """What the lab recommends, by the rule of :func:`recsys.evaluation.sweep.recommend`."""
        rec = self.recommendation
        if not rec:
            return ""
        label = metric_label(self.config.metric, self.config.k)
        noise = rec.get("noise")
        noise_text = f"{noise:.4f}" if noise is not None else "unknown (too few users)"
        where = f"on {self.chosen_on} ({rec['users']} users)"
        if rec["beats_live"]:
            return (
                f"Recommended: the best step leads the live weights by {rec['lead']:+.4f} {label} {where}, "
                f"beyond the noise ({noise_text} = 1.96 paired standard errors)."
            )
        return (
            f"The live weights are already best: the best step's lead {rec['lead']:+.4f} {label} {where} is "
            f"within the noise ({noise_text} = 1.96 paired standard errors), so nothing is recommended."
        )

    def timing_line(self) -> str:
        """Where the time went: the sweep (scores computed once + every step re-blended), the run."""
        t = self.timings
        steps = self.sweep.height
        line = (
            f"Timings: sweep of {steps} steps {t['sweep_s']:.2f} s (scores computed once "
            f"{t['scoring_s']:.2f} s), whole run {t['total_s']:.2f} s"
        )
        if "plain_hybrid_s" in t:
            ratio = t["sweep_s"] / t["plain_hybrid_s"]
            line += f"; one plain hybrid evaluation {t['plain_hybrid_s']:.2f} s (sweep / plain = {ratio:.2f})"
        return line + "."

    def to_dict(self) -> dict[str, Any]:
        """Everything shown, JSON-ready (``--json``)."""
        validation = None
        if self.validation is not None:
            validation = {
                "models": _rows(self.validation.models),
                "sweep": _rows(self.validation.sweep.drop("model")),
                "counts": dict(self.validation.counts),
            }
        return {
            "config": self.config.to_dict(),
            "weights": dict(self.weights),
            "normalisation": self.normalisation,
            "counts": dict(self.counts),
            "content_model": self.content_source,
            "models": _rows(self.models),
            "sweep": _rows(self.sweep.drop("model")),
            "validation": validation,
            "best": {
                "index": self.best,
                "weights": dict(self.best_weights),
                "metric": self.config.metric,
                "value": self.best_value(),
                "chosen_on": self.chosen_on,
            },
            "baseline": {"model": POPULARITY, "value": self.baseline()},
            "significance": self.significance.to_dict(),
            "timings": dict(self.timings),
            "plain_matches": self.plain_matches,
            "segments": self._segments_dict(),
            "grid": self._grid_dict(),
            "stages": {
                "strengths": dict(self.stages),
                "chosen_on": self.stages_on,
                "rule": "the strongest setting within 2% of the best validation NDCG",
                "settings": _rows(self.stage_grid) if self.stage_grid is not None else [],
            },
            "recommendation": self.recommendation,
            "at_k": at_k_rows(self.at_k),
        }

    def _segments_dict(self) -> dict[str, Any] | None:
        seg = self.segments
        if seg is None:
            return None
        return {
            "activity": _rows(seg["activity"]),
            "popularity": _rows(seg["popularity"]),
            "new_user": seg.get("new_user"),
        }

    def _grid_dict(self) -> dict[str, Any] | None:
        if self.grid is None or self.config.grid is None:
            return None
        best = self.grid.row(grid_best(self.grid, self.config.metric), named=True)
        return {
            "pair": list(self.config.grid),
            "step": self.config.grid_step,
            "split": self.grid_on,
            "metric": self.config.metric,
            "cells": _rows(self.grid),
            "best": {
                "weights": {n: best[weight_column(n)] for n in registry.names()},
                "value": best[self.config.metric],
            },
        }

    def activity_table(self, metric: str | None = None) -> pl.DataFrame:
        """Users and ``metric`` per activity band (rows) and model (columns), test split."""
        return segments_activity(self.to_dict(), metric or self.config.metric, self.config.k)

    def popularity_table(self) -> pl.DataFrame:
        """Share of recommendations and of hits per item-popularity band (test split)."""
        return segments_popularity(self.to_dict())

    def new_user_table(self) -> pl.DataFrame:
        """The simulated new user after onboarding: one row per list."""
        return segments_new_user(self.to_dict(), self.config.k)


def _frame_of(rows: list[dict[str, Any]], text: Sequence[str] = ("model", "band")) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame()
    schema: dict[str, pl.DataType] = {}
    for key in rows[0]:
        schema[key] = pl.String() if key in text else pl.Int64() if key in ("items", "users") else pl.Float64()
    return pl.DataFrame(rows, schema=schema)


def result_from_document(doc: dict[str, Any], per_user: dict[str, pl.DataFrame] | None = None) -> EvaluationResult:
    """An :class:`EvaluationResult` rebuilt from its document (a stored run): every table, the
    chart, the segments and the grid as shown for the fresh run; ``per_user`` (the stored
    vectors of the models) for significance tests between models. Top-K lists are not stored."""
    config = EvaluationConfig.from_dict(doc["config"])
    names = list(doc.get("weights") or registry.names())

    def sweep_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
        frame = _frame_of(rows)
        labels = [step_label({n: r.get(weight_column(n)) or 0.0 for n in names}) for r in rows]
        return frame.with_columns(pl.Series("model", labels, dtype=pl.String))

    validation = None
    if doc.get("validation"):
        v = doc["validation"]
        validation = StageResult(
            models=_frame_of(v["models"]), sweep=sweep_frame(v["sweep"]), per_user={}, tops={}, counts=v["counts"]
        )
    seg = doc.get("segments")
    segments = None
    if seg is not None:
        segments = {
            "activity": _frame_of(seg.get("activity") or []),
            "popularity": _frame_of(seg.get("popularity") or []),
            "new_user": seg.get("new_user"),
        }
    sig = {k: v for k, v in doc["significance"].items() if k != "significant"}
    for key in ("mean_a", "mean_b", "statistic", "p_value"):
        sig[key] = math.nan if sig.get(key) is None else sig[key]
    grid = doc.get("grid")
    return EvaluationResult(
        config=config,
        weights=dict(doc["weights"]),
        normalisation=doc.get("normalisation", "zscore"),
        counts=dict(doc["counts"]),
        models=_frame_of(doc["models"]),
        sweep=sweep_frame(doc["sweep"]),
        best=int(doc["best"]["index"]),
        per_user=dict(per_user or {}),
        tops={},
        test=pl.DataFrame(),
        significance=Significance(**sig),
        timings=dict(doc.get("timings") or {}),
        content_source=doc.get("content_model", ""),
        validation=validation,
        chosen_on=doc["best"].get("chosen_on", "validation"),
        plain_matches=doc.get("plain_matches"),
        segments=segments,
        grid=_frame_of(grid["cells"]) if grid else None,
        grid_on=grid["split"] if grid else "validation",
        stages=dict((doc.get("stages") or {}).get("strengths") or {}),
        stage_grid=(
            pl.DataFrame(doc["stages"]["settings"], infer_schema_length=None)
            if (doc.get("stages") or {}).get("settings")
            else None
        ),
        stages_on=(doc.get("stages") or {}).get("chosen_on", "validation"),
        recommendation=doc.get("recommendation"),
        at_k=at_k_of_rows(doc.get("at_k") or []),
    )


def at_k_rows(at_k: dict[str, dict[int, dict[str, float]]]) -> list[dict[str, Any]]:
    """The document form of the extra cut-offs: one row ``{model, k, <metric>: mean}`` per model
    (in :func:`model_names` order) and cut-off, ascending."""
    from recsys.evaluation.config import model_names

    order = [m for m in model_names() if m in at_k] + [m for m in at_k if m not in model_names()]
    rows = [{"model": m, "k": int(c), **figures} for m in order for c, figures in sorted(at_k[m].items())]
    return _finite_rows(rows)


def at_k_of_rows(rows: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, float]]]:
    """The inverse of :func:`at_k_rows`."""
    out: dict[str, dict[int, dict[str, float]]] = {}
    for row in rows:
        figures = {m: (math.nan if v is None else float(v)) for m, v in row.items() if m not in ("model", "k")}
        out.setdefault(str(row["model"]), {})[int(row["k"])] = figures
    return out


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


def _finite_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


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


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


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


def dump(result: EvaluationResult, directory: Path) -> list[Path]:
    """Write the figures' raw material as Parquet so they can be recomputed independently:
    ``test.parquet`` ``[user_id, tconst]`` (held-out positives of every tested user),
    ``train.parquet`` ``[user_id, tconst, rating, timestamp]`` (the training ratings the models were
    fitted on for the test figures), one ``<model>.parquet`` ``[user_id, tconst, rank]`` per model
    (:func:`dump_names`; ``hybrid.parquet`` is the live weights; rank 1 = best;
    a tested user with no recommendation has no rows) and ``summary.json`` (``to_dict``).
    App users appear with negative ids."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / "test.parquet", directory / "train.parquet"]
        result.test.write_parquet(written[0])
        if result.train is not None:
            result.train.write_parquet(written[1])
        else:
            written.pop()
        files = dump_names()
        for model, tops in result.tops.items():
            users: list[int] = []
            items: list[str] = []
            ranks: list[int] = []
            for user, top in sorted(tops.items()):
                users += [user] * len(top)
                items += top
                ranks += list(range(1, len(top) + 1))
            frame = pl.DataFrame(
                {C.USER_ID: users, C.TCONST: items, C.RANK: ranks},
                schema={C.USER_ID: pl.Int64, C.TCONST: pl.String, C.RANK: pl.Int32},
            )
            path = directory / f"{files[model]}.parquet"
            frame.write_parquet(path)
            written.append(path)
        summary = directory / "summary.json"
        summary.write_text(json.dumps(result.to_dict(), indent=2, default=str))
        written.append(summary)
    except OSError as exc:
        raise EvaluationError(f"Cannot write the dump to {directory}: {exc}; choose a writable folder.") from exc
    return written


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


def render_text(result: EvaluationResult) -> str:
    """The result as the CLI prints it: headline, models table, sweep table, best step,
    significance (the same frames and lines the page shows)."""
    lines = [result.headline(), f"Content model: {result.content_source}.", ""]
    lines += ["Test split:", _text_table(result.models_table()), ""]
    at_k = at_k_table({"at_k": at_k_rows(result.at_k)}, [result.config.metric, "recall", "hit_rate"])
    if at_k.height:
        lines += ["Test split at several cut-offs:", _text_table(at_k), ""]
    if result.validation is not None:
        lines += ["Validation split (chooses the sweep step):", _text_table(result.models_table("validation")), ""]
    lines += [*definitions_lines(), ""]
    lines += [
        sweep_caption(result),
        _text_table(result.sweep_table()),
        "",
        result.best_line(),
        result.advice_line(),
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
    lines.append(result.timing_line())
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
            _text_table(grid.select(shown)),
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
        out += ["By user activity (test split):", _text_table(activity), ""]
    pop = segments_popularity(doc)
    if pop.height:
        out += ["By item popularity (share of recommendations / of hits):", _text_table(pop), ""]
    nu = segments_new_user(doc, k)
    if nu.height:
        info = doc["segments"]["new_user"]
        out += [
            f"Simulated new user after onboarding ({info['likes']} likes + {info['genres']} genres, "
            f"{info['draws']} seeded draws of up to {info['users']} users):",
            _text_table(nu),
        ]
    return "\n".join(out).rstrip()


def _text_table(frame: pl.DataFrame) -> str:
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
