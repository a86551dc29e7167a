"""An evaluation's results: :class:`EvaluationResult` (one :class:`StageResult` per split), its
JSON document (:meth:`EvaluationResult.to_dict`, what a stored run keeps), the result rebuilt from
a document (:func:`result_from_document`) and the Parquet dump (:func:`dump`). How a result is
shown (tables, lines, the CLI's text) is :mod:`recsys.evaluation.report`."""

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
from recsys.evaluation.config import POPULARITY, USER, EvaluationConfig, dump_names, weight_column
from recsys.evaluation.grid import grid_best
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.significance import Significance, compare
from recsys.evaluation.sweep import step_label
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

    def sweep_fixed(self) -> dict[str, float]:
        """The weights the sweep holds fixed (every scorer outside its pair, as in its steps)."""
        row = self.sweep.row(0, named=True) if self.sweep.height else {}
        return {n: float(row.get(weight_column(n)) or 0.0) for n in self.weights if n not in self.config.sweep_pair}

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


def _finite_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


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
