"""Run history: an evaluation stored with what produced it, listed, shown, compared and deleted
(the page and ``python -m recsys runs ...`` both call these functions, so they show the same
figures for the same stored run).

A stored run keeps the run's document (:meth:`EvaluationResult.to_dict`, exactly what ``evaluate
--json`` prints), who ran it and when, the model version, the catalogue build, the dataset and the
protocol, and the per-user metric vectors of every model on the test split as zstd-compressed
Parquet (a few KB for ml-latest-small's 600 users).

**Comparing two runs** and a run's bootstrap intervals are :mod:`recsys.evaluation.run_compare`
(the rules and the figures behind them are there), the settings that produced a run
:mod:`recsys.evaluation.run_settings`, the tables, labels, chart and text the page and the CLI
show :mod:`recsys.evaluation.run_views`.

**Failed and cancelled runs** stay in the history with their reason and no figures
(:func:`record_failure`); names and notes are set at submit time and edited later
(:func:`annotate`).

**The user inspector** (:func:`inspect_user`): for one tested user, their training history, the
held-out titles and each model's top 10 with hits marked, from the run's stored lists
(:func:`pack_lists`: zstd Parquet, 278 KB per run on ml-latest-small, see
:data:`INSPECTOR_TOP`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from recsys.columns import Columns as C
from recsys.errors import EvaluationError, StoreError
from recsys.evaluation.config import EvaluationConfig, model_names
from recsys.evaluation.run_settings import settings_id
from recsys.store import lab

if TYPE_CHECKING:
    from recsys.evaluation.results import EvaluationResult
    from recsys.store import Store


#: Each model's list length kept per tested user for the user inspector.
INSPECTOR_TOP = 10
#: The parts of the stored lists besides one per model.
TRAIN_PART, HELD_OUT_PART = "__train", "__held_out"


def dataset_label(movielens_url: str, with_app_data: bool, sample_users: int | None = None) -> str:
    """``"ml-latest-small.zip + app ratings, 500-user sample"``: the MovieLens file's name (never
    the URL's credentials or query string)."""
    path = urlsplit(movielens_url).path if "://" in movielens_url else movielens_url
    name = PurePosixPath(path.replace("\\", "/")).name or "MovieLens"
    label = name + (" + app ratings" if with_app_data else "")
    if sample_users:
        label += f", {sample_users:,}-user sample"
    return label


def pack_per_user(result: EvaluationResult) -> bytes:
    """Every model's per-user metrics on the test split, long form ``[model, <user>, metrics...]``,
    as zstd Parquet bytes."""
    frames = [
        frame.with_columns(pl.lit(name).alias("model"))
        for name, frame in result.per_user.items()
        if name in model_names()
    ]
    out = io.BytesIO()
    pl.concat(frames, how="diagonal_relaxed").write_parquet(out, compression="zstd", compression_level=9)
    return out.getvalue()


def unpack_per_user(data: bytes) -> dict[str, pl.DataFrame]:
    """The inverse of :func:`pack_per_user`: ``{model: [<user>, metrics...]}``."""
    if not data:
        return {}
    frame = pl.read_parquet(io.BytesIO(data))
    return {str(name): part.drop("model") for (name,), part in frame.partition_by("model", as_dict=True).items()}


