"""Where a model wins or loses: the test figures broken down by user activity and by item
popularity (the simulated new user after onboarding is :mod:`recsys.evaluation.newuser`).

**User activity** (:func:`activity_band`): a tested user's number of training ratings (what the
models saw of them), in bands ``<= 20``, ``21-100`` and ``> 100``. :func:`activity_table` gives per
band and model the users and the mean of every per-user metric. Example: a user with 20 training
ratings is "<= 20", with 21 "21-100", with 101 "> 100".

**Item popularity** (:func:`popularity_bands`): items sorted by their number of training ratings
(most first, ties by id); the head is the most popular items that together hold the first 50% of
the training ratings, the torso the next 30%, the tail the last 20% (an item that straddles a
boundary belongs to the band its first rating falls in). Example: counts ``a 5, b 3, c 1, d 1``
(10 ratings): ``a`` starts at 0% (head), ``b`` at 50% (torso), ``c`` at 80% and ``d`` at 90%
(tail). :func:`popularity_table` gives per band and model the share of recommendations (slots of
every tested user's top K) and the share of hits (recommended and held out) falling in the band:
a model that only recommends the head has a head share near 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from recsys.columns import Columns as C

ACTIVITY_BANDS: tuple[str, ...] = ("<= 20", "21-100", "> 100")
POPULARITY_BANDS: tuple[str, ...] = ("head", "torso", "tail")
#: cumulative share of training ratings where the torso and the tail start
HEAD_SHARE, TORSO_SHARE = 0.5, 0.8


def activity_band(n_ratings: int) -> str:
    """The activity band of a user with ``n_ratings`` training ratings."""
    if n_ratings <= 20:
        return ACTIVITY_BANDS[0]
    if n_ratings <= 100:
        return ACTIVITY_BANDS[1]
    return ACTIVITY_BANDS[2]


def activity_table(
    per_user: Mapping[str, pl.DataFrame], train: pl.DataFrame, user_col: str, models: Sequence[str]
) -> pl.DataFrame:
    """``[band, model, users, <metric>...]``: each model's mean per-user metrics per activity band
    (bands with no tested user are left out). ``train`` ``[user_id, ...]``: the training ratings."""
    counts = train.group_by(C.USER_ID).len().rename({C.USER_ID: user_col, "len": "n"})
    parts = []
    for model in models:
        frame = per_user[model].join(counts, on=user_col, how="left").with_columns(pl.col("n").fill_null(0))
        frame = frame.with_columns(
            pl.col("n").map_elements(activity_band, return_dtype=pl.String).alias("band"), pl.lit(model).alias("model")
        )
        metrics = [c for c in per_user[model].columns if c != user_col]
        parts.append(frame.group_by("band", "model").agg(pl.len().alias("users"), *(pl.col(m).mean() for m in metrics)))
    if not parts:
        return pl.DataFrame()
    order = {b: i for i, b in enumerate(ACTIVITY_BANDS)}
    model_order = {m: i for i, m in enumerate(models)}
    out = pl.concat(parts, how="diagonal")
    return out.sort(
        pl.col("band").replace_strict(order, return_dtype=pl.Int32),
        pl.col("model").replace_strict(model_order, return_dtype=pl.Int32),
    ).with_columns(pl.col("users").cast(pl.Int64))


def popularity_bands(train: pl.DataFrame) -> dict[str, str]:
    """``{tconst: band}`` for every item of ``train`` ``[tconst, ...]`` (module docstring)."""
    counts = train.group_by(C.TCONST).len().sort(["len", C.TCONST], descending=[True, False])
    total = counts["len"].sum()
    if not total:
        return {}
    start = (counts["len"].cum_sum() - counts["len"]) / total
    band = (
        pl.when(start < HEAD_SHARE)
        .then(pl.lit("head"))
        .when(start < TORSO_SHARE)
        .then(pl.lit("torso"))
        .otherwise(pl.lit("tail"))
    )
    frame = counts.with_columns(start.alias("start")).with_columns(band.alias("band"))
    return dict(zip(frame[C.TCONST].to_list(), frame["band"].to_list(), strict=True))


def popularity_table(
    tops: Mapping[str, Mapping[int, Sequence[str]]],
    relevant: Mapping[int, set[str]],
    bands: Mapping[str, str],
    models: Sequence[str],
) -> pl.DataFrame:
    """``[band, items, <model> recs, <model> hits ...]``: per popularity band, how many items it
    holds and each model's share of recommendations and of hits in it (each column sums to 1
    over the bands when the model recommended / hit anything)."""
    items = dict.fromkeys(POPULARITY_BANDS, 0)
    for b in bands.values():
        items[b] += 1
    data: dict[str, list[object]] = {"band": list(POPULARITY_BANDS), "items": [items[b] for b in POPULARITY_BANDS]}
    for model in models:
        recs = dict.fromkeys(POPULARITY_BANDS, 0)
        hits = dict.fromkeys(POPULARITY_BANDS, 0)
        for user, top in tops[model].items():
            rel = relevant.get(user, set())
            for t in top:
                b = bands.get(t, "tail")
                recs[b] += 1
                if t in rel:
                    hits[b] += 1
        n_recs, n_hits = sum(recs.values()), sum(hits.values())
        data[f"{model} recs"] = [recs[b] / n_recs if n_recs else None for b in POPULARITY_BANDS]
        data[f"{model} hits"] = [hits[b] / n_hits if n_hits else None for b in POPULARITY_BANDS]
    schema: dict[str, pl.DataType] = {"band": pl.String(), "items": pl.Int64()}
    schema.update({c: pl.Float64() for c in data if c not in schema})
    return pl.DataFrame(data, schema=schema)
