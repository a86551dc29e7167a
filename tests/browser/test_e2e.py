"""A new tester's whole journey in a real browser against the real server.

Over the real catalogue and model (built from the shared mirror): register, onboarding (5 genres,
5 movies, 5 TV shows), like / dislike / superlike in both feed sections (each click stored at
once, the title leaves the feed), undo the last click (the title comes back), reload (still signed
in, rated titles stay gone), search and rate (then undo it), a deep link to the data page, the
evaluation lab's chart and its apply-with-confirmation, log out (still signed out after a
reload), and log in again with one click -- one test per step, each on its own page from a state
its fixtures make in the store, so a failure names its step and any step runs alone.
Screenshots land in ``test-artifacts/browser/<test name>/``.

Two tests pin down bugs found here: a form login must leave the auth cookie in the browser (an
``st.rerun()`` right after login used to drop the component that sets it), and a session's second
script run must not re-create the sign-in page (the cookie manager used to shift elements).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recsys.app import onboarding
from recsys.catalog.queries import Catalog
from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.models import registry
from recsys.models.weights import LIVE_WEIGHTS_KEY as LIVE_WEIGHTS
from recsys.store import Store
from recsys.store.accounts import register
from recsys.ui.auth import COOKIE_NAME
from recsys.ui.shell import PAGES
from tests.badinput.support import token
from tests.support.app_server import REPO, TEST_COOKIE_KEY, AppServer
from tests.support.narrow import present

if TYPE_CHECKING:
    from tests.support.streamlit_page import Screenshots

pytest.importorskip("playwright", reason="playwright is not installed; run scripts/test.sh")

from playwright.sync_api import Page, expect

from tests.support.streamlit_page import (
    button,
    form,
    key_class,
    key_locator,
    keys_with_prefix,
    settle,
    wait_for_session_start,
)

USERNAME = "eve_tester"
NAME = "Eve Tester"
EMAIL = "eve@example.com"
PASSWORD = "Secret#2024x"
LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"
REGISTER_SUBMIT = "FormSubmitter-register-form-Register"
DATA_PAGE = "/" + PAGES["data"][3]  # the data page's URL path
SEARCH_PAGE = "/" + PAGES["search"][3]
EVALUATION_PAGE = "/" + PAGES["evaluation"][3]
RUN_EVALUATION = "FormSubmitter-eval-form-Run-evaluation"
#: A full evaluation with its weight sweep on ml-latest-small (about 10 s on 2 cores).
EVALUATION_TIMEOUT_MS = 180_000

Shots = Callable[[str], Path]
ARTIFACTS = REPO / "test-artifacts" / "browser"
pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.mirror, pytest.mark.slow]


def feed_tconsts(page: Page, kind: str) -> list[str]:
    """The titles on the feed section ``kind`` ("movie" or "tv"), in page order."""
    settle(page)
    prefix = f"card-feed-{kind}-"
    cards_shown(page, prefix)
    return [k[len(prefix) :] for k in keys_with_prefix(page, prefix)]


def cards_shown(page: Page, prefix: str) -> None:
    """Wait until the card element has built its cards: the script run is over before the
    browser has drawn the element's data (recsys/ui/card_element.py), so a settled page may not
    hold them yet."""
    expect(page.locator(f"[class*='{key_class(prefix)}']").first).to_be_attached(timeout=15_000)


def store_values(data_dir: Path, username: str) -> dict[str, int]:
    """The user's current ratings, read from the app's own store (what a click acknowledged)."""
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as store:
        user = store.get_user(username)
        assert user is not None, f"user {username} is not in the store"
        frame = store.interactions(user.id)
    return dict(zip(frame["tconst"].to_list(), frame["value"].to_list(), strict=True))


def signed_in(page: Page) -> None:
    expect(page.get_by_text(f"Signed in as {NAME}")).to_be_visible()
    expect(button(page, "logout-button")).to_be_visible()


def signed_out(page: Page) -> None:
    """Signed out: the navigation offers "Sign in" and nobody is named in the sidebar."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    settle(page)
    expect(button(page, "logout-button")).to_have_count(0)
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def pick_titles(page: Page, kind: str, shots: Shots) -> list[str]:
    """Onboarding: like the first 5 titles shown for ``kind``, then continue."""
    noun = "movies" if kind == "movie" else "TV shows"
    expect(page.get_by_text(f"Pick at least 5 {noun} you liked", exact=False)).to_be_visible()
    settle(page)
    prefix = f"rate-onb-{kind}-"
    cards_shown(page, prefix)
    likes = [k for k in keys_with_prefix(page, prefix) if k.endswith("-1")]
    picks = [k[len(prefix) : -len("-1")] for k in likes]
    assert len(picks) >= 5, f"onboarding shows only {len(picks)} {noun}: {picks}"
    picks = picks[:5]
    for n, tconst in enumerate(picks, start=1):
        settle(page)  # as a person would: click what the finished page shows
        button(page, f"{prefix}{tconst}-1").click()
        # the card's button turns into "Picked (undo)" and the counter moves on
        expect(button(page, f"{prefix}{tconst}-0")).to_be_visible()
        expect(page.get_by_text(onboarding.picked_text(n))).to_be_visible()
    shots(f"onboarding-{kind}-picked")
    next_button = button(page, f"onb-next-{kind}")
    expect(next_button).to_be_enabled()
    next_button.click()
    return picks


