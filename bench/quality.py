"""Offline quality of popularity, content, ALS and the hybrid on MovieLens (by hand, not in CI).

    .venv/bin/python bench/quality.py PARQUET_DIR [--protocol temporal] [-k 10] [--sweep]

PARQUET_DIR holds ``titles.parquet`` and ``movielens_ratings.parquet`` (the built catalogue, e.g.
``data/parquet``). Splits the MovieLens ratings with the chosen protocol (default: the temporal
protocol of issue 4), fits every model on the training part only and prints Precision, Recall,
NDCG, MAP, MRR, HitRate at K plus coverage and novelty. ``--sweep`` also prints a grid over the
hybrid weights; ``--grid-als`` a small grid over ALS hyperparameters.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.evaluation.scoring import (  # noqa: E402
    SplitIndex,
    component_scores,
    evaluate,
    hybrid_fn,
    normalise_components,
    scorer_fn,
    summary_table,
)
from recsys.evaluation.splits import split  # noqa: E402
from recsys.models.als import ALSConfig, ALSScorer  # noqa: E402
from recsys.models.hybrid import WeightedHybrid  # noqa: E402
from recsys.models.popularity import PopularityConfig, PopularityScorer  # noqa: E402

COLS = ["model", "precision", "recall", "ndcg", "map", "mrr", "hit_rate", "coverage", "novelty", "diversity"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("--protocol", default="temporal", choices=["temporal", "loo", "random"])
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--sweep", action="store_true", help="grid over hybrid weights")
    ap.add_argument("--grid-als", action="store_true", help="grid over ALS hyperparameters")
    args = ap.parse_args()

    titles = pl.read_parquet(args.parquet_dir / "titles.parquet")
    ratings = pl.read_parquet(args.parquet_dir / "movielens_ratings.parquet")
    t0 = time.perf_counter()
    sp = split(ratings, args.protocol)
    index = SplitIndex(sp)
    print(
        f"protocol={args.protocol} K={args.k}: {sp.train.height} train ratings, {sp.test.height} "
        f"held-out positives, {len(sp.users)} tested users, {len(sp.items)} items "
        f"({time.perf_counter() - t0:.2f}s)"
    )
    genres = dict(zip(titles["tconst"].to_list(), titles["genres"].to_list(), strict=True))

    if args.grid_als:
        grid_als(sp, index, args.k)
        return

    t0 = time.perf_counter()
    hybrid = WeightedHybrid.from_configs()  # the defaults the app trains with
    hybrid.content.fit(titles)
    t_content = time.perf_counter() - t0
    t0 = time.perf_counter()
    hybrid.als.fit(sp.train)
    t_als = time.perf_counter() - t0
    hybrid.popularity.fit(titles)
    ml_pop = PopularityScorer(PopularityConfig(source="interactions")).fit(movielens_ratings=sp.train)
    print(f"fit on the training part: content {t_content:.2f}s, ALS {t_als:.2f}s")
    print(f"  {hybrid.als.config}")
    print(f"  {hybrid.config}")

    results = {}
    for name, scorer in (
        ("popularity (MovieLens count)", ml_pop),
        ("popularity (IMDb, the app's)", hybrid.popularity),
        ("content (TF-IDF)", hybrid.content),
        ("ALS", hybrid.als),
    ):
        results[name] = evaluate(index, scorer_fn(scorer, index), args.k, genres=genres)
    t0 = time.perf_counter()
    comps = component_scores(hybrid, index)
    t_comp = time.perf_counter() - t0
    normed = {m: normalise_components(comps, m) for m in ("zscore", "minmax", "rank")}
    w = hybrid.config.weights
    t0 = time.perf_counter()
    results[f"hybrid {w} zscore (default)"] = evaluate(index, hybrid_fn(normed["zscore"], w), args.k, genres=genres)
    t_one = time.perf_counter() - t0
    for m in ("minmax", "rank"):
        results[f"hybrid {w} {m}"] = evaluate(index, hybrid_fn(normed[m], w), args.k, genres=genres)
    print(f"component scores for {len(sp.users)} users: {t_comp:.2f}s; one hybrid evaluation: {t_one:.2f}s")
    print_table(results)

    if args.sweep:
        t0 = time.perf_counter()
        sweep: dict = {}
        for m in ("zscore", "minmax"):
            for c, p in itertools.product([i / 10 for i in range(9)], [0.0, 0.05, 0.1, 0.2]):
                a = round(1.0 - c - p, 2)
                if a < 0:
                    continue
                weights = (c, a, p)
                sweep[f"{m} {weights}"] = evaluate(index, hybrid_fn(normed[m], weights), args.k)
        print(f"sweep of {len(sweep)} configurations: {time.perf_counter() - t0:.2f}s")
        print_table(sweep, sort="ndcg")


def grid_als(sp, index, k: int) -> None:
    base = ALSConfig()
    rows = []
    grid = {
        "factors": [32, 64, 128],
        "regularization": [0.01, 0.05, 0.5],
        "alpha": [1.0, 5.0, 20.0],
        "iterations": [15],
        "neutral_confidence": [0.0, 0.5],
    }
    for values in itertools.product(*grid.values()):
        cfg = replace(base, **dict(zip(grid, values, strict=True)))
        t0 = time.perf_counter()
        als = ALSScorer(cfg).fit(sp.train)
        r = evaluate(index, scorer_fn(als, index), k)
        rows.append({**dict(zip(grid, values, strict=True)), **{m: r.summary[m] for m in ("precision", "recall", "ndcg")}, "fit_s": time.perf_counter() - t0})
        print(rows[-1], flush=True)
    print(pl.DataFrame(rows).sort("ndcg", descending=True).head(15))


def print_table(results: dict, sort: str | None = None) -> None:
    table = summary_table(results).select([c for c in COLS if c in summary_table(results).columns])
    if sort:
        table = table.sort(sort, descending=True).head(25)
    with pl.Config(tbl_rows=50, tbl_width_chars=200, fmt_str_lengths=60, float_precision=4):
        print(table)


if __name__ == "__main__":
    main()
