"""ALS on a checkerboard (implicit's classic known-answer test), fold-in, dislikes, explain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from recsys.models import (
    ALSConfig,
    ALSScorer,
    Profile,
    Recommender,
    RecommenderConfig,
    TfidfConfig,
    TrainingData,
)
from recsys.models.als import build_matrix, fold_in, interaction_table
from tests.support.narrow import present

N_USERS, N_ITEMS = 20, 20
CONFIG = ALSConfig(factors=8, iterations=15, regularization=0.1, random_state=11, num_threads=1)


def item(i: int) -> str:
    return f"tt{i:07d}"


def held_out(u: int) -> int:
    """Each user's one missing item of their own parity."""
    return 2 * ((u // 2) % (N_ITEMS // 2)) + u % 2


def checkerboard() -> pl.DataFrame:
    """User u likes (rating 5) every item with the parity of u, except ``held_out(u)``."""
    rows = [
        (u, item(i), 5.0, 1_000_000 + i)
        for u in range(N_USERS)
        for i in range(N_ITEMS)
        if i % 2 == u % 2 and i != held_out(u)
    ]
    return pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row")


def _titles() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tconst": [item(i) for i in range(N_ITEMS)],
            "kind": ["movie"] * N_ITEMS,
            "title_type": ["movie"] * N_ITEMS,
            "primary_title": [f"Title {i}" for i in range(N_ITEMS)],
            "genres": [["Drama"] if i % 2 else ["Comedy"] for i in range(N_ITEMS)],
            "popularity": [float(N_ITEMS - i) for i in range(N_ITEMS)],
        }
    )


@pytest.fixture(scope="module")
def als() -> ALSScorer:
    return ALSScorer(CONFIG).fit(TrainingData(titles=_titles(), ratings=checkerboard()))


def liked(u: int) -> list[str]:
    return [item(i) for i in range(N_ITEMS) if i % 2 == u % 2 and i != held_out(u)]


def ranked(scores: np.ndarray, exclude: list[str], items: list[str]) -> list[str]:
    order = np.argsort(-scores, kind="stable")
    return [items[i] for i in order if items[i] not in exclude]


@pytest.mark.parametrize("u", range(N_USERS))
def test_held_out_item_is_each_trained_users_top(als: ALSScorer, u: int) -> None:
    items = [item(i) for i in range(N_ITEMS)]
    profile = Profile.of([(t, 2) for t in liked(u)], user_key=f"ml:{u}")
    top = ranked(als.score(profile, items), liked(u), items)
    assert top[0] == item(held_out(u))


def test_fold_in_user_with_same_likes_gets_nearly_the_same_list(als: ALSScorer) -> None:
    items = [item(i) for i in range(N_ITEMS)]
    for u in (0, 7):
        trained = ranked(als.score(Profile.of([], user_key=f"ml:{u}"), items), liked(u), items)
        # rating 5 has confidence 2 in training; a superlike (2) maps to the same confidence
        folded = ranked(als.score([(t, 2) for t in liked(u)], items), liked(u), items)
        assert folded[0] == trained[0] == item(held_out(u))
        assert len(set(folded[:5]) & set(trained[:5])) >= 4


def test_fold_in_does_not_touch_the_shared_model(als: ALSScorer) -> None:
    before_users = als.model.user_factors.copy()
    before_items = als.model.item_factors.copy()
    als.score([(t, 1) for t in liked(3)], [item(i) for i in range(N_ITEMS)])
    np.testing.assert_array_equal(als.model.user_factors, before_users)
    np.testing.assert_array_equal(als.model.item_factors, before_items)


def test_dislike_lowers_the_score_of_similar_items(als: ALSScorer) -> None:
    items = [item(i) for i in range(N_ITEMS)]
    base = [(t, 1) for t in liked(0)[:5]]
    plain = als.score(base, items)
    disliked = als.score([*base, (item(held_out(0)), -1)], items)
    assert disliked[held_out(0)] < plain[held_out(0)]


def test_matrix_maps_ratings_and_app_values_to_confidences() -> None:
    ml = pl.DataFrame(
        {
            "ml_user_id": [1, 1, 1, 1],
            "tconst": ["tt1", "tt2", "tt3", "tt4"],
            "rating": [5.0, 4.0, 3.0, 1.5],
            "timestamp": [1, 2, 3, 4],
        }
    )
    app = pl.DataFrame(
        {
            "user_id": [1, 1, 1],
            "tconst": ["tt1", "tt2", "tt3"],
            "value": [1, 2, -1],
            "created_at": pl.Series([0, 1, 2]).cast(pl.Datetime("us", "UTC")),
        }
    )
    cfg = ALSConfig(rating_slope=1.0, negative_confidence=2.0, dislike_confidence=3.0)
    matrix, users, items = build_matrix(interaction_table(ml, app, cfg))
    assert users.ids.tolist() == ["app:1", "ml:1"]  # app and MovieLens id 1 stay distinct
    assert items.ids.tolist() == ["tt1", "tt2", "tt3", "tt4"]
    np.testing.assert_array_equal(matrix.toarray(), [[1, 2, -3, 0], [2, 1, 0, -2]])