def pack_lists(result: EvaluationResult, top: int = INSPECTOR_TOP) -> bytes:
    """What the user inspector needs, for every tested user of the test split, as one long zstd
    Parquet frame ``[part, user, tconst, pos, rating]``: part ``"__train"`` the training ratings in
    time order (``pos`` 0, 1, ...; ``rating`` the rating), ``"__held_out"`` the held-out positives,
    and one part per model with its top ``top`` (``pos`` = rank - 1). Titles are dictionary
    encoded. Measured on ml-latest-small (temporal protocol, 603 tested users, 8 models): see
    the issue 19 report: 278 KB (training history 192 KB, held out 31 KB, 8 models x top 10 59 KB)."""
    users = list(result.tops.get(model_names()[0], {}))
    parts: list[pl.DataFrame] = []
    schema = {"part": pl.String, "user": pl.Int64, "tconst": pl.String, "pos": pl.Int32, "rating": pl.Float32}
    tested = pl.Series("user", users, dtype=pl.Int64).implode()
    if result.train is not None and result.train.height:
        parts.append(
            result.train.filter(pl.col(C.USER_ID).is_in(tested))
            .sort(C.USER_ID, "timestamp", C.TCONST)
            .select(
                pl.lit(TRAIN_PART).alias("part"),
                pl.col(C.USER_ID).cast(pl.Int64).alias("user"),
                pl.col(C.TCONST),
                pl.int_range(pl.len()).over(C.USER_ID).cast(pl.Int32).alias("pos"),
                pl.col("rating").cast(pl.Float32),
            )
        )
    if result.test.height:
        parts.append(
            result.test.select(
                pl.lit(HELD_OUT_PART).alias("part"),
                pl.col(C.USER_ID).cast(pl.Int64).alias("user"),
                pl.col(C.TCONST),
                pl.int_range(pl.len()).over(C.USER_ID).cast(pl.Int32).alias("pos"),
                pl.lit(None, dtype=pl.Float32).alias("rating"),
            )
        )
    for model in model_names():
        lists = result.lists.get(model) or result.tops.get(model)
        if not lists:
            continue
        rows_u: list[int] = []
        rows_t: list[str] = []
        rows_p: list[int] = []
        for user, items in lists.items():
            cut = items[:top]
            rows_u += [int(user)] * len(cut)
            rows_t += cut
            rows_p += list(range(len(cut)))
        parts.append(
            pl.DataFrame(
                {"part": [model] * len(rows_u), "user": rows_u, "tconst": rows_t, "pos": rows_p, "rating": None},
                schema=schema,
            )
        )
    if not parts:
        return b""
    frame = pl.concat([p.cast(schema) for p in parts]).with_columns(pl.col("part").cast(pl.Categorical))  # type: ignore[arg-type]  # polars' stubs want DataType instances; the classes work
    out = io.BytesIO()
    frame.write_parquet(out, compression="zstd", compression_level=19)
    return out.getvalue()


def unpack_lists(data: bytes) -> pl.DataFrame:
    """The inverse of :func:`pack_lists` (an empty frame for a run stored without lists)."""
    if not data:
        return pl.DataFrame(
            schema={"part": pl.String, "user": pl.Int64, "tconst": pl.String, "pos": pl.Int32, "rating": pl.Float32}
        )
    return pl.read_parquet(io.BytesIO(data)).with_columns(pl.col("part").cast(pl.String))


@dataclass(frozen=True)
class UserView:
    """One tested user of a stored run: ``history`` ``[tconst, rating]`` (training, oldest first),
    ``held_out`` the held-out titles, ``tops`` per model the top list, ``hits`` per model the ranks
    (1-based) that hold a held-out title."""

    user: int
    history: pl.DataFrame
    held_out: list[str]
    tops: dict[str, list[str]]

    def hits(self, model: str) -> list[int]:
        held = set(self.held_out)
        return [i + 1 for i, t in enumerate(self.tops.get(model, [])) if t in held]

    def tops_table(self, titles: Mapping[str, str] | None = None) -> pl.DataFrame:
        """Rank x model: each cell the title (``titles`` maps ids to names) with ``"HIT: "`` in
        front when it is held out. Example: held out {tt2}, content [tt1, tt2] -> rank 2 of
        content reads "HIT: tt2"."""
        held = set(self.held_out)
        depth = max((len(v) for v in self.tops.values()), default=0)
        columns: dict[str, list[str]] = {"Rank": [str(i + 1) for i in range(depth)]}
        for model, items in self.tops.items():
            cells = []
            for i in range(depth):
                if i >= len(items):
                    cells.append("")
                    continue
                name = (titles or {}).get(items[i], items[i])
                cells.append(("HIT: " if items[i] in held else "") + name)
            columns[model] = cells
        return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def inspector_users(run: lab.StoredRun) -> list[int]:
    """The tested users whose lists the run stored, ascending (empty: no lists stored)."""
    frame = unpack_lists(run.lists)
    return sorted(frame.filter(pl.col("part") == HELD_OUT_PART)["user"].unique().to_list())


