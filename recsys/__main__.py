"""The CineBlend command line: ``python -m recsys <command>``.

Every command prints progress lines on long work, exits 0 on success and non-zero with a
one-line reason on failure, and leaves earlier good data in place.

Heavy modules (the store's SQLAlchemy, the jobs, the scorers' scikit-learn / SciPy, DuckDB) are
imported inside the command that needs them, so ``--help`` and the cheap commands start fast:
``tests/test_cli_imports.py`` checks which of them ``--help`` imports.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from recsys.cli import lab as cli_lab
from recsys.config import Settings, get_settings
from recsys.errors import CineBlendError
from recsys.progress import LineProgress
from recsys.urls import mask_urls_in

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.models.registry import Weights
    from recsys.models.service import Recommender

Command = Callable[[argparse.Namespace, Settings], int]
_WEIGHTS_HELP = ""


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.download import fetch

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

    manifest = build(settings, progress=LineProgress())
    counts = manifest.get("row_counts", {})
    summary = ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    print(f"Built catalogue in {settings.parquet_dir} in {manifest.get('build_seconds', 0):.1f} s ({summary})")
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    import getpass
    import time

    from recsys.app.pipeline import train_model
    from recsys.jobs import runner as jobs

    started = time.perf_counter()
    # recorded like the data page's Retrain, so every app server's data page shows it
    with jobs.recorded(settings, jobs.TRAIN, f"{getpass.getuser()} (command line)", LineProgress()) as progress:
        path = train_model(settings, progress=progress)
    print(f"Trained model {path.name} in {time.perf_counter() - started:.1f} s ({path})")
    return 0


def _parse_weights(text: str | None) -> dict[str, float] | None:
    """``--weights``: ``content=0.4,als=0.5,...`` (registered scorer names) or the old
    positional ``content,als,popularity``."""
    if text is None:
        return None
    from recsys.models.registry import parse_weights

    return parse_weights(text)


def _resolved_weights(settings: Settings, given: dict[str, float] | None, recommender: Recommender | None) -> Weights:
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


def _check_titles(catalog: Catalog, tconsts: Sequence[str]) -> None:
    from recsys.catalog.queries import is_valid_tconst
    from recsys.errors import UnknownTitleError

    for tconst in tconsts:
        if not is_valid_tconst(tconst):
            raise UnknownTitleError(f"{tconst!r} is not an IMDb title id (expected tt followed by digits)")
        if catalog.title(tconst) is None:
            raise UnknownTitleError(f"{tconst} is not in the catalogue; find ids with `python -m recsys search TEXT`")


def _recommend(args: argparse.Namespace, settings: Settings) -> int:
    import polars as pl

    from recsys.app.feed import recommend_profile
    from recsys.catalog.queries import Catalog
    from recsys.columns import DISLIKE, LIKE, SUPERLIKE
    from recsys.models.rerank.registry import parse_strengths
    from recsys.models.service import Recommender

    _check_count(args.n)
    pairs = [(t, LIKE) for t in args.like] + [(t, SUPERLIKE) for t in args.superlike]
    pairs += [(t, DISLIKE) for t in args.dislike]
    catalog = Catalog(settings.parquet_dir)
    _check_titles(catalog, [t for t, _ in pairs])
    recommender = Recommender.load_latest(settings.models_dir)
    weights = _resolved_weights(settings, _parse_weights(args.weights), recommender)
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


def _similar(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog
    from recsys.models.service import Recommender

    _check_count(args.n)
    catalog = Catalog(settings.parquet_dir)
    _check_titles(catalog, [args.tconst])
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


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from recsys.catalog.queries import Catalog
    from recsys.errors import ModelError
    from recsys.evaluation.runner import EvaluationConfig, dump, evaluate_catalogue, render_text
    from recsys.evaluation.sweep import parse_sweep
    from recsys.jobs import runner as jobs
    from recsys.jobs.locks import exclusive
    from recsys.models.service import Recommender
    from recsys.store import Store

    sweep = parse_sweep(args.sweep)
    try:
        recommender: Recommender | None = Recommender.load_latest(settings.models_dir)
    except ModelError:
        recommender = None  # no usable trained model: the run fits its own content model
    # the weights the feed uses (unless --weights), and the app's ratings (--with-app-data)
    weights = _resolved_weights(settings, _parse_weights(args.weights), recommender)
    store = Store.open(settings.store_url) if args.with_app_data else None
    try:
        config = EvaluationConfig(
            protocol=args.protocol,
            k=args.k,
            metric=args.metric,
            sweep=sweep,
            popularity_weight=args.popularity_weight,
            weights=weights,
            with_app_data=args.with_app_data,
            factors=args.factors,
            regularization=args.regularization,
            alpha=args.alpha,
            iterations=args.iterations,
            seed=args.seed,
            min_positives=args.min_positives,
            compare=tuple(args.compare) if args.compare else None,
            measure_plain=args.timing,
            **cli_lab.config_options(args),
        )
        with (
            exclusive(jobs.job_lock(settings, "evaluate"), "evaluation", store_url=settings.store_url),
            Catalog(settings.parquet_dir) as catalog,
        ):
            result = evaluate_catalogue(
                config, catalog=catalog, store=store, recommender=recommender, progress=LineProgress()
            )
    finally:
        if store is not None:
            store.close()
    saved = cli_lab.save_result(args, settings, result, (recommender.version or "unsaved") if recommender else "none")
    if args.dump:
        paths = dump(result, Path(args.dump))
        print(f"Wrote {len(paths)} files to {args.dump}", file=sys.stderr)
    if args.json:
        doc = result.to_dict() if saved is None else {"run": saved, **result.to_dict()}
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(render_text(result))
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from recsys.jobs import runner as jobs
    from recsys.store import Store
    from recsys.store.engine import safe_url

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    niceness = jobs.lower_priority()
    with Store.open(settings.store_url) as store:
        print(
            f"Worker {jobs.SERVER_ID} running the jobs of {safe_url(settings.store_url)} (niceness {niceness})",
            file=sys.stderr,
        )
        jobs.JobRunner(settings, store, mode="worker").serve(stop, parent_pid=args.parent)
    return 0


def _tune(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog
    from recsys.evaluation.runner import evaluation_ratings
    from recsys.evaluation.tuning import TuneConfig, tune, write_tuned
    from recsys.jobs import runner as jobs
    from recsys.jobs.locks import exclusive

    config = TuneConfig.quick() if args.quick else TuneConfig()
    with exclusive(jobs.job_lock(settings, "tune"), "tuning", store_url=settings.store_url):
        with Catalog(settings.parquet_dir) as catalog:
            titles = catalog.all_titles()
            ratings = evaluation_ratings(
                catalog.movielens_ratings(in_catalog_only=True), None, titles["tconst"].to_list()
            )
        result = tune(titles, ratings, config, progress=LineProgress())
        path = write_tuned(result, settings.models_dir)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result.render())
        print(f"Wrote {path}; the next `python -m recsys train` uses it.")
    return 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog

    _check_count(args.n)
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


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.queries import Catalog

    stats = Catalog(settings.parquet_dir).stats()
    if args.json:
        print(json.dumps(stats, default=str, indent=2))
    else:
        print(_stats_table(stats))
    return 0


def _stats_table(stats: dict[str, Any]) -> str:
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
        ("Languages", _languages_line(stats.get("languages") or {})),
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


def _languages_line(counts: dict[str, int], top: int = 8) -> str:
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


def _check_count(n: int) -> None:
    if n < 1:
        raise CineBlendError(f"-n must be at least 1, got {n}")


def _weights_help() -> str:
    from recsys.models.registry import example, names

    return (
        f"blend weights as name=value pairs over {', '.join(names())} (missing names weigh 0), "
        f"e.g. {example()}; the old positional content,als,popularity is still accepted"
    )


def _scorers_text() -> str:
    """The registered scorers for ``train`` / ``evaluate --help``: ``"content (Content (TF-IDF):
    similarity of ...); als (...)"``, read from the registry (a new scorer shows up by itself)."""
    from recsys.models.registry import SCORERS

    return "; ".join(
        f"{name} ({spec.label}: {spec.help})" if spec.help else f"{name} ({spec.label})"
        for name, spec in SCORERS.items()
    )


