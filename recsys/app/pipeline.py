"""End-to-end steps shared by the CLI and the data page: train the recommender from what is on
disk and in the store."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from recsys.catalog.build import catalogue_stamp
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.evaluation.tuning import tuned_config
from recsys.jobs.locks import exclusive
from recsys.models.base import TrainingData
from recsys.models.training import train
from recsys.progress import Progress, null_progress
from recsys.store import Store

log = logging.getLogger(__name__)


def train_model(settings: Settings, progress: Progress | None = None) -> Path:
    """Retrain on the current catalogue, MovieLens ratings and every app user's interactions;
    writes a new model version atomically (the app picks it up on its next run).

    Raises CatalogError (no catalogue), StoreError, ModelError, BusyError (a training is already
    running).
    """
    progress = progress or null_progress
    with exclusive(settings.data_dir / ".train.lock", "training", store_url=settings.store_url):
        progress("loading data", 0, 3)
        with Catalog(settings.parquet_dir) as catalog:
            titles = catalog.all_titles()
            progress("loading data", 1, 3)
            # lazy: ALS and the counts stream the columns they need; the frame is never held
            ratings = catalog.movielens_ratings_scan()
            n_ratings = ratings.select(pl.len()).collect().item()
        progress("loading data", 2, 3)
        with Store.open(settings.store_url) as store:
            app = store.all_interactions()
        progress("loading data", 3, 3)
        log.info(
            "training on %d titles, %d MovieLens ratings, %d app interactions",
            titles.height,
            n_ratings,
            app.height,
        )
        data = TrainingData(titles=titles, ratings=ratings, app=app)
        config = tuned_config(settings.models_dir)  # the last `tune`, else the code defaults
        path = train(data, settings.models_dir, config, progress=progress)
        save_demo_personas(settings, path)
        return path


def save_demo_personas(settings: Settings, path: Path) -> None:
    """Pick the demo personas of the model version at ``path`` and save them in its folder
    (:data:`recsys.app.demo.PERSONAS_FILE`), so no visitor's sign-in page computes them. A failure
    only costs that: the app then picks them in the background (logged, never raised)."""
    from recsys.app.demo import PERSONAS_FILE, pick_personas, save_personas
    from recsys.app.feed import feed_genres
    from recsys.models.service import Recommender

    try:
        stamp = catalogue_stamp(settings.parquet_dir)
        model = Recommender.load(path)
        with Catalog(settings.parquet_dir) as catalog:
            personas = pick_personas(
                catalog.movielens_ratings(in_catalog_only=True),
                catalog.all_titles(),
                recommend=feed_genres(model, catalog),
            )
        save_personas(personas, path / PERSONAS_FILE, stamp)
    except Exception:  # the model is trained and saved: personas are a convenience
        log.exception("could not save the demo personas of %s", path.name)
