"""Experiments on two real app servers sharing one PostgreSQL store (issue 23, item 4): a tester's
A/B arm is the same on server A and on server B, in every session (the hash of user and
experiment, no shared memory), each server's exposure log reaches the store in batches, and the
store holds one assignment per tester. Set-up as ``test_two_servers``: the fixture catalogue and
model in one shared folder, each server with a data folder of its own."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import polars as pl
import pytest

from recsys.app.feed import recommend_profile
from recsys.catalog.queries import Catalog
from recsys.columns import LIKE
from recsys.experiments import manage, records
from recsys.experiments.arms import assign
from recsys.models.service import Recommender
from recsys.store import Store
from tests.support.app_server import REPO, AppServer
from tests.support.postgres import throwaway_database
from tests.support.testers import Account, create_testers, feed_tconsts, run_async, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.server]

ARTIFACTS = REPO / "test-artifacts" / "multiserver"
GENRES = ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"]
LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020")
ARMS = {
    "blend": {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1},
    "popular": {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 1.0},
}
TESTERS = 4


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with throwaway_database(postgres_admin_url, "cineblend_exp") as url:
        yield url.render_as_string(hide_password=False)


def wait_for_exposures(
    store: Store, experiment_id: int, user_id: int, renders: int, timeout: float = 30
) -> pl.DataFrame:
    """Poll the store (the servers flush their logs about once a second) until ``renders`` renders
    of the user are in; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        shown = records.exposure_frame(store, experiment_id, user_id)
        if shown["render"].n_unique() >= renders:
            return shown
        assert time.monotonic() < deadline, f"only {shown['render'].n_unique()} renders of user {user_id} logged"
        time.sleep(0.1)


def test_ab_assignment_is_sticky_across_two_servers_and_sessions(
    database: str, built_data: Path, trained_models: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shutil.copytree(built_data / "parquet", shared / "parquet")
    shutil.copytree(trained_models, shared / "models")
    with Store.open(database) as store:
        (admin,) = create_testers(store, 1, prefix="admin", genres=GENRES)  # the first account: admin
        testers = create_testers(store, TESTERS, prefix="exp", genres=GENRES)
        for account in testers:
            for tconst in LIKES:
                store.rate(account.user_id, tconst, LIKE)
        exp = manage.create(
            store,
            by=admin.username,
            name="blend vs popular",
            section="movie",
            method="ab",
            arms=[{"name": n, "weights": w} for n, w in ARMS.items()],
        )
        manage.start(store, exp.id, by=admin.username)
    arm_of = {a.user_id: assign(exp.id, a.user_id, list(ARMS)) for a in testers}
    assert set(arm_of.values()) == set(ARMS), "the check needs testers in both arms"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    common = {"DATABASE_URL": database, "CINEBLEND_ARTIFACT_DIR": str(shared)}
    a = AppServer(tmp_path / "a", log_path=ARTIFACTS / "exp-server-a.log", env=common)
    b = AppServer(tmp_path / "b", log_path=ARTIFACTS / "exp-server-b.log", env=common)
    a.start()
    b.start()
    try:

        async def feed_on(url: str, account: Account) -> list[str]:
            tester = await signed_in(url, account)
            shown = feed_tconsts(tester)
            assert not tester.errors(), tester.errors()
            await tester.session.close()
            return shown

        model = Recommender.load_latest(shared / "models")
        with Store.open(database) as store, Catalog(shared / "parquet") as catalog:
            for account in testers:
                on_a = run_async(partial(feed_on, a.url, account))
                on_b = run_async(partial(feed_on, b.url, account))
                user = store.get_user(account.username)
                assert user is not None
                wanted = recommend_profile(
                    store.interactions(user.id).select("tconst", "value", "updated_at"),
                    len(on_a),
                    catalog=catalog,
                    recommender=model,
                    weights=ARMS[arm_of[account.user_id]],
                    favourite_genres=user.favourite_genres,
                    kinds=("movie",),
                )["movie"]["tconst"].to_list()
                assert on_a == on_b == wanted, account.username  # the same arm's feed on both servers
                shown = wait_for_exposures(store, exp.id, account.user_id, renders=2)
                assert set(shown["setting"]) == {arm_of[account.user_id]}
                assert shown["session"].n_unique() == 2  # one session per server
                for render in shown.partition_by("render"):
                    assert render.sort("position")["tconst"].to_list() == on_a
            assert records.assignments(store, exp.id) == arm_of
    finally:
        a.stop()
        b.stop()
