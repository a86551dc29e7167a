"""End-to-end harness: the real app (``streamlit run``) on loopback, driven by Chromium.

Once per session: the catalogue and model built from the shared mirror (``mirror_data``: the
real IMDb / MovieLens files, downloaded over loopback) are copied into a fresh data folder and the app is started on a free port with that ``CINEBLEND_DATA_DIR``; the browser is the
session's one Chromium (``tests/support/browser.py``). Each test gets a new browser context (no
cookies) and a page whose relative URLs resolve against the app, plus ``shots(step)`` to keep a screenshot per step under
``test-artifacts/browser/<test>/`` (ignored by git). A failing test also leaves
``NN-FAILED.png`` there, and the app's log is ``test-artifacts/browser/streamlit.log``.

Without chromium or the playwright package these tests skip with the reason (fail under
``CI=true``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.app_server import REPO, AppServer
from tests.support.browser import new_context

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.support.streamlit_page import Screenshots

ARTIFACTS = REPO / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory, mirror_data: Path) -> Path:
    """A data folder with the catalogue and model built from the shared mirror, and no store:
    the app creates ``app.db``."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    shutil.copytree(mirror_data / "parquet", data_dir / "parquet")
    shutil.copytree(mirror_data / "models", data_dir / "models")
    return data_dir


@pytest.fixture(scope="session")
def app_server(chromium_path: str, app_data_dir: Path) -> Iterator[AppServer]:
    """The app on a free loopback port for the whole session (stopped at the end)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "streamlit.log"
    log_path.unlink(missing_ok=True)
    server = AppServer(app_data_dir, log_path=log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser, app_server: AppServer) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies) whose relative URLs go to the app."""
    context = new_context(browser, app_server.url)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Iterator[Screenshots]:
    """``shots("step name")``: a settled full-page screenshot; one more if the test fails."""
    from tests.support.streamlit_page import Screenshots

    taker = Screenshots(page, ARTIFACTS / request.node.name)
    yield taker
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        try:
            taker.raw("FAILED")
        except Exception:
            pass
