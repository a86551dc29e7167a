"""Offline evaluation runs: the protocol of issue 4, models side by side, a weight sweep and a
paired significance test, in one :class:`EvaluationResult` that the CLI (``python -m recsys
evaluate``), the evaluation page and the tuning notebook all render the same way.

**Data.** MovieLens ratings mapped to the catalogue (``in_catalog`` only, so every ranked item is a
catalogue title the content model and the genre diversity know), optionally plus the app's own
interactions (:func:`app_ratings`): like -> rating 4.0, superlike -> 5.0, dislike -> 1.0, with the
time the current value was given; app user ``id`` becomes user ``-id`` so the two id spaces never
collide (MovieLens ids are positive). Under the default :class:`~recsys.models.als.ALSConfig` the
MovieLens confidence mapping gives these ratings exactly the app's confidences (1, 2, -2).

**Protocol** (:mod:`recsys.evaluation.splits`): positives are ratings >= 4; per user the last 20%
of positives by time (at least 1) are held out and every rating of that user at or after the
first held-out one leaves training (``temporal``, the default), or the last one (``loo``), or a
seeded random 20% (``random``), or one time cut for everyone (``global``); users with fewer than 5
positives are not tested; each user's training items are excluded from their ranking; items are
ranked over every item seen in training (no sampled negatives).

**Validation, then test.** A validation split is carved from the training part by the same rule
(:func:`~recsys.evaluation.splits.validation_split`). Every model is fitted and evaluated twice:
on the validation split (fitted on its training part) and on the test split (fitted on the whole
training part). The sweep's best step is **chosen on validation** and reported on test, so its
test figure is honest. Only when the validation split has no testable user is the step chosen on
the test users, and the result says so (``chosen_on``).

**Models**, each fitted on the training part only:

- ``popularity``: the classic baseline, ``ln(1 + positives)`` per item in the training part;
- one row per registered scorer (:mod:`recsys.models.registry`: content, ALS, taste, IMDb
  popularity ...), each ranking alone; scorers that depend on the catalogue only (TF-IDF, genre
  taste, IMDb popularity) are fitted once and reused (the content model from the trained model
  when it was fitted on this very catalogue);
- ``hybrid (current)``: the blend with the weights the feed uses now;
- ``hybrid (best sweep step)``: the sweep step that scored best on validation.

**Reuse.** Each scorer's scores are computed once per tested user
(:func:`~recsys.evaluation.scoring.component_scores`); the single-scorer rows rank those raw
scores, and every hybrid configuration (current weights and each sweep step) only re-blends the
once-normalised scores (:mod:`recsys.evaluation.sweep`). Nothing is refitted or rescored per step.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.columns import Columns as C
from recsys.errors import EvaluationError, ModelError
from recsys.evaluation.scoring import (
    EvalResult,
    SplitIndex,
    component_fn,
    component_scores,
    evaluate,
    hybrid_fn,
    scorer_fn,
)
from recsys.evaluation.significance import Significance, compare
from recsys.evaluation.splits import PROTOCOLS, Split, SplitError, split, validation_split
from recsys.evaluation.sweep import best_step, content_weights, run_sweep, step_label, step_weights
from recsys.models import registry
from recsys.models.als import ALSConfig, blas_single_thread
from recsys.models.base import Scorer, TrainingData
from recsys.models.hybrid import HybridConfig, WeightedHybrid, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.models.registry import Weights, check_weights
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.models.service import Recommender
    from recsys.store import Store

log = logging.getLogger(__name__)

USER = "ml_user_id"  # the user column of the combined ratings (MovieLens ids, app users negative)
METRICS = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
LIST_MEASURES = ("coverage", "novelty", "avg_popularity", "diversity")
SUMMARY = (*METRICS, *LIST_MEASURES)
_LABELS = {
    "precision": "Precision",
    "recall": "Recall",
    "ndcg": "NDCG",
    "map": "MAP",
    "mrr": "MRR",
    "hit_rate": "HitRate",
    "coverage": "Coverage",
    "novelty": "Novelty (bits)",
    "avg_popularity": "Avg popularity",
    "diversity": "Diversity (genres)",
}

POPULARITY = "popularity"
HYBRID = "hybrid (current)"
BEST = "hybrid (best sweep step)"
CONTENT = registry.SCORERS["content"].model
ALS = registry.SCORERS["als"].model
POPULARITY_IMDB = registry.SCORERS["popularity"].model
STAGES = ("validation", "test")
_STAGE_DATA = "evaluation: loading data"
_STAGE_FIT = "evaluation: fitting models"
_STAGE_MODELS = "evaluation: models"

_ALS_DEFAULTS = ALSConfig()


def model_names() -> tuple[str, ...]:
    """The rows of a run, in order: the baseline, one per registered scorer, the two hybrids."""
    return (POPULARITY, *(spec.model for spec in registry.SCORERS.values()), HYBRID, BEST)


def dump_names() -> dict[str, str]:
    """File name (without .parquet) of each model's top-K lists in a dump."""
    return {
        POPULARITY: "popularity",
        **{spec.model: spec.dump for spec in registry.SCORERS.values()},
        HYBRID: "hybrid",
        BEST: "hybrid_best",
    }


