"""End-to-end harness: the real app (``streamlit run``) on loopback, driven by Chromium.

Once per session: the hand-written fixture catalogue (``built_data``) is copied into a fresh data
folder, the app is started on a free port with that ``CINEBLEND_DATA_DIR``, and Debian's
chromium is launched through Python Playwright (never ``playwright install``: it downloads a
browser and fails offline). Each test gets a new browser context (no cookies) and a page whose
relative URLs resolve against the app, plus ``shots(step)`` to keep a screenshot per step under
``test-artifacts/browser/<test>/`` (ignored by git). A failing test also leaves
``NN-FAILED.png`` there, and the app's log is ``test-artifacts/browser/streamlit.log``.

Without chromium or the playwright package these tests skip with the reason (fail under
``CI=true``). ``CINEBLEND_CHROMIUM`` may name another chromium binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.app_server import REPO, AppServer
from tests.support.ci import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

    from tests.support.streamlit_page import Screenshots

ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_ENV = "CINEBLEND_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Longest auto-wait for one element (the first script run of a cold server is the slowest).
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell a failure at teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        unavailable(
            "Browser",
            f"no chromium at {path}; install Debian's chromium package (scripts/test.sh does so "
            f"when run as root or with sudo) or set {CHROMIUM_ENV}",
        )
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Browser", "the playwright package is not installed; run scripts/test.sh")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(chromium_path: str, playwright: Playwright) -> Iterator[Browser]:
    from tests.support.streamlit_page import CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory, built_data: Path) -> Path:
    """A data folder with the fixture catalogue and no store: the app creates ``app.db``."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    shutil.copytree(built_data / "parquet", data_dir / "parquet")
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
    from playwright.sync_api import expect

    context = browser.new_context(base_url=app_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
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
        except Exception:  # noqa: BLE001 - a broken page must not hide the real failure
            pass