def open_tab(page: Page, kind: str, tab: str) -> None:
    """Click a feed tab and wait for its section (only the open one is rendered)."""
    page.get_by_role("tab", name=tab, exact=True).click()
    expect(page.locator(f"[class*='{key_class(f'card-feed-{kind}-')}']").first).to_be_visible()


def rate_in_section(page: Page, kind: str, tab: str) -> dict[str, int]:
    """Like, dislike and superlike the top three titles of one feed section."""
    return {rate_first(page, kind, tab, value): value for value in (LIKE, DISLIKE, SUPERLIKE)}


def stored_setting(data_dir: Path, name: str) -> object:
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as store:
        return store.get_setting(name)


def goto(page: Page, path: str, heading: str) -> None:
    """Open ``path`` as a deep link (a new session: the cookie signs it in) and wait for it."""
    page.goto(path)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    wait_for_session_start(page)
    signed_in(page)


def register_in_store(data_dir: Path, username: str) -> None:
    """An account made directly in the app's store (as another session would)."""
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as store:
        register(store, username, NAME, f"{username}@example.com", PASSWORD)


def log_in(page: Page, username: str) -> None:
    """Fill and submit the log-in form once the page is idle (a rerun redraws the form empty)."""
    settle(page)
    login = form(page, LOGIN_SUBMIT)
    user, password = login.get_by_role("textbox", name="Username"), login.get_by_role("textbox", name="Password")
    user.fill(username)
    password.fill(PASSWORD)
    expect(user).to_have_value(username)
    expect(password).to_have_value(PASSWORD)
    button(page, LOGIN_SUBMIT).click()


# --- the new tester's journey, one step per test ------------------------------------------
#
# Each step starts from the state it needs, made directly in the app's store by a fixture (an
# account just registered, or one already onboarded, an admin for the lab) and signed in through
# the auth cookie the app would have set; so any step runs alone
# (``pytest tests/browser/test_e2e.py::test_journey_07_search_rate_and_undo``) and a failure names
# its step. Each step's screenshots go to test-artifacts/browser/<test name>/.


@dataclass
class JourneyAccount:
    """An account made in the app's store for one step; ``movies`` / ``shows``: its onboarding
    likes (empty until onboarded)."""

    username: str
    user_id: int
    session_version: int
    movies: list[str] = field(default_factory=list)
    shows: list[str] = field(default_factory=list)


def make_tester(data_dir: Path, username: str, *, onboarded: bool, role: str | None = None) -> JourneyAccount:
    """Register ``username`` in the store; if ``onboarded``, go through onboarding as the app's
    own steps do (five genres, then the first five offered movies and TV shows liked)."""
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as store, Catalog(data_dir / "parquet") as catalog:
        user = register(store, username, NAME, f"{username}@example.com", PASSWORD)
        if role is not None:
            store.set_role(user.id, role)
        picks: dict[str, list[str]] = {"movie": [], "tv": []}
        if onboarded:
            genres = onboarding.genre_options(catalog)[: onboarding.GENRE_COUNT]
            onboarding.save_genres(store, user, genres)
            for kind in picks:
                picks[kind] = [r["tconst"] for r in onboarding.candidates(catalog, kind, genres)[:5]]
                for tconst in picks[kind]:
                    store.rate(user.id, tconst, LIKE)
                onboarding.finish_kind(store, catalog, present(store.get_user(username)), kind)
        user = present(store.get_user(username))
    return JourneyAccount(username, user.id, user.session_version, picks["movie"], picks["tv"])


