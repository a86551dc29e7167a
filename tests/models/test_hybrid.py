"""The hybrid: normalisation, the NaN rule, weights reproducing single scorers, exclusions,
sections, reasons and cold start, through the same ``recommend`` the feed calls."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from recsys.errors import ModelError
from recsys.models import Recommender, blend, normalise, registry
from recsys.models.base import Scorer
from recsys.models.hybrid import HybridConfig, top_n
from tests.support.weights import full

CRIME_FAN = [
    ("tt0000001", 1),
    ("tt0000002", 2),
    ("tt0000004", 1),
    ("tt0000101", 1),
    ("tt0000011", 1),
    ("tt0000005", -1),  # disliked comedy
    ("tt0000103", -1),  # disliked comedy show
]


def test_zscore_worked_example() -> None:
    out = normalise(np.array([1.0, 2.0, 3.0, np.nan]), "zscore")
    np.testing.assert_allclose(out[:3], [-1.224745, 0.0, 1.224745], rtol=1e-6)
    assert np.isnan(out[3])


def test_minmax_and_rank_and_constant() -> None:
    np.testing.assert_allclose(normalise(np.array([2.0, 4.0, 3.0]), "minmax"), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(normalise(np.array([10.0, 30.0, 20.0, 20.0]), "rank"), [0, 1, 0.5, 0.5])
    np.testing.assert_array_equal(normalise(np.array([5.0, 5.0]), "zscore"), [0.0, 0.0])
    assert np.isnan(normalise(np.array([np.nan, np.nan]))).all()


def test_nan_rule_worked_example() -> None:
    content = np.array([1.0, np.nan, np.nan])
    als = np.array([1.0, 2.0, np.nan])
    pop = np.array([0.0, 0.0, 3.0])
    z = {"content": content, "als": als, "popularity": pop}
    # NaN contributes 0, weights are not renormalised, unscored by every weighted scorer -> NaN
    out = blend(z, {"content": 0.5, "als": 0.5, "popularity": 0.0})
    np.testing.assert_allclose(out[:2], [1.0, 1.0])
    assert np.isnan(out[2])
    # with popularity weighted, the third candidate is scored by popularity alone
    np.testing.assert_allclose(blend(z, {"content": 1.0, "als": 1.0, "popularity": 2.0}), [0.5, 0.5, 1.5])
    # a weighted scorer missing from the mapping counts as NaN everywhere (weight still counted)
    np.testing.assert_allclose(blend({"als": als}, {"als": 1.0, "taste": 1.0})[:2], [0.5, 1.0])


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ModelError, match="Nothing to blend"):
        blend({"content": np.zeros(2)}, {"content": 0.0})
    for bad in [{"content": 0, "als": 0}, {"content": -1, "als": 1}, {"content": float("nan")}, (1, 1)]:
        with pytest.raises(ModelError):
            HybridConfig(weights=bad)  # type: ignore[arg-type]  # malformed weights on purpose: the check under test
    with pytest.raises(ModelError, match="Unknown scorer 'nope'"):
        HybridConfig(weights={"nope": 1.0})
    assert HybridConfig(weights={"content": 1.0}).weights == {n: float(n == "content") for n in registry.names()}


def test_top_n_breaks_ties_by_position_and_skips_nan() -> None:
    assert top_n(np.array([1.0, np.nan, 3.0, 3.0, 0.5]), 3).tolist() == [2, 3, 0]
    assert top_n(np.array([np.nan]), 2).tolist() == []


def _section_ranking(rec: Recommender, scorer: Scorer, kind: str, profile: list) -> list[str]:
    """The scorer's own order of the section's unrated titles (NaN dropped)."""
    rated = {t for t, _ in profile}
    cands = [t for t in rec.titles.filter(pl.col("kind") == kind)["tconst"].to_list() if t not in rated]
    scores = scorer.score(profile, cands)
    order = sorted((i for i in range(len(cands)) if np.isfinite(scores[i])), key=lambda i: (-scores[i], i))
    return [cands[i] for i in order]


@pytest.mark.parametrize("kind", ["movie", "tv"])
def test_content_weight_alone_reproduces_content_order(recommender: Recommender, kind: str) -> None:
    out = recommender.recommend(CRIME_FAN, kind, n=30, weights={"content": 1})
    assert out["tconst"].to_list() == _section_ranking(recommender, recommender.hybrid["content"], kind, CRIME_FAN)
    # scorers with weight 0 are not computed: their columns are NaN
    for name in registry.names():
        if name != "content":
            assert out[name].is_nan().all()


def test_als_weight_alone_reproduces_als_order(recommender: Recommender) -> None:
    out = recommender.recommend(CRIME_FAN, "tv", n=30, weights={"als": 1})
    expected = _section_ranking(recommender, recommender.hybrid["als"], "tv", CRIME_FAN)
    got = out["tconst"].to_list()
    assert got[: len(expected)] == expected
    # titles ALS never saw (Nature Hour has no MovieLens rating) come after every ALS-scored
    # one, by catalogue popularity, with a NaN score
    tail = out.slice(len(expected))
    assert tail.height >= 1 and "tt0000108" in tail["tconst"].to_list()
    assert tail["score"].is_nan().all() and tail["als"].is_nan().all()
    pop = dict(zip(recommender.titles["tconst"].to_list(), recommender.titles["popularity"].to_list(), strict=True))
    assert [pop[t] for t in tail["tconst"]] == sorted((pop[t] for t in tail["tconst"]), reverse=True)


def test_titles_unknown_to_als_follow_the_nan_rule(recommender: Recommender) -> None:
    # "Nature Hour" (tt0000108) has no MovieLens rating: its ALS component is NaN and counts 0
    weights = full(content=0.3, als=0.5, taste=0.1, popularity=0.1)
    out = recommender.recommend(CRIME_FAN, "tv", n=30, weights=weights)
    row = out.filter(pl.col("tconst") == "tt0000108").row(0, named=True)
    assert np.isnan(row["als"])
    assert np.isfinite([row["content"], row["taste"], row["popularity"]]).all()
    expected = 0.3 * row["content"] + 0.1 * row["taste"] + 0.1 * row["popularity"]
    assert row["score"] == pytest.approx(expected / 1.0)  # not renormalised to 0.5


def test_rated_and_excluded_titles_never_come_back(recommender: Recommender) -> None:
    rated = {t for t, _ in CRIME_FAN}
    for kind in ("movie", "tv"):
        out = recommender.recommend(CRIME_FAN, kind, n=100, exclude=["tt0000003", "tt0000102"])
        got = set(out["tconst"].to_list())
        assert not got & rated
        assert not got & {"tt0000003", "tt0000102"}
        expected = set(recommender.titles.filter(pl.col("kind") == kind)["tconst"].to_list())
        assert got == expected - rated - {"tt0000003", "tt0000102"}


def test_sections_hold_only_their_kind(recommender: Recommender) -> None:
    kinds = dict(zip(recommender.titles["tconst"].to_list(), recommender.titles["kind"].to_list(), strict=True))
    for kind in ("movie", "tv"):
        out = recommender.recommend(CRIME_FAN, kind, n=5)
        assert out.height == 5
        assert {kinds[t] for t in out["tconst"].to_list()} == {kind}
        assert out["rank"].to_list() == [1, 2, 3, 4, 5]
        assert out.columns == ["tconst", "score", "rank", "reason", *registry.names()]
        assert out.columns[4:] == list(registry.names())


def test_crime_fan_gets_crime_first(recommender: Recommender) -> None:
    out = recommender.recommend(CRIME_FAN, "movie", n=1)
    assert out["tconst"].to_list() == ["tt0000003"]  # the one crime movie they have not rated
    tv = recommender.recommend(CRIME_FAN, "tv", n=1)
    assert tv["tconst"].to_list() == ["tt0000102"]


def test_reasons_name_only_liked_titles(recommender: Recommender) -> None:
    names = dict(
        zip(recommender.titles["tconst"].to_list(), recommender.titles["primary_title"].to_list(), strict=True)
    )
    liked = {names[t] for t, v in CRIME_FAN if v > 0}
    disliked = {names[t] for t, v in CRIME_FAN if v < 0}
    for kind in ("movie", "tv"):
        out = recommender.recommend(CRIME_FAN, kind, n=30)
        for reason in out["reason"].to_list():
            m = re.fullmatch(r"Because you liked (.+)", reason)
            if m is None:
                assert re.fullmatch(r"Because you like [a-z-]+ (films|shows)|Popular (in \w+|on IMDb)", reason), reason
                continue
            named = m.group(1).split(", ")
            assert 1 <= len(named) <= 2
            assert set(named) <= liked and not set(named) & disliked
    top = recommender.recommend(CRIME_FAN, "movie", n=1)["reason"][0]
    assert top.startswith("Because you liked ") and "Night" in top  # Ann Noir's crime dramas


def test_a_click_changes_the_next_list(recommender: Recommender) -> None:
    before = recommender.recommend(CRIME_FAN, "movie", n=5)
    first = before["tconst"][0]
    after = recommender.recommend([*CRIME_FAN, (first, 1)], "movie", n=5)
    assert first not in after["tconst"].to_list()
    assert after["tconst"].to_list() != before["tconst"].to_list()


def test_unknown_kind_is_refused(recommender: Recommender) -> None:
    with pytest.raises(ModelError, match="kind"):
        recommender.recommend(CRIME_FAN, "podcast")


def test_top_n_resolves_ties_at_the_cut_by_position() -> None:
    assert top_n(np.array([1.0, 1.0, 1.0, 1.0]), 2).tolist() == [0, 1]
    assert top_n(np.array([0.0, 2.0, 1.0, 2.0, 2.0]), 2).tolist() == [1, 3]
    assert top_n(np.array([5.0, np.nan, 5.0]), 5).tolist() == [0, 2]


@pytest.mark.parametrize(
    "weights",
    [
        {"content": 0.5, "als": 0.4, "popularity": 0.1},
        full(content=0.2, als=0.2, taste=0.3, popularity=0.3),
        {"content": 1.0, "als": 1.0},
        None,  # the config's defaults
    ],
)
def test_feed_scores_equal_the_hybrid_over_the_unrated_section(recommender: Recommender, weights: dict | None) -> None:
    """The feed's precomputed fast path gives the hybrid's own scores (normalised over the
    section's unrated titles) for every candidate."""
    for kind in ("movie", "tv"):
        rated = {t for t, _ in CRIME_FAN}
        cands = [t for t in recommender.titles.filter(pl.col("kind") == kind)["tconst"].to_list() if t not in rated]
        expected = dict(zip(cands, recommender.hybrid.score(CRIME_FAN, cands, weights), strict=True))
        out = recommender.recommend(CRIME_FAN, kind, n=len(cands), weights=weights)
        assert sorted(out["tconst"].to_list()) == sorted(cands)
        for t, score in zip(out["tconst"].to_list(), out["score"].to_list(), strict=True):
            assert score == pytest.approx(expected[t], rel=1e-6, abs=1e-9)


def test_both_sections_at_once_equal_one_at_a_time(recommender: Recommender) -> None:
    both = recommender.recommend_feed(CRIME_FAN, n=6, favourite_genres=["Crime"], exclude=["tt0000003"])
    for kind in ("movie", "tv"):
        single = recommender.recommend(CRIME_FAN, kind, n=6, favourite_genres=["Crime"], exclude=["tt0000003"])
        assert both[kind].equals(single)
    # no like yet: both sections are the popular titles of the favourite genre
    cold = recommender.recommend_feed([("tt0000001", -1)], n=3, favourite_genres=["Comedy"])
    assert set(cold) == {"movie", "tv"}
    assert cold["tv"]["tconst"].to_list()[:2] == ["tt0000103", "tt0000104"]
    # films by their training positives first (Laugh Out has 4, the other two 5), then IMDb popularity
    assert cold["movie"]["tconst"].to_list() == ["tt0000006", "tt0000007", "tt0000005"]


def test_top_n_on_a_large_array_is_exact() -> None:
    rng = np.random.default_rng(5)
    scores = rng.normal(size=500_000)
    scores[rng.choice(500_000, 1000, replace=False)] = np.nan
    scores[[7, 70, 700]] = 10.0  # ties at the top resolve by position
    finite = np.flatnonzero(np.isfinite(scores))
    expected = finite[np.lexsort((finite, -scores[finite]))][:20].tolist()  # by score, then position
    assert top_n(scores, 20).tolist() == expected
    few = np.full(300_000, np.nan)
    few[[5, 9]] = [1.0, 2.0]
    assert top_n(few, 20).tolist() == [9, 5]


@pytest.mark.parametrize(
    "weights",
    [full(content=0.5, als=0.4, taste=0.1, popularity=0.1), {"als": 1.0}, {"popularity": 1.0}, {"taste": 1.0}],
)
def test_component_columns_are_each_scorer_normalised_over_the_unrated_section(
    recommender: Recommender, weights: dict
) -> None:
    """The feed's precomputed section path gives, per scorer, the z-score of that scorer's own
    scores over the section's titles minus the rated and excluded ones (the reference path)."""
    exclude = ["tt0000003", "tt0000108"]
    removed = {t for t, _ in CRIME_FAN} | set(exclude)
    for kind in ("movie", "tv"):
        out = recommender.recommend(CRIME_FAN, kind, n=30, weights=weights, exclude=exclude)
        cands = [t for t in recommender.titles.filter(pl.col("kind") == kind)["tconst"].to_list() if t not in removed]
        assert sorted(out["tconst"].to_list()) == sorted(cands)
        position = {t: i for i, t in enumerate(cands)}
        rows = [position[t] for t in out["tconst"].to_list()]
        for name in registry.names():
            if weights.get(name, 0) > 0:
                expected = normalise(recommender.hybrid[name].score(CRIME_FAN, cands))[rows]
                np.testing.assert_allclose(out[name].to_numpy(), expected, rtol=1e-6, atol=1e-9)
            else:
                assert out[name].is_nan().all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fused_zscore_blend_matches_normalise_then_blend(seed: int) -> None:
    """The feed's fused path gives the reference numbers and NaN rule: removed titles NaN and left
    out of every mean / std, a scorer's NaN counting 0, a candidate no weighted scorer scores NaN."""
    from recsys.models.hybrid import zscore_blend, zscores_at

    rng = np.random.default_rng(seed)
    size = 500
    full = rng.normal(size=size)
    partial = np.where(rng.random(size) < 0.7, np.nan, rng.normal(2.0, 3.0, size))
    constant = np.full(size, 4.0)
    removed = rng.choice(size, 25, replace=False)
    raws = {"content": full, "als": partial, "popularity": constant}
    weights = {"content": 0.5, "als": 0.3, "popularity": 0.2}
    fused, stats = zscore_blend({k: v.copy() for k, v in raws.items()}, weights, removed)
    reference = {}
    for name, raw in raws.items():
        r = raw.copy()
        r[removed] = np.nan
        reference[name] = normalise(r)
    expected = blend(reference, weights)
    np.testing.assert_allclose(fused, expected, rtol=1e-9, atol=1e-12)
    top = np.arange(size)
    for name, raw in raws.items():
        np.testing.assert_allclose(zscores_at(raw, stats[name], top, removed), reference[name], atol=1e-12)
    # only ALS weighted: candidates ALS cannot score are NaN, as in the reference
    only = {"als": 1.0}
    fused_als, _ = zscore_blend({"als": partial.copy()}, only, removed)
    np.testing.assert_array_equal(np.isnan(fused_als), np.isnan(blend({"als": reference["als"]}, only)))
