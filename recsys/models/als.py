"""Collaborative scorer: implicit's AlternatingLeastSquares on MovieLens + app interactions.

The training matrix is users x items (CSR, implicit >= 0.5 orientation). Rows are MovieLens users
(keys ``"ml:<id>"``) and app users (keys ``"app:<id>"``, so the two id spaces never collide);
columns are tconsts. Cell values are implicit's *confidences* (implicit multiplies them by
``alpha``; a negative value is a dislike: preference 0 with confidence ``|value|``):

- MovieLens: ``rating >= positive_rating`` -> ``1 + rating_slope * (rating - positive_rating)``
  (4 -> 1, 5 -> 1 + slope); ``rating <= negative_rating`` -> ``-negative_confidence``; ratings in
  between -> ``neutral_confidence`` (0 leaves them out).
- App: like -> ``like_confidence``, superlike -> ``superlike_confidence``, dislike ->
  ``-dislike_confidence``.
- Optionally (``recency_half_life_days > 0``) positive confidences of recent interactions are
  boosted, with the age measured from the user's newest interaction: ``c * (1 + boost * 0.5 **
  (age / half_life))``.

A user not in the trained model (every new app tester, or a trained one whose clicks changed)
is folded in per request with implicit's ``recalculate_user`` from the profile's app values;
the shared model is never modified (no ``partial_fit_users``). A profile with a ``user_key``
that the model was trained on (evaluation) uses the trained factors. The score of an item is
the dot product ``x_u . y_i``; NaN for items the model never saw and for profiles with no known
positive title.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.linalg
import scipy.sparse as sp
from scipy.linalg import lapack
from threadpoolctl import ThreadpoolController

from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models.base import (
    Block,
    ItemIndex,
    Profile,
    ProfileLike,
    ScorerBase,
    TrainingData,
    config_from_dict,
    config_to_dict,
    load_npz,
    read_json,
    require,
    write_json,
)
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

ML_USER = C.ML_USER_ID
ML_RATING = "rating"
ML_TIME = "timestamp"

_controller: ThreadpoolController | None = None
_controller_lock = threading.Lock()
_local = threading.local()


@contextmanager
def blas_single_thread() -> Iterator[None]:
    """Limit BLAS to one thread for the block, as implicit asks (threadpoolctl).

    The BLAS libraries (which threadpoolctl finds by scanning the loaded ones) are looked up once
    per process; then the block sets each one's thread count and puts it back, two calls each
    (7 us a feed request, where ``ThreadpoolController.limit``, which gathers every library's
    info on entry, cost 18 us).
    """
    global _controller
    if getattr(_local, "depth", 0):  # already limited on this thread
        yield
        return
    if _controller is None:
        with _controller_lock:
            if _controller is None:
                _controller = ThreadpoolController().select(user_api="blas")
    libs = _controller.lib_controllers
    _local.depth = 1
    before = [lib.num_threads for lib in libs]
    try:
        for lib, n in zip(libs, before, strict=True):
            if n != 1:
                lib.set_num_threads(1)
        yield
    finally:
        for lib, n in zip(libs, before, strict=True):
            if n != 1:
                lib.set_num_threads(n)
        _local.depth = 0


def movielens_user_key(ml_user_id: int) -> str:
    return f"ml:{ml_user_id}"


def app_user_key(user_id: int) -> str:
    return f"app:{user_id}"


@dataclass(frozen=True)
class ALSConfig:
    """Hyperparameters of the ALS model and of the interaction -> confidence mapping.

    Defaults tuned on ml-latest-small with the default temporal protocol (``bench/quality.py
    --grid-als`` and a finer search, two seeds each; NDCG@10): few factors with strong
    regularisation generalise best on this small data (factors 32 / reg 8: 0.133; 64 / 0.05:
    0.112; 128: <= 0.10); alpha 1 beat 0.3-3; confidence growing with the rating (slope 1) beat
    a flat 1 (0.129); leaving 2.5-3.5 ratings out beat counting them as weak positives (0.5:
    0.130, 1.0: 0.124); dislikes as negative confidence 2-5 and a recency boost were neutral
    (within +-0.002), BM25 weighting was worse (0.125).
    """

    factors: int = 32
    regularization: float = 8.0
    alpha: float = 1.0
    iterations: int = 15
    random_state: int = 42
    num_threads: int = 0  # implicit's own threads for fit (0 = all cores)
    positive_rating: float = 4.0
    negative_rating: float = 2.0
    rating_slope: float = 1.0
    neutral_confidence: float = 0.0
    negative_confidence: float = 2.0
    like_confidence: float = 1.0
    superlike_confidence: float = 2.0
    dislike_confidence: float = 2.0
    recency_half_life_days: float = 0.0
    recency_boost: float = 1.0

    def app_confidence(self, values: np.ndarray) -> np.ndarray:
        """Confidences (signed) for app values: like, superlike, dislike; others 0."""
        values = np.asarray(values, dtype=np.float64)
        out = np.zeros(len(values), dtype=np.float32)
        out[values == LIKE] = self.like_confidence
        out[values == SUPERLIKE] = self.superlike_confidence
        out[values == DISLIKE] = -self.dislike_confidence
        return out

    def rating_confidence(self, ratings: pl.Expr) -> pl.Expr:
        """Polars expression: signed confidence of a MovieLens rating."""
        return (
            pl.when(ratings >= self.positive_rating)
            .then(1.0 + self.rating_slope * (ratings - self.positive_rating))
            .when(ratings <= self.negative_rating)
            .then(-self.negative_confidence)
            .otherwise(self.neutral_confidence)
        )


Ratings = pl.DataFrame | pl.LazyFrame
"""MovieLens ratings in memory, or a lazy query over them (``pl.scan_parquet``): a lazy one is
read column by column, only what the matrix needs, never as a whole frame."""


def interaction_query(
    movielens_ratings: Ratings | None,
    app_interactions: pl.DataFrame | None,
    config: ALSConfig,
) -> pl.LazyFrame:
    """The lazy form of :func:`interaction_table` (same columns, same rows)."""
    parts: list[pl.LazyFrame] = []
    if movielens_ratings is not None and (isinstance(movielens_ratings, pl.LazyFrame) or movielens_ratings.height):
        parts.append(
            movielens_ratings.lazy().select(
                pl.lit(1, dtype=pl.Int8).alias("src"),
                pl.col(ML_USER).cast(pl.Int64).alias("uid"),
                pl.col(C.TCONST),
                config.rating_confidence(pl.col(ML_RATING).cast(pl.Float64)).alias("confidence"),
                pl.col(ML_TIME).cast(pl.Int64).alias("ts"),
            )
        )
    if app_interactions is not None and app_interactions.height:
        value = pl.col(C.VALUE)
        parts.append(
            app_interactions.lazy().select(
                pl.lit(0, dtype=pl.Int8).alias("src"),
                pl.col(C.USER_ID).cast(pl.Int64).alias("uid"),
                pl.col(C.TCONST),
                pl.when(value == LIKE)
                .then(config.like_confidence)
                .when(value == SUPERLIKE)
                .then(config.superlike_confidence)
                .when(value == DISLIKE)
                .then(-config.dislike_confidence)
                .otherwise(0.0)
                .alias("confidence"),
                (
                    pl.col(C.TIMESTAMP).dt.epoch("s").cast(pl.Int64)
                    if C.TIMESTAMP in app_interactions.columns
                    else pl.lit(0, dtype=pl.Int64)
                ).alias("ts"),
            )
        )
    if not parts:
        return pl.LazyFrame(
            schema={"src": pl.Int8, "uid": pl.Int64, C.TCONST: pl.String, "confidence": pl.Float32, "ts": pl.Int64}
        )
    # one lazy query: polars fuses the weighting, the filter and the float32 cast instead of
    # materialising the table once per step (float32 is the matrix's own precision)
    table = pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
    if config.recency_half_life_days > 0:
        age_days = (pl.col("ts").max().over("src", "uid") - pl.col("ts")) / 86400.0
        weight = 1.0 + config.recency_boost * (pl.lit(0.5) ** (age_days / config.recency_half_life_days))
        table = table.with_columns(
            pl.when(pl.col("confidence") > 0)
            .then(pl.col("confidence") * weight)
            .otherwise(pl.col("confidence"))
            .alias("confidence")
        )
    return table.filter(pl.col("confidence") != 0).select(
        "src", "uid", C.TCONST, pl.col("confidence").cast(pl.Float32), "ts"
    )


def interaction_table(
    movielens_ratings: Ratings | None,
    app_interactions: pl.DataFrame | None,
    config: ALSConfig,
) -> pl.DataFrame:
    """``[src, uid, tconst, confidence]``: every non-zero training cell, one per user and title
    (``src`` 0 = app user, 1 = MovieLens user; the key of a row is ``"app:<uid>"`` /
    ``"ml:<uid>"``)."""
    return interaction_query(movielens_ratings, app_interactions, config).collect()


def interaction_matrix(
    movielens_ratings: Ratings | None,
    app_interactions: pl.DataFrame | None,
    config: ALSConfig,
) -> tuple[sp.csr_matrix, ItemIndex, ItemIndex]:
    """``build_matrix(interaction_table(...))`` (the same matrix and vocabularies) without the
    table: a first streaming pass over the query gives the vocabularies and the cell count, a
    second one the cells a batch at a time (an int64 user key, the title's code in an Enum of the
    sorted tconsts, the float32 confidence), written straight into the COO arrays at their final
    size (int32 rows and columns, float32 values), then one COO -> CSR conversion. Neither the
    ratings frame (when lazy), nor the tconst strings of every cell, nor any whole column of the
    table is ever held. Falls back to the table for user ids outside ``[0, 2^40)`` (the
    evaluation's negative app ids) and for duplicate cells (the latest interaction wins, by
    timestamp); raises :class:`ModelError` if a lazy source changed between the two passes."""
    query = interaction_query(movielens_ratings, app_interactions, config)
    users_q = query.select("src", "uid").unique()
    items_q = query.select(pl.col(C.TCONST).unique())
    pairs, item_frame, count = pl.collect_all([users_q, items_q, query.select(pl.len())], engine="streaming")
    if pairs.height and (int(pairs["uid"].min()) < 0 or int(pairs["uid"].max()) >= 1 << 40):  # type: ignore[arg-type]  # an Int64 column's min/max
        return build_matrix(query.collect())
    item_ids = item_frame[C.TCONST].sort()
    n = int(count.item())
    del item_frame, count
    distinct = np.sort((pairs["src"].cast(pl.Int64) * (1 << 40) + pairs["uid"]).to_numpy())
    del pairs
    cells = query.select(
        (pl.col("src").cast(pl.Int64) * (1 << 40) + pl.col("uid")).alias("ukey"),  # src << 40 | uid
        pl.col(C.TCONST).cast(pl.Enum(item_ids)).to_physical().cast(pl.Int32).alias("col"),
        "confidence",
    )
    # the COO arrays at their final size, filled a batch at a time: no column of the whole
    # table is ever held twice (the streaming engine's chunks, then numpy's contiguous copy)
    rows = np.empty(n, dtype=np.int32)
    cols = np.empty(n, dtype=np.int32)
    data = np.empty(n, dtype=np.float32)
    done = 0
    try:
        for batch in cells.collect_batches(chunk_size=_BATCH, engine="streaming"):
            end = done + batch.height
            if end > n:
                raise ModelError(_CHANGED)
            rows[done:end] = _user_rows(distinct, batch["ukey"].to_numpy())
            cols[done:end] = batch["col"].to_numpy()
            data[done:end] = batch["confidence"].to_numpy()
            done = end
    except pl.exceptions.InvalidOperationError as exc:  # a title outside the first pass's vocabulary
        raise ModelError(_CHANGED) from exc
    if done != n:
        raise ModelError(_CHANGED)
    matrix = sp.coo_matrix((data, (rows, cols)), shape=(len(distinct), len(item_ids))).tocsr()
    del rows, cols, data
    if matrix.nnz < n:  # duplicates were summed: keep the latest instead
        del matrix
        return build_matrix(query.collect())
    matrix.sort_indices()
    keys = [f"{'ml' if k >> 40 else 'app'}:{k & ((1 << 40) - 1)}" for k in distinct.tolist()]
    return matrix, ItemIndex(keys), ItemIndex(item_ids.to_list())


def build_matrix(table: pl.DataFrame) -> tuple[sp.csr_matrix, ItemIndex, ItemIndex]:
    """Users x items CSR (float32) from :func:`interaction_table`, with both vocabularies
    (sorted: app users then MovieLens users by id, items by tconst; so the same data gives the
    same matrix whatever the row order). One cell per user and title: if the input holds a
    title twice for a user (the catalogue build and the store already prevent it), the latest
    interaction wins."""
    matrix, users, items = _coded_matrix(table)
    if matrix.nnz < table.height:  # duplicates were summed: keep the latest instead
        latest = table.sort("ts").unique(subset=["src", "uid", C.TCONST], keep="last")
        matrix, users, items = _coded_matrix(latest)
    return matrix, users, items


_CHANGED = "The ratings changed while ALS was reading them; run `python -m recsys train` again."
_BATCH = 1 << 18  # cells per batch read from the interaction query
_CHUNK = 1 << 22  # rows per step where a per-row int64 temporary would double a column


def _coded_matrix(table: pl.DataFrame) -> tuple[sp.csr_matrix, ItemIndex, ItemIndex]:
    """The matrix straight from the table's columns: item codes from an Enum over the sorted
    tconsts (4 bytes a cell, no join), user codes by a binary search of ``src << 40 | uid`` in its
    sorted distinct values, float32 confidences, then one COO -> CSR conversion. The joins and
    copies this replaces held every column of the table twice: on 10M synthetic ratings
    (``bench/als_scale.py``'s generator, 60k users, 40k titles, 6.2M cells) the preparation's peak
    above the loaded ratings went from 902-983 MB to 406-418 MB (``bench/als_prep_memory.py``), its
    time from 3.2 s to 1.4 s on a quiet machine (6-7 s either way at load 10), for the same matrix
    and vocabularies (checked byte for byte, duplicates and app users included)."""
    item_ids = table[C.TCONST].unique().sort()
    cols = table[C.TCONST].cast(pl.Enum(item_ids)).to_physical().to_numpy()
    # the Enum's codes are UInt32 below 2^31: the int32 column indices are a view, not a copy
    cols = cols.view(np.int32) if cols.dtype == np.uint32 else cols.astype(np.int32, copy=False)
    uid = table["uid"].to_numpy()
    if not len(uid) or (uid.min() >= 0 and uid.max() < 1 << 40):
        # one int64 key per row (src << 40 | uid), built in place: half the memory of a pair of
        # columns, and no temporaries of the same size
        ukey = table["src"].to_numpy().astype(np.int64)
        ukey <<= 40
        ukey |= uid
        del uid
        distinct = np.sort(pl.Series(ukey).unique().to_numpy())
        rows = np.empty(len(ukey), dtype=np.int32)
        for start in range(0, len(ukey), _CHUNK):  # int64 positions a chunk at a time
            rows[start : start + _CHUNK] = np.searchsorted(distinct, ukey[start : start + _CHUNK])
        del ukey
        keys = [f"{'ml' if k >> 40 else 'app'}:{k & ((1 << 40) - 1)}" for k in distinct.tolist()]
    else:  # ids outside [0, 2^40) (the evaluation numbers app users below 0): sort the pairs
        src = table["src"].to_numpy().astype(np.int64)
        pairs, inverse = np.unique(np.stack([src, uid.astype(np.int64)], axis=1), axis=0, return_inverse=True)
        rows = inverse.reshape(-1).astype(np.int32)
        keys = [f"{'ml' if s_ else 'app'}:{u}" for s_, u in pairs.tolist()]
        distinct = pairs
    data = table["confidence"].to_numpy().astype(np.float32, copy=False)
    matrix = sp.coo_matrix((data, (rows, cols)), shape=(len(distinct), len(item_ids))).tocsr()
    del rows, cols, data
    matrix.sort_indices()
    return matrix, ItemIndex(keys), ItemIndex(item_ids.to_list())


def _user_rows(distinct: np.ndarray, ukey: np.ndarray) -> np.ndarray:
    """The int32 row of each cell's user key among the sorted ``distinct`` keys (int64
    positions a chunk at a time); a key missing from them (a lazy source read twice, changed in
    between) raises instead of landing on a neighbour's row."""
    rows = np.empty(len(ukey), dtype=np.int32)
    for start in range(0, len(ukey), _CHUNK):
        chunk = ukey[start : start + _CHUNK]
        found = np.searchsorted(distinct, chunk)
        if found.max() >= len(distinct) or (distinct[found] != chunk).any():
            raise ModelError(_CHANGED)
        rows[start : start + _CHUNK] = found
    return rows


