"""The split protocols on hand-written ratings, and the minimal evaluation runner."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

from recsys.evaluation import PROTOCOLS, Split, SplitError, evaluate, split, validation_split
from recsys.evaluation.scoring import history_profile, top_k
from recsys.evaluation.splits import Protocol


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


def train_items(sp: Split, user: int) -> set[str]:
    return set(sp.train.filter(pl.col("ml_user_id") == user)["tconst"].to_list())


def frame(rows: Sequence[tuple[int, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row")


def latest(times: pl.Series) -> int:
    """The latest timestamp of a non-empty column of ints."""
    value = times.max()
    assert isinstance(value, int)
    return value


def earliest(times: pl.Series) -> int:
    """The earliest timestamp of a non-empty column of ints."""
    value = times.min()
    assert isinstance(value, int)
    return value


def pairs(df: pl.DataFrame) -> set[tuple[int, str]]:
    return set(zip(df["ml_user_id"].to_list(), df["tconst"].to_list(), strict=True))


def test_temporal_holds_out_the_latest_fifth_of_positives() -> None:
    sp = split(ratings(), "temporal")
    assert sp.users == [1, 2, 4]
    assert held(sp) == {1: ["p09", "p10"], 2: ["q7"], 4: ["s1"]}
    # strict rule: user 1's neutral rating at t=11 (after the first held-out, t=9) leaves
    # training; the dislike at t=0 stays
    assert train_items(sp, 1) == {f"p{i:02d}" for i in range(1, 9)} | {"n2"}
    # user 2's q6 shares the held-out q7's time (9): it is the user's future too, dropped
    assert train_items(sp, 2) == {f"q{i}" for i in range(1, 6)}
    assert sp.dropped == 2
    assert sp.train.height + sp.test.height + sp.dropped == ratings().height
    assert sp.train.filter(pl.col("ml_user_id") == 3).height == 5
    # the ranking catalogue is every item seen in training
    assert sp.items == sorted(set(sp.train["tconst"].to_list()))
    assert "p10" not in sp.items and "q6" not in sp.items


def test_leave_last_one_out() -> None:
    sp = split(ratings(), "loo")
    assert held(sp) == {1: ["p10"], 2: ["q7"], 4: ["s1"]}
    assert train_items(sp, 1) == {f"p{i:02d}" for i in range(1, 10)} | {"n2"}
    assert sp.dropped == 2  # user 1's n1 (t=11 >= 10) and user 2's q6 (t=9, tied with q7)


def test_random_holdout_is_seeded() -> None:
    a, b = split(ratings(), "random", seed=1), split(ratings(), "random", seed=1)
    assert a.test.equals(b.test)
    sizes = {u: len(v) for u, v in held(a).items()}
    assert sizes == {1: 2, 2: 1, 4: 1}
    positives = set(ratings().filter(pl.col("rating") >= 4)["tconst"].to_list())
    assert set(a.test["tconst"].to_list()) <= positives
    seeds = {tuple(split(ratings(), "random", seed=s).test["tconst"].to_list()) for s in range(6)}
    assert len(seeds) > 1
    # the non-temporal reference: no time rule, every other rating stays in training
    assert a.dropped == 0 and a.train.height + a.test.height == ratings().height


def test_min_positives_and_fraction_are_parameters() -> None:
    sp = split(ratings(), "temporal", min_positives=4, test_fraction=0.5)
    assert held(sp)[3] == ["r3", "r4"]
    assert held(sp)[1] == ["p06", "p07", "p08", "p09", "p10"]
    assert train_items(sp, 3) == {"r1", "r2"}  # the 2.0 at t=7 is user 3's future now


def test_strict_rule_drops_the_tested_users_future() -> None:
    rows = [(1, f"p{i:02d}", 4.5, i) for i in range(1, 11)]  # first held-out: p09 at t=9
    rows += [(1, "early", 1.0, 3), (1, "before", 2.0, 8), (1, "tie", 2.5, 9)]
    rows += [(1, "dislike", 1.0, 10), (1, "meh", 3.0, 12)]
    sp = split(frame(rows))
    assert held(sp) == {1: ["p09", "p10"]}
    # the dislike and the 3.0 leave training, and so does the rating at exactly t=9
    assert train_items(sp, 1) == {f"p{i:02d}" for i in range(1, 9)} | {"early", "before"}
    assert sp.dropped == 3
    assert sp.train.height + sp.test.height + sp.dropped == len(rows)
    loo = split(frame(rows), "loo")  # first held-out: p10 at t=10
    assert held(loo) == {1: ["p10"]}
    assert train_items(loo, 1) == {f"p{i:02d}" for i in range(1, 10)} | {"early", "before", "tie"}
    assert loo.dropped == 2  # the dislike at t=10 and the 3.0 at t=12


def test_users_with_too_few_positives_keep_everything() -> None:
    rows = [(1, f"p{i}", 5.0, i) for i in range(1, 6)] + [(1, "late", 2.0, 100)]
    rows += [(2, f"r{i}", 4.0, i) for i in range(1, 5)] + [(2, f"l{i}", 1.0, 50 + i) for i in range(3)]
    protocols: tuple[Protocol, ...] = ("temporal", "loo", "random")
    for protocol in protocols:
        sp = split(frame(rows), protocol)
        assert sp.users == [1]
        assert sp.train.filter(pl.col("ml_user_id") == 2).height == 7
        assert sp.train.height + sp.test.height + sp.dropped == len(rows)


def test_global_cut_with_an_explicit_time() -> None:
    rows = [(1, f"a{i}", 4.0, i) for i in range(1, 7)] + [(1, "a7", 5.0, 10), (1, "a8", 4.0, 11)]
    rows += [(1, "meh", 3.0, 5), (1, "dislike", 1.0, 12)]
    rows += [(2, f"b{i}", 4.0, i + 1) for i in range(1, 4)] + [(2, "b4", 4.0, 10), (2, "b5", 5.0, 13)]
    rows += [(3, "c1", 5.0, 1), (3, "c2", 5.0, 2), (3, "c3", 5.0, 10), (3, "c4", 5.0, 11)]  # 4 positives
    rows += [(4, f"d{i}", 5.0, 10 + i) for i in range(6)]  # no history before the cut
    rows += [(5, f"e{i}", 4.5, i) for i in range(1, 6)]  # everything before the cut
    sp = split(frame(rows), "global", cutoff=10)
    assert sp.cutoff == 10 and sp.protocol == "global"
    assert held(sp) == {1: ["a7", "a8"], 2: ["b4", "b5"]}
    assert sp.train.height == sum(1 for r in rows if r[3] < 10)
    assert latest(sp.train["timestamp"]) < 10  # nobody's rating at or after the cut
    assert sp.dropped == 1 + 2 + 6  # user 1's dislike, user 3's two, user 4's six
    assert sp.train.height + sp.test.height + sp.dropped == len(rows)
    assert train_items(sp, 1) == {f"a{i}" for i in range(1, 7)} | {"meh"}


def test_global_cut_defaults_to_the_quantile_of_all_times() -> None:
    rows = [(1, f"p{i:02d}", 4.0, i) for i in range(1, 11)]
    sp = split(frame(rows), "global")
    assert sp.cutoff == pytest.approx(8.2)  # the 0.8 quantile of 1..10, linear interpolation
    assert held(sp) == {1: ["p09", "p10"]} and sp.dropped == 0
    rng = np.random.default_rng(3)
    times = rng.integers(0, 1000, 200)
    users = rng.integers(1, 9, 200)
    many = frame([(int(u), f"t{i}", 4.0, int(t)) for i, (u, t) in enumerate(zip(users, times, strict=True))])
    sp = split(many, "global", test_fraction=0.3)
    assert sp.cutoff == pytest.approx(float(np.quantile(times, 0.7)))
    test_times = sp.test.join(many, on=["ml_user_id", "tconst"])["timestamp"]
    assert sp.cutoff is not None
    assert latest(sp.train["timestamp"]) < sp.cutoff <= earliest(test_times)


def test_validation_split_carves_the_same_protocol_from_training() -> None:
    sp = split(ratings(), "temporal")
    val = validation_split(sp)
    assert val.protocol == "temporal"
    # user 1 trains on p01..p08 and n2: 8 positives -> p08 held out; user 2 on q1..q5 -> q5;
    # user 4 keeps four positives only (s1 went to test), so it is not validated
    assert held(val) == {1: ["p08"], 2: ["q5"]}
    assert train_items(val, 1) == {f"p{i:02d}" for i in range(1, 8)} | {"n2"}
    assert val.train.height + val.test.height + val.dropped == sp.train.height
    assert not pairs(val.test) & pairs(sp.test)
    assert not pairs(val.test) & pairs(val.train)
    # options are inherited unless overridden (user 3, never tested outside, has 4 positives)
    assert held(validation_split(sp, min_positives=4)) == {1: ["p08"], 2: ["q5"], 3: ["r4"], 4: ["s2"]}
    with pytest.raises(SplitError, match="validation"):
        validation_split(hand_split())


def test_validation_split_of_a_global_cut() -> None:
    rows = [(1, f"a{i}", 4.0, i) for i in range(1, 7)] + [(1, "a7", 5.0, 10), (1, "meh", 3.0, 5)]
    rows += [(2, f"b{i}", 4.0, i + 1) for i in range(1, 4)] + [(2, "b4", 4.0, 10), (2, "b5", 5.0, 13)]
    rows += [(5, f"e{i}", 4.5, i) for i in range(1, 6)]
    sp = split(frame(rows), "global", cutoff=10)
    val = validation_split(sp, cutoff=5)
    # before 5: user 1 has a1..a4, user 5 e1..e4; user 1 (6 positives in training) gets a5, a6
    # and loses the 3.0 at t=5; user 5 (5 positives) gets e5; user 2 has 3 positives in training
    assert held(val) == {1: ["a5", "a6"], 5: ["e5"]}
    assert val.dropped == 1
    assert latest(val.train["timestamp"]) < 5
    default = validation_split(sp)
    assert default.cutoff == pytest.approx(float(np.quantile(sp.train["timestamp"].to_numpy(), 0.8)))
    assert default.cutoff is not None and sp.cutoff is not None
    assert default.cutoff < sp.cutoff
    with pytest.raises(SplitError, match="before the test cutoff"):
        validation_split(sp, cutoff=10)


def check_strict(source: pl.DataFrame, sp: Split) -> None:
    """The rules every split keeps, whatever the data."""
    assert sp.train.height + sp.test.height + sp.dropped == source.height
    positives = pairs(source.filter(pl.col("rating") >= 4))
    assert pairs(sp.test) <= positives
    assert not pairs(sp.test) & pairs(sp.train)
    assert sp.users == sorted(set(sp.test["ml_user_id"].to_list()))
    test_times = sp.test.join(source, on=["ml_user_id", "tconst"])
    if sp.protocol == "global":
        assert sp.cutoff is not None
        assert sp.train.is_empty() or latest(sp.train["timestamp"]) < sp.cutoff
        assert test_times.is_empty() or earliest(test_times["timestamp"]) >= sp.cutoff
        return
    if sp.protocol == "random":
        assert sp.dropped == 0
        return
    first = test_times.group_by("ml_user_id").agg(pl.col("timestamp").min().alias("first"))
    late = sp.train.join(first, on="ml_user_id").filter(pl.col("timestamp") >= pl.col("first"))
    assert late.is_empty()  # no tested user keeps a rating at or after their first held-out one
    untested = source.filter(~pl.col("ml_user_id").is_in(sp.users))
    assert untested.height == sp.train.filter(~pl.col("ml_user_id").is_in(sp.users)).height


@pytest.mark.parametrize("protocol", ["temporal", "loo", "random", "global"])
def test_invariants_on_seeded_random_ratings(protocol: Protocol) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for user in range(1, 41):
        n = int(rng.integers(0, 30))
        items = rng.choice(200, n, replace=False)
        times = rng.integers(0, 60, n)  # many ties
        stars = rng.choice([1.0, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0], n)
        rows += [(user, f"tt{i:03d}", float(s), int(t)) for i, s, t in zip(items, stars, times, strict=True)]
    source = frame(rows)
    sp = split(source, protocol)
    assert sp.users  # the data has testable users
    check_strict(source, sp)
    if protocol in ("temporal", "loo", "global"):
        assert sp.dropped > 0
    val = validation_split(sp)
    check_strict(sp.train, val)
    assert not pairs(val.test) & pairs(sp.test)
    assert val.items == sorted(set(val.train["tconst"].to_list()))


def test_bad_input_is_refused() -> None:
    with pytest.raises(SplitError, match="protocol"):
        split(ratings(), "kfold")  # type: ignore[arg-type]  # an unknown protocol on purpose: the check under test
    with pytest.raises(SplitError, match="columns"):
        split(ratings().drop("timestamp"))
    with pytest.raises(SplitError, match="global protocol only"):
        split(ratings(), "temporal", cutoff=5)
    assert "global" in PROTOCOLS


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
        {
            "ml_user_id": [7] * 4,
            "tconst": ["a", "b", "c", "d"],
            "rating": [5.0, 4.0, 3.0, 1.5],
            "timestamp": [1, 2, 3, 4],
        }
    )
    profile = history_profile(history, sp)
    assert profile.tconsts == ("a", "b", "d")
    assert profile.values.tolist() == [2.0, 1.0, -1.0]
    assert profile.user_key == "ml:7"