def _add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    """``evaluate``'s options, with the defaults of :class:`EvaluationConfig`."""
    from recsys.evaluation.metrics import ranking_metrics
    from recsys.evaluation.runner import EvaluationConfig
    from recsys.evaluation.splits import PROTOCOLS

    defaults = EvaluationConfig()
    p.add_argument("--protocol", choices=PROTOCOLS, default=defaults.protocol, help="split protocol (default temporal)")
    p.add_argument("-k", type=int, default=defaults.k, help="list length K (default 10)")
    p.add_argument(
        "--sweep",
        default="0:1:0.1",
        metavar="START:STOP:STEP",
        help="shares of the first scorer of --sweep-pair to sweep (default 0:1:0.1); the live point is always added",
    )
    p.add_argument(
        "--popularity-weight",
        type=float,
        default=defaults.popularity_weight,
        help="override the popularity weight during the sweep (default: its current weight)",
    )
    p.add_argument(
        "--metric",
        choices=ranking_metrics(),
        default=defaults.metric,
        help="metric that picks the best step (default ndcg)",
    )
    p.add_argument("--with-app-data", action="store_true", help="add the app users' ratings to MovieLens'")
    p.add_argument(
        "--weights",
        metavar="NAME=W,...",
        help="current hybrid weights (default: what the feed uses: live, else the model's tuned weights, else the defaults); "
        + _WEIGHTS_HELP,
    )
    p.add_argument("--factors", type=int, default=defaults.factors, help="ALS factors")
    p.add_argument("--regularization", type=float, default=defaults.regularization, help="ALS regularisation")
    p.add_argument("--alpha", type=float, default=defaults.alpha, help="ALS confidence scale alpha")
    p.add_argument("--iterations", type=int, default=defaults.iterations, help="ALS iterations")
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the random protocol")
    p.add_argument(
        "--min-positives",
        type=int,
        default=defaults.min_positives,
        help="positives a user needs to be tested (default 5)",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="configurations to test (default: the best step against the current hybrid)",
    )
    p.add_argument("--timing", action="store_true", help="also time one plain hybrid evaluation")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--dump", metavar="DIR", help="write the test split and each model's top-K lists as Parquet")
    cli_lab.add_evaluate_options(p)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``command`` (see :func:`_command_of`) limits the heavy options (``evaluate``'s
    import the evaluation package) to that command, None builds every command in full."""
    global _WEIGHTS_HELP
    _WEIGHTS_HELP = _weights_help()
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
        description="Fit every registered scorer on the catalogue, the MovieLens ratings and every app "
        f"user's interactions; writes a new version under data/models/ atomically. Scorers: {_scorers_text()}.",
    )
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "worker",
        help="run the store-backed jobs (build, train, tune, evaluate) in this process, for every app server",
    )
    p.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)  # set by an app's local worker
    p.set_defaults(func=_worker)

    p = sub.add_parser(
        "recommend",
        help="recommend for an anonymous profile (same code path as the feed)",
        description="Print the ranked list with scores and reasons for the given likes.",
    )
    # action="extend": `--like A --like B` and `--like A B` both mean two likes
    p.add_argument("--like", nargs="+", action="extend", default=[], metavar="TCONST", help="liked titles")
    p.add_argument("--superlike", nargs="+", action="extend", default=[], metavar="TCONST", help="superliked titles")
    p.add_argument("--dislike", nargs="+", action="extend", default=[], metavar="TCONST", help="disliked titles")
    p.add_argument("--type", choices=("movie", "tv"), help="one section only")
    p.add_argument("-n", type=int, default=20, help="titles per section (default 20)")
    p.add_argument("--weights", metavar="NAME=W,...", help=_WEIGHTS_HELP)
    p.add_argument(
        "--stages",
        metavar="NAME=S,...",
        help="ranking-stage strengths in [0, 1] after the blend (maturity, popularity, calibration, mmr; "
        "missing names at the model's chosen strengths, e.g. calibration=0.7; calibration=0,popularity=0 "
        "shows the blend's own order)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_recommend)

    p = sub.add_parser(
        "similar",
        help="'More like this': titles similar to one title (same function as the app's details)",
        description="Titles like TCONST in its own section (or --type): series companions first, "
        "then content and ALS neighbours sharing its genre, language and people; each with its reason.",
    )
    p.add_argument("tconst", metavar="TCONST", help="an IMDb title id, e.g. tt0068646")
    p.add_argument("--type", choices=("movie", "tv"), help="section to search (default: the title's own)")
    p.add_argument("-n", type=int, default=10, help="how many (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_similar)

    p = sub.add_parser(
        "evaluate",
        help="offline evaluation: models side by side, a hybrid weight sweep, significance",
        description="Split the MovieLens ratings (optionally plus the app's) with the chosen "
        "protocol, fit the popularity baseline, every registered scorer and the hybrid on the training "
        "part, rank the whole catalogue for every tested user and print Precision, Recall, NDCG, MAP, "
        "MRR, HitRate at K, coverage, novelty and genre diversity; then sweep the weight between two "
        "scorers (--sweep-pair, the others at their current weights) and test the best step against "
        "the current hybrid (Wilcoxon). The same figures as the evaluation page for the same settings. "
        f"Scorers: {_scorers_text()}.",
    )
    if command in (None, "evaluate"):  # its options import the evaluation (SciPy, DuckDB): only when asked
        _add_evaluate_arguments(p)
    p.set_defaults(func=_evaluate)
    cli_lab.add_runs_parser(sub)

    p = sub.add_parser(
        "tune",
        help="choose ALS hyperparameters and hybrid weights on validation (used by the next train)",
        description="Split the MovieLens ratings with the strict temporal protocol, carve a "
        "validation split from training, grid-search the ALS factors x regularisation and then the "
        "hybrid weights on validation only, report the choice once on test and write "
        "data/models/tuned.json, which `train` uses.",
    )
    p.add_argument("--quick", action="store_true", help="a small grid (seconds; for a first look)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_tune)

    p = sub.add_parser(
        "search",
        help="find titles (and their tconst) by title text, best match first",
        description="Titles matching TEXT, ranked as in the app's search (match quality, then "
        "popularity; one or two typos tolerated when little matches).",
    )
    p.add_argument("text", metavar="TEXT", nargs="*", help="title words, e.g. godfather")
    p.add_argument("--type", choices=("movie", "tv"), help="only movies or only TV shows")
    p.add_argument("-n", type=int, default=10, help="how many (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_search)

    p = sub.add_parser("stats", help="print catalogue statistics")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_stats)

    from recsys.cli.users import add_parser as add_users_parser

    add_users_parser(sub)
    from recsys.cli.weights import add_parser as add_weights_parser

    add_weights_parser(sub)
    from recsys.cli.experiments import add_parser as add_experiments_parser

    add_experiments_parser(sub)
    return parser


def _command_of(argv: Sequence[str]) -> str:
    """The subcommand named in ``argv`` (the first word not starting with ``-``; the top-level
    options take no value), or ``""``: ``build_parser`` adds a heavy command's options only
    when that command is asked for."""
    return next((word for word in argv if not word.startswith("-")), "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from recsys.access.startup import secure_data_dir

    try:
        settings = get_settings()
        secure_data_dir(settings)  # data folder 0700, store / key / models 0600
        return int(args.func(args, settings))
    except CineBlendError as exc:
        print(f"error: {mask_urls_in(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; earlier data is unchanged, run the command again", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
