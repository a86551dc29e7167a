"""SIGKILL the app server in the middle of a burst of ratings, then restart it.

Four testers (real websocket sessions, ``tests.support.ws_session``) log in and rate the first
movie of their feed over and over, each sending its next click as soon as the page shows the
last one. Once 12 ratings have been acknowledged the server gets SIGKILL (no clean-up), while
the other testers' clicks are still in flight. Then:

- every rating acknowledged before the kill is in the store exactly once (current row with the
  clicked value, one history row); a click that was in flight is either wholly there or wholly
  absent (never a current row without its history, or the reverse);
- the SQLite database opens cleanly: ``PRAGMA integrity_check`` is ``ok``, and the store opens
  (migrations see an up-to-date schema);
- the restarted app serves: in a real Chromium the sign-in page renders, a tester logs in,
  the feed leaves out everything they rated, and a new rating is acknowledged and stored.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from recsys.store import Store
from tests.support.app_server import REPO, AppServer
from tests.support.synthetic import GENRES
from tests.support.testers import (
    Account,
    BrowserTester,
    burst_then_kill,
    chromium_executable,
    create_testers,
    run_async,
)

pytestmark = [pytest.mark.slow, pytest.mark.server]

TESTERS = 8
KILL_AFTER = 60  # acknowledged ratings (all testers) before the SIGKILL
ARTIFACTS = REPO / "test-artifacts" / "faults"


async def serves_after_restart(base_url: str, account: Account, rated: set[str], chromium: str) -> tuple[str, int]:
    """In a real browser: log in, check the feed, rate one title. Returns (tconst, value)."""
    from playwright.async_api import async_playwright

    from tests.support.streamlit_page import CHROMIUM_ARGS

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            tester = await BrowserTester.open(browser, base_url, account)
            await tester.log_in()
            shown = set(await tester.feed_tconsts("movie"))
            assert shown, "the feed is empty after the restart"
            assert not shown & rated, f"rated titles are back in the feed: {shown & rated}"
            click = await tester.rate_first(2)
            await tester.page.screenshot(path=str(ARTIFACTS / "after-restart.png"), full_page=True)
            errors = await tester.errors()
            assert not errors, f"the page showed errors after the restart: {errors}"
            return click.tconst, click.value
        finally:
            await browser.close()


def test_sigkill_mid_burst_loses_nothing_acknowledged(synthetic_data: Path, tmp_path: Path) -> None:
    chromium = chromium_executable()
    data_dir = tmp_path / "data"
    shutil.copytree(synthetic_data, data_dir)
    db = data_dir / "app.db"
    url = f"sqlite:///{db}"
    with Store.open(url) as store:
        accounts = create_testers(store, TESTERS, prefix="crash", genres=GENRES[:5])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "streamlit-crash.log"
    log_path.unlink(missing_ok=True)
    server = AppServer(data_dir, log_path=log_path)
    server.start()
    try:
        testers = run_async(lambda: burst_then_kill(server, accounts, KILL_AFTER))
        assert not server.running()

        acked = [(t, c) for t in testers for c in t.acknowledged()]
        in_flight = [(t, c) for t in testers for c in t.clicks if c.acked is None]
        assert len(acked) >= KILL_AFTER
        assert in_flight, "no click was in flight when the server died"

        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        landed = 0  # in-flight clicks that were stored anyway
        with Store.open(url) as store:
            for tester, click in acked + in_flight:
                user_id = tester.account.user_id
                current = {r["tconst"]: r["value"] for r in store.interactions(user_id).to_dicts()}
                changes = [r["value"] for r in store.history(user_id).to_dicts() if r["tconst"] == click.tconst]
                stored = (current.get(click.tconst), changes)
                if click.acked is not None:
                    assert stored == (click.value, [click.value]), (tester.account, click, stored)
                else:  # in flight: all or nothing
                    assert stored in ((None, []), (click.value, [click.value])), (click, stored)
                    landed += stored[0] is not None

            first = testers[0]
            rated = store.rated_tconsts(first.account.user_id)  # acknowledged + stored in flight

        server.start()
        tconst, value = run_async(lambda: serves_after_restart(server.url, first.account, rated, chromium))
        with Store.open(url) as store:
            current = {r["tconst"]: r["value"] for r in store.interactions(first.account.user_id).to_dicts()}
        assert current.get(tconst) == value
    finally:
        server.stop()
    print(
        f"\ncrash: SIGKILL after {len(acked)} acknowledged ratings with {len(in_flight)} clicks in"
        f" flight ({landed} of them stored whole, the rest not at all); every acknowledged rating"
        " kept, integrity_check ok, login and rating work after the restart"
    )
