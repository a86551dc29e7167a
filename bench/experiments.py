"""Simulated testers replaying held-out MovieLens users against two arms (issue 23, item 5):
how many sessions interleaving and an A/B test need for a confident verdict, and whether it is
the offline order (by hand, not in CI; a small seeded version is ``tests/experiments/test_simulation.py``).

    PYTHONPATH=$PWD CINEBLEND_DATA_DIR=/work/data .venv/bin/python bench/experiments.py [--users 600] [--runs 40]

1. ``python -m recsys evaluate -k 8 --sample-users N --dump DIR`` (temporal protocol: every model
   fitted on the training part only) gives each model's top-8 per tested user and the held-out
   positives (``test.parquet``); ``summary.json`` gives each model's offline NDCG@8 on test. Pass
   ``--dump DIR`` to reuse a dump.
2. Two pairs of arms: the hybrid against popularity (a large offline gap) and the hybrid against
   the model whose offline NDCG is closest below it (a small gap).
3. :func:`recsys.experiments.simulate.sessions_needed` for interleaving and A/B: sessions at which
   80% of ``--runs`` seeded replicates name the offline winner with p < 0.05 (see that module for
   the click model: held-out positives clicked with probability 1 / log2(position + 1)).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import polars as pl  # noqa: E402

from recsys.evaluation.config import dump_names  # noqa: E402
from recsys.experiments.simulate import GRID, sessions_needed  # noqa: E402


def make_dump(directory: Path, users: int) -> None:
    cmd = [
        sys.executable,
        "-m",
        "recsys",
        "evaluate",
        "-k",
        "8",
        "--sample-users",
        str(users),
        "--dump",
        str(directory),
    ]
    print("running:", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def offline_ndcg(directory: Path) -> dict[str, float]:
    doc = json.loads((directory / "summary.json").read_text())
    metric = str(doc["config"].get("metric", "ndcg"))
    return {str(row["model"]): float(row[metric]) for row in doc["models"] if row.get(metric) is not None}


def lists_of(directory: Path, name: str) -> dict[int, list[str]]:
    frame = pl.read_parquet(directory / f"{name}.parquet").sort("user_id", "rank")
    return {int(u): g["tconst"].to_list() for (u,), g in frame.group_by("user_id", maintain_order=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--dump", type=Path, help="an `evaluate -k 8 --dump` folder: reused when it holds one, else made there"
    )
    ap.add_argument("--users", type=int, default=600, help="MovieLens users sampled for the dump")
    ap.add_argument("--runs", type=int, default=40, help="replicates per session count")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="exp-bench-") as tmp:
        directory = args.dump or Path(tmp) / "dump"
        if not (directory / "summary.json").exists():
            make_dump(directory, args.users)
        ndcg = offline_ndcg(directory)  # by model name
        names = {m: f for m, f in dump_names().items() if (directory / f"{f}.parquet").exists() and m in ndcg}
        test = pl.read_parquet(directory / "test.parquet")
        positives = {int(u): frozenset(g["tconst"].to_list()) for (u,), g in test.group_by("user_id")}
        print(
            f"{len(positives)} held-out users; offline NDCG@8 (test): " + ", ".join(f"{m} {ndcg[m]:.4f}" for m in names)
        )
        hybrid = next(m for m, f in names.items() if f == "hybrid")
        below = sorted(
            (
                m
                for m in names
                if names[m] not in ("hybrid", "hybrid_best", "served", "popularity") and ndcg[m] < ndcg[hybrid]
            ),
            key=lambda m: ndcg[hybrid] - ndcg[m],
        )
        pairs = [m for m in names if names[m] == "popularity"] + below[:1]
        print(
            f"\n{'arms':<34} {'offline NDCG@8':<18} {'interleaving':>13} {'A/B':>8}   (sessions for 80% correct verdicts)"
        )
        for model in pairs:
            lists = {"hybrid": lists_of(directory, "hybrid"), names[model]: lists_of(directory, names[model])}
            users = {u: p for u, p in positives.items() if u in lists["hybrid"]}
            better = "hybrid" if ndcg[hybrid] >= ndcg[model] else names[model]
            t0 = time.perf_counter()
            found = {
                method: sessions_needed(lists, users, better, method=method, runs=args.runs, seed=23)
                for method in ("interleave", "ab")
            }
            took = time.perf_counter() - t0

            def show(n: int | None) -> str:
                return f"{n:,}" if n is not None else f"> {GRID[-1]:,}"

            print(
                f"{'hybrid vs ' + model:<34} {ndcg[hybrid]:.4f} vs {ndcg[model]:.4f}  "
                f"{show(found['interleave'][0]):>13} {show(found['ab'][0]):>8}   offline winner {better}; "
                f"replicates naming the other arm: interleaving {found['interleave'][2]}, A/B {found['ab'][2]}; "
                f"{took:.0f} s"
            )


if __name__ == "__main__":
    main()
