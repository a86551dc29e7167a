"""Two real app servers (``streamlit run``) on one real PostgreSQL and one shared artifact folder.

Set-up: the hand-written fixture catalogue and its trained model copied into one shared folder
(``CINEBLEND_ARTIFACT_DIR``); server A and server B each with a data folder of its own (nothing
else in common but the database URL and the cookie key); accounts made in the store, the first
one (the admin) first. Sessions are real Streamlit websocket sessions (``tests.support.ws_session``).
Server A runs through ``tests.multiserver.hooked_server``, which holds its training at a known
point until the test lets it go, so "while it runs" is a fact, not a timing guess.

What a person would notice, checked in order:

1. a tester rates on A and, signed in on B, finds the rating there (the title has left B's feed
   and is listed on B's "Your ratings");
2. live weights written to the store (what A's evaluation page does) are used by B's next feed
   run, without a restart: B shows the feed those weights give;
3. a retrain started on A is shown on B's data page while it runs (one bar, stage, A's name),
   B's own Retrain is refused with a line saying what runs, and once A's training is done B's data
   page shows the new model version and B's feed is ranked by it;
4. SIGKILL of A in the middle of a burst of ratings: every acknowledged rating is in the store
   exactly once, and B keeps serving (log in, feed without the rated titles, a new rating).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.app.feed import recommend_for_user
from recsys.catalog.queries import Catalog
from recsys.columns import LIKE
from recsys.jobs import runner as jobs
from recsys.models import weights
from recsys.models.artifacts import latest_version
from recsys.models.service import Recommender
from recsys.store import Store
from recsys.store import jobs as job_rows
from tests.support.app_server import REPO, AppServer
from tests.support.multiserver import button, signed_in, wait_for
from tests.support.postgres import throwaway_database
from tests.support.testers import Account, burst_then_kill, create_testers, feed_tconsts, run_async
from tests.support.ws_session import unescape_markdown

pytestmark = [pytest.mark.slow, pytest.mark.server]

ARTIFACTS = REPO / "test-artifacts" / "multiserver"
GENRES = ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"]
#: Movies of the fixture catalogue the testers liked before (a profile the full hybrid serves).
LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020")
BURST_TESTERS = 3
KILL_AFTER = 6  # acknowledged ratings (all burst testers) before A gets SIGKILL
DATA_PAGE = "data-and-model"
HISTORY_PAGE = "my-ratings"


class HookedServer(AppServer):
    """``streamlit run app.py`` through ``tests.multiserver.hooked_server``."""

    def command(self) -> list[str]:
        cmd = super().command()
        assert cmd[1:3] == ["-m", "recsys.ui.serve"]
        return [cmd[0], "-m", "tests.multiserver.hooked_server", *cmd[3:]]


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with throwaway_database(postgres_admin_url, "cineblend_multi") as url:
        yield url.render_as_string(hide_password=False)


def expected_feed(store: Store, account: Account, shared: Path, n: int) -> set[str]:
    """The movie section the app's own feed function gives ``account`` now (live weights,
    newest model), computed in the test's process."""
    user = store.get_user(account.username)
    assert user is not None
    with Catalog(shared / "parquet") as catalog:
        model = Recommender.load_latest(shared / "models")
        sections = recommend_for_user(user, n, catalog=catalog, store=store, recommender=model, kinds=("movie",))
    return set(sections["movie"]["tconst"].to_list())


