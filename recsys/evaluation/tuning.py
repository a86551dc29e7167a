"""Tuning on validation: the ALS hyperparameters and the hybrid weights the trained model uses.

``python -m recsys tune`` (and the tuning notebook) call :func:`tune`. The data is split with the
strict protocol (:mod:`recsys.evaluation.splits`); a validation split is carved from the training
part by the same rule, and **everything is chosen on validation**: models are fitted on the
validation split's training part and scored on its held-out positives. The test split is touched
once, at the end, to report the chosen configuration next to the defaults it replaces.

1. **ALS**: a grid over factors x regularisation (alpha and iterations fixed at their defaults
   unless given), ranked by the ALS scorer's own metric on validation.
2. **Weights**: with the chosen ALS, each scorer's scores are computed once per validation user and
   normalised; every weight combination of a grid is re-blended and ranked. The grid is each
   registered scorer's ``weight_grid`` (:class:`recsys.models.registry.ScorerSpec`; content,
   taste and popularity on small grids), the scorer without one (ALS) taking the rest so the
   weights sum to 1: a newly registered scorer is tuned with no edit here. Nothing is refitted
   per combination.

The result is written to ``<models>/tuned.json``; :func:`tuned_config` reads it and ``train``
uses it for the next model (the code defaults are the values this found on the mirror data).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recsys.errors import EvaluationError, ModelError
from recsys.evaluation.scoring import (
    ComponentScorer,
    EvalResult,
    Ranking,
    SplitIndex,
    block_size,
    blocks,
    component_fn,
    hybrid_fn,
)
from recsys.evaluation.splits import Protocol as SplitProtocol
from recsys.evaluation.splits import Split, SplitError, split, validation_split
from recsys.models import registry
from recsys.models.als import ALSConfig, blas_single_thread
from recsys.models.base import Scorer, TrainingData
from recsys.models.config import RecommenderConfig
from recsys.models.hybrid import HybridConfig, WeightedHybrid, normalise
from recsys.models.registry import Weights, check_weights
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

TUNED_FILE = "tuned.json"
_STAGE_ALS = "tune: ALS grid"
_STAGE_WEIGHTS = "tune: weight grid"


@dataclass(frozen=True)
class TuneConfig:
    """The search space. ``factors`` x ``regularization``: the ALS grid; ``grids``: the weight
    grid per scorer (default: each registered scorer's ``weight_grid``, or its ``quick_grid``
    with :meth:`quick`); the scorer registered without a grid (ALS) gets ``1 - sum`` and
    combinations where that is negative are skipped; ``metric`` at ``k`` decides."""

    protocol: SplitProtocol = "temporal"
    k: int = 10
    metric: str = "ndcg"
    factors: tuple[int, ...] = (32, 64)
    regularization: tuple[float, ...] = (2.0, 8.0, 20.0)
    alpha: float = ALSConfig().alpha
    iterations: int = ALSConfig().iterations
    grids: Mapping[str, tuple[float, ...]] | None = None
    min_positives: int = 5
    seed: int = 42

    @classmethod
    def quick(cls) -> TuneConfig:
        """A small grid for tests and a first look (a few seconds on ml-latest-small)."""
        return cls(factors=(32,), regularization=(8.0,), grids=weight_grids(quick=True))

    def weight_grids(self) -> dict[str, tuple[float, ...]]:
        """Scorer -> the weights tried (registered scorers only, registry order)."""
        given = weight_grids() if self.grids is None else dict(self.grids)
        unknown = [n for n in given if n not in registry.SCORERS]
        if unknown:
            raise EvaluationError(
                f"No registered scorer {', '.join(unknown)} to tune; known: {', '.join(registry.names())}."
            )
        return {n: tuple(float(v) for v in given[n]) for n in registry.names() if n in given}

    def weight_grid(self) -> list[Weights]:
        grids = self.weight_grids()
        rest = [n for n in registry.names() if n not in grids]
        grid: list[Weights] = []
        for values in itertools.product(*grids.values()):
            w = dict(zip(grids, values, strict=True))
            if rest:
                left = round(1.0 - sum(values), 6)
                if left < -1e-9:
                    continue
                w[rest[0]] = max(left, 0.0)  # the one scorer without a grid (ALS) takes the rest
                w.update(dict.fromkeys(rest[1:], 0.0))
            if sum(w.values()) > 0:
                grid.append(check_weights(w))
        return grid


def weight_grids(quick: bool = False) -> dict[str, tuple[float, ...]]:
    """Each registered scorer's tuning grid (:meth:`ScorerSpec.tune_grid`); the one without
    (ALS) is left out: it takes the rest."""
    out: dict[str, tuple[float, ...]] = {}
    for name, spec in registry.SCORERS.items():
        grid = spec.tune_grid(quick)
        if grid is not None:
            out[name] = grid
    return out


@dataclass
class TuneResult:
    """What :func:`tune` chose and measured. ``als_grid`` / ``weight_grid``: every configuration
    tried with its validation figure; ``chosen`` / ``defaults``: test figures of the chosen
    configuration and of the defaults it replaces (each fitted on the test split's training)."""

    config: TuneConfig
    als: dict[str, Any]
    weights: Weights
    validation: float
    als_grid: list[dict[str, Any]]
    weight_grid: list[dict[str, Any]] = field(repr=False)
    test: dict[str, float]
    timings: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dataclasses.asdict(self.config),
            "als": dict(self.als),
            "weights": dict(self.weights),
            "validation": self.validation,
            "test": dict(self.test),
            "als_grid": self.als_grid,
            "weight_grid_top": sorted(self.weight_grid, key=lambda r: -r["value"])[:10],
            "timings": dict(self.timings),
        }

    def render(self) -> str:
        label = f"{self.config.metric.upper()}@{self.config.k}"
        lines = [f"ALS grid ({label} on validation):"]
        for row in self.als_grid:
            lines.append(
                f"  factors {row['factors']:>3}  regularisation {row['regularization']:>5g}  {row['value']:.4f}"
            )
        lines.append(
            f"Chosen ALS: factors {self.als['factors']}, regularisation {self.als['regularization']:g}, "
            f"alpha {self.als['alpha']:g}, iterations {self.als['iterations']}"
        )
        lines.append(f"Chosen weights: {registry.format_weights(self.weights)} -> validation {self.validation:.4f}")
        lines.append(
            f"Test {label}: chosen {self.test['chosen']:.4f}, previous defaults {self.test['defaults']:.4f}, "
            f"popularity baseline {self.test['popularity']:.4f}"
        )
        return "\n".join(lines)


