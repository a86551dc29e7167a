"""The split protocols on hand-written ratings, and the minimal evaluation runner."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from recsys.evaluation import Split, SplitError, evaluate, split
from recsys.evaluation.scoring import history_profile, top_k


def ratings() -> pl.DataFrame:
    rows = []
    # user 1: ten positives at t=1..10, a neutral rating after them and a dislike before
    rows += [(1, f"p{i:02d}", 4.0 + (i % 2), i) for i in range(1, 11)]
    rows += [(1, "n1", 3.0, 11), (1, "n2", 1.0, 0)]
    # user 2: seven positives, the last two at the same time (tie broken by item id)
    rows += [(2, f"q{i}", 4.5, i) for i in range(1, 6)] + [(2, "q7", 4.0, 9), (2, "q6", 5.0, 9)]
    # user 3: four positives only -> never tested
    rows += [(3, f"r{i}", 5.0, i) for i in range(1, 5)] + [(3, "p01", 2.0, 7)]
    # user 4: exactly five positives -> tested, one held out
    rows += [(4, f"s{i}", 4.0, 10 - i) for i in range(1, 6)]
    return pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row")


def held(sp: Split) -> dict[int, list[str]]:
    return {u: sorted(sp.test.filter(pl.col("ml_user_id") == u)["tconst"].to_list()) for u in sp.users}


def test_temporal_holds_out_the_latest_fifth_of_positives() -> None:
    sp = split(ratings(), "temporal")
    assert sp.users == [1, 2, 4]
    assert held(sp) == {1: ["p09", "p10"], 2: ["q7"], 4: ["s1"]}
    # every other rating stays in training, whatever its value or time
    train1 = set(sp.train.filter(pl.col("ml_user_id") == 1)["tconst"].to_list())
    assert train1 == {f"p{i:02d}" for i in range(1, 9)} | {"n1", "n2"}
    assert sp.train.height + sp.test.height == ratings().height
    assert sp.train.filter(pl.col("ml_user_id") == 3).height == 5
    # the ranking catalogue is every item seen in training
    assert sp.items == sorted(set(sp.train["tconst"].to_list()))
    assert "p10" not in sp.items


def test_leave_last_one_out() -> None:
    sp = split(ratings(), "loo")
    assert held(sp) == {1: ["p10"], 2: ["q7"], 4: ["s1"]}


def test_random_holdout_is_seeded() -> None:
    a, b = split(ratings(), "random", seed=1), split(ratings(), "random", seed=1)
    assert a.test.equals(b.test)
    sizes = {u: len(v) for u, v in held(a).items()}
    assert sizes == {1: 2, 2: 1, 4: 1}
    positives = set(ratings().filter(pl.col("rating") >= 4)["tconst"].to_list())
    assert set(a.test["tconst"].to_list()) <= positives
    seeds = {tuple(split(ratings(), "random", seed=s).test["tconst"].to_list()) for s in range(6)}
    assert len(seeds) > 1


def test_min_positives_and_fraction_are_parameters() -> None:
    sp = split(ratings(), "temporal", min_positives=4, test_fraction=0.5)
    assert held(sp)[3] == ["r3", "r4"]
    assert held(sp)[1] == ["p06", "p07", "p08", "p09", "p10"]


def test_bad_input_is_refused() -> None:
    with pytest.raises(SplitError, match="protocol"):
        split(ratings(), "kfold")  # type: ignore[arg-type]
    with pytest.raises(SplitError, match="columns"):
        split(ratings().drop("timestamp"))


def hand_split() -> Split:
    train = pl.DataFrame(
        {
            "ml_user_id": [1, 1, 2, 3, 3],
            "tconst": ["a", "b", "c", "d", "e"],
            "rating": [5.0, 2.0, 4.0, 4.0, 4.0],
            "timestamp": [1, 2, 3, 4, 5],
        }
    )
    test = pl.DataFrame({"ml_user_id": [1, 1, 2], "tconst": ["c", "d", "a"]})
    return Split(train, test, [1, 2], ["a", "b", "c", "d", "e"], "hand")


def test_evaluate_excludes_training_items_and_averages_metrics() -> None:
    fixed = np.array([5.0, 4.0, 3.0, 2.0, 1.0])  # a > b > c > d > e
    seen: dict[int, list[str]] = {}

    def score(user: int, history: pl.DataFrame) -> np.ndarray:
        seen[user] = history["tconst"].to_list()
        return fixed

    result = evaluate(hand_split(), score, k=2, genres={"a": ["X"], "b": ["X"], "c": ["Y"], "d": ["Y"]})
    assert seen == {1: ["a", "b"], 2: ["c"]}
    assert result.top == {1: ["c", "d"], 2: ["a", "b"]}
    s = result.summary
    assert s["precision"] == pytest.approx((1.0 + 0.5) / 2)
    assert s["recall"] == pytest.approx(1.0)
    assert s["ndcg"] == pytest.approx(1.0)
    assert s["mrr"] == pytest.approx(1.0)
    assert s["hit_rate"] == pytest.approx(1.0)
    assert s["coverage"] == pytest.approx(4 / 5)
    assert s["diversity"] == pytest.approx(0.0)  # each list shares its genre
    assert s["users"] == 2


def test_top_k_skips_excluded_and_nan() -> None:
    scores = np.array([np.nan, 3.0, 2.0, 9.0, 1.0])
    assert top_k(scores, np.array([3]), 3).tolist() == [1, 2, 4]
    assert top_k(scores, np.array([1, 2, 3, 4]), 3).tolist() == []


def test_history_profile_maps_ratings_to_clicks() -> None:
    sp = hand_split()
    history = pl.DataFrame(
        {"ml_user_id": [7] * 4, "tconst": ["a", "b", "c", "d"], "rating": [5.0, 4.0, 3.0, 1.5], "timestamp": [1, 2, 3, 4]}
    )
    profile = history_profile(history, sp)
    assert profile.tconsts == ("a", "b", "d")
    assert profile.values.tolist() == [2.0, 1.0, -1.0]
    assert profile.user_key == "ml:7"
