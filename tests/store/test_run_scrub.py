"""Deleting an account takes its rows out of every stored evaluation run (issue 21, low): the
per-user metric vectors and the user inspector's lists (app user ``id`` is user ``-id`` there).
Other users' rows, and runs without the user, stay byte for byte."""

from __future__ import annotations

import io

import polars as pl

from recsys.evaluation.runs import unpack_lists, unpack_per_user
from recsys.store import Store, lab


def _parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out, compression="zstd")
    return out.getvalue()


def _save(store: Store, users: list[int]) -> int:
    per_user = pl.DataFrame(
        {
            "ml_user_id": users * 2,
            "ndcg": [0.5] * len(users) * 2,
            "model": ["als"] * len(users) + ["content"] * len(users),
        }
    )
    lists = pl.DataFrame(
        {
            "part": ["__train", "__held_out", "als"] * len(users),
            "user": [u for u in users for _ in range(3)],
            "tconst": ["tt0000001", "tt0000002", "tt0000003"] * len(users),
            "pos": [0, 0, 0] * len(users),
            "rating": [4.0, None, None] * len(users),
        },
        schema={"part": pl.String, "user": pl.Int64, "tconst": pl.String, "pos": pl.Int32, "rating": pl.Float32},
    )
    return lab.save_run(
        store,
        created_by="ada",
        model_version="v1",
        catalogue_build="b1",
        dataset="ml-latest-small.zip + app ratings",
        protocol="temporal",
        config={"k": 10},
        document={"models": []},
        per_user=_parquet(per_user),
        lists=_parquet(lists),
    )


def test_a_deleted_accounts_rows_leave_every_stored_run(store_url: str) -> None:
    with Store.open(store_url) as store:
        ada = store.create_user("ada", "Ada", "ada@example.com", "h")
        bob = store.create_user("bob", "Bob", "bob@example.com", "h")
        with_both = _save(store, [7, -ada.id, -bob.id])
        without = _save(store, [7, -bob.id])
        before = lab.get_run(store, without)
        store.delete_user(ada.id)

        run = lab.get_run(store, with_both)
        assert run is not None
        per_user = unpack_per_user(run.per_user)
        assert {m: f["ml_user_id"].to_list() for m, f in sorted(per_user.items())} == {
            "als": [7, -bob.id],
            "content": [7, -bob.id],
        }
        lists = unpack_lists(run.lists or b"")
        assert sorted(set(lists["user"].to_list())) == sorted([7, -bob.id])
        assert lists.height == 6
        after = lab.get_run(store, without)
        assert before is not None and after is not None
        assert (after.per_user, after.lists) == (before.per_user, before.lists)  # untouched
