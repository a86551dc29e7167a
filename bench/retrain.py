"""Retrain time against implicit's bare ``fit`` on the same matrix (by hand, not in CI).

    .venv/bin/python bench/retrain.py PARQUET_DIR [--app-users 300] [--repeats 5]

PARQUET_DIR holds ``titles.parquet`` and ``movielens_ratings.parquet``. Simulated app
interactions (``--app-users`` testers with 10 to 50 likes / superlikes / dislikes each, seeded)
are added to the MovieLens ratings, as ``python -m recsys train`` would read them from the store.

Times, in the same run and interleaved: ``recsys.models.train`` into a temporary models folder
(the first call fits everything; later calls reuse the TF-IDF artifact of the unchanged catalogue
and retrain ALS, then write a new version atomically) against implicit's bare
``AlternatingLeastSquares.fit`` with the same hyperparameters on the same users x items matrix
(built beforehand, outside the timing). Also reports the app-side reload (``load_latest``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from recsys.models import Recommender, RecommenderConfig, TrainingData, train
from recsys.models.als import blas_single_thread, build_matrix, interaction_table, new_model


def app_interactions(titles: pl.DataFrame, users: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    pool = titles.sort("popularity", descending=True).head(5000)["tconst"].to_list()
    rows = []
    for u in range(1, users + 1):
        for t in rng.choice(len(pool), int(rng.integers(10, 51)), replace=False):
            rows.append(
                (u, pool[int(t)], int(rng.choice([1, 1, 1, 2, -1])), int(rng.integers(1_700_000_000, 1_750_000_000)))
            )
    frame = pl.DataFrame(rows, schema=["user_id", "tconst", "value", "ts"], orient="row")
    return frame.with_columns(pl.from_epoch("ts", time_unit="s").dt.replace_time_zone("UTC").alias("created_at")).drop(
        "ts"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("--app-users", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    titles = pl.read_parquet(args.parquet_dir / "titles.parquet")
    ratings = pl.read_parquet(args.parquet_dir / "movielens_ratings.parquet")
    app = app_interactions(titles, args.app_users, args.seed)
    config = RecommenderConfig()
    als_config = config.scorer_config("als")
    matrix, users, items = build_matrix(interaction_table(ratings, app, als_config))
    print(
        f"{ratings.height:,} MovieLens ratings + {app.height:,} app interactions ({args.app_users} app users) "
        f"-> {matrix.shape[0]:,} users x {matrix.shape[1]:,} items, {matrix.nnz:,} cells; "
        f"ALS factors={als_config.factors} iterations={als_config.iterations}"
    )

    def bare() -> float:
        t0 = time.perf_counter()
        model = new_model(als_config)
        with blas_single_thread():
            model.fit(matrix, show_progress=False)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        bare()  # warm-up
        t0 = time.perf_counter()
        train(TrainingData(titles, ratings, app), models, config)
        first = time.perf_counter() - t0
        ours, theirs, reload, overhead = [], [], [], []
        for _ in range(args.repeats):
            theirs.append(bare())
            marks: dict[float, float] = {}

            def progress(stage: str, done: float, total: float | None, marks: dict[float, float] = marks) -> None:
                if stage == "als: iterations":
                    marks.setdefault(done, time.perf_counter())

            t0 = time.perf_counter()
            train(TrainingData(titles, ratings, app), models, config, progress)
            ours.append(time.perf_counter() - t0)
            # everything but implicit's own iterations: data prep, checks, writing the version
            overhead.append(ours[-1] - (marks[als_config.iterations] - marks[0]))
            t0 = time.perf_counter()
            Recommender.load_latest(models)
            reload.append(time.perf_counter() - t0)

    med = float(np.median(ours)), float(np.median(theirs))
    print(f"first train (TF-IDF over {titles.height:,} titles + ALS + popularity + save): {first:.2f}s")
    print(f"retrain (ALS + save of a new version, TF-IDF reused), median of {args.repeats}: {med[0]:.3f}s")
    print(f"implicit bare fit on the same matrix, median of {args.repeats}:           {med[1]:.3f}s")
    print(
        f"ratio retrain / bare fit: {med[0] / med[1]:.2f}x   (runs: {', '.join(f'{a / b:.2f}' for a, b in zip(ours, theirs, strict=True))})"
    )
    print(
        f"retrain time outside implicit's iterations (matrix, fingerprint, checks, atomic write): "
        f"median {np.median(overhead) * 1000:.0f} ms"
    )
    print(f"app reload of the new version (load_latest, sections built): median {np.median(reload):.2f}s")


if __name__ == "__main__":
    main()
