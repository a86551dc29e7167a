"""Click latency of the real app against Streamlit's own floor (by hand, not in CI).

    PYTHONPATH=$PWD .venv/bin/python bench/click_latency.py [--data /work/mirror-data] [--clicks 30]

Copies the data folder (catalogue + trained model + store; never written in place) to a
temporary folder, adds one onboarded tester with a few likes (so the feed is the full hybrid),
and starts two real servers (``streamlit run``, the same flags as the tests' ``AppServer``):

- the app itself, driven over its websocket like a browser does (``tests/support/ws_session.py``);
- the *floor*: a one-button app (``st.button`` + one line of text), the cheapest rerun
  Streamlit can do on this machine at this moment;
- with ``--work-floor``, a third: the *work floor*, a one-button app whose click does only what
  every feed click must (a second tester with the same likes): write the rating
  (``Store.change_rating``), re-rank the movie section from the store
  (:func:`recsys.app.feed.recommend_for_user`, 8 titles, the same model) and print its first
  title. No session check, no cards, no undo slot: how far the ranking and the write alone put a
  click above the bare floor, and how much the feed adds on top of them.

Clicks alternate between the two (feed click, floor click, ...), so both see the same machine
load. A feed click is timed from sending the button's trigger until the run that shows it
finishes (the card left the feed and the undo bar names it: ``WsTester.rate_first``). Server CPU
per click comes from ``/proc/<pid>/stat`` of each server around its clicks.

Also printed: undo and details clicks; the first page load of a cold server (the first session
after start: model and catalogue load) and of a warm one (a new visitor once another session has
run): sign-in page, then sign-in -> feed.

``--during-job`` instead measures feed clicks while a lab evaluation runs in a worker process
(issue 22: within 1.5x of clicks on an idle server): the app in worker mode, one real ``python -m
recsys worker``, feed clicks idle, then while a default evaluation runs there (the evaluation is
checked to be still running after the last click, then cancelled), then idle again; floor clicks
alternate with them throughout, so the machine's own load shows too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import polars as pl  # noqa: E402

from recsys.columns import DISLIKE, LIKE  # noqa: E402
from recsys.experiments import manage, records  # noqa: E402
from recsys.store import Store  # noqa: E402
from tests.support.app_server import AppServer  # noqa: E402
from tests.support.testers import Account, WsTester, card_click, create_testers, percentile  # noqa: E402
from tests.support.ws_session import StreamlitSession, trigger  # noqa: E402

FLOOR_APP = """
import streamlit as st

if st.button("Click", key="floor-button"):
    st.session_state["n"] = st.session_state.get("n", 0) + 1
st.write("clicks:", st.session_state.get("n", 0))
"""


WORK_FLOOR_APP = """
import os

import streamlit as st

from recsys.app.feed import recommend_for_user
from recsys.columns import DISLIKE, LIKE
from recsys.ui import resources

cfg = resources.settings()
store = resources.shared_store(cfg)
catalog = resources.catalog_or_stop(cfg)
user = store.get_user_by_id(int(os.environ["BENCH_WORK_USER"]))


def click() -> None:
    n = st.session_state["n"] = st.session_state.get("n", 0) + 1
    store.change_rating(user.id, st.session_state["first"], LIKE if n % 2 else DISLIKE)


st.button("Click", key="floor-button", on_click=click)
frame = recommend_for_user(
    user, 8, catalog=catalog, store=store, recommender=resources.recommender(cfg), kinds=("movie",)
)["movie"]
st.session_state["first"] = frame["tconst"][0]
st.write("first:", frame["primary_title"][0])
st.write("clicks:", st.session_state.get("n", 0))  # what bench/browser_clicks.py waits for
"""


class FloorServer(AppServer):
    """The one-button app on its own server (same flags as the app)."""

    def __init__(self, script: Path, data: Path | None = None, **kw: Any) -> None:
        super().__init__(data or script.parent, **kw)
        self.script = script

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("app.py")] = str(self.script)
        return cmd


def work_floor_server(work: Path, data: Path, user_id: int) -> FloorServer:
    """The work floor's app (``WORK_FLOOR_APP``) on its own server, re-ranking for ``user_id``."""
    script = work / "work-floor" / "work_floor_app.py"
    script.parent.mkdir()
    script.write_text(WORK_FLOOR_APP)
    return FloorServer(script, data, log_path=work / "work-floor.log", env={"BENCH_WORK_USER": str(user_id)})


