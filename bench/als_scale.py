"""ALS training at scale: a synthetic 25M-rating set (MovieLens-25M-sized), CineBlend's ALS
training run against implicit's own ``fit`` on the same matrix (by hand, not in CI).

    .venv/bin/python bench/als_scale.py [--ratings 25000000] [--users 162000] [--items 59000]

The data: ``--users`` users rate ``--ratings`` distinct (user, title) pairs over ``--items``
titles, titles drawn with a Zipf-like popularity (exponent 0.9) and users with a log-normal
activity, half-star ratings skewed to 3.5-4, timestamps over ten years; seeded. Written once as
Parquet in a temporary folder (MovieLens columns, as ``python -m recsys build`` stores them).

Each measured part runs in a fresh process, so its peak memory (``VmHWM``) is its own:

- **cineblend**: ``ALSScorer.fit_interactions`` on the loaded ratings frame: the
  interaction table (confidence from the rating, recency weight), the users x items matrix, then
  implicit's iterations; time per iteration from the scorer's progress, total time, peak RSS.
- **cineblend-lazy**: the same on ``pl.scan_parquet`` of the ratings, as ``train`` does (the
  frame is never loaded; only the columns the matrix needs are streamed).
- **implicit**: the same matrix loaded from ``.npz`` (made beforehand by the same code, outside
  the timing), then ``AlternatingLeastSquares.fit`` with the same hyperparameters, one BLAS
  thread, on the CPU; time per iteration from implicit's callback, peak RSS.
- **baseline**: a process that only loads the ratings frame and the matrix (what is left over
  for each part's own working memory).

The ALS hyperparameters are CineBlend's defaults (``ALSConfig``). The machine is shared: say so
with the figures.

Measured (25M, 161,920 users x 59,000 titles, 15.5M cells; 2 shared cores, load 4-6): implicit's
own fit peaks at 442 MB; CineBlend from ``pl.scan_parquet`` (``train``'s path since the ratings
are read lazily) at 602 MB (x1.36; it was 1,557 MB, x3.52, when ``train`` loaded the frame), from
the loaded frame at 1,538 MB (the frame and matrix alone: 1,219 MB). Per iteration x1.0-1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import itertools

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.models.als import (
    ML_RATING,
    ML_TIME,
    ML_USER,
    ALSConfig,
    ALSScorer,
    blas_single_thread,
    build_matrix,
    interaction_table,
    new_model,
)


def synthetic_ratings(n: int, users: int, items: int, seed: int) -> pl.DataFrame:
    """``n`` distinct (user, title) ratings in MovieLens' columns."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, items + 1) ** 0.9
    popularity /= popularity.sum()
    activity = rng.lognormal(0.0, 1.1, users)
    activity /= activity.sum()
    parts: list[pl.DataFrame] = []
    have = 0
    while have < n:
        draw = int((n - have) * 1.15) + 1000
        frame = pl.DataFrame(
            {
                "u": rng.choice(users, draw, p=activity).astype(np.int32),
                "i": rng.choice(items, draw, p=popularity).astype(np.int32),
            }
        )
        parts.append(frame)
        merged = pl.concat(parts).unique(maintain_order=True)
        parts = [merged]
        have = merged.height
    pairs = parts[0].head(n)
    stars = np.array([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5])
    weights = np.array([1, 3, 2, 7, 5, 20, 13, 27, 9, 13], dtype=float)
    start = 1_400_000_000
    return pairs.select(
        (pl.col("u") + 1).cast(pl.Int64).alias("ml_user_id"),
        pl.format("tt{}", (pl.col("i") + 1_000_000).cast(pl.String)).alias("tconst"),
        pl.Series("rating", rng.choice(stars, n, p=weights / weights.sum())),
        pl.Series("timestamp", rng.integers(start, start + 10 * 365 * 86400, n)),
    )