def fold_in(model: Any, cols: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """implicit's ``model.recalculate_user(0, row)`` for the 1 x items row ``(cols ascending,
    conf)``: the same kernel on the same arrays, so the same factor bit for bit, without the two
    sparse matrices ``recalculate_user`` builds around it per call (the row, then ``alpha *
    row``; with their construction checks about a third of a fold-in's cost on the mirror). A
    model that is not implicit's CPU ALS goes through ``recalculate_user``."""
    from implicit.cpu import _als
    from implicit.cpu.als import AlternatingLeastSquares

    if type(model).recalculate_user is not AlternatingLeastSquares.recalculate_user:
        n_items = model.item_factors.shape[0]
        row = sp.csr_matrix((conf, cols, np.array([0, len(cols)])), shape=(1, n_items))
        folded: np.ndarray = model.recalculate_user(0, row)
        return folded
    data = conf * model.alpha if model.alpha != 1.0 else conf  # as implicit's alpha * user_items
    factors = np.zeros((1, model.factors), dtype=model.dtype)
    _als._least_squares(
        model.YtY,
        np.array([0, len(cols)], dtype=np.int32),
        cols.astype(np.int32),
        data.astype("float32"),
        factors,
        model.item_factors,
        model.regularization,
        num_threads=model.num_threads,
    )
    user: np.ndarray = factors[0]
    return user


def new_model(config: ALSConfig) -> Any:
    """An unfitted implicit ALS model on the CPU, seeded, with the config's hyperparameters."""
    from implicit.als import AlternatingLeastSquares

    with blas_single_thread():
        return AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=config.alpha,
            iterations=config.iterations,
            random_state=config.random_state,
            num_threads=config.num_threads,
            use_gpu=False,
        )