def step_username(request: pytest.FixtureRequest) -> str:
    """``eve_07`` for step 7: one account per step, so steps never share state."""
    return "eve_" + request.node.name.removeprefix("test_journey_")[:2]


@pytest.fixture
def newcomer(app_data_dir: Path, request: pytest.FixtureRequest) -> JourneyAccount:
    """An account just registered (onboarding not started)."""
    return make_tester(app_data_dir, step_username(request), onboarded=False)


@pytest.fixture
def tester(app_data_dir: Path, request: pytest.FixtureRequest) -> JourneyAccount:
    """An account that has finished onboarding (an admin, so the lab and its weights are open)."""
    return make_tester(app_data_dir, step_username(request), onboarded=True, role="admin")


def sign_in_with_cookie(page: Page, server: AppServer, tester: JourneyAccount) -> None:
    """Give the page's browser the auth cookie the app sets at log-in for ``tester``."""
    value = token(TEST_COOKIE_KEY, username=tester.username, uid=tester.user_id, sv=tester.session_version)
    page.context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": server.url}])


def open_as(page: Page, server: AppServer, tester: JourneyAccount, heading: str) -> None:
    """Open the start page signed in as ``tester`` and wait for ``heading``."""
    sign_in_with_cookie(page, server, tester)
    page.goto("/")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    wait_for_session_start(page)
    signed_in(page)


def rate_first(page: Page, kind: str, tab: str, value: int) -> str:
    """Rate the first title of a feed section; wait until it has left the feed and the undo slot
    names it (the card leaves in the browser at once, the rating is stored by the run after)."""
    open_tab(page, kind, tab)
    shown = feed_tconsts(page, kind)
    assert shown, f"the {tab} section is empty"
    tconst = shown[0]
    title = key_locator(page, f"card-feed-{kind}-{tconst}").locator("strong").first.inner_text().strip()
    button(page, f"rate-feed-{kind}-{tconst}-{value}").click()
    expect(key_locator(page, f"card-feed-{kind}-{tconst}")).to_have_count(0)
    expect(page.get_by_text(f"Last action: {VALUE_LABELS[value]} {title}", exact=True)).to_be_visible()
    return tconst


def test_journey_01_sign_in_page(page: Page, shots: Screenshots) -> None:
    page.goto("/")
    expect(page.get_by_role("tab", name="Register")).to_be_visible()
    wait_for_session_start(page)
    shots("signed-out-landing")


def test_journey_02_register_leads_to_onboarding(page: Page, shots: Screenshots) -> None:
    page.goto("/")
    expect(page.get_by_role("tab", name="Register")).to_be_visible()
    wait_for_session_start(page)
    page.get_by_role("tab", name="Register").click()
    for key, value in (
        ("reg-name", NAME),
        ("reg-username", USERNAME),
        ("reg-email", EMAIL),
        ("reg-password", PASSWORD),
        ("reg-repeat", PASSWORD),
    ):
        key_locator(page, key).locator("input").fill(value)
    shots("register-filled")
    button(page, REGISTER_SUBMIT).click()
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    signed_in(page)
    assert COOKIE_NAME in {c["name"] for c in page.context.cookies()}, "sign-up set no auth cookie"


def test_journey_03_onboarding_five_genres_movies_and_shows(
    page: Page, app_server: AppServer, app_data_dir: Path, newcomer: JourneyAccount, shots: Screenshots
) -> None:
    open_as(page, app_server, newcomer, "Get started")
    genres = key_locator(page, "onb-genres").get_by_role("button")
    expect(genres.first).to_be_visible()
    assert genres.count() >= 5
    names = genres.all_inner_texts()[:5]
    for n, genre in enumerate(names, start=1):
        settle(page)
        key_locator(page, "onb-genres").get_by_role("button", name=genre, exact=True).click()
        expect(page.get_by_text(f"{n} of 5 chosen")).to_be_visible()
    shots("onboarding-genres")
    button(page, "onb-genres-next").click()
    movies = pick_titles(page, "movie", shots)
    shows = pick_titles(page, "tv", shots)
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    shots("feed-first-view")
    assert store_values(app_data_dir, newcomer.username) == dict.fromkeys(movies + shows, LIKE)