def inspect_user(run: lab.StoredRun, user: int, frame: pl.DataFrame | None = None) -> UserView:
    """The user inspector's view of ``user`` in ``run`` (``frame``: the unpacked lists, when the
    caller already has them). Raises :class:`EvaluationError` for a user the run did not test."""
    frame = unpack_lists(run.lists) if frame is None else frame
    mine = frame.filter(pl.col("user") == int(user)).sort("part", "pos")
    if mine.filter(pl.col("part") == HELD_OUT_PART).height == 0:
        if frame.height == 0:
            raise EvaluationError(f"Run {run.id} stored no per-user lists (stored before the inspector existed).")
        raise EvaluationError(f"User {user} was not tested in run {run.id}; choose one of its tested users.")
    history = mine.filter(pl.col("part") == TRAIN_PART).select(C.TCONST, "rating")
    held = mine.filter(pl.col("part") == HELD_OUT_PART)[C.TCONST].to_list()
    tops = {
        m: mine.filter(pl.col("part") == m)[C.TCONST].to_list()
        for m in model_names()
        if mine.filter(pl.col("part") == m).height
    }
    return UserView(int(user), history, held, tops)


def save(
    store: Store,
    result: EvaluationResult,
    *,
    created_by: str | None,
    model_version: str,
    catalogue_build: str,
    dataset: str,
    name: str | None = None,
    notes: str | None = None,
) -> int:
    """Store ``result`` (with the user inspector's lists); returns the run's id."""
    doc = json.loads(json.dumps(result.to_dict(), default=str))
    return lab.save_run(
        store,
        created_by=created_by,
        model_version=model_version,
        catalogue_build=catalogue_build,
        dataset=dataset,
        protocol=result.config.protocol,
        config=doc["config"],
        document=doc,
        per_user=pack_per_user(result),
        lists=pack_lists(result),
        name=name,
        notes=notes,
    )


def record_failure(
    store: Store,
    config: EvaluationConfig,
    created_by: str | None,
    state: str,
    reason: str,
    *,
    model_version: str = "",
    catalogue_build: str = "",
    dataset: str = "",
    name: str | None = None,
    notes: str | None = None,
) -> int:
    """Keep a run that produced no figures in the history: ``state`` "failed" or "cancelled",
    ``reason`` the plain-text why (the job's error). The job code calls this where it catches the
    failure; returns the run's id. Its document holds the settings only (``{"config": ...,
    "status": state, "reason": reason}``), so the settings diff works against it too."""
    if state not in ("failed", "cancelled"):
        raise EvaluationError(f"A failed run's state is 'failed' or 'cancelled', not {state!r}.")
    cfg = json.loads(json.dumps(config.to_dict(), default=str))
    return lab.save_run(
        store,
        created_by=created_by,
        model_version=model_version,
        catalogue_build=catalogue_build,
        dataset=dataset,
        protocol=config.protocol,
        config=cfg,
        document={"config": cfg, "status": state, "reason": reason},
        per_user=b"",
        name=name,
        notes=notes,
        status=state,
        reason=reason,
    )


def annotate(store: Store, run_id: int, *, name: str | None = None, notes: str | None = None) -> None:
    """Set run ``run_id``'s name and / or notes (``None``: keep; ``""``: clear)."""
    kwargs: dict[str, str | None] = {}
    if name is not None:
        kwargs["name"] = name
    if notes is not None:
        kwargs["notes"] = notes
    try:
        found = lab.annotate_run(store, run_id, **kwargs)
    except StoreError as exc:
        raise EvaluationError(str(exc)) from None
    if not found:
        raise EvaluationError(f"No stored run {run_id}; `python -m recsys runs list` shows the stored runs.")


def get(store: Store, run_id: int) -> lab.StoredRun:
    run = lab.get_run(store, run_id)
    if run is None:
        raise EvaluationError(f"No stored run {run_id}; `python -m recsys runs list` shows the stored runs.")
    return run


def run_meta(run: lab.RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "notes": run.notes,
        "status": run.status,
        "reason": run.reason,
        "settings_id": settings_id(run),
        "created_at": run.created_at.isoformat(),
        "created_by": run.created_by,
        "model_version": run.model_version,
        "catalogue_build": run.catalogue_build,
        "dataset": run.dataset,
        "protocol": run.protocol,
    }


def run_document(run: lab.RunInfo) -> dict[str, Any]:
    """The stored run as JSON (the page's export and ``runs show --json``): ``{"run": meta,
    **document}`` where ``document`` is what ``evaluate --json`` printed for it."""
    return {"run": run_meta(run), **run.document}


def run_json(run: lab.RunInfo) -> str:
    return json.dumps(run_document(run), indent=2, default=str)


def delete(store: Store, run_id: int) -> None:
    if not lab.delete_run(store, run_id):
        raise EvaluationError(f"No stored run {run_id} to delete; `python -m recsys runs list` shows the stored runs.")