def tune(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    config: TuneConfig | None = None,
    *,
    base: RecommenderConfig | None = None,
    reuse: Mapping[str, Scorer] | None = None,
    progress: Progress | None = None,
) -> TuneResult:
    """Choose ALS hyperparameters and hybrid weights on validation; see the module docstring."""
    config = config or TuneConfig()
    base = base or RecommenderConfig()
    progress = progress or null_progress
    started = time.perf_counter()
    progress("tune: splitting", 0, 1)
    try:
        test_split = split(ratings, config.protocol, min_positives=config.min_positives, seed=config.seed)
        val = validation_split(test_split)
    except SplitError as exc:
        raise EvaluationError(str(exc)) from None
    if not val.users:
        raise EvaluationError(
            f"No user has {config.min_positives} or more positives in the validation split; tuning needs more ratings."
        )
    progress("tune: catalogue scorers", 0, 1)
    fixed = registry.fit_catalogue_scorers(
        TrainingData(titles=titles), {n: base.scorer_config(n) for n in registry.names()}, reuse
    )
    timings: dict[str, float] = {}

    # 1. ALS grid on validation
    t0 = time.perf_counter()
    grid = list(itertools.product(config.factors, config.regularization))
    als_rows: list[dict[str, Any]] = []
    val_index = SplitIndex(val)
    best_als: tuple[float, ALSConfig] | None = None
    for i, (factors, reg) in enumerate(grid):
        progress(_STAGE_ALS, i, len(grid))
        als_cfg = dataclasses.replace(
            base.scorer_config("als"),
            factors=int(factors),
            regularization=float(reg),
            alpha=float(config.alpha),
            iterations=int(config.iterations),
        )
        scorer = registry.SCORERS["als"].build(als_cfg).fit(TrainingData(titles=titles, ratings=val.train))
        with blas_single_thread():
            _, raw = score_blocks(WeightedHybrid({"als": scorer}), val_index, config.k, (), ("als",))
            value = raw["als"].summary[config.metric]
        als_rows.append({"factors": int(factors), "regularization": float(reg), "value": float(value)})
        if best_als is None or value > best_als[0] + 1e-12:
            best_als = (value, als_cfg)
    progress(_STAGE_ALS, len(grid), len(grid))
    assert best_als is not None
    als_cfg = best_als[1]
    timings["als_s"] = time.perf_counter() - t0

    # 2. weight grid on validation, scores computed once
    t0 = time.perf_counter()
    configs = {name: base.scorer_config(name) for name in registry.names()} | {"als": als_cfg}
    progress("tune: hybrid", 0, 1)
    hybrid = _hybrid(val, titles, fixed, configs)
    weight_rows: list[dict[str, Any]] = []
    combos = config.weight_grid()
    best_w: tuple[float, Weights] | None = None
    with blas_single_thread():
        progress(_STAGE_WEIGHTS, 0, len(combos))
        blended, _ = score_blocks(hybrid, val_index, config.k, combos)
        for w, r in zip(combos, blended, strict=True):
            value = float(r.summary[config.metric])
            weight_rows.append({"weights": dict(w), "value": value})
            if best_w is None or value > best_w[0] + 1e-12:
                best_w = (value, w)
    progress(_STAGE_WEIGHTS, len(combos), len(combos))
    assert best_w is not None
    timings["weights_s"] = time.perf_counter() - t0

    # 3. report once on test: the chosen configuration against the defaults it replaces
    t0 = time.perf_counter()
    test_index = SplitIndex(test_split)
    default_cfgs = {name: base.scorer_config(name) for name in registry.names()}
    test_figures: dict[str, float] = {}
    for i, (label, cfgs, weights) in enumerate(
        (("chosen", configs, best_w[1]), ("defaults", default_cfgs, dict(base.hybrid.weights)))
    ):
        progress("tune: test", i, 2)
        h = _hybrid(test_split, titles, fixed, cfgs)
        with blas_single_thread():
            blended, raw = score_blocks(
                h, test_index, config.k, [weights], ("popularity",) if label == "chosen" else ()
            )
            test_figures[label] = float(blended[0].summary[config.metric])
            if label == "chosen":
                test_figures["popularity"] = float(raw["popularity"].summary[config.metric])
    progress("tune: test", 2, 2)
    timings["test_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    return TuneResult(
        config=config,
        als={
            "factors": als_cfg.factors,
            "regularization": als_cfg.regularization,
            "alpha": als_cfg.alpha,
            "iterations": als_cfg.iterations,
        },
        weights=best_w[1],
        validation=best_w[0],
        als_grid=als_rows,
        weight_grid=weight_rows,
        test=test_figures,
        timings=timings,
    )


