"""The one Chromium of the test session, as a pytest plugin (``pytest_plugins`` in the root
conftest), shared by every test folder that drives a browser (``tests/browser``,
``tests/badinput``).

Debian's chromium is launched through Python Playwright (never ``playwright install``: it
downloads a browser and fails offline). There must be exactly one synchronous Playwright alive
at a time: a second ``sync_playwright()`` started while the first runs fails with "using
Playwright Sync API inside the asyncio loop". So the fixtures live here, once, and test modules
request them instead of importing their own copies.

Without chromium or the playwright package the tests that need them skip with the reason (fail
under ``CI=true``). ``CINEBLEND_CHROMIUM`` may name another chromium binary.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.ci import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright, ViewportSize

CHROMIUM_ENV = "CINEBLEND_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Longest auto-wait for one element (the first script run of a cold server is the slowest).
TIMEOUT_MS = 30_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item (``report_call``), so fixtures can tell after
    ``yield`` whether the test failed (the FAILED screenshot, a failure at teardown)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def chromium_executable() -> str:
    """Debian's chromium (or ``$CINEBLEND_CHROMIUM``); skips the test (fails under CI) without it."""
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        unavailable(
            "Browser",
            f"no chromium at {path}; install Debian's chromium package (scripts/test.sh does so "
            f"when run as root or with sudo) or set {CHROMIUM_ENV}",
        )
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return chromium_executable()


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


def new_context(browser: Browser, base_url: str) -> BrowserContext:
    """A fresh context (no cookies) whose relative URLs go to ``base_url``, with the suite's
    viewport and auto-wait timeout."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context
