"""``python -m recsys evaluate``: the offline evaluation from a shell (the lab page's figures for the
same settings); its options are built only when ``evaluate`` is the command (they import the
evaluation package)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from recsys.config import Settings
from recsys.progress import LineProgress

if TYPE_CHECKING:
    from recsys.models.service import Recommender

from recsys.cli import lab as cli_lab
from recsys.cli.titles import parse_weights_option, resolved_weights


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
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
    weights = resolved_weights(settings, parse_weights_option(args.weights), recommender)
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


def add_evaluate_arguments(p: argparse.ArgumentParser, weights_help: str) -> None:
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
        + weights_help,
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