def test_a_title_rated_twice_keeps_the_latest_rating() -> None:
    ml = pl.DataFrame(
        {
            "ml_user_id": [1, 1, 1, 2],
            "tconst": ["tt1", "tt1", "tt2", "tt1"],
            "rating": [5.0, 1.0, 4.0, 4.0],
            "timestamp": [10, 20, 5, 1],
        }
    )
    matrix, users, items = build_matrix(interaction_table(ml, None, ALSConfig(negative_confidence=3.0)))
    assert users.ids.tolist() == ["ml:1", "ml:2"]
    np.testing.assert_array_equal(matrix.toarray(), [[-3, 1], [1, 0]])


def test_users_sort_by_source_then_id_whatever_their_range() -> None:
    ml = pl.DataFrame(
        {"ml_user_id": [10, 2, 10], "tconst": ["tt2", "tt1", "tt1"], "rating": [4.0, 5.0, 4.0], "timestamp": [1, 2, 3]}
    )
    cfg = ALSConfig(rating_slope=1.0, recency_half_life_days=0)
    matrix, users, items = build_matrix(interaction_table(ml, None, cfg))
    assert users.ids.tolist() == ["ml:2", "ml:10"]  # numeric order, not text order
    assert matrix.dtype == np.float32 and matrix.has_sorted_indices
    np.testing.assert_array_equal(matrix.toarray(), [[2, 0], [1, 1]])
    # ids outside [0, 2^40) (the evaluation numbers app users below 0) take the general path
    odd = ml.with_columns(pl.Series("ml_user_id", [1 << 41, -3, 1 << 41]))
    matrix, users, _ = build_matrix(interaction_table(odd, None, cfg))
    assert users.ids.tolist() == ["ml:-3", f"ml:{1 << 41}"]
    np.testing.assert_array_equal(matrix.toarray(), [[2, 0], [1, 1]])


def test_explain_matches_implicit_and_sums_to_the_score(als: ALSScorer) -> None:
    profile = [(t, 1) for t in liked(4)] + [(item(1), -1)]
    cands = [item(held_out(4)), item(3), item(6)]
    names, contrib = als.explain(profile, cands)
    assert item(1) not in names  # a disliked title never explains anything
    np.testing.assert_allclose(contrib.sum(axis=1), als.score(profile, cands), rtol=1e-4, atol=1e-6)
    row = als.user_items(profile)
    _, top, _ = als.model.explain(0, row, present(als.items).get(cands[0]), N=len(names))
    expected = {str(present(als.items).ids[i]): s for i, s in top}
    got = dict(zip(names, contrib[0], strict=True))
    for t, s in expected.items():
        assert got[t] == pytest.approx(s, rel=1e-4, abs=1e-6)


def test_fit_and_fit_interactions_give_the_same_model(als: ALSScorer) -> None:
    other = ALSScorer(CONFIG).fit_interactions(checkerboard())
    np.testing.assert_array_equal(other.item_factors, als.item_factors)
    assert present(other.items).ids.tolist() == present(als.items).ids.tolist()


def test_recommender_never_returns_disliked_or_rated_titles() -> None:
    config = RecommenderConfig(scorers={"content": TfidfConfig(min_df=1), "als": CONFIG})
    rec = Recommender.fit(TrainingData(titles=_titles(), ratings=checkerboard()), config)
    disliked = [item(held_out(0)), item(1), item(3)]
    profile = [(t, 1) for t in liked(0)] + [(t, -1) for t in disliked]
    out = rec.recommend(profile, "movie", n=N_ITEMS)
    returned = set(out["tconst"].to_list())
    assert not returned & set(disliked)
    assert not returned & set(liked(0))
    assert len(returned) == N_ITEMS - len(liked(0)) - len(disliked)


def test_sparse_row_is_sorted_csr(als: ALSScorer) -> None:
    row = als.user_items([(item(4), 1), (item(0), 2), ("tt9999999", 1)])
    assert isinstance(row, sp.csr_matrix) and row.has_sorted_indices
    assert row.indices.tolist() == [present(als.items).get(item(0)), present(als.items).get(item(4))]
    assert row.data.tolist() == [2.0, 1.0]


def test_prepared_query_splits_the_score_over_the_liked_titles(als: ALSScorer) -> None:
    """``prepare`` -> ``ALSQuery``: ``scores(block)`` equals ``score``; ``contributions`` of any
    candidate positions sum to their folded-in score and name only the liked titles."""
    items = [item(i) for i in range(N_ITEMS)] + ["tt9999999"]
    profile = Profile.of([(t, 1) for t in liked(2)] + [(item(1), -1)])
    query = als.prepare(profile)
    assert query is not None
    block = als.candidates(items)
    scores = query.scores(block)
    np.testing.assert_array_equal(scores, als.score(profile, items))
    assert np.isnan(scores[-1]) and np.isfinite(scores[:-1]).all()
    positions = np.array([held_out(2), 3, 5])
    names, contrib = query.contributions(block, positions)
    assert names == sorted(liked(2)) and item(1) not in names
    np.testing.assert_allclose(contrib.sum(axis=1), scores[positions], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        query.contributions_of(als.item_factors[[present(als.items).get(item(3))]]), contrib[[1]]
    )
    # the held-out item of the user's own parity is explained more than an item of the other parity
    assert contrib[0].sum() > contrib[1].sum()
    # an unknown candidate contributes nothing
    names_u, contrib_u = query.contributions(block, np.array([N_ITEMS]))
    assert (contrib_u == 0).all()