def prepare(source: Path, work: Path, experiment: str = "none") -> tuple[Path, Account, Account]:
    """The data copy, the bench tester and a second one with the same likes (the work floor's); with ``experiment`` "ab" / "interleave", an admin made
    first and a running experiment on the movie section (blend vs popularity) the tester is in."""
    data = work / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("raw", "*.lock"))
    store = Store.open(f"sqlite:///{(data / 'app.db').resolve()}")
    try:
        if experiment != "none":
            (admin,) = create_testers(store, 1, prefix="admin")  # the first account: admin, in no experiment
        account, second = create_testers(store, 2, prefix="bench", genres=["Crime", "Drama", "Thriller"])
        titles = pl.read_parquet(data / "parquet" / "titles.parquet", columns=["tconst", "kind", "num_votes"])
        for kind in ("movie", "tv"):
            top = titles.filter(pl.col("kind") == kind).sort("num_votes", descending=True).head(4)
            for tconst in top["tconst"]:
                store.rate(account.user_id, tconst, LIKE)
                store.rate(second.user_id, tconst, LIKE)
        if experiment != "none":
            exp = manage.create(
                store,
                by=admin.username,
                name="bench",
                section="movie",
                method=experiment,
                arms=[
                    {"name": "blend", "weights": {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}},
                    {"name": "popular", "weights": {"popularity": 1.0}},
                ],
            )
            manage.start(store, exp.id, by=admin.username)
    finally:
        store.close()
    return data, account, second


def cpu(server: AppServer) -> float:
    return server.cpu_seconds()


def ms(xs: list[float], q: float) -> float:
    return percentile(xs, q) * 1000


async def first_load(server: AppServer, account: Account) -> tuple[float, float]:
    """(sign-in page, sign-in -> feed) seconds for a new visitor."""
    t0 = time.time()
    async with StreamlitSession(server.url, timeout=120) as session:
        tester = WsTester(account, session)
        first = await session.run()
        page = first.finished - t0
        await session.close()
    async with StreamlitSession(server.url, timeout=120) as session:
        tester = WsTester(account, session)
        t1 = time.time()
        await tester.log_in()
        login = time.time() - t1
    return page, login


async def floor_click(session: StreamlitSession, run_box: list) -> float:
    button = run_box[0].widget("button", key="floor-button")
    sent = await session.send_rerun([trigger(button)])
    run = await session.receive_run()
    run_box[0] = run
    return run.finished - sent


