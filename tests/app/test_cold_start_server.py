"""A fresh server and many people at once: no error page from modules loading in parallel.

Streamlit runs each session's script on its own thread, so the first sessions after a start
import the app's modules at the same time. Before issue 20, 1-3 of 8 pages showed Streamlit's
error box after a restart ("cannot import name 'Recommender' from partially initialized module
'recsys.models.service'"). Here: a real server, 16 websocket sessions opened together as soon as
it answers (sign-in page, the data page by its URL, the feed by its URL and signed in), restarted
``RESTARTS`` times; every run must be free of error elements and the log free of "Uncaught app
execution", and no session may see "Page not found" (the server starts through
:mod:`recsys.ui.serve`, as ``scripts/start.sh`` does). The static half (no import cycle at all) is ``tests/test_imports.py``.

Measured on the 2-core machine (``CINEBLEND_COLD_RESTARTS=10 pytest tests/app/test_cold_start_server.py``):
see the module constant's comment.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TypedDict

import pytest

from recsys.config import Settings
from recsys.store import Store
from recsys.ui.shell import PAGES
from tests.support.app_server import AppServer
from tests.support.testers import Account, WsTester, create_testers, run_async
from tests.support.ws_session import StreamlitSession, headings

pytestmark = [pytest.mark.server]

SESSIONS = 16
#: 10 restarts of 16 sessions took 70 s on the 2-core machine (3 restarts: 21 s), so the test runs
#: the issue's full 10 (CINEBLEND_COLD_RESTARTS overrides).
RESTARTS = int(os.environ.get("CINEBLEND_COLD_RESTARTS", "10"))


#: What one person saw: the page kind, headings, errors, and whether the page was not found.
Visit = TypedDict("Visit", {"kind": str, "headings": list[str], "errors": list[str], "not found": bool})


async def visit(url: str, kind: str, account: Account | None) -> Visit:
    """One person: ``kind`` is "root" (the sign-in page at /), "data" (the data page's URL) or
    "feed" (the feed's URL, then signing in). Returns the headings seen and every error shown."""
    async with StreamlitSession(url, timeout=120) as session:
        if kind == "feed" and account is not None:
            session.page_name = PAGES["feed"][3]
            tester = WsTester(account, session)
            await tester.log_in()
        else:
            if kind == "data":
                session.page_name = PAGES["data"][3]
            await session.run()
        return {
            "kind": kind,
            "headings": [h for run in session.runs for h in headings(run)],
            "errors": session.errors(),
            "not found": session.page_not_found,
        }


async def crowd(url: str, accounts: list[Account]) -> list[Visit]:
    kinds = ["root", "data", "feed", "root"] * (SESSIONS // 4)
    feed_accounts = iter(accounts)
    return list(await asyncio.gather(*(visit(url, k, next(feed_accounts) if k == "feed" else None) for k in kinds)))


def test_sixteen_sessions_right_after_each_start_see_no_error(model_settings: Settings, tmp_path: Path) -> None:
    with Store.open(model_settings.store_url) as store:
        accounts = create_testers(store, SESSIONS // 4)
    log_path = tmp_path / "streamlit.log"
    failures: list[str] = []
    # "Page not found" on deep links right after a start came from Streamlit itself: a pages/
    # folder made the first sessions run in the legacy multipage mode until one of them reached
    # st.navigation (80 of 160 sessions before the server was started through recsys.ui.serve)
    not_found: list[str] = []
    started = time.monotonic()
    for restart in range(RESTARTS):
        server = AppServer(model_settings.data_dir, log_path=log_path)
        server.start()
        try:
            seen = run_async(lambda: crowd(server.url, accounts), timeout=600)  # noqa: B023
        finally:
            server.stop()
        for person in seen:
            if person["errors"]:
                failures.append(f"restart {restart}: {person}")
            if person["not found"]:
                not_found.append(f"restart {restart}: {person['kind']}")
        feeds = [p for p in seen if p["kind"] == "feed"]
        assert all("Your feed" in p["headings"] for p in feeds), feeds
        datas = [p for p in seen if p["kind"] == "data"]
        assert all("Data & model" in p["headings"] for p in datas), datas
    elapsed = time.monotonic() - started
    log = log_path.read_text(errors="replace")
    print(f"{RESTARTS} restarts x {SESSIONS} sessions in {elapsed:.0f} s; page not found: {len(not_found)}")
    assert failures == [], "\n".join(failures)
    assert not_found == [], not_found
    assert "Uncaught app execution" not in log
    assert "partially initialized module" not in log
