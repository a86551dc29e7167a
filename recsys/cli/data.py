"""``python -m recsys fetch | build | train | tune | worker``: the data and the model (each the
command-line face of what the data page runs as a job; heavy imports inside each command)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from recsys.config import Settings
from recsys.progress import LineProgress


def run_fetch(args: argparse.Namespace, settings: Settings) -> int:
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


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.catalog.build import build

    manifest = build(settings, progress=LineProgress())
    counts = manifest.get("row_counts", {})
    summary = ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    print(f"Built catalogue in {settings.parquet_dir} in {manifest.get('build_seconds', 0):.1f} s ({summary})")
    return 0


def run_train(args: argparse.Namespace, settings: Settings) -> int:
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


def run_tune(args: argparse.Namespace, settings: Settings) -> int:
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


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
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
