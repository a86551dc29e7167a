"""TV in the evaluation lab. MovieLens has no TV show, so TV can only be evaluated offline on the
app's own interactions: when at least :data:`MIN_TV_USERS` app users have liked a TV show, the lab
offers a TV run (``EvaluationConfig(tv_only=True)``: the app's ratings of TV titles, TV titles
ranked); otherwise it says plainly that TV is not covered offline and shows the TV taste checks
(:mod:`recsys.evaluation.tastecheck`: genre agreement, vote level, overlap between fans' lists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from recsys.columns import LIKE, SUPERLIKE
from recsys.columns import Columns as C
from recsys.evaluation.tastecheck import fan_lists, max_overlap

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog

MIN_TV_USERS = 20


def tv_users(interactions: pl.DataFrame, titles: pl.DataFrame) -> int:
    """How many app users liked (or superliked) at least one TV title of the catalogue."""
    if interactions.height == 0:
        return 0
    tv = titles.filter(pl.col(C.KIND) == "tv").select(C.TCONST)
    liked = interactions.filter(pl.col(C.VALUE).is_in([LIKE, SUPERLIKE])).join(tv, on=C.TCONST, how="semi")
    return int(liked[C.USER_ID].n_unique())


def taste_table(
    recommend: Callable[[pl.DataFrame, int], dict[str, pl.DataFrame]], catalog: Catalog
) -> tuple[pl.DataFrame, float]:
    """The TV taste checks as a table (one row per genre fan: the TV top 10 of five liked films,
    how many shows carry the fan's genre and how many have 5,000+ votes) and the largest overlap
    between two fans' lists (Jaccard; low = different tastes get different lists)."""
    checks = fan_lists(recommend, catalog)
    rows = []
    for c in checks:
        names = catalog.titles(c.titles)[C.TITLE].to_list() if c.titles else []
        rows.append(
            {
                "Fan of": c.genre,
                "Shows in the genre": f"{c.in_genre} / {len(c.titles)}",
                "With 5,000+ votes": f"{c.well_known} / {len(c.titles)}",
                "TV top 10": "; ".join(str(n) for n in names),
            }
        )
    schema = dict.fromkeys(("Fan of", "Shows in the genre", "With 5,000+ votes", "TV top 10"), pl.String)
    return pl.DataFrame(rows, schema=schema), max_overlap(checks)
