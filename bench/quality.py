"""Recommendation quality on a built catalogue, by hand (not in CI): everything the recommender v2
issue measures, in one run.

    .venv/bin/python bench/quality.py data/parquet [--users 150] [--draws 3] [--skip-cold-start]

1. The offline protocol (strict temporal, K = 10): every registered scorer, the popularity baseline
   and the hybrid with the default weights, on validation and test; the sweep's step chosen on
   validation (``python -m recsys evaluate`` prints the same).
2. New users (:mod:`recsys.evaluation.newuser`): NDCG@10 by number of likes for users left out of
   training, on validation (where the cold-start blend and threshold were chosen) and on test.
3. Taste checks (:mod:`recsys.evaluation.tastecheck`): five genre fans' TV top 10s (in genre,
   5,000+ votes, overlap) and "More like this" of five famous films, with the lists themselves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.app.feed import recommend_profile
from recsys.catalog.queries import Catalog
from recsys.evaluation.newuser import NewUserConfig, cold_start_table, render
from recsys.evaluation.runner import EvaluationConfig, evaluation_ratings, render_text, run_evaluation
from recsys.evaluation.tastecheck import fan_lists, max_overlap, similar_checks
from recsys.models import Recommender, TrainingData

if TYPE_CHECKING:
    import polars as pl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("--users", type=int, default=150, help="new users drawn per draw")
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--skip-cold-start", action="store_true")
    args = ap.parse_args()
    catalog = Catalog(args.parquet_dir)
    titles = catalog.all_titles()
    ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True), None, titles["tconst"].to_list())

    t0 = time.perf_counter()
    result = run_evaluation(titles, ratings, EvaluationConfig())
    print(render_text(result))
    print(f"[offline protocol in {time.perf_counter() - t0:.1f} s]\n")

    if not args.skip_cold_start:
        for stage in ("validation", "test"):
            t0 = time.perf_counter()
            rows = cold_start_table(
                titles, ratings, (1, 2, 3, 5, 10), NewUserConfig(users=args.users, draws=args.draws, stage=stage)
            )
            print(f"{stage}: " + render(rows))
            print(f"[{stage} new users in {time.perf_counter() - t0:.1f} s]\n")

    rec = Recommender.fit(TrainingData(titles=titles, ratings=catalog.movielens_ratings()))

    def recommend(profile: pl.DataFrame, n: int) -> dict[str, pl.DataFrame]:
        return recommend_profile(profile, n, catalog=catalog, recommender=rec)

    checks = fan_lists(recommend, catalog)
    print("TV top 10 of genre fans (5 liked films each): in genre / 5,000+ votes")
    for c in checks:
        names = catalog.titles(c.titles)["primary_title"].to_list()
        print(f"  {c.fan:10s} {c.in_genre:>2} / {c.well_known:>2}  {'; '.join(names)}")
        print(f"  {'':10s} reasons: {'; '.join(dict.fromkeys(c.reasons))}")
    print(f"  largest overlap between two fans (Jaccard): {max_overlap(checks):.3f}\n")
    print("More like this (10): in the film's main genre / 20,000+ votes")
    for row in similar_checks(lambda t, n: rec.similar(t, n), catalog, titles):
        print(
            f"  {row['title']} ({row['genre']}): {row['same_genre']} / {row['well_known']}  {'; '.join(row['shown'])}"
        )


if __name__ == "__main__":
    main()
