"""A revoked session's next click stores nothing and lands on the sign-in page (issue 21, N2),
through the real server and its websocket, on the paths a click really takes: a button inside a
fragment (feed, search, history) reruns only that fragment with the user captured when the page
last ran in full, and a callback (the lab's "Reset to defaults") runs before any page code.

Each scenario signs one person in, revokes their session the way ``users reset-password`` and
"log out everywhere" do (the account's session version is raised in the store), then clicks.
Before the session check in callbacks and fragment runs, every one of these clicks was stored
(the feed's like, the search's like, the history's "Remove", the analyst's weights reset) and
the session stayed on its page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.util import calc_hash

from recsys.config import Settings
from recsys.store import Store
from recsys.store.lab import LIVE_WEIGHTS_KEY, change_live_weights
from recsys.ui.auth import SESSION_ENDED
from recsys.ui.shell import PAGES
from tests.support.app_server import AppServer
from tests.support.testers import Account, WsTester, card_click, create_testers, run_async, section_cards
from tests.support.ws_session import Run, StreamlitSession, trigger

pytestmark = [pytest.mark.server]

WEIGHTS = {"content": 0.25, "als": 0.75}


def page_hash(name: str) -> str:
    return calc_hash(PAGES[name][3])  # a page's script hash is the hash of its URL path


def landed_on_sign_in(run: Run) -> bool:
    return SESSION_ENDED in run.texts() and any(i.key == "login-username" for i in run.elements("text_input"))


async def click_after_revocation(url: str, store_url: str, account: Account, page: str, button_key: str) -> Run:
    """Sign in, open ``page``, revoke the session, click the button whose key starts with
    ``button_key``: the run that follows the click."""
    async with StreamlitSession(url) as session:
        await WsTester(account, session).log_in()
        session.page_hash = page_hash(page)
        run = await session.run()
        if button_key.startswith("cb-cards-"):  # a section element: Like on its first card
            click = card_click(section_cards(run, button_key.removeprefix("cb-cards-"))[0], "rate", 1)
        else:
            button = next(i for i in run.elements("button") if i.key.startswith(button_key))
            click = ([trigger(button)], button.fragment_id)
        with Store.open(store_url) as store:
            store.bump_session_version(account.user_id)  # what reset-password / log out everywhere do
        await session.send_rerun(*click)
        return await session.receive_run()


def test_a_revoked_session_stores_nothing_and_lands_on_sign_in(model_settings: Settings, tmp_path: Path) -> None:
    url_store = model_settings.store_url
    with Store.open(url_store) as store:
        (admin,) = create_testers(store, 1, prefix="admin")
        feed, search, history, lab = create_testers(store, 4, prefix="rev")
        store.set_role(lab.user_id, "analyst")
        store.rate(history.user_id, "tt0000001", 1)  # a title of the fixture catalogue
        change_live_weights(store, WEIGHTS, admin.username, defaults={"content": 0.5, "als": 0.5})
    server = AppServer(model_settings.data_dir, log_path=tmp_path / "streamlit.log")
    server.start()
    try:
        runs = run_async(
            lambda: _scenarios(server.url, url_store, feed, search, history, lab),
            timeout=600,
        )
    finally:
        server.stop()
    with Store.open(url_store) as store:
        stored = {
            "feed": store.interactions(feed.user_id).height,
            "search": store.interactions(search.user_id).height,
            "history": store.interactions(history.user_id).height,
            "lab": store.get_setting(LIVE_WEIGHTS_KEY),
        }
    assert stored == {"feed": 0, "search": 0, "history": 1, "lab": WEIGHTS}
    landed = {name: landed_on_sign_in(run) for name, run in runs.items()}
    assert landed == dict.fromkeys(runs, True), {name: run.texts()[:6] for name, run in runs.items()}
    assert [e for run in runs.values() for e in run.errors()] == []


async def _scenarios(
    url: str, store_url: str, feed: Account, search: Account, history: Account, lab: Account
) -> dict[str, Run]:
    return {
        "feed": await click_after_revocation(url, store_url, feed, "feed", "cb-cards-feed-movie"),
        "search": await click_after_revocation(url, store_url, search, "search", "rate-search-"),
        "history": await click_after_revocation(url, store_url, history, "history", "hist-remove-"),
        "lab": await click_after_revocation(url, store_url, lab, "evaluation", "eval-reset-weights"),
    }
