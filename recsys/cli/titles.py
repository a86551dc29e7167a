"""``python -m recsys recommend | similar | search | stats``: the catalogue and the recommender
asked from a shell (the same functions as the feed, "More like this" and the search page)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from recsys.config import Settings
from recsys.errors import CineBlendError

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.models.registry import Weights
    from recsys.models.service import Recommender


def run_recommend(args: argparse.Namespace, settings: Settings) -> int:
    import polars as pl

    from recsys.app.feed import recommend_profile
    from recsys.catalog.queries import Catalog
    from recsys.columns import DISLIKE, LIKE, SUPERLIKE
    from recsys.models.rerank.registry import parse_strengths
    from recsys.models.service import Recommender

    check_count(args.n)
    pairs = [(t, LIKE) for t in args.like] + [(t, SUPERLIKE) for t in args.superlike]
    pairs += [(t, DISLIKE) for t in args.dislike]
    catalog = Catalog(settings.parquet_dir)
    check_titles(catalog, [t for t, _ in pairs])
    recommender = Recommender.load_latest(settings.models_dir)
    weights = resolved_weights(settings, parse_weights_option(args.weights), recommender)
    profile = pl.DataFrame(
        {"tconst": [t for t, _ in pairs], "value": [v for _, v in pairs]},
        schema={"tconst": pl.String, "value": pl.Int64},
    )
    kinds = ("movie", "tv") if args.type is None else (args.type,)
    stages = parse_strengths(args.stages) if args.stages is not None else None
    sections = recommend_profile(
        profile, args.n, catalog=catalog, recommender=recommender, weights=weights, kinds=kinds, stages=stages
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


def run_similar(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog
    from recsys.models.service import Recommender

    check_count(args.n)
    catalog = Catalog(settings.parquet_dir)
    check_titles(catalog, [args.tconst])
    recommender = Recommender.load_latest(settings.models_dir)
    found = recommender.similar_explained(args.tconst, args.n, kind=args.type)
    why = dict(
        zip(
            found["tconst"].to_list(),
            zip(found["score"].to_list(), found["reason"].to_list(), strict=True),
            strict=True,
        )
    )
    frame = catalog.titles(found["tconst"].to_list()) if found.height else None
    rows = frame.to_dicts() if frame is not None else []
    items = [
        {
            "rank": i + 1,
            "tconst": r["tconst"],
            "primary_title": r["primary_title"],
            "start_year": r["start_year"],
            "genres": r["genres"],
            "num_votes": r["num_votes"],
            "score": why[r["tconst"]][0],
            "reason": why[r["tconst"]][1],
        }
        for i, r in enumerate(rows)
    ]
    if args.json:
        print(json.dumps({"similar_to": args.tconst, "items": items}, indent=2, default=str))
        return 0
    print(f"== More like {recommender.names.get(args.tconst, args.tconst)} ({args.tconst}) ==")
    for item in items:
        genres = ", ".join(item["genres"] or [])
        print(
            f"{item['rank']:>3}. {item['tconst']:<11} {item['primary_title']} ({item['start_year']})"
            f"  {genres}  {item['num_votes'] or 0:,} votes  {item['reason']}"
        )
    return 0


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog

    check_count(args.n)
    text = " ".join(args.text).strip()
    if not text:
        raise CineBlendError("search needs some text, e.g. `python -m recsys search godfather`")
    frame = Catalog(settings.parquet_dir).search(text, kind=args.type, limit=args.n, fuzzy=True)
    keys = ("tconst", "primary_title", "kind", "start_year", "genres", "average_rating", "num_votes")
    items = [{"rank": i + 1, **{k: r[k] for k in keys}} for i, r in enumerate(frame.to_dicts())]
    if args.json:
        print(json.dumps({"query": text, "items": items}, indent=2, default=str))
        return 0
    if not items:
        print(f"No titles match {text!r}: try fewer or shorter words.")
        return 0
    for item in items:
        rating = f"IMDb {item['average_rating']:.1f}" if item["average_rating"] is not None else "not rated"
        print(
            f"{item['rank']:>3}. {item['tconst']:<11} {item['primary_title']} ({item['start_year']}, "
            f"{item['kind']})  {rating}  {item['num_votes'] or 0:,} votes"
        )
    return 0


def run_stats(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog

    stats = Catalog(settings.parquet_dir).stats()
    if args.json:
        print(json.dumps(stats, default=str, indent=2))
    else:
        print(stats_table(stats))
    return 0


def parse_weights_option(text: str | None) -> dict[str, float] | None:
    """``--weights``: ``content=0.4,als=0.5,...`` (registered scorer names) or the old
    positional ``content,als,popularity``."""
    if text is None:
        return None
    from recsys.models.registry import parse_weights

    return parse_weights(text)


def resolved_weights(settings: Settings, given: dict[str, float] | None, recommender: Recommender | None) -> Weights:
    """``--weights`` when given, else what the feed uses (:func:`recsys.models.weights.resolve`: live,
    else the model's tuned weights, else the defaults), said on stderr."""
    from recsys.models import weights
    from recsys.store import Store

    if given is not None:
        return given
    store = Store.open(settings.store_url)
    try:
        resolved = weights.resolve(store, recommender)
    finally:
        store.close()
    print(f"Weights: {resolved.describe()}", file=sys.stderr)
    return resolved.weights


def check_titles(catalog: Catalog, tconsts: Sequence[str]) -> None:
    from recsys.catalog.queries import is_valid_tconst
    from recsys.errors import UnknownTitleError

    for tconst in tconsts:
        if not is_valid_tconst(tconst):
            raise UnknownTitleError(f"{tconst!r} is not an IMDb title id (expected tt followed by digits)")
        if catalog.title(tconst) is None:
            raise UnknownTitleError(f"{tconst} is not in the catalogue; find ids with `python -m recsys search TEXT`")


def check_count(n: int) -> None:
    if n < 1:
        raise CineBlendError(f"-n must be at least 1, got {n}")


def stats_table(stats: dict[str, Any]) -> str:
    """The catalogue statistics as an aligned two-column table (``--json`` keeps the raw form)."""
    from recsys.timefmt import readable_time

    def count(key: str) -> str:
        value = stats.get(key)
        return f"{value:,}" if isinstance(value, int) else "-"

    by_kind = stats.get("by_kind") or {}
    by_type = stats.get("by_type") or {}
    rows: list[tuple[str, str]] = [
        ("Titles", count("titles")),
        ("  Movies", f"{by_kind.get('movie', 0):,}"),
        ("  TV shows", f"{by_kind.get('tv', 0):,}"),
        ("Title types", ", ".join(f"{name} {n:,}" for name, n in sorted(by_type.items(), key=lambda kv: -kv[1]))),
        ("Years", f"{stats.get('year_min', '?')} to {stats.get('year_max', '?')}"),
        ("Minimum votes", count("min_votes")),
        ("Cast and crew", "yes" if stats.get("has_people") else "no"),
        ("Languages", languages_line(stats.get("languages") or {})),
        (
            "Language evidence",
            "original titles and title.akas"
            if stats.get("with_akas")
            else "original titles only (title.akas.tsv.gz absent: no regions)",
        ),
        ("MovieLens ratings", count("movielens_ratings")),
        ("MovieLens users", count("movielens_users")),
    ]
    if stats.get("built_at"):
        took = f" in {stats['build_seconds']:.1f} s" if isinstance(stats.get("build_seconds"), int | float) else ""
        rows.append(("Built", readable_time(stats["built_at"]) + took))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def languages_line(counts: dict[str, int], top: int = 8) -> str:
    """``{"en": 41000, "fr": 2100, "unknown": 30000, ...}`` -> ``"en 41,000, fr 2,100, ...,
    other 1,234, unknown 30,000"``: the ``top`` most frequent known languages, then the rest."""
    known = sorted(((lang, n) for lang, n in counts.items() if lang != "unknown"), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{lang} {n:,}" for lang, n in known[:top]]
    rest = sum(n for _, n in known[top:])
    if rest:
        parts.append(f"other {rest:,}")
    if counts.get("unknown"):
        parts.append(f"unknown {counts['unknown']:,}")
    return ", ".join(parts) or "-"
