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

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from recsys.catalog.build import MOVIELENS_PARQUET
from recsys.columns import Columns as C
from recsys.errors import CineBlendError, EvaluationError
from recsys.evaluation import metrics as M
from recsys.evaluation import segments as S
from recsys.evaluation import served as served_mod
from recsys.evaluation.config import (
    ALS,
    BEST,
    CONTENT,
    DUMP_NAMES,
    HYBRID,
    LIST_MEASURES,
    METRICS,
    MODELS,
    POPULARITY,
    POPULARITY_IMDB,
    SERVED,
    STAGES,
    SUMMARY,
    USER,
    EvaluationConfig,
    dump_names,
    model_names,
    weight_column,
)
from recsys.evaluation.data import (
    app_data_stamp,
    app_ratings,
    catalogue_stamp,
    evaluation_ratings,
    sampled_movielens,
)
from recsys.evaluation.grid import ALL_USERS, grid_frame, grid_points
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.newuser import NewUserConfig, onboarding
from recsys.evaluation.report import render_text
from recsys.evaluation.results import EvaluationResult, StageResult, dump
from recsys.evaluation.scoring import (
    ComponentScorer,
    EvalResult,
    Ranking,
    SplitIndex,
    block_size,
    component_fn,
    evaluate,
    hybrid_fn,
    scorer_fn,
)
from recsys.evaluation.significance import compare
from recsys.evaluation.splits import Split, SplitError, split, validation_split
from recsys.evaluation.sweep import best_step, step_label
from recsys.evaluation.sweep import recommend as recommend_step
from recsys.evaluation.taste import TasteContext
from recsys.models import registry
from recsys.models.als import blas_single_thread
from recsys.models.base import Scorer, TrainingData
from recsys.models.config import RecommenderConfig, catalogue_fingerprint
from recsys.models.hybrid import HybridConfig, Normalisation, WeightedHybrid, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.models.registry import Weights
from recsys.models.rerank.registry import Strengths
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.models.service import Recommender
    from recsys.store import Store

log = logging.getLogger(__name__)

