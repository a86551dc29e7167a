"""The CineBlend command line: ``python -m recsys <command>``.

Every command prints progress lines on long work, exits 0 on success and non-zero with a
one-line reason on failure, and leaves earlier good data in place.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from recsys.config import Settings, get_settings
from recsys.errors import CineBlendError
from recsys.locks import exclusive
from recsys.progress import LineProgress

Command = Callable[[argparse.Namespace, Settings], int]


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.download import fetch

    with exclusive(settings.data_dir / ".fetch.lock", "download"):
        paths = fetch(
            settings,
            progress=LineProgress(),
            include_people=False if args.no_people else None,
            force=args.force,
        )
    for path in paths:
        print(f"ok {path}")
    print(f"Downloaded {len(paths)} files into {settings.raw_dir}. Next: python -m recsys build")
    return 0


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.build import build

    with exclusive(settings.data_dir / ".build.lock", "catalogue build"):
        manifest = build(settings, progress=LineProgress())
    counts = manifest.get("row_counts", {})
    summary = ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    print(f"Built catalogue in {settings.parquet_dir} in {manifest.get('build_seconds', 0):.1f} s ({summary})")
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from recsys.pipeline import train_model

    started = time.perf_counter()
    path = train_model(settings, progress=LineProgress())
    print(f"Trained model {path.name} in {time.perf_counter() - started:.1f} s ({path})")
    return 0


def _parse_weights(text: str | None) -> tuple[float, float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        return (float(parts[0]), float(parts[1]), float(parts[2]))
    except ValueError:
        raise CineBlendError(
            f"--weights must be three numbers content,als,popularity such as 0.5,0.4,0.1; got {text!r}"
        ) from None


def _recommend(args: argparse.Namespace, settings: Settings) -> int:
    import polars as pl

    from recsys.catalog.queries import Catalog, is_valid_tconst
    from recsys.columns import DISLIKE, LIKE, SUPERLIKE
    from recsys.errors import UnknownTitleError
    from recsys.feed import recommend_profile
    from recsys.models.service import Recommender

    pairs = [(t, LIKE) for t in args.like] + [(t, SUPERLIKE) for t in args.superlike]
    pairs += [(t, DISLIKE) for t in args.dislike]
    catalog = Catalog(settings.parquet_dir)
    for tconst, _ in pairs:
        if not is_valid_tconst(tconst):
            raise UnknownTitleError(f"{tconst!r} is not an IMDb title id (expected tt followed by digits)")
        if catalog.title(tconst) is None:
            raise UnknownTitleError(f"{tconst} is not in the catalogue; find ids with the app's search")
    weights = _parse_weights(args.weights)
    recommender = Recommender.load_latest(settings.models_dir)
    profile = pl.DataFrame(
        {"tconst": [t for t, _ in pairs], "value": [v for _, v in pairs]},
        schema={"tconst": pl.String, "value": pl.Int64},
    )
    kinds = ("movie", "tv") if args.type is None else (args.type,)
    sections = recommend_profile(
        profile, args.n, catalog=catalog, recommender=recommender, weights=weights, kinds=kinds
    )
    if args.json:
        out = {
            kind: frame.select("rank", "tconst", "primary_title", "start_year", "score", "reason").to_dicts()
            for kind, frame in sections.items()
        }
        print(json.dumps(out, indent=2, default=str))
        return 0
    for kind, frame in sections.items():
        print(f"== {'Movies' if kind == 'movie' else 'TV shows'} ==")
        for row in frame.iter_rows(named=True):
            print(
                f"{row['rank']:>3}. {row['tconst']:<11} {row['primary_title']} ({row['start_year']})"
                f"  score {row['score']:.3f}  {row['reason']}"
            )
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog

    stats = Catalog(settings.parquet_dir).stats()
    if args.json:
        print(json.dumps(stats, default=str, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recsys",
        description="CineBlend: download IMDb / MovieLens data, build the catalogue, train and "
        "query the hybrid recommender.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "fetch",
        help="download the IMDb and MovieLens files into data/raw/",
        description="Download title.basics, title.ratings, title.crew (and the optional "
        "title.principals / name.basics) from CINEBLEND_IMDB_BASE_URL and ml-latest-small from "
        "CINEBLEND_MOVIELENS_URL into $CINEBLEND_DATA_DIR/raw/. Partial downloads resume.",
    )
    p.add_argument("--no-people", action="store_true", help="skip the optional cast files")
    p.add_argument("--force", action="store_true", help="download again even if files are valid")
    p.set_defaults(func=_fetch)

    p = sub.add_parser(
        "build",
        help="turn data/raw/ into the Parquet catalogue under data/parquet/",
        description="Build the Parquet catalogue with DuckDB (titles with at least "
        "CINEBLEND_MIN_VOTES votes, people, MovieLens ratings mapped to IMDb ids). The previous "
        "catalogue stays in use until the new one is complete.",
    )
    p.set_defaults(func=_build)

    p = sub.add_parser(
        "train",
        help="retrain the hybrid recommender (new model version, picked up by the running app)",
        description="Fit TF-IDF, ALS and popularity on the catalogue, the MovieLens ratings and "
        "every app user's interactions; writes a new version under data/models/ atomically.",
    )
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "recommend",
        help="recommend for an anonymous profile (same code path as the feed)",
        description="Print the ranked list with scores and reasons for the given likes.",
    )
    p.add_argument("--like", nargs="+", default=[], metavar="TCONST", help="liked titles")
    p.add_argument("--superlike", nargs="+", default=[], metavar="TCONST", help="superliked titles")
    p.add_argument("--dislike", nargs="+", default=[], metavar="TCONST", help="disliked titles")
    p.add_argument("--type", choices=("movie", "tv"), help="one section only")
    p.add_argument("-n", type=int, default=20, help="titles per section (default 20)")
    p.add_argument("--weights", metavar="C,A,P", help="content,als,popularity weights")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_recommend)

    p = sub.add_parser("stats", help="print catalogue statistics")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = get_settings()
        return int(args.func(args, settings))
    except CineBlendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; earlier data is unchanged, run the command again", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