def test_journey_04_feed_ratings_in_both_sections(
    page: Page, app_server: AppServer, app_data_dir: Path, tester: JourneyAccount, shots: Screenshots
) -> None:
    open_as(page, app_server, tester, "Your feed")
    rated = rate_in_section(page, "movie", "Movies")
    shots("feed-movies-rated")
    rated |= rate_in_section(page, "tv", "TV shows")
    shots("feed-tv-rated")
    stored = store_values(app_data_dir, tester.username)
    assert {t: stored.get(t) for t in rated} == rated, "a click was not stored (or stored wrong)"


def test_journey_05_undo_puts_the_title_back(
    page: Page, app_server: AppServer, app_data_dir: Path, tester: JourneyAccount, shots: Screenshots
) -> None:
    open_as(page, app_server, tester, "Your feed")
    undone = rate_first(page, "tv", "TV shows", SUPERLIKE)
    assert store_values(app_data_dir, tester.username).get(undone) == SUPERLIKE
    button(page, "undo-feed").click()
    expect(page.get_by_test_id("stToast").filter(has_text="Undone")).to_be_visible()
    expect(key_locator(page, f"card-feed-tv-{undone}")).to_be_visible()
    shots("feed-undo")
    assert undone not in store_values(app_data_dir, tester.username), "undo left the rating in the store"


def test_journey_06_reload_keeps_the_session_and_the_ratings(
    page: Page, app_server: AppServer, tester: JourneyAccount, shots: Screenshots
) -> None:
    open_as(page, app_server, tester, "Your feed")
    rated = {rate_first(page, "movie", "Movies", LIKE), rate_first(page, "tv", "TV shows", DISLIKE)}
    page.reload()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    wait_for_session_start(page)
    signed_in(page)
    for kind, tab in (("movie", "Movies"), ("tv", "TV shows")):
        open_tab(page, kind, tab)
        shown = set(feed_tconsts(page, kind))
        assert shown, f"the {tab} section is empty after a reload"
        assert not shown & rated, f"rated titles are back in {tab}: {shown & rated}"
        assert not shown & set(tester.movies + tester.shows), f"onboarding picks shown in {tab}"
    shots("after-reload")


def test_journey_07_search_rate_and_undo(
    page: Page, app_server: AppServer, app_data_dir: Path, tester: JourneyAccount, shots: Screenshots
) -> None:
    with Catalog(app_data_dir / "parquet") as catalog:
        wanted = catalog.search("godfather", kind="movie", limit=1)["tconst"].to_list()
    assert wanted, "the mirror catalogue has no Godfather movie"
    sign_in_with_cookie(page, app_server, tester)
    goto(page, SEARCH_PAGE, "Search")
    box = key_locator(page, "search-text").locator("input")
    box.fill("GODFATH")
    box.press("Enter")
    expect(key_locator(page, f"card-search-{wanted[0]}")).to_be_visible()
    target = wanted[0]
    card = key_locator(page, f"card-search-{target}")
    button(card, f"rate-search-{target}-{SUPERLIKE}").click()
    expect(card.get_by_text("Your rating: Superliked")).to_be_visible()
    shots("search-rated")
    assert store_values(app_data_dir, tester.username).get(target) == SUPERLIKE
    button(page, "undo-search").click()
    expect(card.get_by_text("Your rating:")).to_have_count(0)
    shots("search-undone")
    assert target not in store_values(app_data_dir, tester.username), "undo left the search rating stored"


def test_journey_08_deep_link_to_the_data_page(
    page: Page, app_server: AppServer, tester: JourneyAccount, shots: Screenshots
) -> None:
    sign_in_with_cookie(page, app_server, tester)
    goto(page, DATA_PAGE, "Data & model")
    assert page.url.rstrip("/").endswith(DATA_PAGE), f"deep link {DATA_PAGE} landed on {page.url}"
    shots("deep-link-data")