def test_the_fold_in_is_implicits_recalculate_user_bit_for_bit(als: ALSScorer) -> None:
    """ALSScorer.prepare folds a profile in on the row's arrays (als.fold_in): the same factor as
    implicit's recalculate_user on the sparse row, for any alpha."""
    profile = Profile.of([(t, 1) for t in liked(2)] + [(item(1), -1), (item(5), 2)])
    row = als.user_items(profile)
    query = als.prepare(profile)
    assert row is not None and query is not None
    np.testing.assert_array_equal(query.user, als.model.recalculate_user(0, row))
    cols, conf = query.row if query.row is not None else (None, None)
    assert cols is not None and conf is not None
    alpha = als.model.alpha
    try:
        als.model.alpha = 1.0
        np.testing.assert_array_equal(fold_in(als.model, cols, conf), als.model.recalculate_user(0, row))
    finally:
        als.model.alpha = alpha


def test_no_known_positive_title_means_no_query(als: ALSScorer) -> None:
    assert als.prepare(Profile.of([])) is None
    assert als.prepare(Profile.of([("tt9999999", 1)])) is None
    assert als.prepare(Profile.of([(item(0), -1), (item(2), -1)])) is None  # dislikes only


def _mixed() -> tuple[pl.DataFrame, pl.DataFrame]:
    ml = pl.DataFrame(
        {
            "ml_user_id": [3, 1, 1, 2, 3, 1],
            "tconst": ["tt2", "tt1", "tt3", "tt1", "tt4", "tt4"],
            "rating": [4.0, 5.0, 1.0, 3.0, 4.5, 2.0],
            "timestamp": [5, 1, 2, 3, 90_000, 4],
        }
    )
    app = pl.DataFrame(
        {
            "user_id": [1, 7, 7],
            "tconst": ["tt9", "tt1", "tt2"],
            "value": [2, 1, -1],
            "created_at": pl.Series([0, 10**9, 2 * 10**9]).cast(pl.Datetime("us", "UTC")),
        }
    )
    return ml, app


@pytest.mark.parametrize(
    "case",
    ["mixed", "recency", "duplicate", "odd ids", "ratings only", "app only"],
)
def test_the_matrix_from_a_lazy_scan_is_the_table_s_matrix(case: str, tmp_path: Path) -> None:
    from recsys.models.als import interaction_matrix

    ml, app = _mixed()
    cfg = ALSConfig(recency_half_life_days=1.0 if case == "recency" else 0.0)
    if case == "duplicate":
        ml = pl.concat(
            [ml, ml.head(1).with_columns(pl.lit(1.0).alias("rating"), pl.lit(99, dtype=pl.Int64).alias("timestamp"))]
        )
    if case == "odd ids":
        ml = ml.with_columns(pl.col("ml_user_id") - 2)
    ml_in: pl.DataFrame | None = None if case == "app only" else ml
    app_in = None if case == "ratings only" else app
    want, want_users, want_items = build_matrix(interaction_table(ml_in, app_in, cfg))
    sources: list[pl.DataFrame | pl.LazyFrame | None] = [ml_in]
    if ml_in is not None:
        ml_in.write_parquet(tmp_path / "ratings.parquet")
        sources.append(pl.scan_parquet(tmp_path / "ratings.parquet"))
    for source in sources:
        matrix, users, items = interaction_matrix(source, app_in, cfg)
        assert users.ids.tolist() == want_users.ids.tolist()
        assert items.ids.tolist() == want_items.ids.tolist()
        assert matrix.dtype == np.float32 and matrix.indices.dtype == np.int32 and matrix.has_sorted_indices
        np.testing.assert_array_equal(matrix.toarray(), want.toarray())


def test_training_from_a_parquet_scan_gives_the_same_factors(tmp_path: Path) -> None:
    ratings = checkerboard()
    ratings.write_parquet(tmp_path / "ratings.parquet")
    eager = ALSScorer(CONFIG).fit_interactions(ratings)
    lazy = ALSScorer(CONFIG).fit_interactions(pl.scan_parquet(tmp_path / "ratings.parquet"))
    assert lazy.users is not None and eager.users is not None
    assert lazy.users.ids.tolist() == eager.users.ids.tolist()
    np.testing.assert_array_equal(lazy.model.user_factors, eager.model.user_factors)
    np.testing.assert_array_equal(lazy.item_factors, eager.item_factors)
