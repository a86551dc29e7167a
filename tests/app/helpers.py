"""Driving the app in AppTest the way a tester would."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.jobs import runner as jobs
from recsys.store import Store
from tests.support.ws_session import html_text, unescape_markdown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORD = "Secret#123"


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Every text a person would read: markdown, captions, titles, subheaders and the cards'
    ``st.html`` (as the browser shows it: tags dropped, entities decoded)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += card_texts(at)
    return "\n".join(str(p) for p in parts)


def card_texts(at: AppTest) -> list[str]:
    """The visible text of every ``st.html`` element (the title cards)."""
    return [html_text(h.value) for h in at.html]


def alerts(at: AppTest, kind: str) -> list[str]:
    """The alerts of ``kind`` as a person reads them (their text is escaped Markdown)."""
    return [unescape_markdown(str(e.value)) for e in getattr(at, kind)]


def settle(at: AppTest) -> AppTest:
    """In a browser the auth cookie component reruns the app once it has set the cookie;
    AppTest runs no components, so do that rerun here."""
    if at.session_state["authentication_status"] if "authentication_status" in at.session_state else False:
        at.run()
    return at


def register(
    at: AppTest,
    username: str = "alice",
    email: str = "alice@example.com",
    password: str = PASSWORD,
    name: str = "Alice",
) -> AppTest:
    at.text_input(key="reg-name").input(name)
    at.text_input(key="reg-username").input(username)
    at.text_input(key="reg-email").input(email)
    at.text_input(key="reg-password").input(password)
    at.text_input(key="reg-repeat").input(password)
    at.button(key="FormSubmitter:register-form-Register").click().run()
    return settle(at)


def login(at: AppTest, username: str, password: str) -> AppTest:
    form_inputs = [t for t in at.text_input if t.key is None or "reg-" not in str(t.key)]
    form_inputs[0].input(username)
    form_inputs[1].input(password)
    at.button(key="FormSubmitter:login-form-Log in").click().run()
    return settle(at)


def pick_genres(at: AppTest, genres: list[str]) -> AppTest:
    at.button_group(key="onb-genres").set_value(genres).run()
    at.button(key="onb-genres-next").click().run()
    return at


def pick_titles(at: AppTest, kind: str, count: int) -> AppTest:
    for _ in range(count):
        button = next(b for b in at.button if str(b.key).startswith(f"rate-onb-{kind}-") and str(b.key).endswith("-1"))
        button.click().run()
    return at


def user(settings: Settings, username: str = "alice"):
    store = Store.open(settings.store_url)
    try:
        return store, store.get_user(username)
    except Exception:
        store.close()
        raise


def onboarded(app_settings: Settings) -> AppTest:
    at = start()
    register(at)
    genres = list(at.button_group(key="onb-genres").options)
    pick_genres(at, genres[:5])
    pick_titles(at, "movie", 5)
    at.button(key="onb-next-movie").click().run()
    pick_titles(at, "tv", 5)
    at.button(key="onb-next-tv").click().run()
    assert not at.exception
    return at


FEED_TABS = {"movie": "Movies", "tv": "TV shows"}


def open_section(at: AppTest, kind: str) -> None:
    """Switch the feed to the section ``kind`` (a person clicking its tab; only the open section
    is rendered)."""
    label = FEED_TABS[kind]
    if "feed-tabs" not in at.session_state or at.session_state["feed-tabs"] != label:
        at.session_state["feed-tabs"] = label
        at.run()


def feed_tconsts(at: AppTest, kind: str) -> list[str]:
    """The tconsts shown in a feed section, in order (from the Like buttons' keys); opens the
    section's tab first."""
    open_section(at, kind)
    prefix, like = f"rate-feed-{kind}-", "-1"
    keys = [str(b.key) for b in at.button]
    return [
        k[len(prefix) : -len(like)] for k in keys if k.startswith(prefix) and k.endswith(like) and not k.endswith("--1")
    ]


def after_jobs(at: AppTest, timeout: float = 180) -> AppTest:
    """Wait for the background jobs a button started (they run on the server's worker thread,
    in this process under AppTest), then rerun the page as its refreshing panel would."""
    assert jobs.wait_all(timeout), "a background job did not finish"
    return at.run()
