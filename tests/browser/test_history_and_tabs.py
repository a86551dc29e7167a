"""In a real Chromium on the mirror catalogue: "Your ratings" rows follow a change and a removal at
once (no stale row or count), and after leaving a demo profile the Register tab stays open with
its error when the form is refused."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Page, expect

from recsys.ui.shell import PAGES
from tests.support.streamlit_page import (
    button,
    form,
    key_locator,
    keys_with_prefix,
    settle,
    wait_for_session_start,
)

pytestmark = [pytest.mark.slow]
HISTORY_PAGE = "/" + PAGES["history"][3]
REGISTER_SUBMIT = "FormSubmitter-register-form-Register"


def start_demo(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    wait_for_session_start(page)
    button(page, keys_with_prefix(page, "demo-")[0]).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    settle(page)


def test_history_rows_and_count_follow_change_and_remove(page: Page) -> None:
    start_demo(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Your ratings").click()
    expect(page.get_by_role("heading", name="Your ratings")).to_be_visible()
    settle(page)
    count = page.get_by_test_id("stCaptionContainer").filter(has_text=" titles")
    before = int(count.first.inner_text().split()[0])
    rows = [k.removeprefix("hist-remove-") for k in keys_with_prefix(page, "hist-remove-")]
    assert len(rows) >= 2
    first, second = rows[:2]
    row = key_locator(page, f"hist-{first}")
    value = next(v for v, label in ((1, "Liked"), (-1, "Disliked"), (2, "Superliked")) if label not in row.inner_text())
    label = {1: "Liked", -1: "Disliked", 2: "Superliked"}[value]
    button(page, f"hist-rate-{first}-{value}").click()
    expect(key_locator(page, f"hist-{first}")).to_contain_text(f"{label} ·")
    settle(page)
    assert count.first.inner_text() == f"{before} titles"

    button(page, f"hist-remove-{second}").click()
    expect(key_locator(page, f"hist-{second}")).to_have_count(0)
    expect(count.first).to_have_text(f"{before - 1} titles")


def test_register_tab_stays_open_with_its_error_after_leaving_a_demo(page: Page) -> None:
    start_demo(page)
    button(page, "logout-button").click()  # "Leave demo"
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    settle(page)
    page.get_by_role("tab", name="Register").click()
    register = form(page, REGISTER_SUBMIT)
    register.get_by_role("textbox", name="Name", exact=True).fill("Rita")
    register.get_by_role("textbox", name="Username").fill("rita")
    register.get_by_role("textbox", name="Email").fill("rita@example.com")
    register.get_by_role("textbox", name="Password", exact=True).fill("Secret#123")
    register.get_by_role("textbox", name="Repeat password").fill("Secret#124")
    button(page, REGISTER_SUBMIT).click()
    expect(page.get_by_text("The two passwords differ")).to_be_visible()
    settle(page)
    expect(page.get_by_role("tab", name="Register")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("The two passwords differ")).to_be_visible()
