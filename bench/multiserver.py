"""Ratings per second and click latency with many testers over two app servers against one (by
hand, not in CI).

    .venv/bin/python bench/multiserver.py [--testers 40] [--ratings 10] [--catalogue DIR]

Set-up, the same for both runs and in the same process: a throwaway PostgreSQL cluster on
loopback (``tests.support.postgres``), the synthetic catalogue with a trained model
(``tests.support.synthetic``, or ``--catalogue`` a data folder holding ``parquet/`` and
``models/``) in one shared artifact folder, ``--testers`` onboarded accounts. Then:

- **one server**: every tester logs in on one ``streamlit run`` server;
- **two servers**: the testers are split between two servers (as a sticky proxy would spread
  them) on the same database and artifact folder.

Each tester is a real websocket session (``tests.support.ws_session``) that rates the first movie
of its feed ``--ratings`` times (like / dislike / superlike, seeded), each click counted once the
page shows it (``tests.support.testers.WsTester``). Printed per run: acknowledged ratings per
second over the rating phase, click-to-acknowledged p50 / p95, and the servers' CPU seconds per
rating; then the ratios two / one. The two runs use fresh accounts (no feed is emptier in the
second run). Servers, the database and the testers all share this machine's cores: two servers
on one machine show what a second process buys here, not what a second machine would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' harness (tests.support) lives beside the package

from recsys.store import Store  # noqa: E402
from tests.support.app_server import AppServer  # noqa: E402
from tests.support.postgres import PostgresCluster, throwaway_database  # noqa: E402
from tests.support.synthetic import GENRES, build_synthetic_data  # noqa: E402
from tests.support.testers import Account, WsTester, create_testers, percentile, run_async  # noqa: E402
from tests.support.ws_session import StreamlitSession  # noqa: E402


async def rate(urls: list[str], accounts: list[Account], ratings: int, seed: int) -> tuple[list[WsTester], float]:
    """Log every tester in (round robin over ``urls``), then let all rate at once; returns the
    testers and the seconds the rating phase took."""
    testers = [WsTester(a, StreamlitSession(urls[i % len(urls)], timeout=120)) for i, a in enumerate(accounts)]
    try:
        for t in testers:
            await t.session.__aenter__()
        # log in a few at a time: 40 bcrypt checks at once would time out the first runs
        for i in range(0, len(testers), 8):
            await asyncio.gather(*(t.log_in() for t in testers[i : i + 8]))

        async def clicks(tester: WsTester) -> None:
            rng = random.Random(f"{seed}-{tester.account.username}")
            for _ in range(ratings):
                await tester.rate_first(rng.choice((1, -1, 2)))

        started = time.monotonic()
        await asyncio.gather(*(clicks(t) for t in testers))
        return testers, time.monotonic() - started
    finally:
        for t in testers:
            await t.session.close()


def run(label: str, servers: list[AppServer], accounts: list[Account], ratings: int, seed: int) -> dict[str, float]:
    cpu0 = [s.cpu_seconds() for s in servers]
    testers, seconds = run_async(lambda: rate([s.url for s in servers], accounts, ratings, seed))
    cpu = sum(s.cpu_seconds() - c for s, c in zip(servers, cpu0, strict=True))
    acked = [c for t in testers for c in t.acknowledged()]
    latencies = [c.acked - c.clicked for c in acked if c.acked is not None]
    errors = [e for t in testers for e in t.errors()]
    out = {
        "ratings": len(acked),
        "seconds": seconds,
        "rate": len(acked) / seconds,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "cpu": cpu / max(len(acked), 1),
        "errors": len(errors),
    }
    print(
        f"{label:12s} {out['ratings']:5.0f} ratings in {seconds:6.1f} s = {out['rate']:6.2f} ratings/s;"
        f" click p50 {out['p50']:6.0f} ms, p95 {out['p95']:6.0f} ms;"
        f" server CPU {out['cpu'] * 1000:4.0f} ms per rating (incl. log-ins); errors shown {len(errors)}",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--testers", type=int, default=40)
    ap.add_argument("--ratings", type=int, default=10, help="ratings per tester per run")
    ap.add_argument("--catalogue", type=Path, help="a data folder with parquet/ and models/ (default: synthetic)")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="cineblend-multiserver-") as tmp_name:
        tmp = Path(tmp_name)
        source = args.catalogue or build_synthetic_data(tmp / "synthetic")
        shared = tmp / "shared"
        shutil.copytree(source / "parquet", shared / "parquet")
        shutil.copytree(source / "models", shared / "models")
        with PostgresCluster() as pg, throwaway_database(pg.admin_url, "cineblend_bench") as url:
            database = url.render_as_string(hide_password=False)
            with Store.open(database) as store:
                create_testers(store, 1, prefix="admin")
                one = create_testers(store, args.testers, prefix="one", genres=GENRES[:5])
                two = create_testers(store, args.testers, prefix="two", genres=GENRES[:5])
            env = {"DATABASE_URL": database, "CINEBLEND_ARTIFACT_DIR": str(shared)}
            logs = tmp / "logs"
            a = AppServer(tmp / "a", log_path=logs / "a.log", env=env)
            b = AppServer(tmp / "b", log_path=logs / "b.log", env=env)
            try:
                a.start()
                b.start()
                print(
                    f"{args.testers} testers x {args.ratings} ratings, PostgreSQL, {os.cpu_count()} cores"
                    " shared by the servers, PostgreSQL and the testers",
                    flush=True,
                )
                single = run("one server", [a], one, args.ratings, args.seed)
                double = run("two servers", [a, b], two, args.ratings, args.seed)
            finally:
                a.stop()
                b.stop()
    print(
        f"two / one: throughput x{double['rate'] / single['rate']:.2f}, click p95 x{double['p95'] / single['p95']:.2f},"
        f" CPU per rating x{double['cpu'] / single['cpu']:.2f}"
    )


if __name__ == "__main__":
    main()
