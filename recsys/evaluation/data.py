"""The ratings an evaluation runs on (MovieLens, plus the app's interactions as ratings) and the
cheap stamps that key cached evaluations (catalogue build, app data)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from recsys.catalog.build import catalogue_stamp
from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.columns import Columns as C
from recsys.evaluation.config import USER

if TYPE_CHECKING:
    from recsys.store import Store


def app_ratings(interactions: pl.DataFrame, titles: Sequence[str] | None = None) -> pl.DataFrame:
    """The app's interactions ``[user_id, tconst, value, created_at, updated_at]`` as ratings
    ``[ml_user_id, tconst, rating, timestamp]``: like 4.0, superlike 5.0, dislike 1.0; user
    ``-user_id``; timestamp = epoch seconds (with microseconds, so quick clicks keep their order)
    of ``updated_at`` (when the current value was given), else ``created_at``. ``titles``: keep
    only these tconsts (the catalogue)."""
    schema = {USER: pl.Int64, C.TCONST: pl.String, "rating": pl.Float64, "timestamp": pl.Float64}
    if interactions.height == 0:
        return pl.DataFrame(schema=schema)
    when = "updated_at" if "updated_at" in interactions.columns else C.TIMESTAMP
    value = pl.col(C.VALUE)
    frame = interactions.filter(value.is_in([LIKE, SUPERLIKE, DISLIKE]))
    if titles is not None:
        frame = frame.filter(pl.col(C.TCONST).is_in(list(titles)))
    return frame.select(
        (-pl.col(C.USER_ID).cast(pl.Int64)).alias(USER),
        pl.col(C.TCONST),
        pl.when(value == SUPERLIKE).then(5.0).when(value == LIKE).then(4.0).otherwise(1.0).alias("rating"),
        (pl.col(when).dt.epoch("us").cast(pl.Float64) / 1e6).alias("timestamp"),
    )


def evaluation_ratings(
    movielens: pl.DataFrame, app: pl.DataFrame | None = None, titles: Sequence[str] | None = None
) -> pl.DataFrame:
    """MovieLens ratings (catalogue titles only when ``titles`` is given) plus the app's ratings
    from :func:`app_ratings`, as one frame ``[ml_user_id, tconst, rating, timestamp]`` (timestamp
    in epoch seconds, float)."""
    ml = movielens
    if "in_catalog" in ml.columns:
        ml = ml.filter(pl.col("in_catalog"))
    if titles is not None:
        ml = ml.filter(pl.col(C.TCONST).is_in(list(titles)))
    parts = [
        ml.select(
            pl.col(USER).cast(pl.Int64),
            pl.col(C.TCONST).cast(pl.String),
            pl.col("rating").cast(pl.Float64),
            pl.col("timestamp").cast(pl.Float64),
        )
    ]
    if app is not None and app.height:
        parts.append(app.select(USER, C.TCONST, "rating", "timestamp"))
    return pl.concat(parts)


def sampled_movielens(path: Path, n: int, min_positives: int, seed: int) -> pl.DataFrame:
    """The in-catalogue MovieLens ratings of a seeded sample of ``n`` testable users, read lazily
    from the Parquet file at ``path`` (``[ml_user_id, tconst, rating, timestamp, in_catalog]``):
    only the users' ids and positives counts, then the sampled users' rows, are materialised, so
    a 25M-rating ml-25m sample never holds every rating in memory. The same users as
    :func:`recsys.evaluation.runner.sample_users` draws from the whole frame."""
    scan = pl.scan_parquet(path).filter(pl.col("in_catalog"))
    positives = (
        scan.filter(pl.col("rating") >= 4)
        .group_by(USER)
        .len()
        .filter(pl.col("len") >= min_positives)
        .select(pl.col(USER).cast(pl.Int64))
        .collect()[USER]
        .sort()
    )
    chosen = positives if positives.len() <= n else positives.sample(n, seed=seed, shuffle=False)
    return scan.filter(pl.col(USER).cast(pl.Int64).is_in(chosen.implode())).collect()


def app_data_stamp(store: Store) -> str:
    """A cheap fingerprint of the app's interactions (count, newest change) for cache keys."""
    frame = store.all_interactions()
    if frame.height == 0:
        return "0"
    newest = frame.select(pl.max_horizontal(pl.col("created_at").max(), pl.col("updated_at").max())).item()
    return f"{frame.height}:{newest.isoformat() if newest is not None else ''}"


__all__ = ["app_data_stamp", "app_ratings", "catalogue_stamp", "evaluation_ratings"]
