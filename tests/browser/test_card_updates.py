"""The card element updates in place in a real Chromium: a pick flips one card and leaves the
other cards' nodes as they were (the element no longer rebuilds its whole list on every
render), keyboard focus stays on the card that was picked, and the counter and the Continue
button follow the picks (they are re-sent by the fragment's run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Page, expect

from recsys.app import onboarding
from recsys.store import Store
from tests.support.streamlit_page import button, key_locator, keys_with_prefix, settle
from tests.support.testers import PASSWORD, create_testers

pytestmark = [pytest.mark.slow]

_MARK_JS = """() => { for (const li of document.querySelectorAll('li.cbg-card')) li.__cbMark = li.dataset.tconst; }"""
_KEPT_JS = """() => Array.from(document.querySelectorAll('li.cbg-card'))
  .filter(li => li.__cbMark === li.dataset.tconst).map(li => li.dataset.tconst)"""


def picker_at_movies(data_dir: Path) -> str:
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as store:
        account = create_testers(store, 1, prefix="keyed", genres=["Crime", "Drama", "Thriller", "Comedy", "Action"])[0]
        store.set_onboarding_step(account.user_id, "movies")
    return account.username


def test_a_pick_flips_one_card_in_place_and_keeps_focus_on_it(page: Page, app_data_dir: Path) -> None:
    from tests.browser.test_office_accounts import sign_in

    sign_in(page, picker_at_movies(app_data_dir), PASSWORD)
    expect(page.get_by_role("heading", name="Get started")).to_be_visible(timeout=60_000)
    expect(page.locator("[class*='st-key-rate-onb-movie-']").first).to_be_visible()
    settle(page)
    expect(page.get_by_text("Pick at least 5 movies you liked", exact=False)).to_have_count(1)
    likes = [k for k in keys_with_prefix(page, "rate-onb-movie-") if k.endswith("-1")]
    shown = [k[len("rate-onb-movie-") : -len("-1")] for k in likes]
    assert len(shown) >= 10
    page.evaluate(_MARK_JS)

    for n, tconst in enumerate(shown[:2], start=1):
        like = button(page, f"rate-onb-movie-{tconst}-1")
        like.focus()
        page.keyboard.press("Enter")
        undo = button(page, f"rate-onb-movie-{tconst}-0")
        expect(undo).to_be_visible()  # flipped at once (optimistic), then confirmed by the run
        expect(page.get_by_text(onboarding.picked_text(n), exact=True)).to_be_visible()
        settle(page)
        expect(undo).to_be_focused()  # the same card's button, now "Picked (undo)"
        expect(undo).to_have_attribute("aria-label", re.compile(r"^Picked \(undo\): ."))  # named for screen readers
    kept = set(page.evaluate(_KEPT_JS))
    assert kept == set(shown) - set(shown[:2]), sorted(set(shown) - kept)  # only the picked cards were rebuilt
    expect(button(page, "onb-next-movie")).to_be_disabled()

    button(page, f"rate-onb-movie-{shown[0]}-0").click()  # undo a pick
    expect(button(page, f"rate-onb-movie-{shown[0]}-1")).to_be_visible()
    expect(page.get_by_text(onboarding.picked_text(1), exact=True)).to_be_visible()
    settle(page)
    expect(key_locator(page, f"rate-onb-movie-{shown[0]}-0")).to_have_count(0)
