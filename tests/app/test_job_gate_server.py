"""Through the real server and its websocket (no browser): only a signed-in admin starts a job.

The button's widget id is taken from an admin's session (ids are the same in every session),
then sent as a click by a signed-out session that never had the button, and replayed by the
admin's own session after logging out (its click callback is still registered there, so only
the role check where the job starts can stop it). Neither trains; a signed-in admin's click
does (the control that shows the forged click was the real one).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.util import calc_hash

from recsys.config import Settings
from recsys.models.artifacts import versions
from recsys.store import Store
from recsys.store import jobs as job_rows
from recsys.ui.shell import PAGES
from tests.support.app_server import AppServer
from tests.support.narrow import present
from tests.support.testers import Account, WsTester, create_testers, run_async
from tests.support.ws_session import StreamlitSession, trigger

pytestmark = [pytest.mark.server]

DATA_PAGE = calc_hash(PAGES["data"][3])  # a page's script hash is the hash of its URL path


def trained(settings: Settings) -> list[str]:
    return [p.name for p in versions(settings.models_dir)]


async def scenario(url: str, admin: Account, settings: Settings) -> dict[str, object]:
    seen: dict[str, object] = {}
    async with StreamlitSession(url) as session:
        tester = WsTester(admin, session)
        await tester.log_in()
        session.page_hash = DATA_PAGE
        run = await session.run()
        train_button = run.widget("button", key="data-train")
        logout = run.widget("button", key="logout-button")

        async with StreamlitSession(url) as anonymous:
            await anonymous.run()
            anonymous.page_hash = DATA_PAGE
            run = await anonymous.run()
            seen["anonymous sees buttons"] = [i.key for i in run.elements("button") if i.key.startswith("data-")]
            run = await anonymous.run([WidgetState(id=train_button.id, trigger_value=True)])
            seen["anonymous errors"] = run.errors()
            seen["after anonymous click"] = trained(settings)

        await session.run([trigger(logout)])
        run = await session.run([trigger(train_button)])  # the stale button of the signed-out session
        seen["replay texts"] = run.texts()
        seen["replay errors"] = run.errors()
        seen["after replayed click"] = trained(settings)

    async with StreamlitSession(url) as session:  # control: a signed-in admin's click trains
        await WsTester(admin, session).log_in()
        session.page_hash = DATA_PAGE
        run = await session.run()
        await session.run([trigger(run.widget("button", key="data-train"))])
        seen["admin job"] = await finished_job(settings)
        seen["after admin click"] = trained(settings)
    return seen


async def finished_job(settings: Settings, timeout: float = 180) -> str | None:
    """The state of the latest training job once it has left queued / running (it runs on the
    server's worker thread, not in the clicking session's run)."""
    deadline = time.monotonic() + timeout
    with Store.open(settings.store_url) as store:
        while time.monotonic() < deadline:
            job = job_rows.latest(store, "train")
            if job is not None and not job.active:
                return job.state
            await asyncio.sleep(0.2)  # polling the store for the job's end, not waiting for a race
    return None


def test_signed_out_websocket_sessions_cannot_start_a_job(model_settings: Settings, tmp_path: Path) -> None:
    with Store.open(model_settings.store_url) as store:
        (admin,) = create_testers(store, 1, prefix="admin")  # the first account: the admin
        assert present(store.get_user(admin.username)).role == "admin"
    before = trained(model_settings)
    server = AppServer(model_settings.data_dir, log_path=tmp_path / "streamlit.log")
    server.start()
    try:
        seen = run_async(lambda: scenario(server.url, admin, model_settings), timeout=300)
    finally:
        server.stop()
    assert seen["anonymous sees buttons"] == []
    assert seen["after anonymous click"] == before, seen
    assert seen["after replayed click"] == before, seen
    replay_errors = seen["replay errors"]
    assert isinstance(replay_errors, list)
    assert any("Only a signed-in admin" in e for e in replay_errors), seen
    assert seen["admin job"] == "done", seen
    after = seen["after admin click"]
    assert isinstance(after, list) and len(set(after) - set(before)) == 1, seen
