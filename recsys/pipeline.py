"""End-to-end steps shared by the CLI and the data page: train the recommender from what is on
disk and in the store."""

from __future__ import annotations

import logging
from pathlib import Path

from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.evaluation.tuning import tuned_config
from recsys.locks import exclusive
from recsys.models.base import TrainingData
from recsys.models.service import train
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
            ratings = catalog.movielens_ratings()
        progress("loading data", 2, 3)
        with Store.open(settings.store_url) as store:
            app = store.all_interactions()
        progress("loading data", 3, 3)
        log.info(
            "training on %d titles, %d MovieLens ratings, %d app interactions",
            titles.height,
            ratings.height,
            app.height,
        )
        data = TrainingData(titles=titles, ratings=ratings, app=app)
        config = tuned_config(settings.models_dir)  # the last `tune`, else the code defaults
        return train(data, settings.models_dir, config, progress=progress)
