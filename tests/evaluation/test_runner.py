"""The evaluation runner: figures known by hand on a tiny case, a sweep that reuses the fitted
models and scores, the sweep helpers, app data, and the paired significance test."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from recsys.errors import EvaluationError
from recsys.evaluation import report, runner
from recsys.evaluation.runner import EvaluationConfig, app_ratings, run_evaluation
from recsys.evaluation.significance import wilcoxon_test
from recsys.evaluation.splits import Protocol
from recsys.evaluation.sweep import best_step, content_weights, live_share, parse_sweep, step_label, step_weights
from recsys.models import ALSScorer, TfidfConfig, TfidfScorer, TrainingData, registry
from recsys.models.base import ProfileLike
from tests.models.conftest import make_ratings, make_titles
from tests.support.weights import full, label

A, B, C, D, E = "tt0000001", "tt0000002", "tt0000003", "tt0000004", "tt0000005"
F, G, H = "tt0000008", "tt0000012", "tt0000016"
GENRES = {A: {"Crime", "Drama"}, F: {"Sci-Fi", "Action"}, G: {"Romance", "Drama"}}


def tiny_ratings() -> pl.DataFrame:
    """Users 1-6 have fewer than 5 positives (never tested) and make the popularity counts;
    users 10 and 11 have exactly 5 positives each, so their latest one is held out.

    Positives in training: A 7, B 6, G 5, F 4, C 3, D 2; H only has a 2.0 (no positive); E is
    held out by user 10 and rated by nobody else, so it is not even in the ranking catalogue.
    """
    rows = []
    for user, items in {
        1: [(A, 5.0), (B, 5.0), (G, 4.0), (F, 4.0)],
        2: [(A, 5.0), (B, 4.0), (G, 4.0), (F, 4.0)],
        3: [(A, 4.0), (B, 4.0), (G, 4.0), (F, 4.0)],
        4: [(A, 4.0), (B, 4.0), (G, 4.0), (C, 4.0)],
        5: [(A, 4.0), (G, 4.0), (H, 2.0)],
        6: [(A, 4.0)],
        10: [(A, 4.0), (B, 4.0), (C, 4.0), (D, 4.0), (E, 5.0)],
        11: [(B, 4.0), (C, 4.0), (D, 4.0), (F, 4.0), (G, 5.0)],
    }.items():
        rows += [(user, t, r, 1000 * user + i) for i, (t, r) in enumerate(items)]
    return pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row")


SMALL = EvaluationConfig(factors=4, iterations=3, k=2, sweep=(0.0, 1.0, 0.5))
CONFIGS = {"content": TfidfConfig(min_df=1)}


@pytest.fixture(scope="module")
def tiny() -> runner.EvaluationResult:
    return run_evaluation(make_titles(), tiny_ratings(), SMALL, configs=CONFIGS)


def test_popularity_baseline_figures_by_hand(tiny: runner.EvaluationResult) -> None:
    # user 10 trained on A B C D -> candidates G (5 positives), F (4), H (none: NaN) -> [G, F];
    #   the held-out E was never seen in training: no hit, but it still counts as relevant.
    # user 11 trained on B C D F -> [A (7), G (5)]; held-out G at rank 2.
    assert tiny.tops[runner.POPULARITY] == {10: [G, F], 11: [A, G]}
    row = tiny.models.filter(pl.col("model") == runner.POPULARITY).row(0, named=True)
    assert row["precision"] == pytest.approx((0 + 1 / 2) / 2)
    assert row["recall"] == pytest.approx((0 + 1) / 2)
    assert row["ndcg"] == pytest.approx((0 + 1 / math.log2(3)) / 2)  # DCG 1/log2(3), IDCG 1
    assert row["map"] == pytest.approx((0 + 1 / 2) / 2)
    assert row["mrr"] == pytest.approx((0 + 1 / 2) / 2)
    assert row["hit_rate"] == pytest.approx((0 + 1) / 2)
    assert row["coverage"] == pytest.approx(3 / 7)  # {G, F, A} of 7 training items
    # share of the 8 training users who rated each item: G 5/8, F 4/8, A 7/8
    share = {G: 5 / 8, F: 4 / 8, A: 7 / 8}
    shown = [G, F, A, G]
    assert row["novelty"] == pytest.approx(np.mean([-math.log2(share[t]) for t in shown]))
    assert row["avg_popularity"] == pytest.approx(np.mean([share[t] for t in shown]))
    # [G, F]: no genre in common -> 1; [A, G]: Drama of {Crime, Drama, Romance} -> 1 - 1/3
    assert row["diversity"] == pytest.approx((1 + 2 / 3) / 2)
    assert tiny.counts == {
        "users": 2,
        "app_users": 0,
        "items": 7,
        "train": 28,
        "test": 2,
        "dropped": 0,
        "validation_users": 0,
    }
    per_user = tiny.per_user[runner.POPULARITY].sort("ml_user_id")
    assert per_user["ndcg"].to_list() == pytest.approx([0.0, 1 / math.log2(3)])


def test_result_layout(tiny: runner.EvaluationResult) -> None:
    # the baseline, one row per registered scorer, the two hybrids, what the feed serves
    assert tiny.models["model"].to_list() == [
        "popularity",
        *(spec.model for spec in registry.SCORERS.values()),  # one row per registered scorer
        "hybrid (current)",
        "hybrid (best sweep step)",
        "served (hybrid + ranking stages)",
    ]
    assert tiny.models["model"].to_list() == list(runner.model_names())
    # content's share of the live content + ALS total (0.7): 0, 0.5, 1 and the live 0.714
    assert tiny.sweep["content_weight"].to_list() == [0.0, 0.35, 0.5, 0.7]
    assert tiny.sweep["als_weight"].to_list() == [0.7, 0.35, 0.2, 0.0]
    assert tiny.config.live_step() == 2  # the live weights are a step of the sweep
    assert set(tiny.sweep["popularity_weight"].to_list()) == {0.1}
    assert set(tiny.sweep["taste_weight"].to_list()) == {registry.default_weights()["taste"]}
    # each single-scorer row is that scorer alone; the baseline is outside the hybrid
    weights = [c for c in tiny.models.columns if c.endswith("_weight")]
    assert weights == [f"{n}_weight" for n in registry.names()]
    taste = tiny.models.filter(pl.col("model") == "taste").select(weights).row(0)
    assert taste == tuple(full(taste=1.0).values())
    assert tiny.models.filter(pl.col("model") == runner.POPULARITY).select(weights).row(0) == (None,) * len(weights)
    ndcg = tiny.sweep["ndcg"].to_list()
    # no validation user in this tiny case: the step is chosen on the test users, and says so
    assert tiny.validation is None and tiny.chosen_on == "test"
    assert "chosen on the test users" in report.best_line(tiny)
    assert tiny.best == best_step(ndcg) and tiny.best_value() == max(ndcg)
    best = tiny.models.filter(pl.col("model") == runner.BEST).row(0, named=True)
    assert best["ndcg"] == max(ndcg) and best["content_weight"] == tiny.best_weights["content"]
    assert set(tiny.best_weights) == set(registry.names())
    assert tiny.baseline() == tiny.model_value(runner.POPULARITY)
    # the same table the page shows and the CLI prints
    table = report.models_table(tiny)
    assert table.columns[:5] == ["Model", "content w", "als w", "taste w", "popularity w"]
    assert "NDCG@2" in table.columns and "Diversity (genres)" in table.columns
    text = runner.render_text(tiny)
    assert "NDCG@2" in text and "◀ best" in text
    assert "Wilcoxon" in text or "identical for every user" in text
    assert tiny.to_dict()["best"]["weights"] == tiny.best_weights
    assert tiny.to_dict()["best"]["chosen_on"] == "test"
    assert tiny.test.columns == ["user_id", "tconst"] and tiny.test.rows() == [(10, E), (11, G)]


@pytest.fixture(scope="module")
def with_validation() -> runner.EvaluationResult:
    """The fixture ratings with min_positives 4: the crime and sci-fi fans (5 positives) keep 4
    after the test holdout, enough for a validation holdout too."""
    config = EvaluationConfig(factors=4, iterations=3, k=3, min_positives=4, sweep=(0.0, 1.0, 0.25))
    return run_evaluation(make_titles(), make_ratings(), config, configs=CONFIGS)


def test_best_step_is_chosen_on_validation_and_reported_on_test(with_validation: runner.EvaluationResult) -> None:
    r = with_validation
    assert r.chosen_on == "validation" and r.validation is not None
    assert r.counts["validation_users"] == r.validation.counts["users"] > 0
    val_ndcg = r.validation.sweep["ndcg"].to_list()
    test_ndcg = r.sweep["ndcg"].to_list()
    assert r.best == best_step(val_ndcg)  # the validation figures choose ...
    assert r.best_value() == test_ndcg[r.best]  # ... the test figures report
    # the BEST row of each stage is that same step, evaluated on the stage
    best_test = r.models.filter(pl.col("model") == runner.BEST).row(0, named=True)
    best_val = r.validation.models.filter(pl.col("model") == runner.BEST).row(0, named=True)
    assert best_test["ndcg"] == test_ndcg[r.best] and best_val["ndcg"] == val_ndcg[r.best]
    assert best_test["content_weight"] == best_val["content_weight"] == r.sweep["content_weight"][r.best]
    assert r.validation.models["model"].to_list() == list(runner.model_names())
    # validation rows come from a different (smaller) training part than the test rows
    assert r.validation.counts["train"] < r.counts["train"]
    assert r.validation.counts["test"] == r.validation.counts["users"]
    table = report.comparison_table(r)
    assert table["Model"].to_list() == list(runner.model_names())
    assert table.columns == ["Model", "NDCG@3 validation", "NDCG@3 test"]
    assert "chosen on validation" in report.best_line(r)
    assert "Validation split" in runner.render_text(r)
    assert r.to_dict()["validation"]["counts"]["users"] == r.validation.counts["users"]


def test_dump_writes_train_and_test(with_validation: runner.EvaluationResult, tmp_path: Path) -> None:
    paths = runner.dump(with_validation, tmp_path / "d")
    names = sorted(p.name for p in paths)
    expected = {f"{n}.parquet" for n in runner.dump_names().values()} | {
        "test.parquet",
        "train.parquet",
        "summary.json",
    }
    assert set(names) == expected
    train = pl.read_parquet(tmp_path / "d" / "train.parquet")
    test = pl.read_parquet(tmp_path / "d" / "test.parquet")
    assert train.columns == ["user_id", "tconst", "rating", "timestamp"]
    assert train.height == with_validation.counts["train"]
    # no held-out positive is in its user's training ratings
    assert train.join(test, on=["user_id", "tconst"]).height == 0


def test_hybrid_rows_agree_with_the_sweep_and_the_plain_scorer() -> None:
    ratings = make_ratings()
    config = EvaluationConfig(
        factors=4,
        iterations=5,
        k=3,
        min_positives=4,
        weights={"content": 0.5, "als": 0.5, "popularity": 0.1},
        sweep=(0.0, 1.0, 0.25),
        measure_plain=True,
    )
    result = run_evaluation(make_titles(), ratings, config, configs=CONFIGS)
    step = result.sweep.filter(pl.col("content_weight") == 0.5).drop("model").row(0)
    current = result.models.filter(pl.col("model") == runner.HYBRID).drop("model").row(0)
    assert step == current
    assert result.plain_matches is True  # scoring from scratch gives the very same lists
    assert "plain_hybrid_s" in result.timings
    assert result.weights == full(content=0.5, als=0.5, taste=0.0, popularity=0.1)
    same_step = result.per_user[f"{label(content=0.5, als=0.5, taste=0.0, popularity=0.1)}"]
    assert result.per_user[runner.HYBRID]["ndcg"].to_list() == same_step["ndcg"].to_list()


def test_the_sweep_reuses_models_and_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {"tfidf_fit": 0, "als_fit": 0, "als_scores": 0}
    fit_tfidf, fit_als, prepare = TfidfScorer.fit, ALSScorer.fit, ALSScorer.candidate_scorer

    def counting_tfidf(self: TfidfScorer, *a: Any, **kw: Any) -> TfidfScorer:
        counts["tfidf_fit"] += 1
        return fit_tfidf(self, *a, **kw)

    def counting_als(self: ALSScorer, *a: Any, **kw: Any) -> ALSScorer:
        counts["als_fit"] += 1
        return fit_als(self, *a, **kw)

    def counting_scorer(self: ALSScorer, candidates: Sequence[str]) -> Callable[[ProfileLike], np.ndarray]:
        score = prepare(self, candidates)

        def wrapped(profile: ProfileLike) -> np.ndarray:
            counts["als_scores"] += 1
            return score(profile)

        return wrapped

    monkeypatch.setattr(TfidfScorer, "fit", counting_tfidf)
    monkeypatch.setattr(ALSScorer, "fit", counting_als)
    monkeypatch.setattr(ALSScorer, "candidate_scorer", counting_scorer)
    ratings, titles = make_ratings(), make_titles()
    for step in (0.5, 0.1):  # 3 steps, then 11 steps
        counts.update(tfidf_fit=0, als_fit=0, als_scores=0)
        result = run_evaluation(
            titles,
            ratings,
            EvaluationConfig(
                factors=4,
                iterations=3,
                min_positives=4,
                sweep=(0.0, 1.0, step),
                compare=(runner.ALS, runner.ALS),
                new_user_draws=0,  # the new-user simulation refits ALS per draw (counted apart)
            ),
            configs=CONFIGS,
        )
        assert result.sweep.height == (3 if step == 0.5 else 11) + 1  # + the live point
        # the catalogue-only content model is fitted once for both splits; ALS once per split
        # (validation, test) and one ALS score per tested user of each split, whatever the
        # number of steps
        stages = 2 if result.validation is not None else 1
        assert stages == 2
        users = result.counts["users"] + result.counts["validation_users"]
        assert counts == {"tfidf_fit": 1, "als_fit": stages, "als_scores": users}
    content = TfidfScorer(TfidfConfig(min_df=1)).fit(TrainingData(titles=titles))
    counts.update(tfidf_fit=0, als_fit=0, als_scores=0)
    run_evaluation(
        titles, ratings, EvaluationConfig(factors=4, iterations=3, min_positives=4), reuse={"content": content}
    )
    assert counts["tfidf_fit"] == 0  # a given content model is reused as it is


def test_protocols_and_seeds() -> None:
    titles, ratings = make_titles(), make_ratings()
    # significance between a model and itself is instant (scipy's small-n exact test is not); the
    # grid, the segments and the simulated new user play no part in the splits compared here
    small = EvaluationConfig(
        factors=4,
        iterations=3,
        sweep=(0.0, 1.0, 0.5),
        compare=(runner.ALS, runner.ALS),
        grid=None,
        segments=False,
        new_user_draws=0,
    )

    def run(protocol: Protocol, seed: int = small.seed) -> runner.EvaluationResult:
        return run_evaluation(titles, ratings, replace(small, protocol=protocol, seed=seed), configs=CONFIGS)

    loo = run(protocol="loo")
    assert loo.counts["test"] == loo.counts["users"]  # one held-out positive per user
    r1, r1b, r2 = run(protocol="random", seed=1), run(protocol="random", seed=1), run(protocol="random", seed=2)
    assert r1.test.equals(r1b.test) and r1.models.equals(r1b.models)
    assert not r1.test.equals(r2.test)


def test_nobody_to_test_is_an_error_that_says_what_to_do() -> None:
    few = tiny_ratings().filter(pl.col("ml_user_id") < 10)
    with pytest.raises(EvaluationError, match="No user has 5 or more positive ratings.*--with-app-data"):
        run_evaluation(make_titles(), few, SMALL, configs=CONFIGS)
    # a lower bar tests users 1-4 (4 positives each)
    result = run_evaluation(make_titles(), few, replace(SMALL, min_positives=4), configs=CONFIGS)
    assert result.counts["users"] == 4


def test_app_ratings_join_movielens_with_negative_ids() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "user_id": [3, 3, 3, 7],
            "tconst": [A, B, C, "tt9999999"],
            "value": [1, 2, -1, 1],
            "created_at": [t0, t0, t0, t0],
            "updated_at": [t0.replace(microsecond=5), t0.replace(second=2), t0, t0],
        }
    )
    out = app_ratings(frame, titles=[A, B, C])
    assert out.rows() == [
        (-3, A, 4.0, 1767225600.000005),
        (-3, B, 5.0, 1767225602.0),
        (-3, C, 1.0, 1767225600.0),
    ]
    ml = pl.DataFrame({"ml_user_id": [1], "tconst": [A], "rating": [3.5], "timestamp": [10], "in_catalog": [True]})
    both = runner.evaluation_ratings(ml, out, titles=[A, B, C])
    assert both["ml_user_id"].to_list() == [1, -3, -3, -3]


def test_config_checks() -> None:
    with pytest.raises(EvaluationError, match="Unknown metric"):
        EvaluationConfig(metric="auc")
    with pytest.raises(EvaluationError, match="protocol"):
        EvaluationConfig(protocol="weekly")  # type: ignore[arg-type]  # an unknown protocol on purpose: the check under test
    with pytest.raises(EvaluationError, match="0 <= start <= stop <= 1"):
        EvaluationConfig(sweep=(0.0, 1.5, 0.1))
    with pytest.raises(EvaluationError, match=">= 0"):
        EvaluationConfig(weights={"content": -1.0, "als": 1.0})
    with pytest.raises(EvaluationError, match="Unknown scorer 'nope'.*known: content, als, taste, popularity"):
        EvaluationConfig(weights={"nope": 1.0})
    with pytest.raises(EvaluationError, match="not all be zero"):
        EvaluationConfig(weights={"content": 0.0})
    # an old positional (content, als, popularity) tuple is read in that order
    legacy = EvaluationConfig(weights=(0.2, 0.7, 0.1))  # type: ignore[arg-type]  # an old stored tuple, read on purpose
    assert legacy.weights == full(content=0.2, als=0.7, taste=0.0, popularity=0.1)
    config = EvaluationConfig(weights=full(content=0.2, als=0.7, taste=0.05, popularity=0.1), sweep=(0.0, 0.5, 0.25))
    assert EvaluationConfig.from_dict(config.to_dict()) == config
    assert EvaluationConfig().hybrid_weights == registry.default_weights()


def test_sweep_helpers() -> None:
    assert content_weights(0, 1, 0.25) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert content_weights(0, 1, 0.1)[3] == 0.3 and len(content_weights(0, 1, 0.1)) == 11
    assert content_weights(0, 1, 0.3) == [0.0, 0.3, 0.6, 0.9]
    assert content_weights(0.4, 0.4, 0.1) == [0.4]
    assert parse_sweep("0:1:0.1") == (0.0, 1.0, 0.1)
    for bad in ("0:1", "a:b:c", "0:1:0", "1:0:0.1"):
        with pytest.raises(EvaluationError):
            parse_sweep(bad)
    # the pair shares its live total; other scorers keep their current weight during the sweep
    current = full(content=0.3, als=0.5, taste=0.25, popularity=0.1)
    assert step_weights(0.25, current) == full(content=0.2, als=0.6, taste=0.25, popularity=0.1)
    assert step_weights(0.25, current, popularity=0.2)["popularity"] == 0.2  # --popularity-weight
    assert step_weights(0.5, current, ("taste", "popularity")) == full(
        content=0.3, als=0.5, taste=0.175, popularity=0.175
    )
    assert step_label(step_weights(0.25, current)) == f"{label(content=0.2, als=0.6, taste=0.25, popularity=0.1)}"
    assert live_share(current) == 0.375 and step_weights(0.375, current) == current
    assert best_step([0.1, 0.3, 0.3, float("nan")]) == 1
    assert best_step([float("nan"), 0.2]) == 1


def test_wilcoxon_on_constructed_differences() -> None:
    # d = 1..6, all positive: only "all +" and "all -" are as extreme among 2^6 sign patterns
    sig = wilcoxon_test([1, 2, 3, 4, 5, 6], [0] * 6, a="x", b="y")
    assert sig.p_value == pytest.approx(2 / 64) and sig.statistic == 0
    assert (sig.n_users, sig.n_differ, sig.mean_a, sig.mean_b) == (6, 6, 3.5, 0.0)
    assert sig.significant and "x is better" in sig.summary()
    # a tied user carries no information: dropped from the test, still counted as paired
    tied = wilcoxon_test([1, 2, 3, 4, 5, 6, 0.5], [0, 0, 0, 0, 0, 0, 0.5])
    assert (tied.n_users, tied.n_differ) == (7, 6) and tied.p_value == pytest.approx(2 / 64)
    # d = [1, -2, 3, 4, 5, 6]: W- = 2; sign patterns with a negative rank sum <= 2: {}, {1}, {2}
    mixed = wilcoxon_test([1, -2, 3, 4, 5, 6], [0] * 6)
    assert mixed.statistic == 2 and mixed.p_value == pytest.approx(2 * 3 / 64)
    assert not mixed.significant and "not significant" in mixed.summary()
    same = wilcoxon_test([0.3, 0.1], [0.3, 0.1])
    assert same.p_value == 1.0 and same.n_differ == 0 and "identical" in same.summary()


def test_compare_any_two_configurations(tiny: runner.EvaluationResult) -> None:
    sig = tiny.compare(runner.POPULARITY, runner.CONTENT, "hit_rate")
    assert sig.n_users == 2 and sig.label == "HitRate@2"
    assert sig.mean_a == pytest.approx(tiny.model_value(runner.POPULARITY, "hit_rate"))
    assert tiny.compare(runner.ALS, runner.ALS).p_value == 1.0
    assert f"{label(content=0.35, als=0.35, taste=0.2, popularity=0.1)}" in tiny.configurations
    assert tiny.compare(runner.HYBRID, f"{label(content=0.35, als=0.35, taste=0.2, popularity=0.1)}").n_users == 2
    with pytest.raises(EvaluationError, match="Unknown configuration"):
        tiny.compare("nope", runner.ALS)


def test_adding_a_metric_is_one_registry_entry() -> None:
    """A toy metric registered once shows up in the run's figures, its tables, its text and JSON,
    and may choose the sweep step; nothing else lists metrics."""
    from recsys.evaluation import metrics as M

    def first_hit(recommended: list[str], relevant: set[str], k: int) -> float:
        return 1.0 if recommended[:1] and recommended[0] in relevant else 0.0

    M.register(M.Metric("first_hit", first_hit, "FirstHit"))
    try:
        result = run_evaluation(make_titles(), tiny_ratings(), replace(SMALL, metric="first_hit"), configs=CONFIGS)
        row = result.models.filter(pl.col("model") == runner.POPULARITY).row(0, named=True)
        assert row["first_hit"] == pytest.approx(0.0)  # user 10 gets G first, user 11 A: no hit
        assert "FirstHit@2" in report.models_table(result).columns
        assert "FirstHit@2" in report.sweep_table(result).columns
        assert "FirstHit@2" in runner.render_text(result)
        assert all("first_hit" in r for r in result.to_dict()["models"])
        assert "first_hit" in result.per_user[runner.POPULARITY].columns
    finally:
        M.unregister("first_hit")
    assert "first_hit" not in M.summary_names()
