"""Content scorer: TF-IDF over each title's metadata, cosine to the user's weighted mean vector.

Each title becomes a bag of prefixed tokens -- genres (``g:drama``), title type (``t:movie``),
decade (``d:1990``), runtime band (``r:90-120``), title words (``w:godfather``), directors
(``dir:...``), writers (``wri:...``) and the leading cast (``cast:...``, when the people files were
downloaded). scikit-learn's ``TfidfVectorizer`` weights them (rare directors count more than
"Drama"); each field's columns are then scaled by its weight in :class:`TfidfConfig` and every
row is L2-normalised, so ``x_i . x_j`` is the cosine similarity of two titles.

A profile is the weighted mean ``p = sum_j v_j x_j / sum_j |v_j|`` of the vectors of the titles
the user rated, with the app values as weights (like 1, superlike 2, dislike -1). The score of a
candidate ``i`` is the cosine ``x_i . p / |p|`` in ``[-1, 1]``; it decomposes exactly into one
term per rated title, ``v_j (x_i . x_j) / |sum_j v_j x_j|``, which :meth:`TfidfScorer.explain`
returns for the reasons shown on the cards.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

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
    read_json,
    require,
    write_json,
)
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TfidfConfig:
    """How titles become TF-IDF vectors.

    ``min_df``: a token must occur in at least this many titles (a director with one title cannot
    relate two titles). ``max_cast``: leading cast members used per title. The ``*_weight`` fields
    scale each field's columns before the row normalisation (0 drops the field).
    """

    min_df: int = 2
    sublinear_tf: bool = True
    max_cast: int = 4
    genre_weight: float = 1.0
    type_weight: float = 0.5
    decade_weight: float = 0.5
    runtime_weight: float = 0.3
    word_weight: float = 0.6
    director_weight: float = 1.0
    writer_weight: float = 0.8
    cast_weight: float = 0.7

    def field_weight(self, prefix: str) -> float:
        return {
            "g": self.genre_weight,
            "t": self.type_weight,
            "d": self.decade_weight,
            "r": self.runtime_weight,
            "w": self.word_weight,
            "dir": self.director_weight,
            "wri": self.writer_weight,
            "cast": self.cast_weight,
        }[prefix]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _slug(name: str) -> str:
    return _SPACE.sub("_", name.strip().lower())


def _runtime_band(minutes: int | None) -> str | None:
    if minutes is None or minutes <= 0:
        return None
    for upper, label in ((30, "0-30"), (60, "30-60"), (90, "60-90"), (120, "90-120"), (150, "120-150")):
        if minutes <= upper:
            return label
    return "150+"


def title_tokens(titles: pl.DataFrame, config: TfidfConfig) -> list[list[str]]:
    """One token list per row of ``titles`` (the catalogue frame); missing columns are skipped."""
    n = titles.height

    def col(name: str) -> list:
        return titles[name].to_list() if name in titles.columns else [None] * n

    genres, ttype, year, runtime, title = (
        col(C.GENRES), col(C.TITLE_TYPE), col(C.START_YEAR), col(C.RUNTIME), col(C.TITLE)
    )
    directors, writers, cast = col("directors"), col("writers"), col("cast")
    docs: list[list[str]] = []
    for i in range(n):
        tokens: list[str] = [f"g:{g.lower()}" for g in genres[i] or ()]
        if ttype[i]:
            tokens.append(f"t:{ttype[i]}")
        if year[i]:
            tokens.append(f"d:{int(year[i]) // 10 * 10}")
        band = _runtime_band(runtime[i])
        if band:
            tokens.append(f"r:{band}")
        for word in _WORD.findall((title[i] or "").lower()):
            if len(word) > 1 and word not in ENGLISH_STOP_WORDS and not word.isdigit():
                tokens.append(f"w:{word}")
        tokens.extend(f"dir:{_slug(p)}" for p in directors[i] or ())
        tokens.extend(f"wri:{_slug(p)}" for p in writers[i] or ())
        tokens.extend(f"cast:{_slug(p)}" for p in (cast[i] or ())[: config.max_cast])
        docs.append(tokens)
    return docs


class TfidfScorer(ScorerBase):
    """TF-IDF content scorer; see the module docstring for the model."""

    name = "content"

    def __init__(self, config: TfidfConfig | None = None) -> None:
        self.config = config or TfidfConfig()
        self.items: ItemIndex | None = None
        self.features: list[str] = []
        self.matrix: sp.csr_matrix | None = None  # items x features, rows L2-normalised, float32

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, data: TrainingData | pl.DataFrame, progress: Progress | None = None) -> Self:
        """Vectorise every title of the catalogue (``data.titles``; needs at least ``tconst``)."""
        titles = data.titles if isinstance(data, TrainingData) else data
        progress = progress or null_progress
        if titles.height == 0:
            raise ModelError("The catalogue is empty; run `python -m recsys build` first.")
        progress("content: tokens", 0, titles.height)
        docs = title_tokens(titles, self.config)
        progress("content: tokens", titles.height, titles.height)
        min_df = self.config.min_df if titles.height >= self.config.min_df else 1
        vectorizer = TfidfVectorizer(
            analyzer=_identity,
            min_df=min_df,
            sublinear_tf=self.config.sublinear_tf,
            norm=None,
            dtype=np.float32,
        )
        try:
            raw = vectorizer.fit_transform(docs)
        except ValueError:  # every token below min_df: fall back to all tokens
            vectorizer.set_params(min_df=1)
            raw = vectorizer.fit_transform(docs)
        features = vectorizer.get_feature_names_out().tolist()
        scale = np.asarray(
            [self.config.field_weight(f.split(":", 1)[0]) for f in features], dtype=np.float32
        )
        matrix = sp.csr_matrix(raw @ sp.diags(scale, format="csr"), dtype=np.float32)
        matrix.eliminate_zeros()
        self.matrix = _l2_rows(matrix)
        self.features = features
        self.items = ItemIndex(titles[C.TCONST].to_list())
        log.info("TF-IDF: %d titles x %d features", *self.matrix.shape)
        return self

    # --- scoring -------------------------------------------------------------------------------

    def _fitted(self) -> tuple[ItemIndex, sp.csr_matrix]:
        if self.items is None or self.matrix is None:
            raise ModelError("The content model is not fitted; run `python -m recsys train`.")
        return self.items, self.matrix

    def candidates(self, tconsts: Sequence[str]) -> Block:
        """The candidates' TF-IDF rows (known ones, in order), sliced once."""
        items, matrix = self._fitted()
        positions = items.lookup(tconsts)
        return Block(tconsts, positions, sp.csr_matrix(matrix[positions[positions >= 0]]))

    def prepare(self, profile: Profile) -> ContentQuery | None:
        return self.query(profile)

    def similar(self, tconst: str, block: Block) -> np.ndarray:
        """Cosine of every ``block`` candidate to ``tconst`` (NaN for unknown ones; all NaN when
        ``tconst`` is unknown)."""
        items, matrix = self._fitted()
        out = np.full(len(block), np.nan)
        row = items.get(tconst)
        if row >= 0:
            out[block.positions >= 0] = (block.data @ matrix[row].T).toarray().ravel()
        return out

    def query(self, profile: ProfileLike) -> ContentQuery | None:
        """The profile's precomputed vector (see :class:`ContentQuery`); None without signal
        (no title known to the model, or the weighted vectors cancel out)."""
        items, matrix = self._fitted()
        prof = Profile.of(profile)
        rows = items.lookup(prof.tconsts)
        known = rows >= 0
        if not known.any():
            return None
        rows, weights = rows[known], prof.values[known]
        take, lens = _row_spans(matrix, rows)
        indices = matrix.indices[take]
        data = matrix.data[take]
        rated = sp.csr_matrix(
            (data, indices, np.concatenate([[0], np.cumsum(lens)])), shape=(len(rows), matrix.shape[1])
        )
        # sum_j v_j x_j without a sparse transpose: one weighted bincount over the rated entries
        summed = np.bincount(
            indices, weights=data * np.repeat(weights, lens), minlength=matrix.shape[1]
        )
        norm = float(np.linalg.norm(summed))
        if norm <= 1e-12:
            return None
        tconsts = [t for t, k in zip(prof.tconsts, known, strict=True) if k]
        return ContentQuery((summed / norm).astype(np.float32), norm, tconsts, weights, rated)

    def profile_vector(self, profile: ProfileLike) -> tuple[np.ndarray, float] | None:
        """The unit profile direction ``p / |p|`` (dense, float32) and ``|sum_j v_j x_j|``;
        ``None`` when the profile has no signal."""
        q = self.query(profile)
        return None if q is None else (q.vector, q.norm)

    def explain(self, profile: ProfileLike, candidates: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Per rated title contributions to each candidate's score.

        Returns ``(profile tconsts known to the model, array candidates x those titles)``; row
        ``i`` sums to ``score(profile, candidates)[i]`` (NaN rows for unknown candidates).
        """
        items, matrix = self._fitted()
        prof = Profile.of(profile)
        q = self.query(prof)
        positions = items.lookup(candidates)
        if q is None:
            rated = [t for t in prof.tconsts if t in items]
            return rated, np.full((len(positions), len(rated)), np.nan)
        out = np.full((len(positions), len(q.tconsts)), np.nan)
        known = positions >= 0
        out[known] = q.contributions_at(matrix, positions[known])
        return q.tconsts, out

    # --- artifacts -----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        items, matrix = self._fitted()
        directory.mkdir(parents=True, exist_ok=True)
        sp.save_npz(directory / "tfidf.npz", matrix, compressed=False)
        items.save(directory / "items.json")
        write_json(directory / "features.json", self.features)
        write_json(directory / "config.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, "tfidf.npz", "items.json", "features.json", "config.json")
        scorer = cls(config_from_dict(TfidfConfig, read_json(directory / "config.json")))
        try:
            scorer.matrix = sp.load_npz(directory / "tfidf.npz").tocsr().astype(np.float32)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Cannot read {directory / 'tfidf.npz'}: {exc}; run `python -m recsys train`."
            ) from exc
        scorer.items = ItemIndex.load(directory / "items.json")
        scorer.features = read_json(directory / "features.json")
        if scorer.matrix.shape != (len(scorer.items), len(scorer.features)):
            raise ModelError(f"Content model in {directory} is inconsistent; run `python -m recsys train`.")
        return scorer


def _row_spans(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``matrix.data`` / ``indices`` of the entries of ``rows`` (in row order), and
    each row's length: a CSR row gather without scipy's indexing overhead."""
    starts = matrix.indptr[rows].astype(np.int64)
    lens = matrix.indptr[rows + 1].astype(np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), lens
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return np.arange(total, dtype=np.int64) + offsets, lens


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ matrix, dtype=np.float32)


