"""A user's rated titles joined with the catalogue, for the history page and CSV export."""

from __future__ import annotations

import polars as pl

from recsys.catalog.queries import Catalog
from recsys.columns import RATING_NAMES
from recsys.store import Store

EXPORT_COLUMNS = ("tconst", "primary_title", "kind", "start_year", "value", "rating", "updated_at")


def rated_titles(store: Store, catalog: Catalog, user_id: int) -> pl.DataFrame:
    """Current ratings, newest first, with title columns (titles missing from the catalogue
    keep their tconst as the title, so nothing the user rated disappears)."""
    current = store.interactions(user_id)
    if current.height == 0:
        return current.with_columns(
            pl.lit(None, pl.String).alias("primary_title"), pl.lit(None, pl.String).alias("kind")
        )
    titles = catalog.titles(current["tconst"].to_list())
    joined = current.join(titles, on="tconst", how="left")
    return joined.with_columns(pl.col("primary_title").fill_null(pl.col("tconst"))).sort("updated_at", descending=True)


def filter_rated(frame: pl.DataFrame, value: int | None = None, kind: str | None = None) -> pl.DataFrame:
    if value is not None:
        frame = frame.filter(pl.col("value") == value)
    if kind is not None:
        frame = frame.filter(pl.col("kind") == kind)
    return frame


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV of the user's ratings: tconst, title, kind, year, value, rating name, time (UTC)."""
    out = (
        frame.with_columns(
            pl.col("value").replace_strict(RATING_NAMES, default=None, return_dtype=pl.String).alias("rating")
        )
        if frame.height
        else frame.with_columns(pl.lit(None, pl.String).alias("rating"))
    )
    cols = [c for c in EXPORT_COLUMNS if c in out.columns]
    return out.select(cols).write_csv().encode("utf-8")
