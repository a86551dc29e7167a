"""Every metric on hand-computed cases (the worked examples of the docstrings and more)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from recsys.evaluation import metrics as M
from recsys.evaluation.splits import Split
from recsys.evaluation.taste import TasteContext, head_items

REC = ["a", "b", "c", "d"]


def test_precision() -> None:
    assert M.precision_at_k(REC, {"b", "d", "x"}, 4) == 0.5
    assert M.precision_at_k(REC, {"b", "d", "x"}, 2) == 0.5
    assert M.precision_at_k(REC, {"a"}, 1) == 1.0
    assert M.precision_at_k(["a"], {"a"}, 4) == 0.25  # a short list still divides by K
    assert M.precision_at_k(REC, set(), 4) == 0.0


def test_recall() -> None:
    assert M.recall_at_k(REC, {"b", "d", "x"}, 4) == pytest.approx(2 / 3)
    assert M.recall_at_k(REC, {"b", "d", "x"}, 1) == 0.0
    assert M.recall_at_k(REC, set(), 4) == 0.0


def test_ndcg() -> None:
    # DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert M.ndcg_at_k(["a", "b", "c"], {"b", "x"}, 3) == pytest.approx(0.386853, abs=1e-6)
    assert M.ndcg_at_k(["b", "x", "c"], {"b", "x"}, 3) == 1.0
    # one relevant item at rank 2 of 2 -> (1/log2 3) / 1
    assert M.ndcg_at_k(["a", "b"], {"b"}, 2) == pytest.approx(1 / math.log2(3))
    # ideal DCG is capped at K relevant items
    assert M.ndcg_at_k(["a", "b"], {"a", "b", "c", "d"}, 2) == 1.0
    assert M.ndcg_at_k(REC, set(), 4) == 0.0


def test_average_precision() -> None:
    assert M.average_precision_at_k(REC, {"a", "c", "x"}, 4) == pytest.approx((1 + 2 / 3) / 3)
    assert M.average_precision_at_k(REC, {"d"}, 4) == pytest.approx(1 / 4)
    assert M.average_precision_at_k(REC, {"a", "b", "c", "d", "e"}, 2) == 1.0  # min(|R|, K)


def test_reciprocal_rank_and_hit_rate() -> None:
    assert M.reciprocal_rank_at_k(["a", "b", "c"], {"c"}, 3) == pytest.approx(1 / 3)
    assert M.reciprocal_rank_at_k(["a", "b", "c"], {"c"}, 2) == 0.0
    assert M.reciprocal_rank_at_k(["a", "b", "c"], {"b", "a"}, 3) == 1.0
    assert M.hit_rate_at_k(["a", "b", "c"], {"c", "x"}, 3) == 1.0
    assert M.hit_rate_at_k(["a", "b", "c"], {"c", "x"}, 2) == 0.0


def test_bad_k_is_refused() -> None:
    with pytest.raises(ValueError):
        M.precision_at_k(REC, {"a"}, 0)


def test_coverage() -> None:
    assert M.catalogue_coverage([["a", "b"], ["b", "c"]], 10, 2) == 0.3
    assert M.catalogue_coverage([["a", "b", "z"], ["b", "c"]], 10, 2) == 0.3  # beyond K ignored


def test_novelty_and_popularity_bias() -> None:
    share = {"a": 0.5, "b": 0.125, "c": 0.25}
    assert M.novelty([["a", "b"]], share, 2) == pytest.approx(2.0)
    assert M.novelty([["a", "b"], ["c"]], share, 2) == pytest.approx((1 + 3 + 2) / 3)
    assert M.average_popularity([["a", "b"]], share, 2) == pytest.approx(0.3125)


def test_intra_list_diversity() -> None:
    genres = {"a": ["Drama"], "b": ["Drama", "Crime"], "c": ["Comedy"], "d": []}
    assert M.intra_list_diversity(["a", "b", "c"], genres, 3) == pytest.approx(2.5 / 3)
    assert M.intra_list_diversity(["a", "b"], genres, 3) == pytest.approx(0.5)
    assert M.intra_list_diversity(["a", "a"], genres, 3) == 0.0
    assert M.intra_list_diversity(["a"], genres, 3) == 0.0
    assert M.intra_list_diversity(["d", "d"], genres, 3) == 0.0


# --- taste metrics (issue 18) ----------------------------------------------------------------------


def test_miscalibration_is_stecks_smoothed_kl() -> None:
    genres = {"a": ["Horror"], "b": ["Drama"], "c": ["Horror", "Drama"], "d": []}
    horror = {"Horror": 1.0}
    # q = {Horror .5, Drama .5}; q~(Horror) = .99 * .5 + .01 * 1 = .505 -> ln(1 / .505)
    assert M.miscalibration(["a", "b"], horror, genres, 2) == pytest.approx(math.log(1 / 0.505))
    assert M.miscalibration(["a", "b"], horror, genres, 2) == pytest.approx(0.683197, abs=1e-6)
    assert M.miscalibration(["a", "a"], horror, genres, 2) == 0.0  # the user's own proportions
    assert M.miscalibration(["a", "b", "b"], horror, genres, 1) == 0.0  # beyond K ignored
    # a list that misses the taste entirely: q~(Horror) = .01 -> ln(100)
    assert M.miscalibration(["b"], horror, genres, 2) == pytest.approx(math.log(100))
    assert M.miscalibration([], horror, genres, 2) == pytest.approx(4.605170, abs=1e-6)
    # a two-genre title counts half to each: p = {Horror .5, Drama .5} is matched exactly by [c]
    assert M.miscalibration(["c", "d"], {"Horror": 0.5, "Drama": 0.5}, genres, 2) == 0.0


def test_popularity_lift_in_log_votes() -> None:
    log_votes = {"a": math.log(1000), "b": math.log(10), "c": math.log(100)}
    likes = math.log(100)  # the user's likes have 99 votes each
    assert M.popularity_lift(["a", "b"], likes, log_votes, 2) == pytest.approx(0.0)  # as popular as the likes
    assert M.popularity_lift(["a", "b"], likes, log_votes, 1) == pytest.approx(math.log(10))  # ten times the votes
    assert M.popularity_lift(["b"], likes, log_votes, 2) == pytest.approx(-2.302585, abs=1e-6)
    assert M.popularity_lift(["x"], likes, log_votes, 2) == pytest.approx(-math.log(100))  # unknown: 0 votes
    assert math.isnan(M.popularity_lift([], likes, log_votes, 2))


def test_tail_share() -> None:
    assert M.tail_share(["a", "b", "c", "x"], {"c", "d"}, 4) == 0.25
    assert M.tail_share(["c", "d", "a"], {"c", "d"}, 2) == 1.0
    assert M.tail_share(["a"], {"c", "d"}, 4) == 0.0
    assert math.isnan(M.tail_share([], {"c"}, 4))


def test_head_is_the_top_fifth_of_titles_by_training_ratings() -> None:
    counts = {"a": 5, "b": 3, "c": 3, "d": 1, "e": 1, "f": 1, "g": 1}
    assert head_items(counts) == {"a", "b"}  # ceil(0.2 * 7) = 2; b before c on the tie
    assert head_items({"a": 5, "b": 3, "c": 1, "d": 1, "e": 1}) == {"a"}  # 20% of 5 is exactly 1
    assert head_items({"z": 1}) == {"z"}
    assert head_items({}) == frozenset()


def taste_split() -> Split:
    """User 1 likes x {Drama} then y {Horror} and rated c 2.0; user 2 only gave a 3.0 (no like).
    Training ratings per title: a 3, y 3, b 1, c 1, x 1 -> the head is {a} (a before y on the tie)."""
    rows = [
        (1, "x", 4.0, 1),
        (1, "y", 5.0, 2),
        (1, "c", 2.0, 3),
        (2, "a", 3.0, 1),
        (3, "a", 5.0, 1),
        (3, "y", 4.0, 2),
        (3, "b", 4.0, 3),
        (4, "a", 4.0, 1),
        (4, "y", 4.0, 2),
    ]
    train = pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row")
    test = pl.DataFrame({"ml_user_id": [1, 2], "tconst": ["z", "z"]})
    return Split(train=train, test=test, users=[1, 2], items=["a", "b", "c", "x", "y"], protocol="temporal")


TASTE_TITLES = pl.DataFrame(
    {
        "tconst": ["x", "y", "a", "b", "c"],
        "genres": [["Drama"], ["Horror"], ["Horror"], ["Drama"], ["Comedy"]],
        "num_votes": [99, 9999, 999, 9, 0],
    }
)


def test_taste_context_built_once_per_split() -> None:
    taste = TasteContext.build(taste_split(), TASTE_TITLES)
    # recency weights oldest first: x 0.95, y 1
    assert taste.history[1] == pytest.approx({"Drama": 0.95 / 1.95, "Horror": 1 / 1.95})
    assert taste.history_log_votes[1] == pytest.approx((math.log(100) + math.log(10000)) / 2)  # = ln 1000
    assert 2 not in taste.history and 2 not in taste.history_log_votes  # no like
    assert taste.tail == {"b", "c", "x", "y"}
    assert taste.log_votes["c"] == 0.0
    got = taste.measures(1, ["a", "b"], 2)
    p_drama, p_horror = 0.95 / 1.95, 1 / 1.95
    expected = p_drama * math.log(p_drama / (0.99 * 0.5 + 0.01 * p_drama)) + p_horror * math.log(
        p_horror / (0.99 * 0.5 + 0.01 * p_horror)
    )
    assert got["miscalibration"] == pytest.approx(expected)
    assert got["miscalibration"] == pytest.approx(0.000322, abs=1e-6)
    assert got["popularity_lift"] == pytest.approx((math.log(1000) + math.log(10)) / 2 - math.log(1000))  # -ln 10
    assert got["tail_share"] == 0.5
    # the user without a like: only the tail share is defined
    assert taste.measures(2, ["y"], 2) == {"miscalibration": None, "popularity_lift": None, "tail_share": 1.0}
    assert taste.measures(1, [], 2)["tail_share"] is None


def test_every_list_measure_has_a_one_line_definition() -> None:
    lines = M.definitions()
    assert len(lines) == len(M.list_measures())
    assert all("\n" not in line for line in lines)
    assert lines[M.list_measures().index("miscalibration")].startswith("Miscalibration: KL divergence")
    assert "alpha 0.01" in lines[M.list_measures().index("miscalibration")]
    assert "Steck 2018" in M.definitions(["miscalibration"])[0]
    assert M.definitions(M.TASTE)[2].startswith("Tail share: ")