_STAGE_DATA = "evaluation: loading data"
_STAGE_FIT = "evaluation: fitting models"
_STAGE_MODELS = "evaluation: models"
_STAGE_SEGMENTS = "evaluation: segments and new users"
_STAGE_DEEP = "evaluation: served lists at the longest cut-off"
#: A split's users scored (every model, setting, step and cell), block after block.
STAGE_USERS = "evaluation: scoring users"


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
    progress = progress or null_progress
    progress(_STAGE_DATA, 0, 2)
    titles = catalog.all_titles()
    ids = titles[C.TCONST].to_list()
    app = None
    if config.with_app_data:
        if store is None:
            raise EvaluationError("App data was asked for but no store is open; check DATABASE_URL.")
        app = app_ratings(store.all_interactions(), ids)
    if config.tv_only:  # MovieLens has no TV: the app's ratings of TV titles, TV titles ranked
        titles = titles.filter(pl.col(C.KIND) == "tv")
        ids = titles[C.TCONST].to_list()
        ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True).clear(), app, ids)
    elif config.sample_users is not None and app is None and catalog.has_movielens:
        # a quick run on a big dataset: read only the sampled users' ratings (lazily, polars)
        sample = sampled_movielens(
            catalog.parquet_dir / MOVIELENS_PARQUET, config.sample_users, config.min_positives, config.seed
        )
        ratings = evaluation_ratings(sample, None, ids)
    else:
        ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True), app, ids)
    progress(_STAGE_DATA, 1, 2)
    reuse: dict[str, Scorer] = {}
    source = "fitted for this run"
    configs: dict[str, Any] = {}
    normalisation = HybridConfig().normalisation
    if recommender is not None:
        configs = {name: recommender.config.scorer_config(name) for name in registry.names()}
        normalisation = recommender.config.hybrid.normalisation
        if recommender.catalogue == catalogue_fingerprint(titles) and not config.tv_only:
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
    normalisation: Normalisation = "zscore",
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
                raise EvaluationError(f"Unknown configuration {name!r} to compare; choose from: {', '.join(known)}.")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if config.sample_users is not None:
        ratings = sample_users(ratings, config.sample_users, config.min_positives, config.seed)
    try:
        sp = split(
            ratings,
            config.protocol,
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
    everyone: dict[str, EvalResult | None] = {}  # the chosen step on every user of a sampled sweep
    grid_on = "validation" if val is not None and val.users else "test"
    chosen_stages: Strengths | None = None  # the ranking stages' strengths, chosen on validation
    for stage, part in (("validation", val), ("test", sp)):
        if part is None or not part.users:
            continue
        stages[stage], everyone[stage] = _run_stage(
            stage,
            part,
            titles,
            tags,
            fixed,
            configs,
            weights,
            steps,
            normalisation,
            config,
            genres,
            timings,
            progress,
            with_grid=stage == grid_on,
            served=chosen_stages,
        )
        chosen_stages = stages[stage].stages
    result_test = stages["test"]
    chosen_on = "validation" if "validation" in stages else "test"
    chooser = stages[chosen_on]
    best = best_step(chooser.sweep[config.metric].to_list())
    best_row = result_test.sweep.row(best, named=True)
    # the BEST row of each stage is the validation-chosen step, evaluated on that stage (on every
    # user of it, also when the sweep scored a sample)
    for stage, res in stages.items():
        _set_best(res, best, config, everyone.get(stage))
    advice = _advice(chooser, best, config)
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
    train = _train_frame(sp)
    segments: dict[str, Any] | None = None
    if config.segments:
        t0 = time.perf_counter()
        progress(_STAGE_SEGMENTS, 0, 1)
        shown = [m for m in model_names() if m in result_test.per_user]
        segments = {
            "activity": S.activity_table(result_test.per_user, train, USER, shown),
            "popularity": S.popularity_table(result_test.tops, sp.relevant(), S.popularity_bands(train), shown),
            "new_user": None,
        }
        if config.new_user_draws:
            base = RecommenderConfig(scorers=configs, hybrid=HybridConfig(weights, normalisation))
            # at most half the testable users leave training, so ALS keeps users to learn from
            drawn = min(NewUserConfig().users, max(1, len(sp.users) // 2))
            nu = NewUserConfig(draws=config.new_user_draws, k=config.k, seed=config.seed, users=drawn)
            try:
                segments["new_user"] = {
                    "likes": nu.likes,
                    "genres": nu.genres,
                    "draws": nu.draws,
                    "users": nu.users,
                    "lists": onboarding(titles, ratings, nu, base=base, reuse=fixed, progress=progress),
                }
            except (CineBlendError, ValueError) as exc:
                log.info("no new-user simulation: %s", exc)
        progress(_STAGE_SEGMENTS, 1, 1)
        timings["segments_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    counts = dict(result_test.counts)
    counts["dropped"] = sp.dropped
    counts["validation_users"] = len(val.users) if val is not None else 0
    log.info(
        "evaluated %d users: best step %s chosen on %s, total %.2fs",
        counts["users"],
        best_row.get("model"),
        chosen_on,
        timings["total_s"],
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
        train=train,
        plain_matches=plain_matches,
        segments=segments,
        grid=stages[grid_on].grid,
        grid_on=grid_on,
        stages=result_test.stages,
        stage_grid=stages[chosen_on].stage_grid,
        stages_on=chosen_on,
        recommendation=advice,
        at_k=result_test.at_k,
        lists=result_test.lists,
    )


def _advice(chooser: StageResult, best: int, config: EvaluationConfig) -> dict[str, Any]:
    """:func:`recsys.evaluation.sweep.recommend` on the choosing split: the best step against the
    live weights (the HYBRID row), per user."""
    metric = config.metric
    pair = (
        chooser.per_user[BEST]
        .select(USER, metric)
        .join(chooser.per_user[HYBRID].select(USER, pl.col(metric).alias("live")), on=USER, how="inner")
    )
    return recommend_step(best, config.live_step(), pair[metric].to_list(), pair["live"].to_list())


def _fit_hybrid(
    part: Split,
    titles: pl.DataFrame,
    tags: pl.DataFrame | None,
    fixed: Mapping[str, Scorer],
    configs: Mapping[str, Any],
    weights: Weights,
    normalisation: Normalisation,
    progress: Progress | None = None,
) -> WeightedHybrid:
    """The hybrid for one split: catalogue-only scorers shared, the others fitted on its train."""
    data = TrainingData(titles=titles, ratings=part.train, tags=tags)
    scorers = registry.fit_scorers(data, configs, fixed, progress)
    return WeightedHybrid(scorers, HybridConfig(weights, normalisation))


def sweep_sample(users: Sequence[int], n: int | None, seed: int) -> list[int]:
    """The users the sweep, the grid and the stage settings score on a validation split: every
    user when ``n`` is None or covers them, else a seeded sample of ``n`` (in ``users``' order).
    The same ``(users, n, seed)`` gives the same sample."""
    if n is None or len(users) <= n:
        return list(users)
    picked = np.sort(np.random.default_rng(seed).choice(len(users), size=n, replace=False))
    return [users[i] for i in picked.tolist()]


@dataclass
class _Blended:
    """One blended configuration scored block by block: a sweep step, a grid cell, a ranking
    stages setting (``strengths``) or the served lists at the longest cut-off (``depth``)."""

    ranking: Ranking
    weights: Mapping[str, float]
    strengths: Strengths | None = None
    depth: int | None = None


def _run_stage(
    stage: str,
    part: Split,
    titles: pl.DataFrame,
    tags: pl.DataFrame | None,
    fixed: Mapping[str, Scorer],
    configs: Mapping[str, Any],
    weights: Weights,
    steps: Sequence[Weights],
    normalisation: Normalisation,
    config: EvaluationConfig,
    genres: Mapping[str, Sequence[str]],
    timings: dict[str, float],
    progress: Progress,
    *,
    with_grid: bool = False,
    served: Strengths | None = None,
) -> tuple[StageResult, EvalResult | None]:
    """Fit, score, evaluate every model and every sweep step (and, ``with_grid``, every cell of
    the 2-D weight grid) on one split. The served row ranks with the stage strengths ``served``,
    or, when None, with the strongest setting of the stage grid within 2% of the best NDCG on
    this split (:mod:`recsys.evaluation.served`).

    Users are scored a block at a time (:func:`block_size`): every model, setting, step and cell
    ranks the block's users, then its scores are dropped. On validation with more users than
    ``config.sweep_users``, the steps, cells and settings rank a seeded sample of them
    (:func:`sweep_sample`, scored first); the setting, step and cell chosen on the sample then rank
    every other user too. Returns the stage and, when sampled, the chosen step on every user."""
    k = config.k
    at_ks = config.cutoffs if stage == "test" else ()  # every model on test, ranked once at the longest
    index = SplitIndex(part)
    t0 = time.perf_counter()
    hybrid = _fit_hybrid(part, titles, tags, fixed, configs, weights, normalisation, progress)
    counted = PopularityScorer(PopularityConfig(source="interactions")).fit_frames(movielens_ratings=part.train)
    timings[f"{stage}_fit_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    taste = TasteContext.build(part, titles)  # the taste metrics' lookups, once for every model and step
    timings[f"{stage}_taste_s"] = time.perf_counter() - t0
    for key in ("scoring_s", "models_s", "normalise_s", "stages_s", "sweep_steps_s"):
        timings.setdefault(key, 0.0)
    users = part.users
    sample = sweep_sample(users, config.sweep_users, config.seed) if stage == "validation" else list(users)
    chosen_set = set(sample)
    rest = [u for u in users if u not in chosen_set] if len(sample) < len(users) else []
    names = list(registry.SCORERS)
    models = {POPULARITY: Ranking(index, k, genres=genres, taste=taste, at_ks=at_ks)}
    models |= {registry.SCORERS[n].model: Ranking(index, k, genres=genres, taste=taste, at_ks=at_ks) for n in names}
    models[HYBRID] = Ranking(index, k, genres=genres, taste=taste, at_ks=at_ks)
    settings = [dict(served)] if served is not None else served_mod.strength_grid()
    served_jobs = [_Blended(Ranking(index, k, genres=genres, taste=taste), weights, strengths=s) for s in settings]
    deep = max(at_ks) if at_ks else None
    deep_job = (
        _Blended(Ranking(index, deep, at_ks=at_ks), weights, strengths=served, depth=deep)
        if deep is not None and served is not None
        else None
    )
    step_jobs = [_Blended(Ranking(index, k, genres=genres, taste=taste, at_ks=at_ks), w) for w in steps]
    cells = grid_points(config.grid, config.grid_step, weights) if with_grid and config.grid is not None else []
    cell_jobs = [_Blended(Ranking(index, k), w) for w in cells]
    facts = served_mod.ItemFacts.of(index, titles)
    counted_fn = scorer_fn(counted, index)
    scorer = ComponentScorer(hybrid, index)
    size = block_size(len(hybrid.scorers), len(part.items), len(users))
    total = len(users)
    done = 0

    def run_block(
        block: list[int],
        served_list: Sequence[_Blended],
        step_list: Sequence[_Blended],
        cell_list: Sequence[_Blended],
        with_models: bool = True,
    ) -> None:
        nonlocal done
        progress(f"{STAGE_USERS} ({stage})", done, total)  # the lab's progress: users scored
        t0 = time.perf_counter()
        comps = scorer(block)
        timings["scoring_s"] += time.perf_counter() - t0
        if with_models:
            t0 = time.perf_counter()
            models[POPULARITY].add(counted_fn, block)
            for name in names:
                models[registry.SCORERS[name].model].add(component_fn(comps, name), block)
            timings["models_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for user in block:
            comps[user] = {n: normalise(p, normalisation) for n, p in comps[user].items()}
        timings["normalise_s"] += time.perf_counter() - t0
        if with_models:
            t0 = time.perf_counter()
            models[HYBRID].add(hybrid_fn(comps, weights), block)
            timings["models_s"] += time.perf_counter() - t0
        tastes: dict[int, Any] = {}  # each user's taste, shared by the settings of this block
        for job in served_list:
            assert job.strengths is not None
            t0 = time.perf_counter()
            fn = served_mod.served_fn(index, comps, job.weights, facts, job.strengths, job.depth or k, tastes)
            job.ranking.add(fn, block)
            key = "served_at_ks_s" if job.depth else "stages_s"
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
        for jobs, key in ((step_list, "sweep_steps_s"), (cell_list, "grid_s")):
            if not jobs:
                continue
            t0 = time.perf_counter()
            for job in jobs:
                job.ranking.add(hybrid_fn(comps, job.weights), block)
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
        done += len(block)
        progress(f"{STAGE_USERS} ({stage})", done, total)

    with blas_single_thread():
        # 1. the sample (every user when not sampled): every model, setting, step and cell
        for i in range(0, len(sample), size):
            block = sample[i : i + size]
            run_block(block, served_jobs + ([deep_job] if deep_job else []), step_jobs, cell_jobs)
        served_results = [job.ranking.result() for job in served_jobs]
        if served is not None:
            best_setting = 0
        else:
            best_setting = served_mod.choose(settings, [r.summary["ndcg"] for r in served_results])
        step_results = [job.ranking.result() for job in step_jobs]
        best = best_step([r.summary.get(config.metric, math.nan) for r in step_results])
        cell_results = [job.ranking.result() for job in cell_jobs]
        best_cell = best_step([r.summary.get(config.metric, math.nan) for r in cell_results]) if cells else None
        # 2. the other users: every model, and the setting, step and cell chosen on the sample
        full_served = _Blended(served_jobs[best_setting].ranking.copy(), weights, strengths=settings[best_setting])
        full_step = _Blended(step_jobs[best].ranking.copy(), steps[best]) if step_jobs else None
        full_cell = _Blended(cell_jobs[best_cell].ranking.copy(), cells[best_cell]) if best_cell is not None else None
        for i in range(0, len(rest), size):
            block = rest[i : i + size]
            run_block(
                block,
                [full_served] + ([deep_job] if deep_job else []),
                [full_step] if full_step else [],
                [full_cell] if full_cell else [],
            )
        chosen = settings[best_setting]
        if deep is not None and deep_job is None:
            # the stages re-rank a list of length K: the served lists at the longest cut-off are
            # ranked by the chosen setting at that length (one more pass, chosen on this split)
            deep_job = _Blended(Ranking(index, deep, at_ks=at_ks), weights, strengths=chosen, depth=deep)
            progress(_STAGE_DEEP, 0, 1)
            done = 0
            for i in range(0, len(users), size):
                run_block(users[i : i + size], [deep_job], [], [], with_models=False)
            progress(_STAGE_DEEP, 1, 1)
    results: dict[str, EvalResult] = {name: r.result() for name, r in models.items()}
    results[SERVED] = full_served.ranking.result() if rest else served_results[best_setting]
    if deep_job is not None:
        longer = deep_job.ranking.result()
        results[SERVED].at_k, results[SERVED].top_long = longer.at_k, longer.top
    stage_grid = None if served is not None else _stage_table(settings, served_results, best_setting)
    swept = list(zip(steps, step_results, strict=True))
    grid = None
    if with_grid and config.grid is not None:
        grid = grid_frame(config.grid, cells, cell_results, M.ranking_metrics())
        if full_cell is not None and rest and best_cell is not None:
            everyone = full_cell.ranking.result().summary.get(config.metric, math.nan)
            grid = grid.with_columns(
                pl.when(pl.int_range(pl.len()) == best_cell).then(everyone).otherwise(None).alias(ALL_USERS)
            )
    best_everyone = full_step.ranking.result() if rest and full_step is not None else None
    timings["sweep_s"] = timings["scoring_s"] + timings["normalise_s"] + timings["sweep_steps_s"]
    weights_of: dict[str, Mapping[str, float] | None] = {POPULARITY: None, HYBRID: weights, SERVED: weights}
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
    if rest:
        counts["sweep_users"] = len(sample)
    all_results = dict(results) | {f"__step{i}": r for i, (_, r) in enumerate(swept)}
    return StageResult(
        models=_summary_frame(rows),
        sweep=_summary_frame([(step_label(w), w, r) for w, r in swept]),
        per_user=per_user,
        tops={name: r.top for name, r in all_results.items()},
        counts=counts,
        grid=grid,
        stages=dict(chosen),
        stage_grid=stage_grid,
        at_k={name: r.at_k for name, r in all_results.items() if r.at_k},
        lists={name: (r.top_long or r.top) for name, r in all_results.items()},
    ), best_everyone


def _stage_table(settings: Sequence[Strengths], results: Sequence[EvalResult], best: int) -> pl.DataFrame:
    """The ranking stages' grid: one row per setting, its figures and whether it was chosen."""
    return pl.DataFrame(
        [
            {
                "stages": served_mod.label(s),
                **{f"{n}_strength": v for n, v in s.items()},
                **{m: (None if math.isnan(v) else v) for m, v in r.summary.items()},
                "chosen": i == best,
            }
            for i, (s, r) in enumerate(zip(settings, results, strict=True))
        ]
    )


def sample_users(ratings: pl.DataFrame, n: int, min_positives: int, seed: int) -> pl.DataFrame:
    """The ratings of a seeded sample of ``n`` users among those with ``min_positives`` or more
    positives (ratings >= 4), the users who can be tested; every user when there are fewer.
    The same ``(n, seed)`` on the same data draws the same users."""
    positives = (
        ratings.filter(pl.col("rating") >= 4).group_by(USER).len().filter(pl.col("len") >= min_positives)[USER].sort()
    )
    if positives.len() <= n:
        return ratings.filter(pl.col(USER).is_in(positives.implode()))
    chosen = positives.sample(n, seed=seed, shuffle=False)
    return ratings.filter(pl.col(USER).is_in(chosen.implode()))


def _set_best(res: StageResult, best: int, config: EvaluationConfig, everyone: EvalResult | None = None) -> None:
    """Append the BEST row (the chosen step's figures on this split) and its lists; ``everyone``:
    the step's result on every user when the sweep scored a sample of them."""
    step = res.sweep.row(best, named=True)
    row = res.sweep.slice(best, 1).with_columns(pl.lit(BEST).alias("model"))
    if everyone is not None:
        weights = {n: float(step[weight_column(n)] or 0.0) for n in registry.SCORERS}
        row = _summary_frame([(BEST, weights, everyone)])
    order = {name: i for i, name in enumerate(model_names())}
    res.models = pl.concat([res.models, row.select(res.models.columns)]).sort(
        pl.col("model").replace_strict(order, default=len(order)), maintain_order=True
    )
    res.per_user[BEST] = res.per_user[str(step["model"])] if everyone is None else everyone.per_user
    res.tops[BEST] = res.tops.pop(f"__step{best}") if everyone is None else everyone.top
    step_key = f"__step{best}"
    if everyone is not None:
        res.lists[step_key] = everyone.top_long or everyone.top
    if step_key in res.at_k:
        res.at_k[BEST] = res.at_k[step_key]
    if step_key in res.lists:
        res.lists[BEST] = res.lists[step_key]
    for mapping in (res.tops, res.at_k, res.lists):
        for key in [k for k in mapping if k.startswith("__step")]:
            del mapping[key]


def _genres(titles: pl.DataFrame) -> dict[str, list[str]]:
    if C.GENRES not in titles.columns:
        return {}
    pairs = zip(titles[C.TCONST].to_list(), titles[C.GENRES].to_list(), strict=True)
    return {t: list(g or ()) for t, g in pairs}


def _summary_frame(rows: Sequence[tuple[str, Mapping[str, float] | None, EvalResult]]) -> pl.DataFrame:
    scorers = list(registry.SCORERS)
    summary = M.summary_names()
    out = []
    for name, w, r in rows:
        row: dict[str, Any] = {"model": name}
        for n in scorers:
            row[weight_column(n)] = None if w is None else float(w.get(n, 0.0))
        row.update({m: float(r.summary.get(m, math.nan)) for m in summary})
        out.append(row)
    schema: dict[str, pl.DataType] = {"model": pl.String()}
    schema.update({c: pl.Float64() for c in (*(weight_column(n) for n in scorers), *summary)})
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


__all__ = [
    "ALS",
    "BEST",
    "CONTENT",
    "DUMP_NAMES",
    "HYBRID",
    "LIST_MEASURES",
    "METRICS",
    "MODELS",
    "POPULARITY",
    "POPULARITY_IMDB",
    "STAGES",
    "SUMMARY",
    "USER",
    "EvaluationConfig",
    "EvaluationResult",
    "StageResult",
    "app_data_stamp",
    "app_ratings",
    "catalogue_stamp",
    "dump",
    "dump_names",
    "evaluate_catalogue",
    "evaluation_ratings",
    "metric_label",
    "model_names",
    "render_text",
    "run_evaluation",
    "weight_column",
]
