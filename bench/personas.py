"""Demo personas on a built catalogue and trained model, by hand (not in CI).

    CINEBLEND_DATA_DIR=/work/data .venv/bin/python bench/personas.py [--repeat 3]

Times :func:`recsys.app.demo.pick_personas` as the sign-in page calls it (named from each candidate's
feed, :func:`recsys.app.feed.feed_genres`, the model's default ranking stages) and prints, for every
persona offered, how many of the top :data:`recsys.app.demo.TOP` movies and shows carry a named
genre (the rule of issue 18: at least :data:`recsys.app.demo.MIN_CARDS` in both rows).
"""

from __future__ import annotations

import argparse
import time

from recsys.app.demo import pick_personas
from recsys.app.feed import feed_genres, recommend_profile
from recsys.catalog.queries import Catalog
from recsys.config import get_settings
from recsys.models import Recommender

TOP = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (the best is printed)")
    args = parser.parse_args()
    cfg = get_settings()
    rec = Recommender.load_latest(cfg.models_dir)
    with Catalog(cfg.parquet_dir) as catalog:
        ratings = catalog.movielens_ratings(in_catalog_only=True)
        titles = catalog.all_titles()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            personas = pick_personas(ratings, titles, recommend=feed_genres(rec, catalog))
            times.append(time.perf_counter() - start)
        print(f"pick_personas: best {min(times):.2f} s of {args.repeat} (all: {', '.join(f'{t:.2f}' for t in times)})")
        for p in personas:
            named = set(p.name.removesuffix(" fan").split(" and "))
            feed = recommend_profile(
                p.ratings.rename({"at": "updated_at"}),
                TOP,
                catalog=catalog,
                recommender=rec,
                favourite_genres=p.favourite_genres,
            )
            cover = {
                kind: sum(bool(named & set(g or [])) for g in frame["genres"].to_list()) for kind, frame in feed.items()
            }
            print(
                f"{p.name:32} user {p.ml_user_id:4}  "
                + "  ".join(f"{kind} {c}/{feed[kind].height}" for kind, c in cover.items())
            )
            for kind, frame in feed.items():
                print(f"    {kind}: " + "; ".join(frame["primary_title"].to_list()))


if __name__ == "__main__":
    main()
