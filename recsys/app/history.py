"""A user's rated titles joined with the catalogue, for the history page and CSV export."""

from __future__ import annotations

import polars as pl

from recsys.catalog.queries import Catalog
from recsys.columns import RATING_NAMES
from recsys.csvsafe import safe_csv
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


def hidden_titles(store: Store, catalog: Catalog, user_id: int) -> pl.DataFrame:
    """The titles the user marked "Not interested", by title (unknown ids keep their tconst)."""
    hidden = sorted(store.hidden_tconsts(user_id))
    known = catalog.titles(hidden) if hidden else None
    rows = {r["tconst"]: r for r in known.to_dicts()} if known is not None else {}
    out = [rows.get(t) or {"tconst": t, "primary_title": t} for t in hidden]
    frame = (
        pl.DataFrame(out, infer_schema_length=None)
        if out
        else pl.DataFrame(schema={"tconst": pl.String, "primary_title": pl.String, "kind": pl.String})
    )
    return frame.sort(pl.col("primary_title").str.to_lowercase(), "tconst")


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV of the user's ratings: tconst, title, kind, year, value, rating name, time (UTC).

    Text cells that a spreadsheet would read as a formula, also after a ``;`` a spreadsheet
    splits at, get a ``'`` in front (:mod:`recsys.csvsafe`)."""
    out = (
        frame.with_columns(
            pl.col("value").replace_strict(RATING_NAMES, default=None, return_dtype=pl.String).alias("rating")
        )
        if frame.height
        else frame.with_columns(pl.lit(None, pl.String).alias("rating"))
    )
    cols = [c for c in EXPORT_COLUMNS if c in out.columns]
    return safe_csv(out.select(cols)).encode("utf-8")


def export_csv(store: Store, catalog: Catalog, user_id: int) -> bytes:
    """The CSV built from the store now (for a download generated when it is requested)."""
    return to_csv(rated_titles(store, catalog, user_id))