class ContentQuery:
    """One profile, prepared once per request: the unit vector and the rated titles' rows.

    ``scores(rows)`` is the cosine of each given TF-IDF row to the profile;
    ``contributions(rows)`` splits each score into one term per rated title,
    ``v_j (x_i . x_j) / |sum_j v_j x_j|`` (columns in ``tconsts`` order).
    """

    __slots__ = ("_dense", "norm", "rated", "tconsts", "vector", "weights")

    def __init__(
        self, vector: np.ndarray, norm: float, tconsts: list[str], weights: np.ndarray, rated: sp.csr_matrix
    ) -> None:
        self.vector, self.norm, self.tconsts, self.weights, self.rated = vector, norm, tconsts, weights, rated
        self._dense: tuple[np.ndarray, np.ndarray] | None = None

    def scores(self, block: Block) -> np.ndarray:
        out = np.full(len(block), np.nan)
        out[block.positions >= 0] = block.data @ self.vector
        return out

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Per liked title, its term of the cosine of ``block`` candidates ``positions``."""
        slots = np.full(len(block), -1, dtype=np.int64)
        known = block.positions >= 0
        slots[known] = np.arange(int(known.sum()))
        rows = slots[positions]
        out = np.zeros((len(positions), len(self.tconsts)))
        hit = rows >= 0
        if hit.any():
            out[hit] = self.contributions_at(block.data, rows[hit])
        liked = self.weights > 0
        return [t for t, keep in zip(self.tconsts, liked, strict=True) if keep], out[:, liked]

    def _weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """The rated rows as a dense block over the profile's own features (few hundred),
        pre-multiplied by ``v_j / norm``; built on first use."""
        if self._dense is None:
            rated = self.rated
            cols = np.unique(rated.indices)
            dense = np.zeros((rated.shape[0], len(cols)), dtype=np.float64)
            rows = np.repeat(np.arange(rated.shape[0]), np.diff(rated.indptr))
            dense[rows, np.searchsorted(cols, rated.indices)] = rated.data
            self._dense = (cols, dense * (self.weights / self.norm)[:, None])
        return self._dense

    def contributions_at(self, matrix: sp.csr_matrix, positions: np.ndarray) -> np.ndarray:
        """:meth:`contributions` for ``matrix[positions]`` without slicing the sparse matrix:
        only the features the profile has can contribute, so each target row is read straight
        from the CSR arrays into a small dense block."""
        cols, weighted = self._weighted()
        out = np.zeros((len(positions), len(cols)))
        if len(cols) and len(positions):
            take, lens = _row_spans(matrix, positions)
            if len(take):
                row = np.repeat(np.arange(len(positions)), lens)
                idx = matrix.indices[take]
                pos = np.minimum(np.searchsorted(cols, idx), len(cols) - 1)
                hit = cols[pos] == idx
                out[row[hit], pos[hit]] = matrix.data[take[hit]]
        return out @ weighted.T