def write_tuned(result: TuneResult, models_dir: Path) -> Path:
    """Save the chosen values as ``<models_dir>/tuned.json`` (atomically)."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / TUNED_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=1, sort_keys=True))
    tmp.replace(path)
    return path


def tuned_config(models_dir: Path, base: RecommenderConfig | None = None) -> RecommenderConfig:
    """``base`` (default: the code defaults) with the ALS hyperparameters and weights of the last
    ``tune`` in ``models_dir``; ``base`` unchanged when there is none or it cannot be read."""
    base = base or RecommenderConfig()
    path = Path(models_dir) / TUNED_FILE
    if not path.is_file():
        return base
    try:
        data = json.loads(path.read_text())
        als = dataclasses.replace(
            base.scorer_config("als"),
            **{k: data["als"][k] for k in ("factors", "regularization", "alpha", "iterations")},
        )
        weights = check_weights(data["weights"])
    except (OSError, ValueError, KeyError, TypeError, ModelError) as exc:
        log.warning("ignoring %s (%s); using the defaults", path, exc)
        return base
    return dataclasses.replace(
        base,
        scorers={**dict(base.scorers), "als": als},
        hybrid=HybridConfig(weights=weights, normalisation=base.hybrid.normalisation),
        weights_from="tuned",
    )


def score_blocks(
    hybrid: WeightedHybrid,
    index: SplitIndex,
    k: int,
    blends: Sequence[Mapping[str, float]],
    raw: Sequence[str] = (),
) -> tuple[list[EvalResult], dict[str, EvalResult]]:
    """Each weight combination of ``blends`` (normalised scores re-blended) and each scorer of
    ``raw`` alone, ranked for every tested user of ``index``, scoring a block of users at a time
    (:func:`recsys.evaluation.scoring.block_size`): the same figures as scoring every user at once,
    without holding users x items x scorers scores."""
    blended = [Ranking(index, k) for _ in blends]
    alone = {name: Ranking(index, k) for name in raw}
    scorer = ComponentScorer(hybrid, index)
    for block in blocks(index.split.users, block_size(len(hybrid.scorers), len(index.split.items))):
        comps = scorer(block)
        for name, ranking in alone.items():
            ranking.add(component_fn(comps, name), block)
        if blended:
            normed = {u: {n: normalise(v) for n, v in comps[u].items()} for u in block}
            for w, ranking in zip(blends, blended, strict=True):
                ranking.add(hybrid_fn(normed, w), block)
    return [r.result() for r in blended], {name: r.result() for name, r in alone.items()}


def _hybrid(
    part: Split, titles: pl.DataFrame, fixed: Mapping[str, Scorer], configs: Mapping[str, Any]
) -> WeightedHybrid:
    return WeightedHybrid(registry.fit_scorers(TrainingData(titles=titles, ratings=part.train), configs, fixed))


__all__ = ["TUNED_FILE", "TuneConfig", "TuneResult", "tune", "tuned_config", "write_tuned"]
