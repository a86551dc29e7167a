"""The feed's layout in a real Chromium on the mirror catalogue: two full rows of four compact
cards fit a 1440x900 laptop screen, each card's rating buttons sit on one row, and a click moves
nothing (the undo bar has a fixed slot: the first card is where it was). Screenshots at
1440x900 and 390 px wide are kept in test-artifacts/browser/<test>/."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import FloatRect, Page, expect

from tests.browser.test_e2e import feed_tconsts
from tests.support.streamlit_page import (
    Screenshots,
    button,
    key_locator,
    keys_with_prefix,
    settle,
    wait_for_session_start,
)

pytestmark = [pytest.mark.slow]


def open_demo_feed(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    wait_for_session_start(page)
    button(page, keys_with_prefix(page, "demo-")[0]).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    expect(page.locator("[class*='st-key-card-feed-movie-']").first).to_be_visible()
    settle(page)


def box(page: Page, key: str) -> FloatRect:
    found = key_locator(page, key).bounding_box()
    assert found is not None, f"{key} is not on screen"
    return found


def test_two_rows_fit_buttons_on_one_row_and_a_click_shifts_nothing(page: Page, shots: Screenshots) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    open_demo_feed(page)
    shown = feed_tconsts(page, "movie")
    assert len(shown) >= 8
    boxes = [box(page, f"card-feed-movie-{t}") for t in shown[:8]]
    rows = sorted({round(b["y"]) for b in boxes})
    assert len(rows) == 2, rows  # two rows of four
    assert all(b["y"] + b["height"] <= 900 for b in boxes), [b["y"] + b["height"] for b in boxes]
    for tconst in shown[:8]:
        tops = {round(box(page, f"rate-feed-movie-{tconst}-{v}")["y"]) for v in (1, -1, 2)}
        assert len(tops) == 1, (tconst, tops)
    shots("feed-1440x900")

    first = box(page, f"card-feed-movie-{shown[0]}")
    button(page, f"rate-feed-movie-{shown[0]}-1").click()
    expect(key_locator(page, f"card-feed-movie-{shown[0]}")).to_have_count(0)
    expect(key_locator(page, "undo-slot-feed").get_by_text("Last action: Liked", exact=False)).to_be_visible()
    settle(page)
    after = feed_tconsts(page, "movie")
    moved = box(page, f"card-feed-movie-{after[0]}")
    assert (moved["x"], moved["y"]) == (first["x"], first["y"]), (first, moved)
    shots("feed-after-a-click")

    button(page, "undo-feed").click()
    expect(key_locator(page, f"card-feed-movie-{shown[0]}")).to_be_visible()
    settle(page)
    back = box(page, f"card-feed-movie-{shown[0]}")
    assert (back["x"], back["y"]) == (first["x"], first["y"]), (first, back)


def test_feed_on_a_phone(page: Page, shots: Screenshots) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_demo_feed(page)
    shown = feed_tconsts(page, "movie")
    card = box(page, f"card-feed-movie-{shown[0]}")
    assert card["width"] <= 390
    tops = {round(box(page, f"rate-feed-movie-{shown[0]}-{v}")["y"]) for v in (1, -1, 2)}
    assert len(tops) == 1, tops
    shots("feed-390px")


_WATCH_JS = """([card, text]) => {
  window.__cbGone = null;
  window.__cbSaid = null;
  const seen = () => {
    const now = performance.now();
    if (window.__cbGone === null && document.querySelector('.' + card) === null) window.__cbGone = now;
    if (window.__cbSaid === null && Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
        .some(e => (e.textContent || '').trim() === text)) window.__cbSaid = now;
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true, characterData: true});
}"""


def test_keyboard_like_leaves_at_once_and_focus_stays_in_the_grid(page: Page) -> None:
    """The card section is one element whose buttons are real buttons: Tab-focusable, named
    for screen readers ("Like: <title>"), Enter likes. The card leaves at once (before the
    server's run names the rating in the undo slot: optimistic), and focus moves to the same
    button of the card that takes its place."""
    page.set_viewport_size({"width": 1440, "height": 900})
    open_demo_feed(page)
    shown = feed_tconsts(page, "movie")
    card = key_locator(page, f"card-feed-movie-{shown[0]}")
    title = card.locator("strong").first.inner_text().strip()
    like = button(page, f"rate-feed-movie-{shown[0]}-1")
    expect(like).to_have_attribute("aria-label", f"Like: {title}")
    expect(button(page, f"hide-feed-movie-{shown[0]}")).to_have_attribute("aria-label", f"Not interested: {title}")
    page.evaluate(_WATCH_JS, [f"st-key-card-feed-movie-{shown[0]}", f"Last action: Liked {title}"])
    like.focus()
    page.keyboard.press("Enter")
    expect(card).to_have_count(0)
    expect(key_locator(page, "undo-slot-feed").get_by_text(f"Last action: Liked {title}", exact=True)).to_be_visible()
    settle(page)
    gone, said = page.evaluate("[window.__cbGone, window.__cbSaid]")
    assert gone is not None and said is not None and gone < said, (gone, said)
    after = feed_tconsts(page, "movie")
    new_title = key_locator(page, f"card-feed-movie-{after[0]}").locator("strong").first.inner_text().strip()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Like: {new_title}"
