"""The CineBlend command line: ``python -m recsys <command>``.

Every command prints progress lines on long work, exits 0 on success and non-zero with a
one-line reason on failure, and leaves earlier good data in place.

Heavy modules (the store's SQLAlchemy, the jobs, the scorers' scikit-learn / SciPy, DuckDB) are
imported inside the command that needs them, so ``--help`` and the cheap commands start fast:
``tests/test_cli_imports.py`` checks which of them ``--help`` imports.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from recsys.cli import data, evaluate, titles
from recsys.cli import lab as cli_lab
from recsys.config import Settings, get_settings
from recsys.errors import CineBlendError
from recsys.urls import mask_urls_in

if TYPE_CHECKING:
    pass

Command = Callable[[argparse.Namespace, Settings], int]
_WEIGHTS_HELP = ""


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
    p.set_defaults(func=data.run_fetch)

    p = sub.add_parser(
        "build",
        help="turn data/raw/ into the Parquet catalogue under data/parquet/",
        description="Build the Parquet catalogue with DuckDB (titles with at least "
        "CINEBLEND_MIN_VOTES votes, people, MovieLens ratings mapped to IMDb ids). The previous "
        "catalogue stays in use until the new one is complete.",
    )
    p.set_defaults(func=data.run_build)

    p = sub.add_parser(
        "train",
        help="retrain the hybrid recommender (new model version, picked up by the running app)",
        description="Fit every registered scorer on the catalogue, the MovieLens ratings and every app "
        f"user's interactions; writes a new version under data/models/ atomically. Scorers: {_scorers_text()}.",
    )
    p.set_defaults(func=data.run_train)

    p = sub.add_parser(
        "worker",
        help="run the store-backed jobs (build, train, tune, evaluate) in this process, for every app server",
    )
    p.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)  # set by an app's local worker
    p.set_defaults(func=data.run_worker)

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
    p.set_defaults(func=titles.run_recommend)

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
    p.set_defaults(func=titles.run_similar)

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
        evaluate.add_evaluate_arguments(p, _WEIGHTS_HELP)
    p.set_defaults(func=evaluate.run_evaluate)
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
    p.set_defaults(func=data.run_tune)

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
    p.set_defaults(func=titles.run_search)

    p = sub.add_parser("stats", help="print catalogue statistics")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=titles.run_stats)

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
