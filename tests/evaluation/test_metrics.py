"""Every metric on hand-computed cases (the worked examples of the docstrings and more)."""

from __future__ import annotations

import math

import pytest

from recsys.evaluation import metrics as M

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
