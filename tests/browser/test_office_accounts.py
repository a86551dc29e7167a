"""An office brings its testers in (issue 20, item 3), in Chromium against the real server.

The admin signs in (before any onboarding) and makes seven one-time invite links on the Account
page. The office's address has used up its registrations for the hour (a plain registration is
refused with the wait), yet all seven colleagues, from that same address, register through their
links and land on onboarding with the role the link chose; a used link says so. Screenshots of
the admin section with its invites go to ``test-artifacts/browser/`` (and ``$CINEBLEND_SHOTS``).

Also here: a tab signed out by a role change says so on the sign-in page (item 5), and on a
phone choosing a page closes the sidebar that covered it (item 7).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from recsys.access.throttle import Throttle
from recsys.app import users
from recsys.store import Store
from recsys.ui.shell import PAGES
from tests.support.app_server import AppServer

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Browser, Page, expect

from tests.support.browser import new_context
from tests.support.streamlit_page import button, form, key_locator, settle, wait_for_session_start

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.mirror, pytest.mark.slow]

PASSWORD = "Office#2026pw"
LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"
REGISTER_SUBMIT = "FormSubmitter-register-form-Register"
ACCOUNT_PAGE = "/" + PAGES["account"][3]
TESTERS = 7
#: the address the app sees for a browser on loopback
OFFICE = "127.0.0.1"

Shots = Callable[[str], Path]


def keep_shot(path: Path, name: str) -> None:
    """Copy a screenshot to ``$CINEBLEND_SHOTS`` (the closing note's folder) when it is set."""
    folder = os.environ.get("CINEBLEND_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / name)


def store_of(data_dir: Path) -> Store:
    return Store.open(f"sqlite:///{data_dir / 'app.db'}")


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    login = form(page, LOGIN_SUBMIT)
    expect(login).to_be_visible()
    wait_for_session_start(page)
    login.get_by_role("textbox", name="Username").fill(username)
    login.get_by_role("textbox", name="Password").fill(password)
    button(page, LOGIN_SUBMIT).click()


def fill_registration(page: Page, username: str) -> None:
    for key, value in (
        ("reg-name", username.title()),
        ("reg-username", username),
        ("reg-email", f"{username}@office.example"),
        ("reg-password", PASSWORD),
        ("reg-repeat", PASSWORD),
    ):
        key_locator(page, key).locator("input").fill(value)
    button(page, REGISTER_SUBMIT).click()


def test_seven_testers_from_one_address_register_through_invite_links(
    page: Page, browser: Browser, app_server: AppServer, app_data_dir: Path, shots: Shots
) -> None:
    with store_of(app_data_dir) as store:
        if not store.has_users():
            users.add(store, "office_root", "Office Root", "root@office.example", PASSWORD)
        else:
            users.add(store, "office_root", "Office Root", "root@office.example", PASSWORD, role="admin")
        limits = Throttle(store)
        while limits.registration_refusal(OFFICE) is None:  # the office used up its hour
            limits.registered(OFFICE)

    # the admin, never onboarded, reaches the Account page and makes the links there
    sign_in(page, "office_root")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    page.goto(ACCOUNT_PAGE)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    wait_for_session_start(page)
    links: list[str] = []
    for _ in range(TESTERS):
        button(page, "admin-invite").click()
        code = page.get_by_test_id("stCode").filter(has_text="?invite=")
        expect(code).to_have_count(1)
        if links:
            expect(code).not_to_have_text(links[-1])
        link = code.inner_text().strip()
        assert re.fullmatch(rf"{re.escape(app_server.url)}/\?invite=[A-Za-z0-9_-]{{32}}", link), link
        links.append(link)
        expect(page.get_by_text("Invite link for a tester made; it works once")).to_be_visible()
    settle(page)
    page.get_by_text("Invite people", exact=True).scroll_into_view_if_needed()
    shot = shots("account-admin-invites")
    keep_shot(shot, "account-admin-invites.png")

    # a plain registration from the office's address is refused for the hour
    context = new_context(browser, app_server.url)
    try:
        plain = context.new_page()
        plain.goto("/")
        plain.get_by_role("tab", name="Register").click()
        wait_for_session_start(plain)
        fill_registration(plain, "walk_in")
        expect(plain.get_by_text("Too many new accounts from your address.")).to_be_visible()
    finally:
        context.close()

    # every invited colleague registers from the same address
    for n, link in enumerate(links):
        context = new_context(browser, app_server.url)
        try:
            tester = context.new_page()
            tester.goto(link)
            expect(tester.get_by_text("You are invited as tester")).to_be_visible()
            wait_for_session_start(tester)
            fill_registration(tester, f"office_tester{n}")
            expect(tester.get_by_role("heading", name="Get started")).to_be_visible()
            if n == 0:
                tester.goto(link)  # the same link again: used
                expect(tester.get_by_role("heading", name="Get started")).to_be_visible()
        finally:
            context.close()
    with store_of(app_data_dir) as store:
        made = {u.username: u.role for u in store.list_users() if u.username.startswith("office_tester")}
    assert made == {f"office_tester{n}": "tester" for n in range(TESTERS)}

    context = new_context(browser, app_server.url)
    try:
        again = context.new_page()
        again.goto(links[0])
        expect(again.get_by_text("This invite link was already used")).to_be_visible()
    finally:
        context.close()


def test_a_role_change_signs_the_open_tab_out_with_a_message(page: Page, app_data_dir: Path, shots: Shots) -> None:
    with store_of(app_data_dir) as store:
        role = "admin" if store.has_users() else None
        users.add(store, "office_root2", "Office Root", "root2@office.example", PASSWORD, role=role)
        users.add(store, "office_ann", "Ann Analyst", "ann@office.example", PASSWORD)
    sign_in(page, "office_ann")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    settle(page)
    with store_of(app_data_dir) as store:
        users.grant(store, "office_ann", "analyst")  # the admin, elsewhere
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Account").click()
    message = "Your role changed to Analyst (live weights); please sign in again."
    expect(page.get_by_text(message)).to_be_visible()
    expect(form(page, LOGIN_SUBMIT)).to_be_visible()
    settle(page)
    expect(page.get_by_text(message)).to_be_visible()  # still there after the cookie's own rerun
    shot = shots("sign-in-after-role-change")
    keep_shot(shot, "sign-in-after-forced-sign-out.png")
    # signing in again gives the new role's pages (the lab before any onboarding)
    login = form(page, LOGIN_SUBMIT)
    login.get_by_role("textbox", name="Username").fill("office_ann")
    login.get_by_role("textbox", name="Password").fill(PASSWORD)
    button(page, LOGIN_SUBMIT).click()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Evaluation lab")).to_be_visible()
    expect(page.get_by_text(message)).to_have_count(0)


@pytest.mark.parametrize(("width", "closes"), [(390, True), (1280, False)])
def test_choosing_a_page_on_a_phone_closes_the_sidebar(
    page: Page, app_data_dir: Path, width: int, closes: bool
) -> None:
    """Issue 20, item 7: at 390 px the sidebar covered the page it had just opened."""
    username = f"office_phone{width}"
    with store_of(app_data_dir) as store:
        users.add(store, username, "Phone User", f"{username}@office.example", PASSWORD)
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, username)
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    if width < 640:
        page.get_by_test_id("stExpandSidebarButton").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_in_viewport()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    settle(page)
    if closes:
        expect(page.get_by_test_id("stSidebarNav")).not_to_be_in_viewport()
    else:
        expect(page.get_by_test_id("stSidebarNav")).to_be_in_viewport()
    assert sidebar.count() == 1
