"""Simulated testers for load and crash tests: accounts, websocket sessions, browser contexts.

A tester logs in through the sign-in form and rates titles in the feed the way a person does:
wait for the page's run to finish, click a rating button on the first card, and count the
rating as *acknowledged* only once the page shows it: the card left the feed and the undo bar
("Last action: Liked <title>") names it.

- :class:`WsTester` is one real Streamlit session over the websocket
  (:mod:`tests.support.ws_session`), no browser: the load test runs 20 of them at once, which
  one Chromium cannot on 2 cores (see that module). Every run's errors (exception boxes, error
  alerts) are kept.
- :class:`BrowserTester` is one context of a real Chromium (async Playwright): each error the
  page ever shows, even one that disappears again, is recorded in the page by a
  ``MutationObserver`` and read back with :meth:`BrowserTester.errors`.

Async Playwright runs on its own thread (:func:`run_async`): the synchronous Playwright of
``tests/browser`` may be alive in the main thread of the same pytest session, and the two must
not share an event loop. Accounts are made directly in the store by :func:`create_testers`,
with a cheap bcrypt cost, already onboarded, so the test's time goes to the feed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import random
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from recsys.columns import VALUE_LABELS
from recsys.store import Store
from recsys.store.accounts import hash_password
from tests.support.ws_session import (
    Item,
    Run,
    SessionClosed,
    StreamlitSession,
    component_data,
    component_trigger,
    headings,
    text_value,
    trigger,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Locator, LocatorAssertions, Page
    from streamlit.proto.WidgetStates_pb2 import WidgetState

T = TypeVar("T")

PASSWORD = "Load#Test2024"
LOGIN_FORM = "login-form"
LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"  # its st-key- CSS class
#: bcrypt cost for load-test accounts (the app's own is 12: ~0.25 s per login check).
CHEAP_BCRYPT_ROUNDS = 4

_ERROR_RECORDER_JS = """
(() => {
  window.__cbErrors = [];
  const seen = new WeakSet();
  const selector = '[data-testid="stException"], [data-testid="stAlertContentError"]';
  const scan = () => {
    for (const el of document.querySelectorAll(selector)) {
      if (!seen.has(el)) {
        seen.add(el);
        window.__cbErrors.push((el.innerText || el.textContent || '').trim().slice(0, 300));
      }
    }
  };
  new MutationObserver(scan).observe(document, {childList: true, subtree: true});
})();
"""

# The rating is on screen: its card left the feed and the undo bar names it.
_ACKNOWLEDGED_JS = """([cardClass, text]) =>
  document.querySelector('.' + cardClass) === null &&
  Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
    .some(e => (e.textContent || '').trim() === text)"""
#: How often a page checks whether a click is acknowledged (ms); bounds the measuring error.
ACK_POLL_MS = 25


def key_class(key: str) -> str:
    """``streamlit_page.key_class`` (imported lazily: that module needs playwright)."""
    from tests.support.streamlit_page import key_class as css_class

    return css_class(key)


def run_async(make: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None) -> T:
    """Run ``make()`` on a fresh event loop in a worker thread and return its result.

    The main thread may hold the synchronous Playwright of ``tests/browser`` (its event loop
    counts as running there), so every async part of these tests runs here instead.
    """
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="async-test") as pool:
        return pool.submit(lambda: asyncio.run(make())).result(timeout)


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    user_id: int


def create_testers(store: Store, count: int, *, prefix: str = "tester", genres: Sequence[str] = ()) -> list[Account]:
    """``count`` onboarded accounts (password :data:`PASSWORD`, cheap bcrypt) in ``store``."""
    password_hash = hash_password(PASSWORD, rounds=CHEAP_BCRYPT_ROUNDS)
    accounts = []
    for i in range(1, count + 1):
        username = f"{prefix}{i:03d}"
        name = f"Tester {prefix.title()} {i:03d}"
        user = store.create_user(username, name, f"{username}@example.com", password_hash)
        if genres:
            store.set_favourite_genres(user.id, list(genres))
        store.set_onboarding_step(user.id, "done")
        accounts.append(Account(user.username, name, user.id))
    return accounts


@dataclass(frozen=True)
class Card:
    """One card of a section element (``recsys.ui.card_element``) as the browser received it."""

    element: Item  # the section's one element
    section: str  # "feed-movie", "onb-tv" ...
    tconst: str
    title: str
    position: int

    @property
    def key(self) -> str:
        """The key of the card block it replaces: ``card-feed-movie-<tconst>``."""
        return f"card-{self.section}-{self.tconst}"


def section_cards(run: Run, section: str) -> list[Card]:
    """The cards of the section element ``cb-cards-<section>`` in ``run`` (none if not sent)."""
    found = [i for i in run.elements("bidi_component") if i.key == f"cb-cards-{section}"]
    if not found:
        return []
    data = component_data(found[-1])
    return [Card(found[-1], section, c["tconst"], c["title"], n) for n, c in enumerate(data["cards"])]


_clicks = iter(range(1, 1 << 62))


def card_click(card: Card, action: str, value: int | None = None) -> tuple[list[WidgetState], str]:
    """The widget states and fragment id of a click on ``card`` (what the element's JS sends),
    for ``session.send_rerun(*card_click(...))``."""
    payload = {"action": action, "value": value, "tconst": card.tconst, "position": card.position, "n": next(_clicks)}
    return [component_trigger(card.element, "click", payload)], card.element.fragment_id


@dataclass
class Click:
    """One rating a tester clicked: what, when it was clicked, when the page acknowledged it
    (epoch seconds; ``acked`` is None if it never was)."""

    tconst: str
    value: int
    title: str
    clicked: float
    acked: float | None = None


class NotAcknowledged(AssertionError):
    """The run after a click did not show the rating (card still there or undo bar silent)."""


@dataclass
class WsTester:
    """One person's Streamlit session over the websocket (no browser), signed in as ``account``."""

    account: Account
    session: StreamlitSession
    clicks: list[Click] = field(default_factory=list)
    feed_run: Run | None = None

    __test__ = False  # not a pytest test class

    async def log_in(self) -> Run:
        """First visit, the sign-in form, then the run the browser's cookie component would
        trigger; ends on the feed."""
        run = await self.session.run()
        username = run.widget("text_input", label="Username", form=LOGIN_FORM)
        password = run.widget("text_input", label="Password", form=LOGIN_FORM)
        submit = run.widget("button", key="FormSubmitter:login-form-Log in")
        await self.session.run(
            [text_value(username, self.account.username), text_value(password, PASSWORD),
             trigger(submit)]
        )  # fmt: skip
        run = await self.session.run()
        if "Your feed" not in headings(run):
            raise AssertionError(
                f"{self.account.username} is not on the feed after logging in: {headings(run)} {run.errors()}"
            )
        self.feed_run = run
        return run

    def cards(self, kind: str = "movie", run: Run | None = None) -> list[Card]:
        """The cards of the feed section ``kind``, in page order (the section's one element)."""
        run = run or self.feed_run
        assert run is not None, "not on the feed yet"
        return section_cards(run, f"feed-{kind}")

    async def rate_first(self, value: int, kind: str = "movie") -> Click:
        """Click ``value`` on the first card of the section and wait for the page to show it."""
        assert self.feed_run is not None, "log in first"
        cards = self.cards(kind)
        if not cards:
            raise AssertionError(f"{self.account.username}: the {kind} feed is empty")
        card = cards[0]
        click = Click(card.tconst, value, card.title, time.time())
        self.clicks.append(click)
        click.clicked = await self.session.send_rerun(*card_click(card, "rate", value))
        run = await self.session.receive_run()
        still_there = any(c.key == card.key for c in self.cards(kind, run))
        undo_bar = f"Last action: {VALUE_LABELS[value]} {card.title}"
        if still_there or undo_bar not in run.texts():
            raise NotAcknowledged(
                f"{self.account.username} rated {card.tconst} {value}: card still shown={still_there},"
                f" undo bar={[t for t in run.texts() if t.startswith('Last action')]},"
                f" errors={run.errors()}"
            )
        click.acked = run.finished
        self.feed_run = run
        return click

    def acknowledged(self) -> list[Click]:
        return [c for c in self.clicks if c.acked is not None]

    def errors(self) -> list[str]:
        return self.session.errors()


@dataclass
class BrowserTester:
    """One person in their own browser context, on the app at ``base_url``."""

    account: Account
    context: BrowserContext
    page: Page
    timeout_ms: float = 60_000
    clicks: list[Click] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    @classmethod
    async def open(cls, browser: Browser, base_url: str, account: Account, timeout_ms: float = 60_000) -> BrowserTester:
        context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(timeout_ms)
        await context.add_init_script(_ERROR_RECORDER_JS)
        page = await context.new_page()
        tester = cls(account, context, page, timeout_ms)
        page.on("pageerror", lambda exc: tester.page_errors.append(str(exc)[:300]))
        return tester

    async def close(self) -> None:
        await self.context.close()

    # -- page state ------------------------------------------------------------------------

    async def settle(self) -> None:
        """The script run is over and nothing is stale (see ``streamlit_page.settle``)."""
        from tests.support.streamlit_page import _SETTLED_JS

        await self.page.wait_for_function(_SETTLED_JS, polling=ACK_POLL_MS)

    def expect(self, target: Locator) -> LocatorAssertions:
        """Playwright's ``expect`` with this tester's timeout (the default 5 s is too short
        under load)."""
        from playwright.async_api import Expect

        expect = Expect()  # its own options: leaves the global `expect` alone
        expect.set_options(timeout=self.timeout_ms)
        return expect(target)

    async def errors(self) -> list[str]:
        """Every error box / alert this page has shown so far (plus JS errors)."""
        try:
            shown: list[str] = await self.page.evaluate("() => window.__cbErrors || []")
        except Exception as exc:
            shown = [f"page unusable: {type(exc).__name__}: {str(exc)[:200]}"]
        return shown + [f"JS error: {e}" for e in self.page_errors]

    async def feed_tconsts(self, kind: str = "movie") -> list[str]:
        prefix = key_class(f"card-feed-{kind}-")
        classes: list[str] = await self.page.locator(f"[class*='{prefix}']").evaluate_all(
            "els => els.flatMap(e => Array.from(e.classList))"
        )
        seen: dict[str, None] = {}
        for c in classes:
            if c.startswith(prefix):
                seen.setdefault(c[len(prefix) :], None)
        return list(seen)

    # -- actions ---------------------------------------------------------------------------

    async def log_in(self) -> None:
        """Open the app, sign in through the form, and wait until the feed has settled."""
        expect = self.expect
        page = self.page
        await page.goto("/")
        await expect(page.get_by_role("tab", name="Register")).to_be_visible()
        await self.settle()
        # the session's second run (the cookie manager's answer) must be over before typing
        await expect(page.locator(f".{key_class('init')}")).to_have_count(0)
        await self.settle()
        form = page.get_by_test_id("stForm").filter(has=page.locator(f".{key_class(LOGIN_SUBMIT)}"))
        await form.get_by_role("textbox", name="Username").fill(self.account.username)
        await form.get_by_role("textbox", name="Password").fill(PASSWORD)
        await page.locator(f".{key_class(LOGIN_SUBMIT)} button").click()
        await expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
        any_card = page.locator(f"[class*='{key_class('card-feed-movie-')}']").first
        await expect(any_card).to_be_visible()
        await self.settle()

    async def rate_first(self, value: int, kind: str = "movie") -> Click:
        """Rate the first card of the feed section ``kind`` and wait for the page to show it."""
        page = self.page
        await self.settle()
        shown = await self.feed_tconsts(kind)
        if not shown:
            raise AssertionError(f"{self.account.username}: the {kind} feed is empty")
        tconst = shown[0]
        card_key = f"card-feed-{kind}-{tconst}"
        card = page.locator(f".{key_class(card_key)}")
        title = (await card.locator("strong").first.inner_text()).strip()
        button = page.locator(f".{key_class(f'rate-feed-{kind}-{tconst}-{value}')} button")
        click = Click(tconst, value, title, time.time())
        self.clicks.append(click)
        await button.filter(visible=True).click()
        await page.wait_for_function(
            _ACKNOWLEDGED_JS,
            arg=[key_class(card_key), f"Last action: {VALUE_LABELS[value]} {title}"],
            polling=ACK_POLL_MS,
        )
        click.acked = time.time()
        return click

    def acknowledged(self) -> list[Click]:
        return [c for c in self.clicks if c.acked is not None]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def chromium_executable() -> str:
    """Debian's chromium (see ``tests.support.browser``) for the asynchronous Playwright these
    testers use; skips the test (fails under CI) without it or without the playwright package."""
    from tests.support.browser import chromium_executable as chromium
    from tests.support.ci import unavailable

    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("Browser", "the playwright package is not installed; run scripts/test.sh")
    return chromium()


async def signed_in(base_url: str, account: Account) -> WsTester:
    """A websocket session on the server at ``base_url``, signed in as ``account``."""
    tester = WsTester(account, StreamlitSession(base_url, timeout=90))
    await tester.session.__aenter__()
    await tester.log_in()
    return tester


def feed_tconsts(tester: WsTester, kind: str = "movie") -> list[str]:
    """The titles of the feed section ``kind`` the tester's last run shows, in order."""
    prefix = f"card-feed-{kind}-"
    return [card.key[len(prefix) :] for card in tester.cards(kind)]


async def burst_then_kill(server: Any, accounts: list[Account], kill_after: int) -> list[WsTester]:
    """Sign ``accounts`` in on ``server`` (an AppServer), let them rate as fast as it takes them
    and SIGKILL the server once ``kill_after`` ratings (all testers) are acknowledged; returns the
    testers, whose ``acknowledged()`` lists what the server confirmed before it died."""
    enough = asyncio.Event()
    testers = [await signed_in(server.url, a) for a in accounts]

    async def rate(tester: WsTester) -> None:
        rng = random.Random(tester.account.username)
        try:
            while True:
                await tester.rate_first(rng.choice((1, -1, 2)))
                if sum(len(t.acknowledged()) for t in testers) >= kill_after:
                    enough.set()
        except (SessionClosed, TimeoutError):
            if not enough.is_set():
                raise

    async def kill() -> None:
        await enough.wait()
        server.kill()

    await asyncio.gather(*(rate(t) for t in testers), kill())
    for tester in testers:
        await tester.session.close()
    return testers
