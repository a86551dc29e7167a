"""Clicks as a person feels them, in Chromium, against a bare Streamlit button (by hand, not in CI).

    PYTHONPATH=$PWD .venv/bin/python bench/browser_clicks.py [--data /work/data] [--clicks 10] [--shots DIR] [--work-floor]

Copies the data folder (never written in place), adds two testers (one onboarded with a few
likes, one at the movie picks of onboarding) and starts the app and the one-button *floor* app
(``bench/click_latency.py``'s) on two servers. One Chromium, one page per app; clicks alternate
app / floor so both see the same machine load. Each click is timed from the click until what
it changes is on screen *and* the app is idle (script not running, nothing stale):

- feed Like: the card left the section and the undo slot reads "Last action: Liked <title>";
- onboarding pick: the card's button reads "Picked (undo)" and the counter moved on;
- floor: the button's counter moved on.

Prints the median of ``--clicks`` of each and the ratio to the floor's median in the same run,
then where each kind of click spends its time inside the page (``performance.now()`` of the
pointer-down, the websocket frames and the moment the wait above succeeded, logged by an init
script): pointer-down -> the rerun request sent, sent -> the server's first message (the run
started), first -> last message (the run: its elements arrive as they are made), last message ->
idle (the browser drawing them), and the messages per click. The log costs nothing measurable
(Like 91-100 ms with it, 92-100 without, same machine). Measured on 2 cores, Like / floor:
14-16 / 13-14 ms, 5-7 / 3.5-4 ms, 32-44 / 3-4 ms, 13-16 / 8 ms, 11 / 6 messages: the server's
run, slower under the browser's own load than alone (13-15 ms in ``bench/click_latency.py``),
is most of the gap.
``--work-floor`` adds ``bench/click_latency.py``'s work floor on a third server (a button whose
click only writes a rating and re-ranks the movie section from the store, no cards, no undo slot;
a second tester with the same likes), clicked in turn with the other two: how far the write and
the ranking alone put a click above the bare button in a browser, and what the feed's page adds
on top. Measured (10 clicks a run, seven runs, 2 cores): the work floor 1.16-1.35x the bare button,
the Like 1.17-1.51x the work floor.
Selectors are the widget-key classes the cards have had since before the one-element feed
(``card-feed-movie-<tconst>``, ``rate-feed-movie-<tconst>-1``, ``rate-onb-movie-<tconst>-1``),
so the same script measures both the old and the new rendering. ``--shots DIR`` saves the feed
and the onboarding picks at 1440 and 390 px wide.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from click_latency import FLOOR_APP, FloorServer, prepare, work_floor_server  # noqa: E402
from playwright.sync_api import Page, ViewportSize, sync_playwright  # noqa: E402

from recsys.app import onboarding  # noqa: E402
from recsys.store import Store  # noqa: E402
from tests.support.app_server import AppServer  # noqa: E402
from tests.support.browser import chromium_executable  # noqa: E402
from tests.support.streamlit_page import (  # noqa: E402
    _SETTLED_JS,
    CHROMIUM_ARGS,
    button,
    key_class,
    keys_with_prefix,
    settle,
)
from tests.support.testers import PASSWORD, create_testers  # noqa: E402

LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"

#: Logs, in the page, the pointer-down, every websocket frame sent and received, and (``_marked``)
#: the moment a click's wait succeeded: ``window.__cbLog`` entries ``[kind, performance.now()]``.
_TIMELINE_JS = """
(() => {
  window.__cbLog = [];
  const log = (kind) => window.__cbLog.push([kind, performance.now()]);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { log('sent'); return send.call(this, data); };
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => log('recv'));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
  document.addEventListener('pointerdown', () => log('down'), true);
})();
"""


def _marked(predicate: str) -> str:
    """``predicate`` that also logs ``done`` in the page's timeline when it first holds."""
    return f"(arg) => {{ const ok = ({predicate})(arg); if (ok && window.__cbLog) window.__cbLog.push(['done', performance.now()]); return ok; }}"


