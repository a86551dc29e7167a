"""Text from data is shown literally in a real Chromium: a crafted catalogue whose titles are
Markdown links, Markdown / HTML images, bold, HTML and a bare URL renders them as typed in the
feed cards, their reasons, the undo bar, the details dialog, search and "Your ratings"; no link
or image is made from them and the browser never asks the image host for anything.

The catalogue is the hand-written fixture with its movie titles replaced (``CRAFTED``), and the
recommender trained on it, so reasons ("Because you liked ...") carry crafted titles too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from recsys.config import Settings
from recsys.store import Store
from recsys.store.accounts import register
from tests.app.helpers import PASSWORD
from tests.support.app_server import REPO, AppServer
from tests.support.browser import new_context

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.support.streamlit_page import (
    Screenshots,
    button,
    form,
    key_class,
    key_locator,
    keys_with_prefix,
    settle,
    wait_for_session_start,
)

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

ARTIFACTS = REPO / "test-artifacts" / "plain-text"
IMAGE_HOST = "127.0.0.1:1"  # nothing listens there: any request to it is the bug
CRAFTED = [
    "[Verify your account](http://evil.example)",
    f"![x](http://{IMAGE_HOST}/img.png)",
    "**bold** and _it_",
    "<b>html</b> & <i>more</i>",
    "Visit http://example.com now",
    f'<img src="http://{IMAGE_HOST}/tag.png"> :red[red] $x^2$',
    "www.example.org `code` ~~gone~~",
    "# Heading? <script>alert(1)</script>",
]
SEARCH_PAGE = "/find"
HISTORY_PAGE = "/my-ratings"
LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"


def craft(parquet_dir: Path) -> dict[str, str]:
    """Give every movie a crafted title (numbered when the list wraps); ``{tconst: title}``."""
    path = parquet_dir / "titles.parquet"
    titles = pl.read_parquet(path)
    movies = titles.filter(pl.col("kind") == "movie").sort("num_votes", descending=True)["tconst"].to_list()
    names = {
        t: CRAFTED[i % len(CRAFTED)] + (f" {i // len(CRAFTED)}" if i >= len(CRAFTED) else "")
        for i, t in enumerate(movies)
    }
    new = pl.Series([names.get(t, p) for t, p in zip(titles["tconst"], titles["primary_title"], strict=True)])
    titles = titles.with_columns(
        primary_title=new,
        original_title=new,
        search_text=new.str.to_lowercase(),
    )
    titles.write_parquet(path)
    return names


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory, built_data: Path) -> tuple[Path, dict[str, str]]:
    """A data folder with the crafted catalogue, a model trained on it, and one onboarded user
    who liked the three most voted crafted movies (so reasons name them)."""
    from recsys.app.pipeline import train_model

    data = tmp_path_factory.mktemp("plain-text") / "data"
    shutil.copytree(built_data / "parquet", data / "parquet")
    names = craft(data / "parquet")
    train_model(Settings(data_dir=data))
    liked = list(names)[:3]
    with Store.open(f"sqlite:///{data / 'app.db'}") as store:
        user = register(store, "crafty", "Crafty", "crafty@example.com", PASSWORD)
        store.set_favourite_genres(user.id, ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"])
        store.set_onboarding_step(user.id, "done")
        for tconst in liked:
            store.rate(user.id, tconst, 1)
    return data, names


@pytest.fixture(scope="module")
def server(chromium_path: str, crafted: tuple[Path, dict[str, str]]) -> Iterator[AppServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "streamlit.log"
    log_path.unlink(missing_ok=True)
    app = AppServer(crafted[0], log_path=log_path)
    app.start()
    try:
        yield app
    finally:
        app.stop()


#: The image-host (and crafted-link) requests each open page has made, by page.
IMAGE_REQUESTS: dict[Page, list[str]] = {}


@pytest.fixture
def page(browser: Browser, server: AppServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = new_context(browser, server.url)
    page = context.new_page()
    seen = IMAGE_REQUESTS.setdefault(page, [])

    def note(r: Request) -> None:
        if IMAGE_HOST in r.url or "evil.example" in r.url:
            seen.append(r.url)

    page.on("request", note)
    try:
        yield page
    finally:
        IMAGE_REQUESTS.pop(page, None)
        context.close()


def assert_nothing_made_from_data(page: Page, where: Locator) -> None:
    """No link, image, bold / italic / code / heading / KaTeX markup made from a crafted title
    inside ``where``, and no request to the image host so far."""
    links = where.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    assert not [h for h in links if "evil.example" in h or "example.com" in h or "example.org" in h], links
    images = where.locator("img").evaluate_all("els => els.map(e => e.getAttribute('src') || '')")
    assert not [s for s in images if IMAGE_HOST in s], images
    for tag in ("b", "i", "em", "code", "del", "h1", "script", ".katex"):
        made = where.locator(tag).evaluate_all("els => els.map(e => e.textContent)")
        assert not [
            t for t in made if any(w in (t or "") for w in ("html", "more", "bold", "it", "code", "gone", "x"))
        ], (
            tag,
            made,
        )
    assert IMAGE_REQUESTS[page] == []


def card_titles(page: Page, prefix: str) -> dict[str, str]:
    """``{tconst: the title text shown}`` of the cards whose key starts with ``prefix``."""
    # read in one pass inside the page: a rerun may replace cards between two separate reads
    pairs: list[list[str]] = page.locator(f"[class*='{key_class(prefix)}']").evaluate_all(
        """(els, cls) => els.flatMap(e => {
            const key = Array.from(e.classList).find(c => c.startsWith(cls));
            const title = e.querySelector('.cb-title');
            return key && title ? [[key.slice(cls.length), title.innerText]] : [];
        })""",
        key_class(prefix),
    )
    return {tconst: title for tconst, title in pairs}


def test_crafted_titles_show_literally_everywhere(
    page: Page, server: AppServer, crafted: tuple[Path, dict[str, str]]
) -> None:
    _, names = crafted
    shots = Screenshots(page, ARTIFACTS / "shots")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/")
    login = form(page, LOGIN_SUBMIT)
    expect(login).to_be_visible()
    wait_for_session_start(page)
    login.get_by_role("textbox", name="Username").fill("crafty")
    login.get_by_role("textbox", name="Password").fill(PASSWORD)
    button(page, LOGIN_SUBMIT).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    expect(with_prefix(page, "card-feed-movie-tt").first).to_be_visible()
    settle(page)
    main = page.get_by_test_id("stMain")

    # feed cards: every title exactly as typed; reasons name the liked crafted titles as typed
    shown = card_titles(page, "card-feed-movie-")
    assert shown and all(shown[t] == names[t] for t in shown), shown
    reasons = main.locator(".cb-reason").all_inner_texts()
    liked = list(names.values())[:3]
    assert any(any(title in r for title in liked) for r in reasons), reasons
    shots("feed")
    assert_nothing_made_from_data(page, main)

    # the undo bar names the clicked title as typed
    first = next(iter(shown))
    button(page, f"rate-feed-movie-{first}-1").click()
    expect(key_locator(page, f"card-feed-movie-{first}")).to_have_count(0)
    slot = key_locator(page, "undo-slot-feed")
    expect(slot.get_by_text(f"Last action: Liked {names[first]}", exact=True)).to_be_visible()
    assert_nothing_made_from_data(page, main)

    # details dialog, with its "More like this" entries
    second = feed_first(page)
    button(page, f"details-feed-movie-{second}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".cb-dlg-title")).to_have_text(names[second])
    settle(page)
    more = keys_with_prefix(dialog, f"dlg-more-{second}-")
    for key in more:
        tconst = key.removeprefix(f"dlg-more-{second}-")
        if tconst in names:
            expect(button(dialog, key)).to_contain_text(names[tconst])
    shots("details")
    assert_nothing_made_from_data(page, dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # search: the query text and the results
    page.goto(SEARCH_PAGE)
    box = page.get_by_role("textbox", name="Title words")
    expect(box).to_be_visible()
    settle(page)
    box.fill("verify your account")
    box.press("Enter")
    # the page lists titles before a query: wait for the results of this one, not any card
    expect(
        with_prefix(page, "card-search-tt").locator(".cb-title", has_text="[Verify your account](http://evil.example)")
    ).not_to_have_count(0)
    settle(page)
    found = card_titles(page, "card-search-")
    assert found and all(found[t] == names[t] for t in found if t in names), found
    assert any(title.startswith("[Verify your account](http://evil.example)") for title in found.values())
    shots("search")
    assert_nothing_made_from_data(page, page.get_by_test_id("stMain"))

    # your ratings: the liked crafted titles as typed
    page.goto(HISTORY_PAGE)
    expect(with_prefix(page, "hist-tt").first).to_be_visible()
    settle(page)
    rows = {
        key.removeprefix("hist-"): key_locator(page, key).locator(".cb-title").inner_text()
        for key in keys_with_prefix(page, "hist-tt")
    }
    assert rows and all(rows[t] == names[t] for t in rows if t in names), rows
    assert {first, *list(names)[:3]} <= set(rows)
    shots("history")
    assert_nothing_made_from_data(page, page.get_by_test_id("stMain"))


def with_prefix(page: Page, prefix: str) -> Locator:
    return page.locator(f"[class*='{key_class(prefix)}']")


def feed_first(page: Page) -> str:
    settle(page)
    return keys_with_prefix(page, "card-feed-movie-")[0].removeprefix("card-feed-movie-")
