"""Memory (RSS) of the Streamlit server with the mirror catalogue and N open sessions (by hand).

    .venv/bin/python -m bench.app_memory [--data /tmp/cineblend-mirror] [--sessions 20]

``--data`` is a data folder already built and trained (``parquet/`` and ``models/``). They are
copied into a temporary folder outside the repository with a fresh store, so the run leaves the
source untouched; the folder is deleted at the end. ``--sessions`` testers are created in that
store (onboarded: 5 genres, 10 likes), then ``streamlit run app.py`` is started on loopback
(``tests.support.app_server``) and each tester opens a headless Chromium context
(``tests.support.streamlit_page``), logs in through the form and waits for the feed to show. All
sessions stay open while the server's memory is read from ``/proc`` (VmRSS now, VmHWM peak).

Baselines measured in the same run: the idle server (started, no session yet) and the server
with one session (catalogue, model and store loaded), so the per-session cost is
``(RSS with N - RSS with 1) / (N - 1)``. Target (issue 6): under 1.5 GB with 20 sessions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.catalog.queries import Catalog
from recsys.store import Store, accounts
from tests.support.app_server import AppServer

REPO = Path(__file__).resolve().parents[1]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

PASSWORD = "Bench#Pass1"
GENRES = ["Drama", "Comedy", "Crime", "Action", "Thriller"]
LOGIN_SUBMIT = "FormSubmitter-login-form-Log-in"


def proc_memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes of ``pid`` plus its children (the server has none normally)."""
    rss = hwm = 0
    for p in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields["VmRSS"].split()[0]) * 1024
        hwm += int(fields["VmHWM"].split()[0]) * 1024
    return rss, hwm


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for kid in map(int, kids):
            found += [kid, *_children(kid)]
    return found


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def make_testers(data: Path, count: int) -> list[str]:
    """``count`` onboarded testers (5 genres, the 5 most popular movies and TV shows liked)."""
    accounts.BCRYPT_ROUNDS = 4  # login checks any cost; keeps set-up quick
    with Catalog(data / "parquet") as catalog:
        likes = (
            catalog.by_genres([], "movie", limit=5)["tconst"].to_list()
            + catalog.by_genres([], "tv", limit=5)["tconst"].to_list()
        )
    names = []
    with Store.open(f"sqlite:///{data / 'app.db'}") as store:
        for i in range(count):
            name = f"bench{i:02d}"
            user = accounts.register(store, name, f"Bench {i}", f"{name}@example.com", PASSWORD)
            store.set_favourite_genres(user.id, GENRES)
            for tconst in likes:
                store.rate(user.id, tconst, 1)
            store.set_onboarding_step(user.id, "done")
            names.append(name)
    return names


def open_session(browser: Browser, server: AppServer, username: str) -> BrowserContext:
    """A new browser context logged in as ``username`` and showing its feed."""
    from playwright.sync_api import expect

    from tests.support.streamlit_page import button, form, settle, wait_for_session_start

    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("tab", name="Register")).to_be_visible(timeout=120_000)
    wait_for_session_start(page)
    login = form(page, LOGIN_SUBMIT)
    login.get_by_role("textbox", name="Username").fill(username)
    login.get_by_role("textbox", name="Password").fill(PASSWORD)
    button(page, LOGIN_SUBMIT).click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible(timeout=120_000)
    # the feed's first card (keys card-feed-movie-<tconst>)
    expect(page.locator("[class*='st-key-card-feed-movie-']").first).to_be_visible(timeout=120_000)
    settle(page)
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/cineblend-mirror"))
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    for part in ("parquet", "models"):
        if not (args.data / part).is_dir():
            print(f"error: {args.data / part} is missing: build and train that data folder first", file=sys.stderr)
            return 1
    from playwright.sync_api import sync_playwright

    from tests.support.streamlit_page import CHROMIUM_ARGS

    work = Path(tempfile.mkdtemp(prefix="cineblend-app-memory-"))
    data = work / "data"
    server: AppServer | None = None
    try:
        for part in ("parquet", "models"):
            shutil.copytree(args.data / part, data / part)
        testers = make_testers(data, args.sessions)
        with Catalog(data / "parquet") as catalog:
            titles = catalog.stats()["titles"]
        print(
            f"data: copy of {args.data} ({titles:,} titles; model "
            f"{sorted(p.name for p in (data / 'models').iterdir())[-1]}), {args.sessions} testers"
        )

        server = AppServer(data, log_path=work / "streamlit.log")
        server.start()
        assert server.process is not None  # started
        pid = server.process.pid
        time.sleep(2)  # let start-up allocations finish before the idle reading
        idle, _ = proc_memory(pid)
        readings: list[tuple[int, int]] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            contexts = []
            started = time.perf_counter()
            for n, name in enumerate(testers, start=1):
                contexts.append(open_session(browser, server, name))
                rss, hwm = proc_memory(pid)
                readings.append((rss, hwm))
                print(f"  {n:>2} session(s) open: RSS {mib(rss)} (peak so far {mib(hwm)})", flush=True)
            opened = time.perf_counter() - started
            time.sleep(5)  # all sessions idle and connected
            final, peak = proc_memory(pid)
            for context in contexts:
                context.close()
            browser.close()
        one = readings[0][0]
        per_session = (final - one) / max(len(testers) - 1, 1)
        print()
        print(f"idle server (no session)        {mib(idle):>10}")
        print(f"1 session (data + model loaded) {mib(one):>10}")
        print(
            f"{len(testers)} sessions open (after 5 s)    {mib(final):>10}   "
            f"= {final / one:.2f}x one session, {final / idle:.2f}x idle"
        )
        print(
            f"peak RSS during the run (VmHWM) {mib(peak):>10}   target < 1.5 GB "
            f"({'met' if peak < 1.5e9 else 'NOT met'})"
        )
        print(f"per extra session               {mib(per_session):>10}")
        print(f"{len(testers)} logins to a shown feed took {opened:.1f} s")
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