MODELS = model_names()
DUMP_NAMES = dump_names()


def weight_column(name: str) -> str:
    """The frame column holding scorer ``name``'s weight, e.g. ``content_weight``."""
    return f"{name}_weight"


def metric_label(metric: str, k: int) -> str:
    """Display name: ``"NDCG@10"`` for ranking metrics, ``"Coverage"`` etc. for list measures."""
    name = _LABELS.get(metric, metric)
    return f"{name}@{k}" if metric in METRICS else name


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that determines an evaluation's figures (the page's controls, the CLI's flags).

    ``weights``: the current hybrid weights ``{scorer: weight}`` (an old ``(content, als,
    popularity)`` tuple is read in that order); ``None`` means the registry's defaults (callers
    pass the live weights). ``sweep``: ``(start, stop, step)`` of the content weight, ALS ``1 -
    content``, popularity ``popularity_weight``, the other scorers at their current weights.
    ``factors`` .. ``iterations``: the ALS hyperparameters. ``seed``: the random protocol's seed.
    ``compare``: the configurations of the default significance test (``None``: best sweep step
    vs the current hybrid). ``measure_plain``: also time one plain evaluation of the current
    hybrid (scoring every user from scratch) to compare the sweep's cost with.
    """

    protocol: str = "temporal"
    k: int = 10
    metric: str = "ndcg"
    sweep: tuple[float, float, float] = (0.0, 1.0, 0.1)
    popularity_weight: float = 0.1
    weights: Mapping[str, float] | None = None
    with_app_data: bool = False
    factors: int = _ALS_DEFAULTS.factors
    regularization: float = _ALS_DEFAULTS.regularization
    alpha: float = _ALS_DEFAULTS.alpha
    iterations: int = _ALS_DEFAULTS.iterations
    seed: int = 42
    min_positives: int = 5
    compare: tuple[str, str] | None = None
    measure_plain: bool = False

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise EvaluationError(f"Unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}.")
        if not 1 <= self.k <= 1000:
            raise EvaluationError(f"K must be between 1 and 1000, got {self.k}.")
        if self.metric not in METRICS:
            raise EvaluationError(f"Unknown metric {self.metric!r}; use one of {', '.join(METRICS)}.")
        content_weights(*self.sweep)
        step_weights(0.0, self.popularity_weight)
        if self.weights is not None:
            try:
                object.__setattr__(self, "weights", check_weights(self.weights))
            except ModelError as exc:
                raise EvaluationError(str(exc)) from None
        if self.factors < 1 or self.iterations < 1:
            raise EvaluationError("ALS needs at least 1 factor and 1 iteration.")
        if not (self.regularization >= 0 and self.alpha > 0):
            raise EvaluationError("ALS needs regularisation >= 0 and alpha > 0.")
        if self.min_positives < 2:
            raise EvaluationError("min_positives must be at least 2 (one to train on, one to test).")
        object.__setattr__(self, "sweep", tuple(float(x) for x in self.sweep))

    @property
    def hybrid_weights(self) -> Weights:
        return dict(self.weights) if self.weights is not None else registry.default_weights()

    def content_weights(self) -> list[float]:
        return content_weights(*self.sweep)

    def sweep_weights(self) -> list[Weights]:
        """The blend weights of every sweep step."""
        return [step_weights(c, self.popularity_weight, self.hybrid_weights) for c in self.content_weights()]

    def als_config(self, base: ALSConfig | None = None) -> ALSConfig:
        """``base`` (the trained model's, else the defaults) with this run's hyperparameters."""
        return dataclasses.replace(
            base or ALSConfig(),
            factors=int(self.factors),
            regularization=float(self.regularization),
            alpha=float(self.alpha),
            iterations=int(self.iterations),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["weights"] = dict(self.weights) if self.weights is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("sweep", "compare"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def key(self) -> str:
        """A stable text form (cache keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)


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
        return _display(frame, "model", self.config.k, list(self.weights))

    def comparison_table(self) -> pl.DataFrame:
        """Validation and test side by side: one row per model, the chosen metric on each."""
        label = metric_label(self.config.metric, self.config.k)
        test = self.models.select(pl.col("model").alias("Model"), pl.col(self.config.metric).round(4).alias(f"{label} test"))
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
            app = f" ({c['app_users']} app user{'s' if c['app_users'] != 1 else ''})"
        dropped = f", {c['dropped']:,} future ratings left out of training" if c.get("dropped") else ""
        return (
            f"{source}, {cfg.protocol} protocol, K={cfg.k}: {_plural(c['users'], 'tested user')}{app}, "
            f"{c['items']:,} ranked items, {c['train']:,} training ratings, {c['test']:,} held-out "
            f"positives{dropped}; validation: {c.get('validation_users', 0):,} users."
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
        }


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def _display(frame: pl.DataFrame, name_col: str | None, k: int, scorers: Sequence[str]) -> pl.DataFrame:
    cols: list[pl.Expr] = []
    if name_col:
        cols.append(pl.col(name_col).alias("Model"))
    cols += [
        pl.col(weight_column(n)).round(2).alias(f"{n} w") for n in scorers if weight_column(n) in frame.columns
    ]
    cols += [pl.col(m).round(4).alias(metric_label(m, k)) for m in SUMMARY if m in frame.columns]
    return frame.select(cols)


# --- data --------------------------------------------------------------------------------------


def app_ratings(interactions: pl.DataFrame, titles: Sequence[str] | None = None) -> pl.DataFrame:
    """The app's interactions ``[user_id, tconst, value, created_at, updated_at]`` as ratings
    ``[ml_user_id, tconst, rating, timestamp]``: like 4.0, superlike 5.0, dislike 1.0; user
    ``-user_id``; timestamp = epoch seconds (with microseconds, so quick clicks keep their order)
    of ``updated_at`` (when the current value was given), else ``created_at``. ``titles``: keep
    only these tconsts (the catalogue)."""
    schema = {USER: pl.Int64, C.TCONST: pl.String, "rating": pl.Float64, "timestamp": pl.Float64}
    if interactions.height == 0:
        return pl.DataFrame(schema=schema)
    when = "updated_at" if "updated_at" in interactions.columns else C.TIMESTAMP
    value = pl.col(C.VALUE)
    frame = interactions.filter(value.is_in([LIKE, SUPERLIKE, DISLIKE]))
    if titles is not None:
        frame = frame.filter(pl.col(C.TCONST).is_in(list(titles)))
    return frame.select(
        (-pl.col(C.USER_ID).cast(pl.Int64)).alias(USER),
        pl.col(C.TCONST),
        pl.when(value == SUPERLIKE).then(5.0).when(value == LIKE).then(4.0).otherwise(1.0).alias("rating"),
        (pl.col(when).dt.epoch("us").cast(pl.Float64) / 1e6).alias("timestamp"),
    )


def evaluation_ratings(
    movielens: pl.DataFrame, app: pl.DataFrame | None = None, titles: Sequence[str] | None = None
) -> pl.DataFrame:
    """MovieLens ratings (catalogue titles only when ``titles`` is given) plus the app's ratings
    from :func:`app_ratings`, as one frame ``[ml_user_id, tconst, rating, timestamp]`` (timestamp
    in epoch seconds, float)."""
    ml = movielens
    if "in_catalog" in ml.columns:
        ml = ml.filter(pl.col("in_catalog"))
    if titles is not None:
        ml = ml.filter(pl.col(C.TCONST).is_in(list(titles)))
    parts = [
        ml.select(
            pl.col(USER).cast(pl.Int64),
            pl.col(C.TCONST).cast(pl.String),
            pl.col("rating").cast(pl.Float64),
            pl.col("timestamp").cast(pl.Float64),
        )
    ]
    if app is not None and app.height:
        parts.append(app.select(USER, C.TCONST, "rating", "timestamp"))
    return pl.concat(parts)


def app_data_stamp(store: Store) -> str:
    """A cheap fingerprint of the app's interactions (count, newest change) for cache keys."""
    frame = store.all_interactions()
    if frame.height == 0:
        return "0"
    newest = frame.select(pl.max_horizontal(pl.col("created_at").max(), pl.col("updated_at").max())).item()
    return f"{frame.height}:{newest.isoformat() if newest is not None else ''}"


def catalogue_stamp(parquet_dir: Path) -> str:
    """The catalogue build's stamp (its manifest's modification time) for cache keys."""
    try:
        return str((Path(parquet_dir) / "manifest.json").stat().st_mtime_ns)
    except OSError:
        return "missing"


# --- running -----------------------------------------------------------------------------------


def evaluate_catalogue(
    config: EvaluationConfig,
    *,
    catalog: Catalog,
    store: Store | None = None,
    recommender: Recommender | None = None,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Load the catalogue's MovieLens ratings (and, with ``config.with_app_data``, the store's
    interactions) and run :func:`run_evaluation`. ``recommender``: the trained model, whose
    scorer configs are used and whose content model is reused when it was fitted on this
    catalogue (as the page and the CLI do)."""
    from recsys.models.service import catalogue_fingerprint

    progress = progress or null_progress
    progress(_STAGE_DATA, 0, 2)
    titles = catalog.all_titles()
    ids = titles[C.TCONST].to_list()
    app = None
    if config.with_app_data:
        if store is None:
            raise EvaluationError("App data was asked for but no store is open; check DATABASE_URL.")
        app = app_ratings(store.all_interactions(), ids)
    ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True), app, ids)
    progress(_STAGE_DATA, 1, 2)
    reuse: dict[str, Scorer] = {}
    source = "fitted for this run"
    configs: dict[str, Any] = {}
    normalisation = HybridConfig().normalisation
    if recommender is not None:
        configs = {name: recommender.config.scorer_config(name) for name in registry.names()}
        normalisation = recommender.config.hybrid.normalisation
        if recommender.catalogue == catalogue_fingerprint(titles):
            reuse = {
                name: scorer
                for name, scorer in recommender.hybrid.scorers.items()
                if registry.SCORERS[name].depends_on_catalogue_only(configs[name])
            }
            source = f"reused from model {recommender.version}"
        else:
            log.info("the trained model predates this catalogue: fitting content models for the run")
    progress(_STAGE_DATA, 2, 2)
    return run_evaluation(
        titles,
        ratings,
        config,
        reuse=reuse,
        configs=configs,
        normalisation=normalisation,
        content_source=source,
        progress=progress,
    )


def run_evaluation(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    config: EvaluationConfig,
    *,
    reuse: Mapping[str, Scorer] | None = None,
    configs: Mapping[str, Any] | None = None,
    normalisation: str = "zscore",
    content_source: str = "fitted for this run",
    tags: pl.DataFrame | None = None,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Split ``ratings`` ``[ml_user_id, tconst, rating, timestamp]`` with ``config``'s protocol,
    carve a validation split from its training part, fit the models on each training part,
    evaluate them side by side on both and sweep the hybrid weights; the best step is chosen on
    validation. ``reuse``: already fitted catalogue-only scorers by name (they must not have seen
    the ratings, which a catalogue-only scorer never does); ``configs``: scorer configs by name
    (the ALS hyperparameters of ``config`` override ``configs["als"]``)."""
    progress = progress or null_progress
    if config.compare is not None:
        known = [*model_names(), *(step_label(w) for w in config.sweep_weights())]
        for name in config.compare:
            if name not in known:
                raise EvaluationError(
                    f"Unknown configuration {name!r} to compare; choose from: {', '.join(known)}."
                )
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        sp = split(
            ratings,
            config.protocol,  # type: ignore[arg-type]
            min_positives=config.min_positives,
            seed=config.seed,
        )
        val = validation_split(sp) if sp.users else None
    except SplitError as exc:
        raise EvaluationError(str(exc)) from None
    if not sp.users:
        hint = "" if config.with_app_data else " or include the app's ratings (--with-app-data)"
        raise EvaluationError(
            f"No user has {config.min_positives} or more positive ratings (>= 4) to test; add ratings{hint}."
        )
    genres = _genres(titles)
    timings["split_s"] = time.perf_counter() - started
    configs = dict(configs or {})
    configs["als"] = config.als_config(configs.get("als"))

    # --- catalogue-only scorers: fitted once (or reused) for both splits
    progress(_STAGE_FIT, 0, 1)
    t0 = time.perf_counter()
    fixed = registry.fit_catalogue_scorers(TrainingData(titles=titles, tags=tags), configs, reuse)
    timings["fit_catalogue_s"] = time.perf_counter() - t0
    progress(_STAGE_FIT, 1, 1)

    weights = config.hybrid_weights
    steps = config.sweep_weights()
    stages: dict[str, StageResult] = {}
    for stage, part in (("validation", val), ("test", sp)):
        if part is None or not part.users:
            continue
        stages[stage] = _run_stage(
            stage, part, titles, tags, fixed, configs, weights, steps, normalisation, config, genres, timings, progress
        )
    result_test = stages["test"]
    chosen_on = "validation" if "validation" in stages else "test"
    chooser = stages[chosen_on]
    best = best_step(chooser.sweep[config.metric].to_list())
    best_row = result_test.sweep.row(best, named=True)
    # the BEST row of each stage is the validation-chosen step, evaluated on that stage
    for res in stages.values():
        _set_best(res, best, config)
    plain_matches: bool | None = None
    if config.measure_plain:
        hybrid = _fit_hybrid(sp, titles, tags, fixed, configs, weights, normalisation)
        index = SplitIndex(sp)
        t0 = time.perf_counter()
        with blas_single_thread():
            plain = evaluate(index, scorer_fn(hybrid, index), config.k, genres=genres)
        timings["plain_hybrid_s"] = time.perf_counter() - t0
        plain_matches = plain.top == result_test.tops[HYBRID]
        if not plain_matches:
            log.warning("the plain hybrid evaluation differs from the re-blended one")
    a, b = config.compare or (BEST, HYBRID)
    significance = compare(
        result_test.per_user, a, b, config.metric, user_col=USER, label=metric_label(config.metric, config.k)
    )
    timings["total_s"] = time.perf_counter() - started
    counts = dict(result_test.counts)
    counts["dropped"] = sp.dropped
    counts["validation_users"] = len(val.users) if val is not None else 0
    log.info(
        "evaluated %d users: best step %s chosen on %s, total %.2fs",
        counts["users"], best_row.get("model"), chosen_on, timings["total_s"],
    )
    return EvaluationResult(
        config=config,
        weights=weights,
        normalisation=normalisation,
        counts=counts,
        models=result_test.models,
        sweep=result_test.sweep,
        best=best,
        per_user=result_test.per_user,
        tops=result_test.tops,
        test=_test_frame(sp),
        significance=significance,
        timings=timings,
        content_source=content_source,
        validation=stages.get("validation"),
        chosen_on=chosen_on,
        train=_train_frame(sp),
        plain_matches=plain_matches,
    )


def _fit_hybrid(
    part: Split,
    titles: pl.DataFrame,
    tags: pl.DataFrame | None,
    fixed: Mapping[str, Scorer],
    configs: Mapping[str, Any],
    weights: Weights,
    normalisation: str,
    progress: Progress | None = None,
) -> WeightedHybrid:
    """The hybrid for one split: catalogue-only scorers shared, the others fitted on its train."""
    data = TrainingData(titles=titles, ratings=part.train, tags=tags)
    scorers = registry.fit_scorers(data, configs, fixed, progress)
    return WeightedHybrid(scorers, HybridConfig(weights, normalisation))  # type: ignore[arg-type]


def _run_stage(
    stage: str,
    part: Split,
    titles: pl.DataFrame,
    tags: pl.DataFrame | None,
    fixed: Mapping[str, Scorer],
    configs: Mapping[str, Any],
    weights: Weights,
    steps: Sequence[Weights],
    normalisation: str,
    config: EvaluationConfig,
    genres: Mapping[str, Sequence[str]],
    timings: dict[str, float],
    progress: Progress,
) -> StageResult:
    """Fit, score once, evaluate every model and every sweep step on one split."""
    k = config.k
    index = SplitIndex(part)
    t0 = time.perf_counter()
    hybrid = _fit_hybrid(part, titles, tags, fixed, configs, weights, normalisation, progress)
    counted = PopularityScorer(PopularityConfig(source="interactions")).fit_frames(movielens_ratings=part.train)
    timings[f"{stage}_fit_s"] = time.perf_counter() - t0
    results: dict[str, EvalResult] = {}
    with blas_single_thread():
        t0 = time.perf_counter()
        comps = component_scores(hybrid, index, progress)
        timings.setdefault("scoring_s", 0.0)
        timings["scoring_s"] += time.perf_counter() - t0
        names = list(registry.SCORERS)
        progress(f"{_STAGE_MODELS} ({stage})", 0, len(names) + 2)
        results[POPULARITY] = evaluate(index, scorer_fn(counted, index), k, genres=genres)
        for i, name in enumerate(names):
            results[registry.SCORERS[name].model] = evaluate(index, component_fn(comps, name), k, genres=genres)
            progress(f"{_STAGE_MODELS} ({stage})", i + 2, len(names) + 2)
        t0 = time.perf_counter()
        for user, parts in comps.items():
            comps[user] = {n: normalise(p, normalisation) for n, p in parts.items()}  # type: ignore[arg-type]
        timings.setdefault("normalise_s", 0.0)
        timings["normalise_s"] += time.perf_counter() - t0
        results[HYBRID] = evaluate(index, hybrid_fn(comps, weights), k, genres=genres)
        progress(f"{_STAGE_MODELS} ({stage})", len(names) + 2, len(names) + 2)
        t0 = time.perf_counter()
        swept = run_sweep(index, comps, steps, k, genres=genres, progress=progress)
        timings.setdefault("sweep_steps_s", 0.0)
        timings["sweep_steps_s"] += time.perf_counter() - t0
    timings["sweep_s"] = timings["scoring_s"] + timings["normalise_s"] + timings["sweep_steps_s"]
    weights_of: dict[str, Mapping[str, float] | None] = {POPULARITY: None, HYBRID: weights}
    for name, spec in registry.SCORERS.items():
        weights_of[spec.model] = {n: (1.0 if n == name else 0.0) for n in registry.SCORERS}
    rows = [(name, weights_of[name], results[name]) for name in model_names() if name != BEST]
    per_user = {name: results[name].per_user for name in results}
    for w, r in swept:
        per_user.setdefault(step_label(w), r.per_user)
    counts = {
        "users": len(part.users),
        "app_users": sum(1 for u in part.users if u < 0),
        "items": len(part.items),
        "train": part.train.height,
        "test": part.test.height,
    }
    return StageResult(
        models=_summary_frame(rows),
        sweep=_summary_frame([(step_label(w), w, r) for w, r in swept]),
        per_user=per_user,
        tops={name: r.top for name, r in results.items()} | {f"__step{i}": r.top for i, (_, r) in enumerate(swept)},
        counts=counts,
    )


def _set_best(res: StageResult, best: int, config: EvaluationConfig) -> None:
    """Append the BEST row (the chosen step's figures on this split) and its lists."""
    step = res.sweep.row(best, named=True)
    row = res.sweep.slice(best, 1).with_columns(pl.lit(BEST).alias("model"))
    res.models = pl.concat([res.models, row.select(res.models.columns)])
    res.per_user[BEST] = res.per_user[str(step["model"])]
    res.tops[BEST] = res.tops.pop(f"__step{best}")
    for key in [k for k in res.tops if k.startswith("__step")]:
        del res.tops[key]


def _genres(titles: pl.DataFrame) -> dict[str, list[str]]:
    if C.GENRES not in titles.columns:
        return {}
    pairs = zip(titles[C.TCONST].to_list(), titles[C.GENRES].to_list(), strict=True)
    return {t: list(g or ()) for t, g in pairs}


def _summary_frame(rows: Sequence[tuple[str, Mapping[str, float] | None, EvalResult]]) -> pl.DataFrame:
    scorers = list(registry.SCORERS)
    out = []
    for name, w, r in rows:
        row: dict[str, Any] = {"model": name}
        for n in scorers:
            row[weight_column(n)] = None if w is None else float(w.get(n, 0.0))
        row.update({m: float(r.summary.get(m, math.nan)) for m in SUMMARY})
        out.append(row)
    schema: dict[str, pl.DataType] = {"model": pl.String()}
    schema.update({c: pl.Float64() for c in (*(weight_column(n) for n in scorers), *SUMMARY)})
    return pl.DataFrame(out, schema=schema)


def _test_frame(sp: Split) -> pl.DataFrame:
    return sp.test.select(
        pl.col(sp.user_col).cast(pl.Int64).alias(C.USER_ID), pl.col(sp.item_col).alias(C.TCONST)
    ).sort(C.USER_ID, C.TCONST)


def _train_frame(sp: Split) -> pl.DataFrame:
    return sp.train.select(
        pl.col(sp.user_col).cast(pl.Int64).alias(C.USER_ID),
        pl.col(sp.item_col).alias(C.TCONST),
        pl.col(sp.rating_col).cast(pl.Float64).alias("rating"),
        pl.col(sp.time_col).cast(pl.Float64).alias("timestamp"),
    ).sort(C.USER_ID, "timestamp", C.TCONST)


# --- output ------------------------------------------------------------------------------------


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
        raise EvaluationError(
            f"Cannot write the dump to {directory}: {exc}; choose a writable folder."
        ) from exc
    return written


def render_text(result: EvaluationResult) -> str:
    """The result as the CLI prints it: headline, models table, sweep table, best step,
    significance (the same frames and lines the page shows)."""
    lines = [result.headline(), f"Content model: {result.content_source}.", ""]
    lines += ["Test split:", _text_table(result.models_table()), ""]
    if result.validation is not None:
        lines += ["Validation split (chooses the sweep step):", _text_table(result.models_table("validation")), ""]
    c0, c1, step = result.config.sweep
    others = {
        n: w for n, w in result.weights.items() if n not in ("content", "als", "popularity") and w
    }
    fixed = "".join(f", {n} {w:g}" for n, w in others.items())
    lines += [
        f"Weight sweep: content {c0:g}..{c1:g} step {step:g}, ALS = 1 - content, "
        f"popularity {result.config.popularity_weight:g}{fixed}",
        _text_table(result.sweep_table()),
        "",
        result.best_line(),
        result.significance.summary(),
    ]
    lines.append(result.timing_line())
    return "\n".join(lines)


def _text_table(frame: pl.DataFrame) -> str:
    def cell(value: object, dtype: pl.DataType) -> str:
        if value is None:
            return "-"
        if dtype in (pl.Float64, pl.Float32):
            f = float(value)  # type: ignore[arg-type]
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


__all__ = [
    "ALS",
    "BEST",
    "CONTENT",
    "DUMP_NAMES",
    "HYBRID",
    "METRICS",
    "MODELS",
    "POPULARITY",
    "POPULARITY_IMDB",
    "SUMMARY",
    "EvaluationConfig",
    "EvaluationResult",
    "app_data_stamp",
    "app_ratings",
    "catalogue_stamp",
    "dump",
    "evaluate_catalogue",
    "evaluation_ratings",
    "metric_label",
    "render_text",
    "run_evaluation",
]
