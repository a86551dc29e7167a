"""Playwright helpers for driving a Streamlit page like a person, without sleeps.

Streamlit re-runs the script after every interaction and re-renders in place: waiting for a
locator is usually enough (Playwright auto-waits), but before a screenshot or an "is gone" check
wait for :func:`settle`: the script run is over and no element is stale (greyed out).
Widget keys become the CSS class ``st-key-<key>`` on the element's container (Streamlit 1.67),
so ``key_locator(page, "rate-feed-movie-tt0100001-1")`` finds that button's container.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

#: Flags for Debian's chromium in a container (no sandbox, no GPU, nothing phoning home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null
    && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && document.querySelector('[data-stale="true"]') === null;
}"""


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the container of the widget / container with ``key``."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def key_locator(page: Page | Locator, key: str) -> Locator:
    return page.locator(f".{key_class(key)}")


def button(page: Page | Locator, key: str) -> Locator:
    """The visible ``<button>`` of the widget with ``key`` (st.button, form submit, ...).

    A button with ``help=`` also holds a hidden copy of itself (Streamlit measures it).
    """
    return key_locator(page, key).locator("button").filter(visible=True)


def form(page: Page, submit_key: str) -> Locator:
    """The ``st.form`` holding the submit button with widget key ``submit_key``.

    Forms get no ``st-key-`` class of their own; their submit buttons do
    (``FormSubmitter-<form key>-<label>``).
    """
    return page.get_by_test_id("stForm").filter(has=key_locator(page, submit_key))


def settle(page: Page, timeout: float | None = None) -> None:
    """Wait until the script run is over and nothing on the page is stale.

    Right after a click the rerun it asks for may not have started yet, so this alone does not
    wait for the click's effect: first expect what the click changes, then settle.
    """
    page.wait_for_function(_SETTLED_JS, timeout=timeout)


def wait_for_session_start(page: Page) -> None:
    """Wait out the second script run every new browser session gets (first visit, reload).

    streamlit-authenticator's cookie manager renders a component (key ``init``) on the first
    run of a session; the browser sends its value back and Streamlit runs the script again,
    about a second later. Interacting before that second run is over can be undone by it.
    Call this after the page's first content is visible.
    """
    settle(page)
    expect(key_locator(page, "init")).to_have_count(0)
    settle(page)


def keys_with_prefix(page: Page | Locator, prefix: str) -> list[str]:
    """Widget keys (from ``st-key-`` classes) that start with ``prefix``, in page order."""
    css = key_class(prefix)
    classes: list[str] = page.locator(f"[class*='{css}']").evaluate_all(
        "els => els.flatMap(e => Array.from(e.classList))"
    )
    seen: dict[str, None] = {}
    for c in classes:
        if c.startswith(css):
            seen.setdefault(c[len("st-key-") :], None)
    return list(seen)


class Screenshots:
    """Numbered full-page screenshots of one test's steps, under ``folder``."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, step: str) -> Path:
        """Wait for the page to settle, then save ``NN-<step>.png``."""
        settle(self.page)
        return self.raw(step)

    def raw(self, step: str) -> Path:
        """Save a screenshot now, settled or not (for failures)."""
        self.count += 1
        name = re.sub(r"[^a-zA-Z0-9_-]+", "-", step).strip("-")
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