async def feed_clicks(
    app: AppServer, floor: FloorServer, account: Account, clicks: int, work: FloorServer | None = None
) -> None:
    cold_page, cold_login = await first_load(app, account)
    warm = [await first_load(app, account) for _ in range(3)]
    async with (
        StreamlitSession(app.url, timeout=120) as app_session,
        StreamlitSession(floor.url, timeout=120) as floor_session,
        StreamlitSession((work or floor).url, timeout=120) as work_session,
    ):
        tester = WsTester(account, app_session)
        await tester.log_in()
        floor_run = [await floor_session.run()]
        work_run = [await work_session.run()]
        for _ in range(3):  # warm-up of all
            await floor_click(floor_session, floor_run)
            if work is not None:
                await floor_click(work_session, work_run)
            await tester.rate_first(LIKE)
        feed, base, feed_cpu, base_cpu, worked, work_cpu = [], [], [], [], [], []
        for i in range(clicks):
            c0 = cpu(floor)
            base.append(await floor_click(floor_session, floor_run))
            base_cpu.append(cpu(floor) - c0)
            if work is not None:
                c0 = cpu(work)
                worked.append(await floor_click(work_session, work_run))
                work_cpu.append(cpu(work) - c0)
            c0 = cpu(app)
            click = await tester.rate_first(LIKE if i % 2 else DISLIKE)
            feed_cpu.append(cpu(app) - c0)
            assert click.acked is not None
            feed.append(click.acked - click.clicked)
        assert tester.feed_run is not None
        per_click = tester.feed_run.items
        buttons = sum(1 for i in per_click if i.kind == "button")
        components = sum(1 for i in per_click if i.kind == "bidi_component")
        undo, details = [], []
        for _ in range(max(3, clicks // 5)):
            await tester.rate_first(LIKE)
            assert tester.feed_run is not None
            button = tester.feed_run.widget("button", key="undo-feed")
            sent = await app_session.send_rerun([trigger(button)], button.fragment_id)
            run = await app_session.receive_run()
            undo.append(run.finished - sent)
            tester.feed_run = run
            card = tester.cards("movie")[0]
            sent = await app_session.send_rerun(*card_click(card, "details"))
            run = await app_session.receive_run()
            details.append(run.finished - sent)
            tester.feed_run = run
        errors = tester.errors()

    floor50 = ms(base, 50)
    print(f"{clicks} clicks each, alternating app / floor; times in ms")
    print(
        f"  floor (bare button)   p50 {floor50:7.1f}  p95 {ms(base, 95):7.1f}  CPU/click {statistics.mean(base_cpu) * 1000:6.1f}"
    )
    if worked:
        print(
            f"  work floor (write + rank 8, no UI) p50 {ms(worked, 50):7.1f}  p95 {ms(worked, 95):7.1f}  CPU/click "
            f"{statistics.mean(work_cpu) * 1000:6.1f}   p50 = {ms(worked, 50) / floor50:.2f}x floor"
        )
    print(
        f"  feed rating click     p50 {ms(feed, 50):7.1f}  p95 {ms(feed, 95):7.1f}  CPU/click "
        f"{statistics.mean(feed_cpu) * 1000:6.1f}   p50 = {ms(feed, 50) / floor50:.2f}x floor"
        + (f", {ms(feed, 50) / ms(worked, 50):.2f}x the work floor" if worked else "")
    )
    print(
        f"  undo click            p50 {ms(undo, 50):7.1f}  p95 {ms(undo, 95):7.1f}   p50 = {ms(undo, 50) / floor50:.2f}x floor"
    )
    print(
        f"  details click         p50 {ms(details, 50):7.1f}  p95 {ms(details, 95):7.1f}   p50 = {ms(details, 50) / floor50:.2f}x floor"
    )
    print(
        f"  a feed click's run sends {len(per_click)} elements / blocks ({buttons} buttons, {components} card elements)"
    )
    print(f"  cold server: sign-in page {cold_page * 1000:.0f}, sign-in -> feed {cold_login * 1000:.0f}")
    page50 = statistics.median(w[0] for w in warm) * 1000
    login50 = statistics.median(w[1] for w in warm) * 1000
    print(f"  warm server (median of 3 new visitors): sign-in page {page50:.0f}, sign-in -> feed {login50:.0f}")
    if errors:
        print(f"  errors shown: {errors[:3]}")


async def clicks_block(
    tester: WsTester, floor_session: StreamlitSession, floor_run: list, n: int
) -> tuple[list[float], list[float]]:
    """``n`` feed clicks, each after a floor click: (feed seconds, floor seconds)."""
    feed, base = [], []
    for i in range(n):
        base.append(await floor_click(floor_session, floor_run))
        click = await tester.rate_first(LIKE if i % 2 else DISLIKE)
        assert click.acked is not None
        feed.append(click.acked - click.clicked)
    return feed, base


async def clicks_during_job(app: AppServer, floor: FloorServer, data: Path, account: Account, clicks: int) -> None:
    from recsys.config import Settings
    from recsys.evaluation import jobs as lab_jobs
    from recsys.evaluation.config import EvaluationConfig
    from recsys.store import jobs as rows

    settings = Settings(data_dir=data)
    async with (
        StreamlitSession(app.url, timeout=120) as app_session,
        StreamlitSession(floor.url, timeout=120) as floor_session,
    ):
        tester = WsTester(account, app_session)
        await tester.log_in()
        floor_run = [await floor_session.run()]
        for _ in range(3):  # warm-up of both
            await floor_click(floor_session, floor_run)
            await tester.rate_first(LIKE)
        idle1 = await clicks_block(tester, floor_session, floor_run, clicks)
        with Store.open(settings.store_url) as store:
            job = lab_jobs.enqueue_evaluation(settings, store, account.username, EvaluationConfig(), 120.0)
            deadline = time.monotonic() + 120
            while (row := rows.get(store, job.id)) is not None and row.state == "queued":
                assert time.monotonic() < deadline, "the worker never started the evaluation"
                await asyncio.sleep(0.2)  # polling another process's state, bounded
            await asyncio.sleep(5)  # past the evaluation's loading, into its scoring
            busy = await clicks_block(tester, floor_session, floor_run, clicks)
            row = rows.get(store, job.id)
            assert row is not None and row.state == "running", f"the evaluation ended before the clicks: {row}"
            stage = row.stage
            lab_jobs.cancel(settings, store, job.id, account.username)
            while (row := rows.get(store, job.id)) is not None and row.active:
                await asyncio.sleep(0.2)
        idle2 = await clicks_block(tester, floor_session, floor_run, clicks)
    idle = idle1[0] + idle2[0]
    idle_floor = idle1[1] + idle2[1]
    print(f"{clicks} feed clicks per block (idle, during the evaluation, idle), floor clicks alternating; ms")
    for name, (feed, base) in (("idle", (idle, idle_floor)), ("evaluation running", busy)):
        print(
            f"  {name:20s} feed p50 {ms(feed, 50):7.1f} p95 {ms(feed, 95):7.1f}   floor p50 {ms(base, 50):6.1f}"
            f"   feed/floor {ms(feed, 50) / ms(base, 50):.2f}x"
        )
    print(f"  the evaluation was at: {stage}")
    ratio = ms(busy[0], 50) / ms(idle, 50)
    norm = (ms(busy[0], 50) / ms(busy[1], 50)) / (ms(idle, 50) / ms(idle_floor, 50))
    print(f"  feed click p50 during / idle = {ratio:.2f}x (target <= 1.5x); relative to the floor {norm:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/work/mirror-data"), help="a built data folder (copied)")
    ap.add_argument("--clicks", type=int, default=30)
    ap.add_argument(
        "--experiment",
        choices=("none", "ab", "interleave"),
        default="none",
        help="run the clicks under a running experiment on the movie section (default: none, live weights)",
    )
    ap.add_argument("--during-job", action="store_true", help="clicks while an evaluation runs in a worker")
    ap.add_argument(
        "--work-floor", action="store_true", help="also time the work floor: a click that only writes and re-ranks"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="click-bench-") as tmp:
        work = Path(tmp)
        data, account, second = prepare(args.data, work, args.experiment)
        script = work / "floor" / "floor_app.py"
        script.parent.mkdir()
        script.write_text(FLOOR_APP)
        floor = FloorServer(script, log_path=work / "floor.log")
        if not args.during_job:
            app = AppServer(data, log_path=work / "app.log")
            work_floor = work_floor_server(work, data, second.user_id) if args.work_floor else None
            with app, floor, work_floor or contextlib.nullcontext():
                asyncio.run(feed_clicks(app, floor, account, args.clicks, work_floor))
            with Store.open(f"sqlite:///{(data / 'app.db').resolve()}") as store:
                logged = records.exposure_frame(store, user_id=account.user_id)
            settings = ", ".join(f"{k} {v}" for k, v in sorted(logged["setting"].value_counts().rows()))
            print(
                f"  exposure log: {logged.height} cards of {logged['render'].n_unique()} renders ({settings or 'none'})"
            )
            return
        nice = os.environ.get("CINEBLEND_WORKER_NICE")  # passed on to the worker (0: as the app)
        app = AppServer(
            data,
            log_path=work / "app.log",
            env={"CINEBLEND_JOBS": "worker", **({"CINEBLEND_WORKER_NICE": nice} if nice else {})},
        )
        worker_env = app.environment()
        with open(work / "worker.log", "wb") as log_file:
            worker = subprocess.Popen(
                [sys.executable, "-m", "recsys", "worker"],
                cwd=REPO,
                env=worker_env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            from recsys.jobs.runner import workers_alive

            with Store.open(f"sqlite:///{(data / 'app.db').resolve()}") as store:
                deadline = time.monotonic() + 60
                while not workers_alive(store):
                    assert time.monotonic() < deadline, "the worker did not start"
                    time.sleep(0.2)
            os.environ["CINEBLEND_JOBS"] = "worker"  # this process only queues
            with app, floor:
                asyncio.run(clicks_during_job(app, floor, data, account, args.clicks))
        finally:
            worker.terminate()
            worker.wait(30)


if __name__ == "__main__":
    main()
