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
of positives by time (at least 1) are held out (``temporal``, the default), or the last one
(``loo``), or a seeded random 20% (``random``); users with fewer than 5 positives are not tested;
each user's training items are excluded from their ranking; items are ranked over every item seen
in training (no sampled negatives).

**Models**, each fitted once on the training part only:

- ``popularity``: the classic baseline, ``ln(1 + positives)`` per item in the training part;
- ``popularity (IMDb)``: the app's popularity signal (Bayesian IMDb rating x log votes);
- ``content``: TF-IDF cosine to the profile (reused from the trained model when it was fitted on
  this very catalogue: it depends on the catalogue only, never on ratings);
- ``ALS``: implicit ALS with the given hyperparameters, trained on the training ratings;
- ``hybrid (current)``: the blend with the weights the feed uses now;
- ``hybrid (best sweep step)``: the sweep step that scored best on the chosen metric. It is chosen
  on the test users themselves, so its figure is optimistic; confirm it with another protocol or
  seed before trusting a small gain.

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

import numpy as np
import polars as pl

from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.columns import Columns as C
from recsys.errors import EvaluationError, ModelError
from recsys.evaluation.scoring import (
    EvalResult,
    SplitIndex,
    component_scores,
    evaluate,
    hybrid_fn,
    scorer_fn,
)
from recsys.evaluation.significance import Significance, compare
from recsys.evaluation.splits import PROTOCOLS, Split, SplitError, split
from recsys.evaluation.sweep import best_step, content_weights, run_sweep, step_label, step_weights
from recsys.models.als import ALSConfig, ALSScorer, blas_single_thread
from recsys.models.content import TfidfConfig, TfidfScorer
from recsys.models.hybrid import HybridConfig, WeightedHybrid, check_weights, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.models.service import Recommender
    from recsys.store import Store

log = logging.getLogger(__name__)

Weights = tuple[float, float, float]

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
POPULARITY_IMDB = "popularity (IMDb)"
CONTENT = "content"
ALS = "ALS"
HYBRID = "hybrid (current)"
BEST = "hybrid (best sweep step)"
MODELS = (POPULARITY, POPULARITY_IMDB, CONTENT, ALS, HYBRID, BEST)
#: file name (without .parquet) of each model's top-K lists in a dump
DUMP_NAMES = {
    POPULARITY: "popularity",
    POPULARITY_IMDB: "popularity_imdb",
    CONTENT: "content",
    ALS: "als",
    HYBRID: "hybrid",
    BEST: "hybrid_best",
}
_STAGE_DATA = "evaluation: loading data"
_STAGE_FIT = "evaluation: fitting models"
_STAGE_MODELS = "evaluation: models"

_ALS_DEFAULTS = ALSConfig()


