"""Unit tests of the lab's parts: activity and popularity bands, the 2-D weight grid, the run
store (pack / unpack, compare with a paired test) and the cost estimate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.errors import EvaluationError
from recsys.evaluation import grid, segments
from recsys.evaluation.background import DataSize, estimate_seconds
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.run_compare import bootstrap_ci
from recsys.evaluation.runs import dataset_label
from recsys.models import registry
from tests.support.weights import full


@pytest.mark.parametrize(
    ("n", "band"), [(0, "<= 20"), (20, "<= 20"), (21, "21-100"), (100, "21-100"), (101, "> 100"), (5000, "> 100")]
)
def test_activity_bands_at_their_edges(n: int, band: str) -> None:
    assert segments.activity_band(n) == band


def test_activity_table_means_per_band_and_model() -> None:
    # users 1 (20 training ratings), 2 (21), 3 (150), 4 (21)
    train = pl.DataFrame({"user_id": [1] * 20 + [2] * 21 + [3] * 150 + [4] * 21})
    per_user = {
        "a": pl.DataFrame({"u": [1, 2, 3, 4], "ndcg": [1.0, 0.5, 0.0, 0.25]}),
        "b": pl.DataFrame({"u": [1, 2, 3, 4], "ndcg": [0.0, 0.0, 1.0, 1.0]}),
    }
    table = segments.activity_table(per_user, train, "u", ["a", "b"])
    assert table.select("band", "model", "users", "ndcg").rows() == [
        ("<= 20", "a", 1, 1.0),
        ("<= 20", "b", 1, 0.0),
        ("21-100", "a", 2, 0.375),
        ("21-100", "b", 2, 0.5),
        ("> 100", "a", 1, 0.0),
        ("> 100", "b", 1, 1.0),
    ]


def test_popularity_bands_follow_the_cumulative_share_of_ratings() -> None:
    # a 5, b 3, c 1, d 1 (10 ratings): a starts at 0% (head), b at 50% (torso), c 80%, d 90% (tail)
    train = pl.DataFrame({"tconst": ["a"] * 5 + ["b"] * 3 + ["c", "d"]})
    assert segments.popularity_bands(train) == {"a": "head", "b": "torso", "c": "tail", "d": "tail"}
    assert segments.popularity_bands(train.clear()) == {}


def test_popularity_table_shares_of_recommendations_and_hits() -> None:
    bands = {"a": "head", "b": "torso", "c": "tail", "d": "tail"}
    tops: dict[str, dict[int, list[str]]] = {"m": {1: ["a", "c"], 2: ["a", "d"]}, "none": {1: [], 2: []}}
    relevant = {1: {"c"}, 2: {"a"}}
    table = segments.popularity_table(tops, relevant, bands, ["m", "none"])
    assert table["items"].to_list() == [1, 1, 2]
    assert table["m recs"].to_list() == [0.5, 0.0, 0.5]
    assert table["m hits"].to_list() == [0.5, 0.0, 0.5]
    assert table["none recs"].to_list() == [None, None, None]  # nothing recommended: no share


def test_grid_points_for_a_pair_keep_the_other_weights_and_contain_the_live_point() -> None:
    base = full(content=0.5, als=0.2, taste=0.2, popularity=0.1)
    points = grid.grid_points(("content", "als"), 0.5, base)
    # ALS's axis gains the live 0.2 (content's live 0.5 is on the grid already): 3 x 4 cells
    assert [(p["content"], p["als"]) for p in points] == [(c, a) for c in (0.0, 0.5, 1.0) for a in (0.0, 0.2, 0.5, 1.0)]
    assert all(p["taste"] == 0.2 and p["popularity"] == 0.1 for p in points)
    assert base in points  # the live weights are measured next to every alternative
    assert [grid.axis_label(v) for v in grid.axis_values(0.25, 0.2)] == ["0", "0.2", "0.25", "0.5", "0.75", "1"]
    # no other weight: the all-zero cell cannot blend and is skipped
    zero = grid.grid_points(("content", "als"), 0.5, {})
    assert len(zero) == 8 and full(content=0.0, als=0.0, taste=0.0, popularity=0.0) not in zero


def test_grid_over_three_scorers_covers_the_simplex(monkeypatch: pytest.MonkeyPatch) -> None:
    three = {n: registry.SCORERS[n] for n in ("content", "als", "popularity")}
    monkeypatch.setattr(registry, "SCORERS", three)
    points = grid.grid_points(("content", "als"), 0.5, {})
    assert [(p["content"], p["als"], p["popularity"]) for p in points] == [
        (0.0, 0.0, 1.0),
        (0.0, 0.5, 0.5),
        (0.0, 1.0, 0.0),
        (0.5, 0.0, 0.5),
        (0.5, 0.5, 0.0),
        (1.0, 0.0, 0.0),
    ]


def test_grid_rejects_bad_pairs_and_steps() -> None:
    with pytest.raises(EvaluationError, match="two different scorers"):
        grid.check_pair(("content", "content"))
    with pytest.raises(EvaluationError, match="two different scorers"):
        grid.check_pair(("content", "nope"))
    with pytest.raises(EvaluationError, match="grid step must be between 0.1 and 1"):
        grid.grid_values(0.01)
    assert grid.grid_values(0.25) == [0.0, 0.25, 0.5, 0.75, 1.0]
    frame = pl.DataFrame({"x": [0.0, 0.5, 1.0], "y": [0.0, 0.0, 0.0], "ndcg": [0.1, 0.3, 0.3]})
    assert grid.grid_best(frame, "ndcg") == 1  # ties: the first


def test_bootstrap_ci_of_paired_differences() -> None:
    assert bootstrap_ci(np.full(10, 0.1)) == pytest.approx((0.1, 0.1))
    low, high = bootstrap_ci(np.array([0.0, 0.2] * 50))
    assert low < 0.1 < high and high - low < 0.06
    assert bootstrap_ci(np.array([0.0, 0.2] * 50)) == (low, high)  # seeded
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([])))


def test_dataset_labels() -> None:
    assert (
        dataset_label("https://user:secret@example.org/ml-25m.zip?X-Amz-Signature=abc", True, 10_000)
        == "ml-25m.zip + app ratings, 10,000-user sample"
    )
    assert dataset_label("/data/ml-latest-small.zip", False) == "ml-latest-small.zip"


def test_cost_estimate_grows_with_the_data_and_the_settings() -> None:
    size = DataSize(100_000, 600, 8_000)
    base = estimate_seconds(size, EvaluationConfig())
    ten_times = DataSize(1_000_000, 6_000, 8_000)
    every_user = estimate_seconds(ten_times, EvaluationConfig(sweep_users=None))
    assert every_user > 5 * base
    # the validation sweep, grid and stage settings score a sample of sweep_users: cheaper
    assert 3 * base < estimate_seconds(ten_times, EvaluationConfig(sweep_users=2_000)) < every_user
    assert estimate_seconds(size, EvaluationConfig(factors=256, iterations=50)) > base
    assert estimate_seconds(size, EvaluationConfig(grid=None, segments=False)) < base
    assert estimate_seconds(DataSize(1_000_000, 6_000, 8_000), EvaluationConfig(sample_users=600)) < 2 * base


def test_the_lazy_sample_draws_the_same_users_as_the_in_memory_one(tmp_path: Path) -> None:
    from recsys.evaluation.data import sampled_movielens
    from recsys.evaluation.runner import sample_users

    rng = np.random.default_rng(1)
    n = 4000
    frame = pl.DataFrame(
        {
            "ml_user_id": rng.integers(1, 300, n),
            "tconst": [f"tt{i:07d}" for i in rng.integers(1, 500, n)],
            "rating": rng.choice([1.0, 3.0, 4.0, 5.0], n),
            "timestamp": rng.integers(0, 10**9, n),
            "in_catalog": rng.random(n) > 0.1,
        }
    ).unique(["ml_user_id", "tconst"])
    path = tmp_path / "movielens_ratings.parquet"
    frame.write_parquet(path)
    lazy = sampled_movielens(path, 50, 5, 42)
    eager = sample_users(frame.filter(pl.col("in_catalog")), 50, 5, 42)
    assert lazy["ml_user_id"].n_unique() == 50
    assert sorted(lazy["ml_user_id"].unique().to_list()) == sorted(eager["ml_user_id"].unique().to_list())
    assert lazy.height == eager.height
