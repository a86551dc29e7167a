"""The worst bad input again in Chromium against ``streamlit run``: forged auth cookies added to
the browser context, and a name full of HTML / markdown as the real markdown renderer shows it.

Uses the session's one Chromium (``tests/support/browser.py``); its own
server and data folder, log in ``test-artifacts/badinput/streamlit.log``, screenshots beside it.
Skips without chromium / playwright (fails under ``CI=true``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.store import Store
from recsys.store.accounts import register
from recsys.ui.auth import COOKIE_NAME
from tests.app.helpers import PASSWORD
from tests.badinput.support import alg_none, tampered_signature, token
from tests.support.app_server import REPO, TEST_COOKIE_KEY, AppServer
from tests.support.browser import new_context

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Browser, Dialog, Page, expect

from tests.support.streamlit_page import button, form, settle, wait_for_session_start

ARTIFACTS = REPO / "test-artifacts" / "badinput"
HOSTILE_NAME = "<b>B</b> **x** :red[y] $z$ <script>alert(1)</script><img src=x onerror=alert(2)>"
ENTITY_NAME = "Tom &amp; Jerry &#60;3"
pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, built_data: Path) -> Path:
    data = tmp_path_factory.mktemp("badinput-e2e") / "data"
    shutil.copytree(built_data / "parquet", data / "parquet")
    with Store.open(f"sqlite:///{data / 'app.db'}") as store:
        for username, name in (("hostile", HOSTILE_NAME), ("entity", ENTITY_NAME), ("alice", "Alice")):
            user = register(store, username, name, f"{username}@example.com", PASSWORD)
            store.set_favourite_genres(user.id, ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"])
            store.set_onboarding_step(user.id, "done")
    return data


@pytest.fixture(scope="module")
def server(chromium_path: str, data_dir: Path) -> Iterator[AppServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "streamlit.log"
    log_path.unlink(missing_ok=True)
    app = AppServer(data_dir, log_path=log_path)
    app.start()
    try:
        yield app
    finally:
        app.stop()


def open_with_cookie(browser: Browser, server: AppServer, value: str | None, dialogs: list[str] | None = None) -> Page:
    """A fresh browser context holding ``value`` as the auth cookie, on the app's start page;
    the messages of any JavaScript dialog it opens go to ``dialogs`` (dismissed)."""
    context = new_context(browser, server.url)
    if value is not None:
        context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": server.url}])
    page = context.new_page()
    opened = [] if dialogs is None else dialogs

    def dismiss(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto("/")
    expect(page.get_by_test_id("stApp")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").or_(page.get_by_test_id("stException")).first).to_be_visible()
    wait_for_session_start(page)
    return page


def assert_signed_out(page: Page) -> None:
    settle(page)
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").inner_text()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def sidebar_caption(page: Page) -> str:
    caption = page.get_by_test_id("stSidebar").get_by_text("Signed in as")
    expect(caption).to_be_visible()
    settle(page)
    return caption.inner_text()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[list[Page]]:
    """Register the pages a test opens; each gets a screenshot at the end, and is closed."""
    pages: list[Page] = []
    yield pages
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for n, page in enumerate(pages, start=1):
        try:
            page.screenshot(path=str(folder / f"{n:02d}-page.png"), full_page=True)
        except Exception:
            pass
        page.context.close()


def test_forged_and_expired_cookies_leave_the_visitor_signed_out(
    browser: Browser, server: AppServer, shots: list[Page]
) -> None:
    # (the control, a genuine cookie signing in, is test_html_and_markdown_in_a_name_show_as_text)
    for forged, again in (
        (tampered_signature(TEST_COOKIE_KEY), True),
        (token(TEST_COOKIE_KEY, expires_in=-60), False),  # expired
    ):  # (the other forgeries run in AppTest: test_auth_cookie.py)
        page = open_with_cookie(browser, server, forged)
        shots.append(page)
        assert_signed_out(page)
        if again:  # still signed out on the next visit
            page.reload()
            wait_for_session_start(page)
            assert_signed_out(page)


def test_unsigned_cookie_leaves_the_visitor_signed_out(browser: Browser, server: AppServer, shots: list[Page]) -> None:
    page = open_with_cookie(browser, server, alg_none(TEST_COOKIE_KEY))
    shots.append(page)
    assert_signed_out(page)


def test_html_and_markdown_in_a_name_show_as_text(browser: Browser, server: AppServer, shots: list[Page]) -> None:
    dialogs: list[str] = []
    page = open_with_cookie(browser, server, token(TEST_COOKIE_KEY, username="hostile", uid=1), dialogs)
    shots.append(page)  # a genuine cookie signs in (the control of the forged-cookie tests)
    assert sidebar_caption(page) == f"Signed in as {HOSTILE_NAME} (hostile)"
    sidebar = page.get_by_test_id("stSidebar")
    caption = sidebar.get_by_test_id("stCaptionContainer").filter(has_text="Signed in as")
    expect(caption.locator("strong")).to_have_text(HOSTILE_NAME)  # the caption's own **bold**
    for tag in ("b", "script", "img", "em", "code", "span.katex", "a"):
        expect(caption.locator(tag)).to_have_count(0)
    assert dialogs == []


def test_entities_in_a_name_show_as_typed(browser: Browser, server: AppServer, shots: list[Page]) -> None:
    page = open_with_cookie(browser, server, token(TEST_COOKIE_KEY, username="entity", uid=2))
    shots.append(page)
    assert sidebar_caption(page) == f"Signed in as {ENTITY_NAME} (entity)"


def test_a_cookie_captured_before_logout_no_longer_signs_in(
    browser: Browser, server: AppServer, shots: list[Page]
) -> None:
    """In Chromium: the cookie the app really set (read from the browser) works in a second
    browser until its owner logs out, then shows the sign-in form there (and after a reload)."""
    page = open_with_cookie(browser, server, None)
    shots.append(page)
    login = form(page, "FormSubmitter-login-form-Log-in")
    login.get_by_role("textbox", name="Username").fill("alice")
    login.get_by_role("textbox", name="Password").fill(PASSWORD)
    button(page, "FormSubmitter-login-form-Log-in").click()
    assert sidebar_caption(page) == "Signed in as Alice (alice)"
    cookies = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookies, "the app set no auth cookie"
    captured = cookies[0]["value"]

    second = open_with_cookie(browser, server, captured)  # control: the captured cookie signs in
    shots.append(second)
    assert sidebar_caption(second) == "Signed in as Alice (alice)"

    button(page, "logout-button").click()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    third = open_with_cookie(browser, server, captured)
    shots.append(third)
    assert_signed_out(third)
    expect(button(third, "FormSubmitter-login-form-Log-in")).to_be_visible()
    expect(third.get_by_text("not authorized")).to_have_count(0)
    third.reload()
    wait_for_session_start(third)
    assert_signed_out(third)
    second.reload()  # the second browser's session ends too
    wait_for_session_start(second)
    assert_signed_out(second)
