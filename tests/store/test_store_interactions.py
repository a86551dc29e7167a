"""Interactions: one current value per user and title, history of every change, idempotent
double clicks (also from concurrent threads), unrate, validation, frames."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from sqlalchemy import Table, event, func, select

from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.errors import UnknownTitleError, UnknownUserError
from recsys.store import HISTORY_SCHEMA, INTERACTIONS_SCHEMA, Store, User
from recsys.store.schema import interaction_history, interactions

MOVIE = "tt0111161"
OTHER = "tt0068646"
SHOW = "tt0903747"


@pytest.fixture
def ada(store: Store) -> User:
    return store.create_user("ada", "Ada", "ada@example.com", "h")


@pytest.fixture
def bob(store: Store) -> User:
    return store.create_user("bob", "Bob", "bob@example.com", "h")


def _rows(store: Store, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_changes_update_one_row_and_append_history(store: Store, ada: User) -> None:
    assert store.rate(ada.id, MOVIE, LIKE) is True
    assert store.rate(ada.id, MOVIE, SUPERLIKE) is True
    assert store.rate(ada.id, MOVIE, DISLIKE) is True

    current = store.interactions(ada.id)
    assert current.height == 1
    row = current.row(0, named=True)
    assert (row["user_id"], row["tconst"], row["value"]) == (ada.id, MOVIE, DISLIKE)

    history = store.history(ada.id)
    assert history["value"].to_list() == [DISLIKE, SUPERLIKE, LIKE]  # newest first
    assert history["tconst"].to_list() == [MOVIE] * 3
    times = history["created_at"].to_list()
    assert times == sorted(times, reverse=True)
    assert history["id"].to_list() == sorted(history["id"].to_list(), reverse=True)
    # created_at of the current value = the first rating, updated_at = the last change
    assert row["created_at"] == times[-1]
    assert row["updated_at"] == times[0]


def test_double_click_stores_one_history_row(store: Store, ada: User) -> None:
    assert store.rate(ada.id, MOVIE, LIKE) is True
    first = store.interactions(ada.id).row(0, named=True)
    assert store.rate(ada.id, MOVIE, LIKE) is False
    assert store.interactions(ada.id).row(0, named=True) == first  # updated_at unchanged
    assert store.history(ada.id).height == 1


def test_same_rating_from_eight_threads_at_once(store: Store, ada: User) -> None:
    barrier = threading.Barrier(8)

    def click() -> bool:
        barrier.wait(timeout=30)
        return store.rate(ada.id, MOVIE, SUPERLIKE)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: click(), range(8)))

    assert results.count(True) == 1
    assert _rows(store, interactions) == 1
    assert _rows(store, interaction_history) == 1
    assert store.interactions(ada.id)["value"].to_list() == [SUPERLIKE]


def test_different_ratings_from_eight_threads_stay_consistent(store: Store, ada: User) -> None:
    barrier = threading.Barrier(8)
    values = [LIKE, DISLIKE, SUPERLIKE, LIKE, DISLIKE, SUPERLIKE, LIKE, DISLIKE]

    def click(value: int) -> bool:
        barrier.wait(timeout=30)
        return store.rate(ada.id, MOVIE, value)

    with ThreadPoolExecutor(max_workers=8) as pool:
        changed = list(pool.map(click, values))

    history = store.history(ada.id)
    assert _rows(store, interactions) == 1
    assert history.height == changed.count(True)
    # the newest history row is the current value, and no two consecutive rows repeat a value
    assert history["value"][0] == store.interactions(ada.id)["value"][0]
    hist_values = history["value"].to_list()
    assert all(a != b for a, b in zip(hist_values, hist_values[1:], strict=False))


def test_unrate_removes_current_and_records_null(store: Store, ada: User) -> None:
    store.rate(ada.id, MOVIE, LIKE)
    first_created = store.interactions(ada.id)["created_at"][0]
    store.rate(ada.id, OTHER, DISLIKE)

    assert store.unrate(ada.id, MOVIE) is True
    assert store.unrate(ada.id, MOVIE) is False  # already gone: no second history row
    assert store.unrate(ada.id, SHOW) is False  # never rated
    assert store.rated_tconsts(ada.id) == {OTHER}
    history = store.history(ada.id)
    assert history.select("tconst", "value").rows() == [
        (MOVIE, None),
        (OTHER, DISLIKE),
        (MOVIE, LIKE),
    ]

    assert store.rate(ada.id, MOVIE, LIKE) is True  # rating again after removal is a change
    again = store.interactions(ada.id).filter(pl.col("tconst") == MOVIE)
    assert again["created_at"][0] > first_created


def test_frames_newest_first_with_schema(store: Store, ada: User, bob: User) -> None:
    empty = store.interactions(ada.id)
    assert empty.height == 0 and empty.schema == pl.Schema(INTERACTIONS_SCHEMA)
    assert store.history(ada.id).schema == pl.Schema(HISTORY_SCHEMA)
    assert store.all_interactions().schema == pl.Schema(INTERACTIONS_SCHEMA)

    store.rate(ada.id, MOVIE, LIKE)
    store.rate(ada.id, OTHER, SUPERLIKE)
    store.rate(bob.id, SHOW, DISLIKE)
    store.rate(ada.id, SHOW, LIKE)
    store.rate(ada.id, MOVIE, DISLIKE)  # changed last: newest

    mine = store.interactions(ada.id)
    assert mine.schema == pl.Schema(INTERACTIONS_SCHEMA)
    assert mine["tconst"].to_list() == [MOVIE, SHOW, OTHER]
    assert mine["value"].to_list() == [DISLIKE, LIKE, SUPERLIKE]
    assert store.rated_tconsts(ada.id) == {MOVIE, OTHER, SHOW}
    assert store.rated_tconsts(bob.id) == {SHOW}
    # the feed's profile: the same rows and order, three columns
    assert store.profile(ada.id).equals(mine.select("tconst", "value", "updated_at"))
    assert store.profile(bob.id).rows() == [(SHOW, DISLIKE, store.interactions(bob.id)["updated_at"][0])]
    assert store.profile(12345).schema == mine.select("tconst", "value", "updated_at").schema

    everyone = store.all_interactions()
    assert everyone.select("user_id", "tconst", "value").rows() == [
        (ada.id, OTHER, SUPERLIKE),
        (ada.id, MOVIE, DISLIKE),
        (ada.id, SHOW, LIKE),
        (bob.id, SHOW, DISLIKE),
    ]

    assert store.history(ada.id, limit=2)["tconst"].to_list() == [MOVIE, SHOW]
    assert store.history(ada.id, limit=0).height == 0
    assert store.history(ada.id).height == 4


@pytest.mark.parametrize(
    "tconst",
    [
        "tt123456",
        "tt12345678901",
        "TT0111161",
        " tt0111161",
        "tt0111161\n",
        "tt\u0660\u0661\u0661\u0661\u0661\u0666\u0661",  # Arabic-Indic digits
        "nm0000001",
        "",
        111161,
    ],
)
def test_malformed_tconst_is_rejected_and_nothing_stored(store: Store, ada: User, tconst: object) -> None:
    with pytest.raises(UnknownTitleError, match="is not an IMDb title id"):
        store.rate(ada.id, tconst, LIKE)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    with pytest.raises(UnknownTitleError):
        store.unrate(ada.id, tconst)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    assert _rows(store, interactions) == 0
    assert _rows(store, interaction_history) == 0


@pytest.mark.parametrize("value", [0, 3, -2, True, 1.0, "1", None])
def test_invalid_value_is_rejected_and_nothing_stored(store: Store, ada: User, value: object) -> None:
    with pytest.raises(ValueError, match=r"must be 1 \(like\), -1 \(dislike\) or 2 \(superlike\)"):
        store.rate(ada.id, MOVIE, value)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    assert _rows(store, interactions) == 0
    assert _rows(store, interaction_history) == 0


def test_accepts_ten_digit_ids_and_numpy_ints(store: Store, ada: User) -> None:
    import numpy as np

    assert store.rate(ada.id, "tt1234567890", np.int64(2)) is True  # type: ignore[arg-type]  # numpy's int, as a frame hands it over
    assert store.interactions(ada.id)["value"].to_list() == [SUPERLIKE]


def test_rating_for_unknown_user_is_refused(store: Store) -> None:
    with pytest.raises(UnknownUserError, match="No user with id 999"):
        store.rate(999, MOVIE, LIKE)
    assert _rows(store, interactions) == 0
    assert _rows(store, interaction_history) == 0


def test_rating_reads_one_users_current_value_of_one_title(store: Store, ada: User, bob: User) -> None:
    assert store.rating(ada.id, MOVIE) is None
    store.rate(ada.id, MOVIE, LIKE)
    store.rate(bob.id, MOVIE, DISLIKE)
    store.rate(ada.id, MOVIE, SUPERLIKE)
    assert (store.rating(ada.id, MOVIE), store.rating(bob.id, MOVIE), store.rating(ada.id, OTHER)) == (
        SUPERLIKE,
        DISLIKE,
        None,
    )
    store.unrate(ada.id, MOVIE)
    assert store.rating(ada.id, MOVIE) is None


def test_click_writes_skip_the_fsync_but_leave_every_other_write_durable(sqlite_url: str) -> None:
    """Ratings and hidden titles commit without waiting for the disk (``durable=False``); the
    connection goes back to ``synchronous = FULL`` for the next write, also after a failed click."""
    with Store.open(sqlite_url) as store, Store.open(sqlite_url) as other:
        ada = store.create_user("ada", "Ada", "ada@example.com", "h")

        def synchronous() -> list[int]:
            pool = store.engine.pool
            conns = [pool.connect() for _ in range(2)]  # the connection the write used, and one more
            try:
                return [c.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0] for c in conns]  # type: ignore[union-attr]  # checked out: the driver connection is there
            finally:
                for c in conns:
                    c.close()

        statements: list[str] = []

        @event.listens_for(store.engine, "checkout")
        def trace(dbapi_conn: sqlite3.Connection, *_: object) -> None:
            dbapi_conn.set_trace_callback(statements.append)

        store.rate(ada.id, MOVIE, LIKE)
        relaxed = [s for s in statements if s.startswith(("PRAGMA synchronous", "BEGIN", "COMMIT"))]
        assert relaxed == ["PRAGMA synchronous = NORMAL", "BEGIN IMMEDIATE", "COMMIT", "PRAGMA synchronous = FULL"]
        statements.clear()
        store.set_role(ada.id, "analyst")  # an account change: durable
        assert not [s for s in statements if s.startswith("PRAGMA synchronous")]
        store.hide(ada.id, OTHER)
        assert other.rating(ada.id, MOVIE) == LIKE and other.hidden_tconsts(ada.id) == {OTHER}  # committed
        with pytest.raises(UnknownUserError):
            store.rate(ada.id + 99, MOVIE, LIKE)
        assert synchronous() == [2, 2]  # FULL
        store.unrate(ada.id, MOVIE)
        store.unhide(ada.id, OTHER)
        assert other.rating(ada.id, MOVIE) is None and other.hidden_tconsts(ada.id) == set()
        assert synchronous() == [2, 2]