def test_two_servers_share_one_store_one_model_folder_and_never_collide(
    database: str, built_data: Path, trained_models: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shutil.copytree(built_data / "parquet", shared / "parquet")
    shutil.copytree(trained_models, shared / "models")
    first_model = latest_version(shared / "models")
    gate = tmp_path / "train-gate"
    os.mkfifo(gate)

    with Store.open(database) as store:
        (admin,) = create_testers(store, 1, prefix="admin", genres=GENRES)  # the first account: admin
        rater, weigher = create_testers(store, 2, prefix="multi", genres=GENRES)
        burst = create_testers(store, BURST_TESTERS, prefix="burst", genres=GENRES)
        for account in (rater, weigher, *burst):
            for tconst in LIKES:
                store.rate(account.user_id, tconst, LIKE)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    common = {"DATABASE_URL": database, "CINEBLEND_ARTIFACT_DIR": str(shared)}
    a = HookedServer(
        tmp_path / "a",
        log_path=ARTIFACTS / "server-a.log",
        env={**common, "CINEBLEND_TEST_TRAIN_GATE": str(gate)},
    )
    b = AppServer(tmp_path / "b", log_path=ARTIFACTS / "server-b.log", env=common)
    for server in (a, b):
        server.log_path.unlink(missing_ok=True)
    a.start()
    b.start()
    release: threading.Thread | None = None
    try:
        with Store.open(database) as store:
            # 1. rated on A, seen on B
            async def rate_on_a_see_on_b() -> tuple[str, str, list[str], list[str]]:
                on_a = await signed_in(a.url, rater)
                click = await on_a.rate_first(LIKE)
                await on_a.session.close()
                on_b = await signed_in(b.url, rater)
                feed = feed_tconsts(on_b)
                history = await on_b.session.open_page(HISTORY_PAGE)
                await on_b.session.close()
                return click.tconst, click.title, feed, history.texts() + on_b.errors()

            tconst, title, feed_on_b, history_on_b = run_async(rate_on_a_see_on_b)
            assert tconst not in feed_on_b and feed_on_b
            assert any(title in text for text in history_on_b), history_on_b
            assert store.interactions(rater.user_id).filter(tconst=tconst)["value"].to_list() == [LIKE]

            # 2. live weights written once, used by B's next run
            async def feed_on(url: str, account: Account) -> list[str]:
                tester = await signed_in(url, account)
                shown = feed_tconsts(tester)
                assert not tester.errors(), tester.errors()
                await tester.session.close()
                return shown

            before = run_async(lambda: feed_on(b.url, weigher))
            assert set(before) == expected_feed(store, weigher, shared, len(before))
            weights.apply(store, {"popularity": 1.0}, by=admin.username)
            wanted = expected_feed(store, weigher, shared, len(before))
            assert wanted != set(before), "the new weights must change this feed for the check to mean anything"
            assert set(run_async(lambda: feed_on(b.url, weigher))) == wanted
            weights.apply(store, {"content": 0.5, "als": 0.3, "taste": 0.2}, by=admin.username)

            # 3. a retrain started on A: shown on B, refused on B, then B serves the new model
            async def start_on_a() -> None:
                on_a = await signed_in(a.url, admin)
                await on_a.session.open_page(DATA_PAGE)
                run = await button(on_a.session, "data-train")
                assert not run.errors(), run.errors()
                await on_a.session.close()

            run_async(start_on_a)
            wait_for(
                "A's training to run",
                lambda: (j := job_rows.latest(store, jobs.TRAIN)) is not None and j.state == "running",
            )
            running = job_rows.latest(store, jobs.TRAIN)
            assert running is not None and running.server is not None and a.process is not None
            assert f":{a.process.pid}:" in running.server

            async def try_on_b() -> tuple[list[str], list[str], list[str]]:
                on_b = await signed_in(b.url, admin)
                page = await on_b.session.open_page(DATA_PAGE)
                bars = [i.proto.text for i in page.elements("progress")]
                refused = await button(on_b.session, "data-train")
                warnings = [unescape_markdown(i.proto.body) for i in refused.elements("alert")]
                await on_b.session.close()
                return bars, page.texts(), warnings

            bars, page_texts, warnings = run_async(try_on_b)
            assert len(bars) == 1 and bars[0].startswith("Retrain: Training the recommender"), bars
            host = jobs.server_label(running.server)
            assert any(f"on {host}" in t for t in page_texts), page_texts
            assert any("is running on " + host in w and "Wait for it to finish" in w for w in warnings), warnings
            assert [j.id for j in job_rows.recent(store, (jobs.TRAIN,))] == [running.id]  # nothing queued on B

            def open_gate() -> None:
                with open(gate, "w", encoding="utf-8") as fh:
                    fh.write("go")

            release = threading.Thread(target=open_gate, daemon=True)
            release.start()
            wait_for(
                "A's training to finish",
                lambda: (j := job_rows.latest(store, jobs.TRAIN)) is not None and not j.active,
                timeout=180,
            )
            done = job_rows.latest(store, jobs.TRAIN)
            assert done is not None and (done.state, done.error) == ("done", None)
            new_model = latest_version(shared / "models")
            assert new_model is not None and new_model != first_model

            async def model_on_b() -> list[str]:
                on_b = await signed_in(b.url, admin)
                page = await on_b.session.open_page(DATA_PAGE)
                await on_b.session.close()
                return page.texts()

            assert any(new_model in t for t in run_async(model_on_b))

            # 4. A dies mid-burst: nothing acknowledged is lost, B keeps serving
            testers = run_async(lambda: burst_then_kill(a, burst, KILL_AFTER))
            assert not a.running()
            acked = [(t, c) for t in testers for c in t.acknowledged()]
            in_flight = [(t, c) for t in testers for c in t.clicks if c.acked is None]
            assert len(acked) >= KILL_AFTER
            for tester, click in acked + in_flight:
                current = {r["tconst"]: r["value"] for r in store.interactions(tester.account.user_id).to_dicts()}
                changes = [
                    r["value"] for r in store.history(tester.account.user_id).to_dicts() if r["tconst"] == click.tconst
                ]
                stored = (current.get(click.tconst), changes)
                if click.acked is not None:
                    assert stored == (click.value, [click.value]), (tester.account, click, stored)
                else:
                    assert stored in ((None, []), (click.value, [click.value])), (click, stored)

            first = testers[0].account
            rated = store.rated_tconsts(first.user_id)

            async def serves_on_b() -> tuple[list[str], str, int]:
                on_b = await signed_in(b.url, first)
                shown = feed_tconsts(on_b)
                click = await on_b.rate_first(2)
                assert not on_b.errors(), on_b.errors()
                await on_b.session.close()
                return shown, click.tconst, click.value

            shown, tconst, value = run_async(serves_on_b)
            assert shown and not set(shown) & rated
            current = {r["tconst"]: r["value"] for r in store.interactions(first.user_id).to_dicts()}
            assert current.get(tconst) == value
    finally:
        if release is None or release.is_alive():
            # never leave A's job thread blocked on the gate
            fd = os.open(gate, os.O_RDWR | os.O_NONBLOCK)
            os.close(fd)
        a.stop()
        b.stop()
    print(
        f"\ntwo servers: rated on A seen on B; live weights picked up by B; retrain on A refused on B"
        f" ({warnings[0][:80]}...), B serves model {new_model}; A killed after {len(acked)} acknowledged"
        f" ratings ({len(in_flight)} in flight), none lost, B kept serving",
        file=sys.stderr,
    )
