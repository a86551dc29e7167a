"""Did a change to the feed engine change what testers see? (by hand, not in CI)

    PYTHONPATH=<checkout> .venv/bin/python bench/feed_ranking.py dump PARQUET_DIR OUT.json [--users 200]
    .venv/bin/python bench/feed_ranking.py compare BEFORE.json AFTER.json

``dump`` fits the recommender on the catalogue and MovieLens ratings (as ``bench/feed_latency.py``
does, same simulated users and seed) and writes, per user and section, the served list (ranking
stages on) and the blend's own list (stages off): tconsts, scores, reasons and components. Run it
once per checkout (``PYTHONPATH`` picks the code), then ``compare`` prints how many lists and
reasons are identical, the mean / minimum top-10 overlap of the served lists and the largest
score difference among identical lists.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl
from feed_latency import simulate_users  # bench/ is the script's folder, first on sys.path

from recsys.models import Recommender, TrainingData, registry
from recsys.models.rerank import registry as rerank


def dump(parquet_dir: Path, out: Path, users: int, seed: int) -> None:
    titles = pl.read_parquet(parquet_dir / "titles.parquet")
    ratings = pl.read_parquet(parquet_dir / "movielens_ratings.parquet")
    rec = Recommender.fit(TrainingData(titles=titles, ratings=ratings))
    lists: dict[str, dict[str, object]] = {}
    for i, profile in enumerate(simulate_users(titles, ratings, users, seed)):
        for label, stages in (("served", None), ("blend", rerank.no_stages())):
            feed = rec.recommend_feed(profile, 20, favourite_genres=["Drama", "Comedy"], stages=stages)
            for kind, frame in feed.items():
                lists[f"{i}/{label}/{kind}"] = {
                    "tconst": frame["tconst"].to_list(),
                    "score": frame["score"].to_list(),
                    "reason": frame["reason"].to_list(),
                    "components": {n: frame[n].to_list() for n in registry.names()},
                }
    out.write_text(json.dumps(lists))
    print(f"{len(lists)} lists of {users} users written to {out}")


def compare(before: Path, after: Path) -> None:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    keys = sorted(set(a) & set(b))
    same = sum(a[k]["tconst"] == b[k]["tconst"] for k in keys)
    reasons = sum(a[k]["reason"] == b[k]["reason"] for k in keys)
    overlap = [len(set(a[k]["tconst"][:10]) & set(b[k]["tconst"][:10])) / 10 for k in keys if "/served/" in k]
    diff = max(
        (
            float(np.nanmax(np.abs(np.asarray(a[k]["score"], float) - np.asarray(b[k]["score"], float))))
            for k in keys
            if a[k]["tconst"] == b[k]["tconst"] and a[k]["score"]
        ),
        default=0.0,
    )
    print(
        f"{len(keys)} lists: {same} identical, {reasons} with identical reasons; served top-10 overlap "
        f"mean {np.mean(overlap):.3f}, min {min(overlap):.1f}; largest score difference {diff:.2e}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("parquet_dir", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--users", type=int, default=200)
    d.add_argument("--seed", type=int, default=7)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.command == "dump":
        dump(args.parquet_dir, args.out, args.users, args.seed)
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    main()