def timeline_split(page: Page) -> tuple[float, float, float, float, int] | None:
    """The last click's in-page split (module docstring), in ms; the page's log is emptied."""
    entries: list[tuple[str, float]] = page.evaluate(
        "() => { const l = window.__cbLog || []; window.__cbLog = []; return l; }"
    )
    downs = [t for kind, t in entries if kind == "down"]
    if not downs:
        return None
    start = downs[-1]
    sent = [t for kind, t in entries if kind == "sent" and t >= start]
    recv = [t for kind, t in entries if kind == "recv" and sent and t >= sent[0]]
    done = [t for kind, t in entries if kind == "done" and t >= start]
    if not (sent and recv and done):
        return None
    return sent[0] - start, recv[0] - sent[0], recv[-1] - recv[0], done[0] - recv[-1], len(recv)


_FEED_DONE = (
    """([card, text]) => document.querySelector('.' + card) === null
  && Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
       .some(e => (e.textContent || '').trim() === text)
  && """
    + f"({_SETTLED_JS})()"
)

_PICK_DONE = (
    """([picked, counter]) => document.querySelector('.' + picked + ' button') !== null
  && Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
       .some(e => (e.textContent || '').trim() === counter)
  && """
    + f"({_SETTLED_JS})()"
)

_FLOOR_DONE = (
    """(n) => Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
  .some(e => (e.textContent || '').includes('clicks: ' + n)) && """
    + f"({_SETTLED_JS})()"
)


def log_in(page: Page, username: str, landing: str) -> None:
    page.goto("/")
    page.get_by_role("tab", name="Register").wait_for()
    settle(page)
    page.locator(f".{key_class('init')}").wait_for(state="detached")
    settle(page)
    form = page.get_by_test_id("stForm").filter(has=page.locator(f".{key_class(LOGIN_SUBMIT)}"))
    form.get_by_role("textbox", name="Username").fill(username)
    form.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.locator(f".{key_class(LOGIN_SUBMIT)} button").click()
    page.get_by_role("heading", name=landing).wait_for(timeout=120_000)
    settle(page)


def floor_click(page: Page, n: int) -> float:
    t0 = time.perf_counter()
    button(page, "floor-button").click()
    page.wait_for_function(_marked(_FLOOR_DONE), arg=n, polling="raf")
    return time.perf_counter() - t0


def feed_like(page: Page, gone: list[float] | None = None) -> float:
    """Seconds from the click until the card left and the app is idle; appends the seconds
    until the card left the screen (what the eye sees first) to ``gone``."""
    settle(page)
    prefix = "card-feed-movie-"
    tconst = keys_with_prefix(page, prefix)[0][len(prefix) :]
    card = page.locator(f".{key_class(prefix + tconst)}")
    title = card.locator("strong").first.inner_text().strip()
    t0 = time.perf_counter()
    button(page, f"rate-feed-movie-{tconst}-1").click()
    if gone is not None:
        page.wait_for_function(
            "(c) => document.querySelector('.' + c) === null", arg=key_class(prefix + tconst), polling="raf"
        )
        gone.append(time.perf_counter() - t0)
    page.wait_for_function(
        _marked(_FEED_DONE), arg=[key_class(prefix + tconst), f"Last action: Liked {title}"], polling="raf"
    )
    return time.perf_counter() - t0


def onboarding_pick(page: Page, n: int) -> float:
    settle(page)
    prefix = "rate-onb-movie-"
    likes = [k for k in keys_with_prefix(page, prefix) if k.endswith("-1") and not k.endswith("--1")]
    tconst = likes[0][len(prefix) : -len("-1")]
    t0 = time.perf_counter()
    button(page, f"{prefix}{tconst}-1").click()
    page.wait_for_function(
        _marked(_PICK_DONE), arg=[key_class(f"{prefix}{tconst}-0"), onboarding.picked_text(n)], polling="raf"
    )
    return time.perf_counter() - t0