def metric_label(metric: str, k: int) -> str:
    """Display name: ``"NDCG@10"`` for ranking metrics, ``"Coverage"`` etc. for list measures."""
    name = _LABELS.get(metric, metric)
    return f"{name}@{k}" if metric in METRICS else name


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that determines an evaluation's figures (the page's controls, the CLI's flags).

    ``weights``: the current hybrid weights (content, ALS, popularity); ``None`` means the
    defaults of :class:`~recsys.models.hybrid.HybridConfig` (callers pass the live weights).
    ``sweep``: ``(start, stop, step)`` of the content weight. ``factors`` .. ``iterations``: the ALS
    hyperparameters. ``seed``: the random protocol's seed. ``compare``: the configurations of
    the default significance test (``None``: best sweep step vs the current hybrid).
    ``measure_plain``: also time one plain evaluation of the current hybrid (scoring every user
    from scratch) to compare the sweep's cost with.
    """

    protocol: str = "temporal"
    k: int = 10
    metric: str = "ndcg"
    sweep: tuple[float, float, float] = (0.0, 1.0, 0.1)
    popularity_weight: float = 0.1
    weights: Weights | None = None
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
        return self.weights if self.weights is not None else HybridConfig().weights

    def content_weights(self) -> list[float]:
        return content_weights(*self.sweep)

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
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("sweep", "weights", "compare"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def key(self) -> str:
        """A stable text form (cache keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass
class EvaluationResult:
    """One run's figures. ``models``: a row per model (:data:`MODELS`) with its blend weights
    (null for models outside the hybrid) and every summary figure (:data:`SUMMARY`); ``sweep``: a
    row per sweep step; ``best``: the best step's row in ``sweep``; ``per_user``: per configuration
    (model names and sweep step labels) the per-user metric values, for significance tests;
    ``tops``: each model's top-K list per tested user; ``test``: the held-out positives
    ``[user_id, tconst]``; ``timings`` in seconds."""

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
    plain_matches: bool | None = None

    @property
    def best_weights(self) -> Weights:
        row = self.sweep.row(self.best, named=True)
        return (row["content_weight"], row["als_weight"], row["popularity_weight"])

    def best_value(self, metric: str | None = None) -> float:
        return float(self.sweep[metric or self.config.metric][self.best])

    def model_value(self, model: str, metric: str | None = None) -> float:
        return float(self.models.filter(pl.col("model") == model)[metric or self.config.metric][0])

    def baseline(self, metric: str | None = None) -> float:
        """The popularity baseline's value of ``metric`` (the chart's reference line)."""
        return self.model_value(POPULARITY, metric)

    @property
    def configurations(self) -> list[str]:
        """Names usable in :meth:`compare`: the models, then the sweep steps."""
        return list(self.per_user)

    def compare(self, a: str, b: str, metric: str | None = None) -> Significance:
        """Per-user paired Wilcoxon signed-rank test between two configurations."""
        metric = metric or self.config.metric
        return compare(self.per_user, a, b, metric, user_col=USER, label=metric_label(metric, self.config.k))

    def models_table(self) -> pl.DataFrame:
        """The models x metrics table as shown (the page and the CLI render this frame)."""
        return _display(self.models, "model", self.config.k)

    def sweep_table(self) -> pl.DataFrame:
        """The sweep as shown, with the best step marked."""
        frame = _display(self.sweep.drop("model"), None, self.config.k)
        return frame.with_columns(
            pl.Series("best", ["◀ best" if i == self.best else "" for i in range(self.sweep.height)])
        )

    def headline(self) -> str:
        """One line: what was evaluated."""
        c = self.counts
        cfg = self.config
        source = "MovieLens + app ratings" if cfg.with_app_data else "MovieLens ratings"
        app = f" ({c['app_users']} app users)" if cfg.with_app_data else ""
        return (
            f"{source}, {cfg.protocol} protocol, K={cfg.k}: {c['users']:,} tested users{app}, "
            f"{c['items']:,} ranked items, {c['train']:,} training ratings, {c['test']:,} held-out positives."
        )

    def best_line(self) -> str:
        c, a, p = self.best_weights
        label = metric_label(self.config.metric, self.config.k)
        return (
            f"Best step by {label}: content {c:.2f}, ALS {a:.2f}, popularity {p:.2f} -> "
            f"{self.best_value():.4f} (popularity baseline {self.baseline():.4f}, current hybrid "
            f"{self.model_value(HYBRID):.4f})."
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
        return {
            "config": self.config.to_dict(),
            "weights": list(self.weights),
            "normalisation": self.normalisation,
            "counts": dict(self.counts),
            "content_model": self.content_source,
            "models": _rows(self.models),
            "sweep": _rows(self.sweep.drop("model")),
            "best": {
                "index": self.best,
                "weights": list(self.best_weights),
                "metric": self.config.metric,
                "value": self.best_value(),
            },
            "baseline": {"model": POPULARITY, "value": self.baseline()},
            "significance": self.significance.to_dict(),
            "timings": dict(self.timings),
            "plain_matches": self.plain_matches,
        }


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def _display(frame: pl.DataFrame, name_col: str | None, k: int) -> pl.DataFrame:
    def weight(col: str) -> pl.Expr:
        return pl.col(col).round(2)

    cols: list[pl.Expr] = []
    if name_col:
        cols.append(pl.col(name_col).alias("Model"))
    cols += [
        weight("content_weight").alias("Content w"),
        weight("als_weight").alias("ALS w"),
        weight("popularity_weight").alias("Pop w"),
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
    content model is reused when it was fitted on this catalogue (as the page and the CLI do)."""
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
    content: TfidfScorer | None = None
    source = "fitted for this run"
    tfidf = TfidfConfig()
    normalisation = HybridConfig().normalisation
    als_base: ALSConfig | None = None
    if recommender is not None:
        tfidf = recommender.config.tfidf
        normalisation = recommender.config.hybrid.normalisation
        als_base = recommender.config.als
        if recommender.catalogue == catalogue_fingerprint(titles):
            content = recommender.hybrid.content
            source = f"reused from model {recommender.version}"
        else:
            log.info("the trained model predates this catalogue: fitting a content model for the run")
    progress(_STAGE_DATA, 2, 2)
    return run_evaluation(
        titles,
        ratings,
        config,
        content=content,
        tfidf=tfidf,
        normalisation=normalisation,
        als_base=als_base,
        content_source=source,
        progress=progress,
    )


def run_evaluation(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    config: EvaluationConfig,
    *,
    content: TfidfScorer | None = None,
    tfidf: TfidfConfig | None = None,
    normalisation: str = "zscore",
    als_base: ALSConfig | None = None,
    content_source: str = "fitted for this run",
    progress: Progress | None = None,
) -> EvaluationResult:
    """Split ``ratings`` ``[ml_user_id, tconst, rating, timestamp]`` with ``config``'s protocol,
    fit the models on the training part, evaluate them side by side and sweep the hybrid weights;
    see the module docstring. ``content``: an already fitted content model to reuse (it must not
    have seen the ratings, which TF-IDF over the catalogue never does)."""
    progress = progress or null_progress
    if config.compare is not None:
        p = config.popularity_weight
        known = [*MODELS, *(step_label(step_weights(c, p)) for c in config.content_weights())]
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
    except SplitError as exc:
        raise EvaluationError(str(exc)) from None
    if not sp.users:
        hint = "" if config.with_app_data else " or include the app's ratings (--with-app-data)"
        raise EvaluationError(
            f"No user has {config.min_positives} or more positive ratings (>= 4) to test; add ratings{hint}."
        )
    index = SplitIndex(sp)
    k = config.k
    genres = _genres(titles)
    timings["split_s"] = time.perf_counter() - started

    # --- fit, once, on the training part
    progress(_STAGE_FIT, 0, 3)
    t0 = time.perf_counter()
    if content is None:
        content = TfidfScorer(tfidf).fit(titles)
        timings["fit_content_s"] = time.perf_counter() - t0
    progress(_STAGE_FIT, 1, 3)
    t0 = time.perf_counter()
    als = ALSScorer(config.als_config(als_base)).fit(sp.train, progress=progress)
    timings["fit_als_s"] = time.perf_counter() - t0
    progress(_STAGE_FIT, 2, 3)
    imdb = PopularityScorer(PopularityConfig(source="imdb")).fit(titles)
    counted = PopularityScorer(PopularityConfig(source="interactions")).fit(movielens_ratings=sp.train)
    blend = HybridConfig(config.hybrid_weights, normalisation)  # type: ignore[arg-type]
    hybrid = WeightedHybrid(content, als, imdb, blend)
    progress(_STAGE_FIT, 3, 3)

    results: dict[str, EvalResult] = {}
    with blas_single_thread():
        # --- each scorer's scores once per user; single-scorer models rank them as they are
        t0 = time.perf_counter()
        comps = component_scores(hybrid, index, progress)
        timings["scoring_s"] = time.perf_counter() - t0
        progress(_STAGE_MODELS, 0, 5)
        results[POPULARITY] = evaluate(index, scorer_fn(counted, index), k, genres=genres)
        for i, name in enumerate((CONTENT, ALS, POPULARITY_IMDB)):
            part = {CONTENT: 0, ALS: 1, POPULARITY_IMDB: 2}[name]
            results[name] = evaluate(index, _component_fn(comps, part), k, genres=genres)
            progress(_STAGE_MODELS, i + 2, 5)
        # --- normalise once (in place: the raw scores are not needed any more)
        t0 = time.perf_counter()
        for user, parts in comps.items():
            comps[user] = [normalise(p, normalisation) for p in parts]  # type: ignore[arg-type]
        timings["normalise_s"] = time.perf_counter() - t0
        results[HYBRID] = evaluate(index, hybrid_fn(comps, config.hybrid_weights), k, genres=genres)
        progress(_STAGE_MODELS, 5, 5)
        # --- the sweep re-blends the same normalised scores
        t0 = time.perf_counter()
        steps = run_sweep(
            index,
            comps,
            config.content_weights(),
            config.popularity_weight,
            k,
            genres=genres,
            progress=progress,
        )
        timings["sweep_steps_s"] = time.perf_counter() - t0
        timings["sweep_s"] = timings["scoring_s"] + timings["normalise_s"] + timings["sweep_steps_s"]
        del comps
        plain_matches: bool | None = None
        if config.measure_plain:
            t0 = time.perf_counter()
            plain = evaluate(index, scorer_fn(hybrid, index), k, genres=genres)
            timings["plain_hybrid_s"] = time.perf_counter() - t0
            plain_matches = plain.top == results[HYBRID].top
            if not plain_matches:
                log.warning("the plain hybrid evaluation differs from the re-blended one")

    best = best_step([r.summary[config.metric] for _, r in steps])
    results[BEST] = steps[best][1]
    weights_of: dict[str, Weights | None] = {
        POPULARITY: None,
        POPULARITY_IMDB: (0.0, 0.0, 1.0),
        CONTENT: (1.0, 0.0, 0.0),
        ALS: (0.0, 1.0, 0.0),
        HYBRID: config.hybrid_weights,
        BEST: steps[best][0],
    }
    models = _summary_frame([(name, weights_of[name], results[name]) for name in MODELS])
    sweep = _summary_frame([(step_label(w), w, r) for w, r in steps])
    per_user = {name: results[name].per_user for name in MODELS}
    for w, r in steps:
        per_user.setdefault(step_label(w), r.per_user)
    a, b = config.compare or (BEST, HYBRID)
    significance = compare(per_user, a, b, config.metric, user_col=USER, label=metric_label(config.metric, k))
    timings["total_s"] = time.perf_counter() - started
    counts = {
        "users": len(sp.users),
        "app_users": sum(1 for u in sp.users if u < 0),
        "items": len(sp.items),
        "train": sp.train.height,
        "test": sp.test.height,
    }
    log.info(
        "evaluated %d users: sweep of %d steps in %.2fs (total %.2fs)",
        counts["users"], len(steps), timings["sweep_s"], timings["total_s"],
    )
    return EvaluationResult(
        config=config,
        weights=config.hybrid_weights,
        normalisation=normalisation,
        counts=counts,
        models=models,
        sweep=sweep,
        best=best,
        per_user=per_user,
        tops={name: results[name].top for name in MODELS},
        test=_test_frame(sp),
        significance=significance,
        timings=timings,
        content_source=content_source,
        plain_matches=plain_matches,
    )


def _component_fn(comps: Mapping[int, list[np.ndarray]], part: int):  # type: ignore[no-untyped-def]
    def fn(user: int, history: pl.DataFrame) -> np.ndarray:
        return comps[user][part]

    return fn


def _genres(titles: pl.DataFrame) -> dict[str, list[str]]:
    if C.GENRES not in titles.columns:
        return {}
    pairs = zip(titles[C.TCONST].to_list(), titles[C.GENRES].to_list(), strict=True)
    return {t: list(g or ()) for t, g in pairs}


def _summary_frame(rows: Sequence[tuple[str, Weights | None, EvalResult]]) -> pl.DataFrame:
    out = []
    for name, w, r in rows:
        row: dict[str, Any] = {
            "model": name,
            "content_weight": None if w is None else w[0],
            "als_weight": None if w is None else w[1],
            "popularity_weight": None if w is None else w[2],
        }
        row.update({m: float(r.summary.get(m, math.nan)) for m in SUMMARY})
        out.append(row)
    schema: dict[str, pl.DataType] = {"model": pl.String()}
    schema.update({c: pl.Float64() for c in ("content_weight", "als_weight", "popularity_weight", *SUMMARY)})
    return pl.DataFrame(out, schema=schema)


def _test_frame(sp: Split) -> pl.DataFrame:
    return sp.test.select(
        pl.col(sp.user_col).cast(pl.Int64).alias(C.USER_ID), pl.col(sp.item_col).alias(C.TCONST)
    ).sort(C.USER_ID, C.TCONST)


# --- output ------------------------------------------------------------------------------------


def dump(result: EvaluationResult, directory: Path) -> list[Path]:
    """Write the figures' raw material as Parquet so they can be recomputed independently:
    ``test.parquet`` ``[user_id, tconst]`` (held-out positives of every tested user), one
    ``<model>.parquet`` ``[user_id, tconst, rank]`` per model (:data:`DUMP_NAMES`; rank 1 = best;
    a tested user with no recommendation has no rows) and ``summary.json`` (``to_dict``).
    App users appear with negative ids."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / "test.parquet"]
        result.test.write_parquet(written[0])
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
            path = directory / f"{DUMP_NAMES[model]}.parquet"
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
    lines += [_text_table(result.models_table()), ""]
    c0, c1, step = result.config.sweep
    lines += [
        f"Weight sweep: content {c0:g}..{c1:g} step {step:g}, ALS = 1 - content, "
        f"popularity {result.config.popularity_weight:g}",
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
