""" "More like this" in a real Chromium: the details dialog lists titles like the one opened (the
same function as `python -m recsys similar`), and each entry opens its own details."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.catalog.queries import Catalog
from tests.support.narrow import present

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import feed_tconsts
from tests.support.streamlit_page import Screenshots, button, keys_with_prefix, settle, wait_for_session_start

pytestmark = [pytest.mark.slow]


def test_more_like_this_entries_open_their_own_details(page: Page, app_data_dir: Path, shots: Screenshots) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    wait_for_session_start(page)
    button(page, keys_with_prefix(page, "demo-")[0]).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    first = feed_tconsts(page, "movie")[0]
    with Catalog(app_data_dir / "parquet") as catalog:
        title = present(catalog.title(first))["primary_title"]
    button(page, f"details-feed-movie-{first}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=title)).to_be_visible()
    expect(dialog.get_by_text("More like this")).to_be_visible()
    settle(page)  # the run that draws the dialog is over: all its entries are there (it once counted 1 of 6)
    entries = keys_with_prefix(dialog, f"dlg-more-{first}-")
    assert len(entries) == 6, entries
    shots("details-more-like-this")
    picked = entries[0].removeprefix(f"dlg-more-{first}-")
    with Catalog(app_data_dir / "parquet") as catalog:
        picked_title = present(catalog.title(picked))["primary_title"]
    button(dialog, entries[0]).click()
    # the dialog now shows the picked title, with its own neighbours
    expect(page.get_by_role("dialog").get_by_role("heading", name=picked_title)).to_be_visible()
    expect(page.get_by_role("dialog").get_by_text("More like this")).to_be_visible()
    assert keys_with_prefix(page.get_by_role("dialog"), f"dlg-more-{picked}-"), "no neighbours for the opened entry"
    shots("details-opened-entry")