def shots(page: Page, folder: Path, name: str) -> None:
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        settle(page)
        page.wait_for_timeout(300)  # layout after the resize (no run to wait for)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    settle(page)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/work/data"), help="a built data folder (copied)")
    ap.add_argument("--clicks", type=int, default=10)
    ap.add_argument("--shots", type=Path, default=None, help="save screenshots of feed and onboarding here")
    ap.add_argument(
        "--work-floor",
        action="store_true",
        help="also time click_latency.py's work floor in Chromium: a button that only writes the rating and re-ranks",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="browser-clicks-") as tmp:
        work = Path(tmp)
        data, feeder, second = prepare(args.data, work)
        with Store.open(f"sqlite:///{(data / 'app.db').resolve()}") as store:
            picker = create_testers(
                store, 1, prefix="picker", genres=["Crime", "Drama", "Thriller", "Comedy", "Action"]
            )[0]
            store.set_onboarding_step(picker.user_id, "movies")
        script = work / "floor" / "floor_app.py"
        script.parent.mkdir()
        script.write_text(FLOOR_APP)
        app = AppServer(data, log_path=work / "app.log")
        floor = FloorServer(script, log_path=work / "floor.log")
        work_floor = work_floor_server(work, data, second.user_id) if args.work_floor else None
        with app, floor, work_floor or contextlib.nullcontext(), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
            viewport: ViewportSize = {"width": 1440, "height": 900}
            urls = [app.url, floor.url, app.url] + ([work_floor.url] if work_floor else [])
            contexts = [browser.new_context(base_url=url, viewport=viewport) for url in urls]
            for context in contexts:
                context.add_init_script(_TIMELINE_JS)
            app_page, floor_page = contexts[0].new_page(), contexts[1].new_page()
            floor_page.goto("/")
            button(floor_page, "floor-button").wait_for()
            settle(floor_page)
            work_page = contexts[3].new_page() if work_floor else None
            if work_page is not None:
                work_page.goto("/")
                button(work_page, "floor-button").wait_for()
                settle(work_page)
            n_floor = n_work = 0
            splits: dict[str, list[tuple[float, float, float, float, int]]] = {
                "feed Like": [],
                "floor": [],
                "pick": [],
                "work floor": [],
            }

            def record(name: str, page: Page) -> None:
                split = timeline_split(page)
                if split is not None:
                    splits[name].append(split)

            def next_floor() -> float:
                nonlocal n_floor
                n_floor += 1
                took = floor_click(floor_page, n_floor)
                record("floor", floor_page)
                return took

            def next_work() -> float | None:
                nonlocal n_work
                if work_page is None:
                    return None
                n_work += 1
                took = floor_click(work_page, n_work)
                record("work floor", work_page)
                return took

            log_in(app_page, feeder.username, "Your feed")
            app_page.locator(f"[class*='{key_class('card-feed-movie-')}']").first.wait_for()
            for _ in range(2):  # warm-up of all
                next_floor()
                next_work()
                feed_like(app_page)
            if args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
                shots(app_page, args.shots, "feed")
            feed: list[float] = []
            base: list[float] = []
            gone: list[float] = []
            worked: list[float] = []
            for _ in range(args.clicks):
                base.append(next_floor())
                if (took := next_work()) is not None:
                    worked.append(took)
                feed.append(feed_like(app_page, gone))
                record("feed Like", app_page)

            pick_page = contexts[2].new_page()
            log_in(pick_page, picker.username, "Get started")
            pick_page.locator(f"[class*='{key_class('rate-onb-movie-')}']").first.wait_for()
            if args.shots:
                shots(pick_page, args.shots, "onboarding")
            picks, base2 = [], []
            for i in range(1, min(args.clicks, 40) + 1):
                base2.append(next_floor())
                picks.append(onboarding_pick(pick_page, i))
                record("pick", pick_page)
            browser.close()

    def line(name: str, xs: list[float], floor_xs: list[float]) -> str:
        a, b = statistics.median(xs), statistics.median(floor_xs)
        return f"  {name:22s} median {a * 1000:6.0f} ms   floor median {b * 1000:5.0f} ms   = {a / b:.2f}x"

    print(f"Chromium, {args.clicks} clicks each, alternating with the bare-button floor")
    print(line("feed Like", feed, base))
    print(line("  (card off screen)", gone, base))
    if worked:
        print(line("work floor (no UI)", worked, base))
        print(f"  feed Like / work floor: {statistics.median(feed) / statistics.median(worked):.2f}x")
    print(line("onboarding pick", picks, base2))
    print("in the page, median ms: click -> sent, sent -> first message, first -> last message, last -> idle; messages")
    for name, rows in splits.items():
        if rows:
            cols = [statistics.median(row[i] for row in rows) for i in range(5)]
            print(f"  {name:10s} " + "  ".join(f"{c:6.1f}" for c in cols[:4]) + f"   {cols[4]:.0f}")


if __name__ == "__main__":
    main()