def test_journey_09_evaluation_lab_and_live_weights(
    page: Page, app_server: AppServer, app_data_dir: Path, tester: JourneyAccount, shots: Screenshots
) -> None:
    before = stored_setting(app_data_dir, LIVE_WEIGHTS)
    sign_in_with_cookie(page, app_server, tester)
    goto(page, EVALUATION_PAGE, "Evaluation lab")
    button(page, RUN_EVALUATION).click()
    chart = page.get_by_test_id("stVegaLiteChart")
    expect(chart.first).to_be_visible(timeout=EVALUATION_TIMEOUT_MS)
    expect(chart.first.locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_role("heading", name="Models side by side")).to_be_visible()
    shots("evaluation-chart")
    assert stored_setting(app_data_dir, LIVE_WEIGHTS) == before  # running changes nothing
    button(page, "eval-use").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Apply these weights to every feed?")).to_be_visible()
    expect(dialog.get_by_text("Now:")).to_be_visible()
    shots("evaluation-apply-confirmation")
    assert stored_setting(app_data_dir, LIVE_WEIGHTS) == before  # nothing before confirming
    button(page, "eval-apply-confirm").click()
    expect(page.get_by_text("Every feed now uses")).to_be_visible()
    expect(page.get_by_text(f"live: set by {tester.username}")).to_be_visible()
    shots("evaluation-weights-live")
    live = stored_setting(app_data_dir, LIVE_WEIGHTS)
    # a name -> weight mapping over the registered scorers
    assert isinstance(live, dict) and set(live) == set(registry.names()), live


def test_journey_10_log_out_survives_a_reload(
    page: Page, app_server: AppServer, tester: JourneyAccount, shots: Screenshots
) -> None:
    open_as(page, app_server, tester, "Your feed")
    button(page, "logout-button").click()
    signed_out(page)
    shots("logged-out")
    page.reload()
    expect(page.get_by_role("heading").first).to_be_visible()
    wait_for_session_start(page)
    signed_out(page)
    shots("logged-out-after-reload")


def test_journey_11_log_in_again_reaches_the_feed(page: Page, tester: JourneyAccount, shots: Screenshots) -> None:
    page.goto("/")
    expect(page.get_by_role("tab", name="Log in")).to_be_visible()
    wait_for_session_start(page)
    log_in(page, tester.username)
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    signed_in(page)
    shots("logged-in-again")


def test_login_survives_a_reload(page: Page, app_server: AppServer, app_data_dir: Path, shots: Shots) -> None:
    register_in_store(app_data_dir, "lou_tester")
    page.goto("/")
    expect(page.get_by_role("tab", name="Register")).to_be_visible()
    wait_for_session_start(page)
    log_in(page, "lou_tester")  # one click
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    settle(page)
    shots("logged-in")
    cookies = {c["name"] for c in page.context.cookies()}
    assert COOKIE_NAME in cookies, f"signed in, but the browser has no {COOKIE_NAME} cookie"
    page.reload()
    expect(page.get_by_role("heading").first).to_be_visible()
    wait_for_session_start(page)
    shots("after-reload")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    signed_in(page)


def test_first_visit_rerun_keeps_the_sign_in_page(page: Page, shots: Shots) -> None:
    """A new session runs the script twice (the cookie manager answers ~1 s after the first);
    the second run must not re-create the page a person may already be using."""
    page.goto("/")
    register_tab = page.get_by_role("tab", name="Register")
    expect(register_tab).to_be_visible()
    expect(key_locator(page, "init")).to_have_count(1)  # still the session's first run
    tabs = page.get_by_test_id("stTabs").first.element_handle()
    register_tab.click()
    wait_for_session_start(page)
    shots("after-second-run")
    assert tabs.evaluate("e => e.isConnected"), "the second run replaced the sign-in tabs"
    expect(page.get_by_role("tab", name="Register")).to_have_attribute("aria-selected", "true")


def test_demo_profile_in_one_click(page: Page, app_data_dir: Path, shots: Shots) -> None:
    """A product team shows a mature feed without an account, and leaves without a trace."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    wait_for_session_start(page)
    demos = keys_with_prefix(page, "demo-")
    assert len(demos) >= 2, f"demo profiles offered: {demos}"
    button(page, demos[0]).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Demo profile")).to_be_visible()
    expect(page.get_by_text("Because you liked").first).to_be_visible()
    shown = feed_tconsts(page, "movie")
    assert len(shown) >= 8  # two rows of four (the feed shows what fits a laptop screen)
    shots("demo-feed")
    button(page, f"rate-feed-movie-{shown[0]}-{LIKE}").click()
    expect(key_locator(page, f"card-feed-movie-{shown[0]}")).to_have_count(0)
    button(page, "logout-button").click()  # "Leave demo"
    expect(page.get_by_role("heading", name="Try a demo profile")).to_be_visible()
    shots("demo-left")
    with Store.open(f"sqlite:///{app_data_dir / 'app.db'}") as store:
        assert store.get_user(demos[0]) is None  # the button key "demo-<slug>" is the username
        frame = store.all_interactions()
        assert shown[0] not in frame["tconst"].to_list(), "a demo click reached the shared store"