class ALSScorer(ScorerBase):
    """Wraps implicit's ALS and owns the id <-> index maps; see the module docstring."""

    name = "als"

    def __init__(self, config: ALSConfig | None = None) -> None:
        self.config = config or ALSConfig()
        self.model: Any = None
        self.items: ItemIndex | None = None
        self.users: ItemIndex | None = None
        self._yty: np.ndarray | None = None
        self._a0: np.ndarray | None = None

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, data: TrainingData, progress: Progress | None = None) -> Self:
        """Train on ``data.ratings`` (MovieLens ``[ml_user_id, tconst, rating, timestamp]``) and
        ``data.app`` (``[user_id, tconst, value, created_at]``); either may be None or empty."""
        return self.fit_interactions(data.ratings, data.app, progress)

    def fit_interactions(
        self,
        movielens_ratings: Ratings | None,
        app_interactions: pl.DataFrame | None = None,
        progress: Progress | None = None,
    ) -> Self:
        """:meth:`fit` from the two interaction frames directly (the MovieLens ratings may be a
        lazy query: :data:`Ratings`)."""
        matrix, users, items = interaction_matrix(movielens_ratings, app_interactions, self.config)
        if matrix.nnz == 0:
            raise ModelError("No interactions to train ALS on; run `python -m recsys build` first.")
        return self.fit_matrix(matrix, users, items, progress)

    def fit_matrix(
        self,
        matrix: sp.csr_matrix,
        users: ItemIndex,
        items: ItemIndex,
        progress: Progress | None = None,
    ) -> Self:
        """Train on a ready users x items confidence matrix with its vocabularies."""
        progress = progress or null_progress
        iterations = self.config.iterations
        progress("als: iterations", 0, iterations)

        def callback(iteration: int, elapsed: float, loss: float | None) -> None:
            progress("als: iterations", iteration + 1, iterations)

        model = new_model(self.config)
        with blas_single_thread():
            model.fit(matrix, show_progress=False, callback=callback)
        self._set(model, users, items)
        log.info("ALS: %d users x %d items, %d cells", matrix.shape[0], matrix.shape[1], matrix.nnz)
        return self

    def _set(self, model: Any, users: ItemIndex, items: ItemIndex) -> None:
        self.model, self.users, self.items = model, users, items
        # prime implicit's lazily cached Y^T Y so concurrent fold-ins only read the model
        with blas_single_thread():  # 0.42 s with OpenBLAS' threads on a busy machine, ~ms with one
            self._yty = model.YtY
        # Y^T Y + reg I, the part of every explanation's system that does not depend on the user
        self._a0 = self._yty + self.config.regularization * np.eye(model.item_factors.shape[1])
        # a fold-in solves for one user: an OpenMP team only adds wake-up latency (measured up
        # to 10 ms per request on a busy 2-core machine, against 0.1 ms single-threaded)
        model.num_threads = 1

    def _fitted(self) -> tuple[Any, ItemIndex, ItemIndex]:
        if self.model is None or self.items is None or self.users is None:
            raise ModelError("The ALS model is not fitted; run `python -m recsys train`.")
        return self.model, self.users, self.items

    @property
    def item_factors(self) -> np.ndarray:
        factors: np.ndarray = self._fitted()[0].item_factors  # implicit is untyped
        return factors

    # --- scoring -------------------------------------------------------------------------------

    def candidates(self, tconsts: Sequence[str]) -> Block:
        """The candidates' item factors (known ones, in order), gathered once."""
        model, _, items = self._fitted()
        positions = items.lookup(tconsts)
        known = positions >= 0
        factors = np.ascontiguousarray(model.item_factors[positions[known]])
        return Block(tconsts, positions, ALSBlock(factors, _slots(positions)))

    def user_items(self, profile: ProfileLike) -> sp.csr_matrix | None:
        """The profile as a 1 x items confidence row (app mapping); None when nothing is known."""
        _, _, items = self._fitted()
        row = self._row(Profile.of(profile))
        if row is None:
            return None
        cols, conf = row
        return sp.csr_matrix((conf, cols, np.array([0, len(cols)])), shape=(1, len(items)))

    def _row(self, prof: Profile) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`user_items` as its arrays: the known titles' columns (ascending) and their
        confidences (float32, zeros dropped); None when no title is known."""
        _, _, items = self._fitted()
        cols = items.lookup(prof.tconsts)
        known = cols >= 0
        if not known.any():
            return None
        conf = self.config.app_confidence(prof.values[known])
        keep = conf != 0
        cols, conf = cols[known][keep], conf[keep]
        order = np.argsort(cols)
        return cols[order], conf[order]

    def prepare(self, profile: Profile) -> ALSQuery | None:
        """The user's factor and confidence row, prepared once per request (see
        :class:`ALSQuery`); None when the profile has no signal."""
        model, users, _items = self._fitted()
        prof = Profile.of(profile)
        row = self._row(prof)
        user: np.ndarray | None = None
        if prof.user_key is not None and (urow := users.get(prof.user_key)) >= 0:
            user = model.user_factors[urow]
        elif row is not None and (row[1] > 0).any():
            with blas_single_thread():
                user = fold_in(model, *row)
        if user is None:
            return None
        return ALSQuery(self, user, row)

    query = prepare

    def user_vector(self, profile: ProfileLike) -> np.ndarray | None:
        """The user's factor: trained (when ``profile.user_key`` was trained) or folded in with
        ``recalculate_user``; None when the profile has no known positive title."""
        q = self.prepare(Profile.of(profile))
        return None if q is None else q.user

    def explain(self, profile: ProfileLike, candidates: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Contribution of each positively rated profile title to each candidate's score.

        Returns ``(liked tconsts known to the model, array candidates x those titles)``; rows of
        unknown candidates are NaN; see :meth:`ALSQuery.contributions`.
        """
        block = self.candidates(list(candidates))
        q = self.prepare(Profile.of(profile))
        if q is None:
            return [], np.full((len(block), 0), np.nan)
        names, contrib = q.contributions(block, np.arange(len(block)))
        contrib[block.positions < 0] = np.nan
        return names, contrib

    # --- artifacts -----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        model, users, items = self._fitted()
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(
            directory / "als.npz",
            item_factors=np.ascontiguousarray(model.item_factors),
            user_factors=np.ascontiguousarray(model.user_factors),
        )
        items.save(directory / "items.json")
        users.save(directory / "users.json")
        write_json(directory / "config.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, "als.npz", "items.json", "users.json", "config.json")
        scorer = cls(config_from_dict(ALSConfig, read_json(directory / "config.json")))
        arrays = load_npz(directory / "als.npz")
        if "item_factors" not in arrays or "user_factors" not in arrays:
            raise ModelError(f"ALS model in {directory} is incomplete; run `python -m recsys train`.")
        items = ItemIndex.load(directory / "items.json")
        users = ItemIndex.load(directory / "users.json")
        item_factors, user_factors = arrays["item_factors"], arrays["user_factors"]
        f = scorer.config.factors
        if item_factors.shape != (len(items), f) or user_factors.shape != (len(users), f):
            raise ModelError(f"ALS model in {directory} is inconsistent; run `python -m recsys train`.")
        model = new_model(scorer.config)
        model.item_factors = item_factors.astype(np.float32)
        model.user_factors = user_factors.astype(np.float32)
        scorer._set(model, users, items)
        return scorer


class ALSQuery:
    """One user prepared once per request: the factor ``x_u`` and the confidence row.

    ``scores(factors)`` is ``factors @ x_u``. ``contributions(factors)`` is the same
    decomposition as implicit's ``explain`` (Hu, Koren & Volinsky, section 5), for all targets at
    once: with ``A = Y^T C_u Y + reg I`` (one Cholesky factorisation, done on first use),
    ``s_ij = (y_i^T A^-1 y_j) c_uj`` for every liked title ``j``; a row sums to the folded-in
    score of its target. Disliked titles never contribute.
    """

    def __init__(self, scorer: ALSScorer, user: np.ndarray, row: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.scorer, self.user, self.row = scorer, user, row
        self._solved: np.ndarray | None = None  # A^-1 Y_liked^T * c_liked (f x liked)
        self._names: list[str] | None = None  # liked_tconsts, once per request
        self._factors: tuple[np.ndarray, np.ndarray] | None = None  # _liked_factors

    def scores(self, block: Block) -> np.ndarray:
        """``x_u . y_i`` per candidate of ``block``; NaN for titles the model never saw."""
        out = np.full(len(block), np.nan)
        out[block.positions >= 0] = block.data.factors @ self.user
        return out

    def fused(self, block: Block) -> ALSTerm:
        """This user's part of the fused blend over ``block`` (:mod:`recsys.models.engine`)."""
        return ALSTerm(block.data, (block.data.factors @ self.user).astype(np.float64))

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Each liked title's term of the score of ``block`` candidates ``positions`` (0 for
        titles the model never saw)."""
        names = self.liked_tconsts()
        out = np.zeros((len(positions), len(names)))
        slots = block.data.slots[positions]
        known = slots >= 0
        if known.any() and names:
            out[known] = self.contributions_of(block.data.factors[slots[known]])
        return names, out

    def item_similarity(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``(liked tconsts, array len(positions) x len(liked))``: the cosine of the item factors
        of each candidate and each liked title (people who liked one liked the other); NaN for
        candidates the model never saw. The reasons name a liked title only when it is high
        enough (:data:`recsys.models.reasons.ALS_NAMED`)."""
        names = self.liked_tconsts()
        out = np.full((len(positions), len(names)), np.nan)
        slots = block.data.slots[np.asarray(positions, dtype=np.int64)]
        known = slots >= 0
        if known.any() and names:
            liked, liked_norms = self._liked_factors()
            cand = block.data.factors[slots[known]].astype(np.float64)
            norms = np.linalg.norm(cand, axis=1)[:, None] * liked_norms[None, :]
            out[known] = (cand @ liked.T) / np.maximum(norms, 1e-12)
        return names, out

    def _liked_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """The liked titles' item factors (as :meth:`liked_tconsts` orders them) and their norms,
        once per request."""
        if self._factors is None:
            cols, conf = self._liked()
            liked = self.scorer.item_factors[cols[conf > 0]].astype(np.float64)
            self._factors = liked, np.linalg.norm(liked, axis=1)
        return self._factors

    def _liked(self) -> tuple[np.ndarray, np.ndarray]:
        if self.row is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols, data = self.row
        return cols, data.astype(np.float64) * self.scorer.config.alpha

    def liked_tconsts(self) -> list[str]:
        if self._names is None:
            cols, conf = self._liked()
            assert self.scorer.items is not None  # a query exists only for a fitted scorer
            ids = self.scorer.items.ids
            self._names = [str(ids[c]) for c in cols[conf > 0].tolist()]
        return list(self._names)

    def contributions_of(self, factors: np.ndarray) -> np.ndarray:
        """The contribution matrix (targets x liked titles) for the targets' item factors."""
        if self._solved is None:
            # A is symmetric, so s_ij = y_i^T (A^-1 y_j c_j): one solve per request, then every
            # target of every section costs one small matrix product
            cols, conf = self._liked()
            y = self.scorer.item_factors[cols].astype(np.float64)
            assert self.scorer._a0 is not None  # set by fit / load, like item_factors
            a = self.scorer._a0 + (y * (np.abs(conf) - 1.0)[:, None]).T @ y
            liked = conf > 0
            # scipy.linalg.cho_factor / cho_solve (check_finite=False) without their wrappers: the
            # same LAPACK calls with the same arguments (~25 us of argument checks a request)
            c, info = lapack.dpotrf(a, lower=False, clean=False)
            if info != 0:
                raise scipy.linalg.LinAlgError(f"ALS explanation: the system is not positive definite ({info})")
            x, info = lapack.dpotrs(c, y[liked].T, lower=False)
            if info != 0:
                raise ValueError(f"ALS explanation: illegal value in argument {-info} of potrs")
            self._solved = np.asarray(x) * conf[liked][None, :]
        solved: np.ndarray = np.asarray(factors, dtype=np.float64) @ self._solved
        return solved


@dataclass(frozen=True)
class ALSBlock:
    """The known candidates' item factors (in order) and, per block index, the row among them
    (``-1`` for titles the model never saw)."""

    factors: np.ndarray
    slots: np.ndarray
    known: np.ndarray = field(init=False, repr=False)  # block indices of the known candidates

    def __post_init__(self) -> None:
        object.__setattr__(self, "known", np.flatnonzero(self.slots >= 0))


def _slots(positions: np.ndarray) -> np.ndarray:
    known = positions >= 0
    slots = np.full(len(positions), -1, dtype=np.int64)
    slots[known] = np.arange(int(known.sum()))
    return slots


class ALSTerm:
    """:meth:`ALSQuery.scores` as a fused term: the dot products of the known candidates only
    (MovieLens knows 12% of the films), their moments from those."""

    def __init__(self, data: ALSBlock, raw: np.ndarray) -> None:
        self.data, self.raw = data, raw

    def moments(self) -> tuple[int, float, float]:
        return len(self.raw), float(self.raw.sum()), float(np.dot(self.raw, self.raw))

    def at(self, positions: np.ndarray) -> np.ndarray:
        slots = self.data.slots[np.asarray(positions, dtype=np.int64)]
        ok = slots >= 0
        out = np.full(len(slots), np.nan)
        out[ok] = self.raw[slots[ok]]
        return out

    def add_to(self, out: np.ndarray, coef: float, mean: float) -> np.ndarray | None:
        if coef:
            out[self.data.known] += (self.raw - mean) * coef
        return self.data.known
