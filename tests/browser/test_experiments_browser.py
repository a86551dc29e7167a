"""An interleaving experiment with real browser clicks from two testers (issue 23): the admin's
Experiments page during the run (the testers' likes counted per arm, the running chart, the
verdict) and after the winner is shipped. Its own server over the fixture catalogue and model
(no mirror needed); screenshots in ``test-artifacts/browser/experiments/``."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect

from recsys.columns import LIKE
from recsys.experiments import exposure, manage, records
from recsys.models import weights
from recsys.store import Store
from tests.support.app_server import REPO, AppServer
from tests.support.browser import new_context
from tests.support.narrow import present
from tests.support.streamlit_page import Screenshots, button, form, key_class, settle, wait_for_session_start
from tests.support.testers import LOGIN_SUBMIT, PASSWORD, create_testers

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = REPO / "test-artifacts" / "browser" / "experiments"
LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020")
GENRES = ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"]


@pytest.fixture
def server(
    built_data: Path, trained_models: Path, tmp_path: Path, chromium_path: str
) -> Iterator[tuple[AppServer, Path]]:
    data = tmp_path / "data"
    shutil.copytree(built_data / "parquet", data / "parquet")
    shutil.copytree(trained_models, data / "models")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    app = AppServer(data, log_path=ARTIFACTS / "streamlit.log")
    app.start()
    try:
        yield app, data
    finally:
        app.stop()


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    wait_for_session_start(page)
    settle(page)
    login = form(page, LOGIN_SUBMIT)
    login.get_by_role("textbox", name="Username").fill(username)
    login.get_by_role("textbox", name="Password").fill(PASSWORD)
    button(page, LOGIN_SUBMIT).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible(timeout=60_000)
    settle(page)


def logged_feed(store: Store, experiment_id: int, user_id: int, timeout: float = 30) -> pl.DataFrame:
    """The user's exposures once the server's log has flushed a render (about once a second)."""
    deadline = time.monotonic() + timeout
    while (shown := records.exposure_frame(store, experiment_id, user_id)).height < 8:
        assert time.monotonic() < deadline, "the feed's exposures never reached the store"
        time.sleep(0.1)
    return shown


def like_cards(page: Page, tconsts: list[str]) -> None:
    for t in tconsts:
        button(page, f"rate-feed-movie-{t}-{LIKE}").click()
        expect(page.locator(f".{key_class(f'card-feed-movie-{t}')}")).to_have_count(0, timeout=30_000)
        settle(page)


def test_two_testers_click_in_browsers_and_the_admin_follows_then_ships(
    browser: Browser, server: tuple[AppServer, Path]
) -> None:
    app, data = server
    url = f"sqlite:///{(data / 'app.db').resolve()}"
    with Store.open(url) as store:
        (admin,) = create_testers(store, 1, prefix="admin", genres=GENRES)
        testers = create_testers(store, 2, prefix="tester", genres=GENRES)
        for account in testers:
            for t in LIKES:
                store.rate(account.user_id, t, LIKE)
        exp = manage.create(
            store,
            by=admin.username,
            name="Blend vs popularity",
            section="movie",
            method="interleave",
            arms=[
                {"name": "blend", "weights": {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}},
                {"name": "popular", "weights": {"popularity": 1.0}},
            ],
        )
        manage.start(store, exp.id, by=admin.username)

    contexts = [new_context(browser, app.url) for _ in range(3)]
    try:
        admin_page, *tester_pages = (c.new_page() for c in contexts)
        for account, page in zip(testers, tester_pages, strict=True):
            sign_in(page, account.username)
        # each tester likes the first two cards the "popular" arm placed in their feed
        with Store.open(url) as store:
            for account, page in zip(testers, tester_pages, strict=True):
                shown = logged_feed(store, exp.id, account.user_id)
                last = shown.filter(shown["render"] == shown["render"][-1])
                popular = last.filter(last["setting"] == "popular")["tconst"].to_list()[:2]
                like_cards(page, popular)
        shots = Screenshots(admin_page, ARTIFACTS)
        sign_in(admin_page, admin.username)
        admin_page.goto("/experiments-lab")
        expect(admin_page.get_by_role("heading", name="Experiments")).to_be_visible(timeout=60_000)
        verdict = admin_page.get_by_text("Not enough data yet")
        expect(verdict).to_be_visible(timeout=60_000)
        expect(admin_page.get_by_text("2 of 2 sessions so far")).to_be_visible()
        shots("during the run: two sessions prefer popular")
        # "Ship the winner" offers the arm ahead first: popular
        button(admin_page, f"exp-ship-button-{exp.id}").click()
        expect(admin_page.get_by_text("Arm popular shipped: live weights now content 0.00")).to_be_visible(
            timeout=60_000
        )
        expect(
            admin_page.get_by_text("Team-draft interleaving on Movies, stopped; arm popular shipped")
        ).to_be_visible()
        shots("after shipping the winner")
    finally:
        for c in contexts:
            c.close()
    exposure.flush_all()
    with Store.open(url) as store:
        assert weights.current(store) == {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 1.0}
        assert weights.history(store)[0].experiment_id == exp.id
        assert present(records.get(store, exp.id)).shipped_arm == "popular"
