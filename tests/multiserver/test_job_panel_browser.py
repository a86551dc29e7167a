"""The data page's job panel in a real Chromium: Retrain shows one overall bar with the stage as
text while the job runs in the background (held by the test through
``tests.multiserver.hooked_server``), and the page refreshes itself when it ends: the success
line and the new model version appear without a click. Screenshots in
``test-artifacts/multiserver/``."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from recsys.models.artifacts import latest_version
from recsys.store import Store
from tests.multiserver.test_two_servers import ARTIFACTS, GENRES, HookedServer
from tests.support.browser import new_context
from tests.support.streamlit_page import button, form, wait_for_session_start
from tests.support.testers import LOGIN_SUBMIT, PASSWORD, create_testers

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_retrain_shows_one_bar_then_the_new_model(
    browser: Browser, built_data: Path, trained_models: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(built_data / "parquet", data / "parquet")
    shutil.copytree(trained_models, data / "models")
    before = latest_version(data / "models")
    with Store.open(f"sqlite:///{data / 'app.db'}") as store:
        create_testers(store, 1, prefix="admin", genres=GENRES)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = HookedServer(data, log_path=ARTIFACTS / "server-panel.log", env={"CINEBLEND_TEST_TRAIN_GATE": str(gate)})
    server.start()
    opened = False
    try:
        context = new_context(browser, server.url)
        page = context.new_page()
        page.goto("/")
        # the log-in form's own fields, once the session's second run is over: the page also
        # holds the Register tab's (hidden) Username field, and on a loaded machine
        # get_by_label("Username").first found that one and waited 30 s for it to show
        login = form(page, LOGIN_SUBMIT)
        expect(login).to_be_visible(timeout=30_000)
        wait_for_session_start(page)
        login.get_by_role("textbox", name="Username").fill("admin001")
        login.get_by_role("textbox", name="Password").fill(PASSWORD)
        button(page, LOGIN_SUBMIT).click()
        expect(page.get_by_role("heading", name="Your feed")).to_be_visible(timeout=60_000)
        page.goto("/data-and-model")
        page.get_by_role("button", name="Retrain the model").click()

        bars = page.get_by_test_id("stProgress")
        expect(page.get_by_text("Retrain: Training the recommender: held by the test")).to_be_visible(timeout=30_000)
        expect(bars).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "job-running.png"), full_page=True)

        def open_gate() -> None:
            with open(gate, "w", encoding="utf-8") as fh:
                fh.write("go")

        threading.Thread(target=open_gate, daemon=True).start()
        opened = True
        # no click: the panel polls the store and reruns the page when the job has ended
        expect(page.get_by_text("New model trained; every feed uses it from its next click.")).to_be_visible(
            timeout=120_000
        )
        after = latest_version(data / "models")
        assert after is not None and after != before
        expect(page.get_by_text(f"(version {after}), in use by every feed.", exact=False)).to_be_visible()
        expect(bars).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "job-done.png"), full_page=True)
        context.close()
    finally:
        if not opened:
            os.close(os.open(gate, os.O_RDWR | os.O_NONBLOCK))  # never leave the job blocked
        server.stop()
