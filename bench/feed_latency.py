"""Feed latency: both sections (movie + TV, 20 each) for simulated users (by hand, not in CI).

    .venv/bin/python bench/feed_latency.py PARQUET_DIR [--users 200] [--scale 1000000]

PARQUET_DIR holds ``titles.parquet`` and ``movielens_ratings.parquet``. Fits the recommender on
the catalogue and the MovieLens ratings, then simulates ``--users`` testers with 10 to 50
interactions each (a random MovieLens user's ratings replayed as like / superlike / dislike,
plus a few TV titles), and times ``Recommender.recommend`` for both sections exactly as the feed
calls it (profile frame in, frame with reasons out).

The *floor*, measured in the same run on the same users: implicit's ``recommend`` with
``recalculate_user=True`` (N=20) alone plus one sparse TF-IDF profile product (catalogue rows x
profile vector) alone -- the two unavoidable kernels of a request.

``--clock cpu`` times each request by the thread's CPU time (``time.thread_time``) instead of the
wall clock: on a shared, busy machine the wall clock mostly measures the wait for a core.

``--cold`` reads a 64 MB buffer before each timed call (recommend, recommend_feed and the floor
alike), as a web server's other work between one tester's clicks does: the call then finds the
model's arrays in memory, not in the CPU caches (measured: the feed's movie section 2.0 ms warm,
3.7 ms after such a read).

``--scale N`` repeats the run on a catalogue scaled to N titles: the catalogue's rows replicated
with new ids (``tt9xxxxxxxx``), everything else identical; this is said in the output.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from recsys.models import Recommender, TrainingData
from recsys.models.als import ALSScorer, blas_single_thread
from recsys.models.content import TfidfScorer


def simulate_users(titles: pl.DataFrame, ratings: pl.DataFrame, n: int, seed: int) -> list[pl.DataFrame]:
    rng = np.random.default_rng(seed)
    known = set(titles["tconst"].to_list())
    ratings = ratings.filter(pl.col("tconst").is_in(list(known)))
    by_user = {k[0]: f for k, f in ratings.group_by("ml_user_id")}
    user_ids = sorted(by_user)
    tv = titles.filter(pl.col("kind") == "tv").sort("popularity", descending=True).head(2000)["tconst"].to_list()
    profiles = []
    for _ in range(n):
        size = int(rng.integers(10, 51))
        hist = by_user[user_ids[int(rng.integers(len(user_ids)))]]
        take = hist.sample(min(size - 3, hist.height), seed=int(rng.integers(1 << 31)))
        value = np.where(take["rating"] >= 4.5, 2, np.where(take["rating"] >= 3.5, 1, -1))
        tconsts = take["tconst"].to_list() + [tv[int(i)] for i in rng.integers(0, len(tv), 3)]
        values = value.tolist() + rng.choice([1, 1, 2, -1], 3).tolist()
        profiles.append(pl.DataFrame({"tconst": tconsts, "value": values}))
    return profiles


def scaled(titles: pl.DataFrame, size: int) -> pl.DataFrame:
    reps = -(-size // titles.height)
    parts = [titles]
    for r in range(1, reps):
        parts.append(
            titles.with_columns(
                (pl.lit(f"tt9{r:03d}") + pl.int_range(pl.len()).cast(pl.String).str.zfill(7)).alias("tconst")
            )
        )
    return pl.concat(parts).head(size)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q))


def run(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    users: int,
    seed: int,
    label: str,
    clock: str = "wall",
    cold: bool = False,
) -> None:
    now = time.thread_time if clock == "cpu" else time.perf_counter
    junk = np.ones(64 * 1024 * 1024 // 8) if cold else None

    def evict() -> None:  # the CPU caches filled with other data, outside the timed part
        if junk is not None:
            junk.sum()

    t0 = time.perf_counter()
    rec = Recommender.fit(TrainingData(titles=titles, ratings=ratings))
    print(f"[{label}] {titles.height:,} titles; fit {time.perf_counter() - t0:.1f}s")
    profiles = simulate_users(titles.head(rec.titles.height), ratings, users, seed)
    genres = ["Drama", "Comedy"]
    # warm-up (first calls load BLAS kernels, build caches in numpy / scipy)
    for p in profiles[:5]:
        for kind in ("movie", "tv"):
            rec.recommend(p, kind, 20, favourite_genres=genres)

    feed, feed_both, floor = [], [], []
    als = rec.hybrid["als"]
    content = rec.hybrid["content"]
    assert isinstance(als, ALSScorer) and isinstance(content, TfidfScorer)
    model, matrix = als.model, content.matrix
    assert content.items is not None and matrix is not None  # fitted above
    for p in profiles:
        evict()
        t0 = now()
        for kind in ("movie", "tv"):
            out = rec.recommend(p, kind, 20, favourite_genres=genres)
        feed.append(now() - t0)
        assert out.height == 20

        evict()
        t0 = now()
        both = rec.recommend_feed(p, 20, favourite_genres=genres)
        feed_both.append(now() - t0)
        assert both["tv"].equals(out)

        # floor: implicit recommend (fold-in) alone + one sparse TF-IDF profile product alone
        row = als.user_items(p)
        liked = content.items.lookup(p.filter(pl.col("value") > 0)["tconst"].to_list())
        liked = liked[liked >= 0]
        vec = np.asarray(matrix[liked].sum(axis=0)).ravel() if len(liked) else None
        evict()
        t0 = now()
        with blas_single_thread():
            if row is not None:
                model.recommend(0, row, N=20, recalculate_user=True, filter_already_liked_items=True)
        if vec is not None:
            matrix @ vec
        floor.append(now() - t0)

    likes = [int((p["value"] > 0).sum()) for p in profiles]
    few = sum(x < rec.config.hybrid_from_likes for x in likes)
    print(
        f"[{label}] {users} users, {min(len(p) for p in profiles)}-{max(len(p) for p in profiles)} "
        f"interactions ({few} below the hybrid's {rec.config.hybrid_from_likes} likes), both sections of 20"
        f" ({'thread CPU time' if clock == 'cpu' else 'wall clock'}{', caches evicted before each call' if cold else ''}):"
    )
    for name, xs in (("recommend() x 2", feed), ("recommend_feed()", feed_both), ("floor", floor)):
        line = f"  {name:17s} p50 {pct(xs, 50):7.2f} ms   p95 {pct(xs, 95):7.2f} ms   max {pct(xs, 100):7.2f} ms"
        if xs is not floor:
            line += (
                f"   ratio to floor p50 {pct(xs, 50) / pct(floor, 50):.2f}x  p95 {pct(xs, 95) / pct(floor, 95):.2f}x"
            )
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", type=int, default=0, help="also run on a catalogue scaled to N titles")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="wall clock or the thread's CPU time")
    ap.add_argument("--cold", action="store_true", help="evict the CPU caches before each timed call")
    args = ap.parse_args()
    titles = pl.read_parquet(args.parquet_dir / "titles.parquet")
    ratings = pl.read_parquet(args.parquet_dir / "movielens_ratings.parquet")
    run(titles, ratings, args.users, args.seed, "mirror catalogue", args.clock, args.cold)
    if args.scale:
        big = scaled(titles, args.scale)
        run(
            big,
            ratings,
            args.users,
            args.seed,
            f"scaled to {args.scale:,} titles (rows replicated with new ids)",
            args.clock,
            args.cold,
        )


if __name__ == "__main__":
    main()