def peak_mb() -> float:
    """This process's peak resident memory (``VmHWM``; ``ru_maxrss`` would carry the forking
    parent's figure over the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_cineblend(workdir: Path, lazy: bool = False) -> dict[str, object]:
    path = workdir / "ratings.parquet"
    ratings = pl.scan_parquet(path) if lazy else pl.read_parquet(path)
    marks: dict[int, float] = {}

    def progress(stage: str, done: float, total: float | None) -> None:
        if stage == "als: iterations":
            marks.setdefault(int(done), time.perf_counter())

    t0, c0 = time.perf_counter(), time.process_time()
    ALSScorer(ALSConfig()).fit_interactions(ratings, None, progress)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    iters = sorted(marks)
    per_iter = [marks[b] - marks[a] for a, b in itertools.pairwise(iters)]
    return {
        "total_s": total,
        "cpu_s": cpu,
        "load": os.getloadavg()[0],
        "prep_s": marks[0] - t0,
        "iter_s": per_iter,
        "peak_mb": peak_mb(),
    }


def part_implicit(workdir: Path) -> dict[str, object]:
    matrix = sp.load_npz(workdir / "matrix.npz").tocsr()
    config = ALSConfig()
    stamps: list[float] = []
    model = new_model(config)
    t0, c0 = time.perf_counter(), time.process_time()
    with blas_single_thread():
        model.fit(matrix, show_progress=False, callback=lambda it, elapsed, loss: stamps.append(time.perf_counter()))
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    per_iter = [b - a for a, b in zip([t0, *stamps], stamps, strict=False)]
    return {"total_s": total, "cpu_s": cpu, "load": os.getloadavg()[0], "iter_s": per_iter, "peak_mb": peak_mb()}


def part_baseline(workdir: Path) -> dict[str, object]:
    pl.read_parquet(workdir / "ratings.parquet")
    sp.load_npz(workdir / "matrix.npz")
    return {"peak_mb": peak_mb()}


def part_cineblend_lazy(workdir: Path) -> dict[str, object]:
    return part_cineblend(workdir, lazy=True)


PARTS = {
    "cineblend": part_cineblend,
    "cineblend-lazy": part_cineblend_lazy,
    "implicit": part_implicit,
    "baseline": part_baseline,
}


def run_part(name: str, workdir: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--part", name, "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ratings", type=int, default=25_000_000)
    ap.add_argument("--users", type=int, default=162_000)
    ap.add_argument("--items", type=int, default=59_000)
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.workdir)))
        return

    config = ALSConfig()
    with tempfile.TemporaryDirectory(prefix="cineblend-als-scale-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        ratings = synthetic_ratings(args.ratings, args.users, args.items, args.seed)
        assert {ML_USER, "tconst", ML_RATING, ML_TIME} <= set(ratings.columns), ratings.columns
        ratings.write_parquet(workdir / "ratings.parquet")
        matrix, users, items = build_matrix(interaction_table(ratings, None, config))
        sp.save_npz(workdir / "matrix.npz", matrix, compressed=False)
        print(
            f"synthetic set: {ratings.height:,} ratings -> {matrix.shape[0]:,} users x {matrix.shape[1]:,} items,"
            f" {matrix.nnz:,} cells (made in {time.perf_counter() - t0:.0f} s); ALS factors={config.factors}"
            f" iterations={config.iterations} reg={config.regularization}, one BLAS thread, CPU;"
            f" {os.cpu_count()} cores shared with other work",
            flush=True,
        )
        del ratings, matrix, users, items
        base = run_part("baseline", workdir)
        theirs = run_part("implicit", workdir)
        ours = run_part("cineblend", workdir)
        lazy = run_part("cineblend-lazy", workdir)

    def med(values: object) -> float:
        return float(np.median(np.asarray(values, dtype=float)))

    print(f"baseline (ratings frame + matrix loaded): peak RSS {base['peak_mb']:,.0f} MB")
    print(
        f"cineblend ALSScorer.fit_interactions: total {ours['total_s']:.1f} s (table + matrix {ours['prep_s']:.1f} s),"
        f" CPU {ours['cpu_s']:.1f} s, per iteration median {med(ours['iter_s']):.2f} s,"
        f" peak RSS {ours['peak_mb']:,.0f} MB (load average {ours['load']:.1f})"
    )
    print(
        f"implicit fit on the same matrix:      total {theirs['total_s']:.1f} s, CPU {theirs['cpu_s']:.1f} s,"
        f" per iteration median {med(theirs['iter_s']):.2f} s, peak RSS {theirs['peak_mb']:,.0f} MB"
        f" (load average {theirs['load']:.1f})"
    )
    print(
        f"cineblend from pl.scan_parquet:       total {lazy['total_s']:.1f} s (matrix {lazy['prep_s']:.1f} s),"
        f" CPU {lazy['cpu_s']:.1f} s, per iteration median {med(lazy['iter_s']):.2f} s,"
        f" peak RSS {lazy['peak_mb']:,.0f} MB (load average {lazy['load']:.1f})"
    )
    ratio = {k: float(ours[k]) / float(theirs[k]) for k in ("total_s", "cpu_s", "peak_mb")}  # type: ignore[arg-type]  # the timing dicts hold floats beside lists (iter_s)
    print(
        f"ratio cineblend / implicit: wall x{ratio['total_s']:.2f}, CPU x{ratio['cpu_s']:.2f},"
        f" per iteration x{med(ours['iter_s']) / med(theirs['iter_s']):.2f}, peak memory x{ratio['peak_mb']:.2f}"
        " (wall times move with the other work on the machine; CPU seconds much less)"
    )
    print(
        f"ratio cineblend from scan_parquet / implicit: wall x{float(lazy['total_s']) / float(theirs['total_s']):.2f},"  # type: ignore[arg-type]  # floats beside lists
        f" peak memory x{float(lazy['peak_mb']) / float(theirs['peak_mb']):.2f}"  # type: ignore[arg-type]  # floats beside lists
    )


if __name__ == "__main__":
    main()
