"""Genre taste scorer: the user's genre affinity learned from every like, as a score per title.

MovieLens teaches ALS nothing about TV, so the TV section needs a signal that carries a taste
across from films; this is it (and it also sharpens films for new users).

**Base rates.** ``b_g`` is the share of genre ``g`` among the catalogue's titles, each title
weighted by ``ln(1 + votes)`` so the base reflects what people watch rather than the long tail
(a title with ``k`` genres spreads its weight over them).

**Affinity.** From the profile, ``n_g = sum_j w_j [g in j] / |genres(j)|`` with ``w_j`` the value
of rated title ``j`` (like 1, superlike 2; a dislike counts ``-dislike_weight``), plus
``favourite_weight`` per favourite genre chosen at onboarding; ``N = sum_j |w_j|`` (likes and
favourites). Smoothed towards the base with ``alpha`` pseudo-likes:

    a_g = ln( max(n_g + alpha b_g, eps) / ((N + alpha) b_g) )

so ``a_g > 0`` is a lift over the base rate (a crime fan's Crime), ``a_g < 0`` a genre the user
does not pick, and a profile with no signal has ``a_g = 0`` everywhere (no query at all).

**Score.** ``s_i = sum_{g in i} a_g / sqrt(|genres(i)|)``: a title made of the user's genres
scores high, one diluted by genres the user avoids scores lower. Titles without genres score 0.
Example: a profile of five crime dramas gives Crime the largest lift; "Crime, Drama" outranks
"Comedy, Romance" in both sections. The query names the title's best genre for the reasons
("Because you like crime films").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models import compiled
from recsys.models.base import (
    Block,
    ItemIndex,
    Profile,
    ScorerBase,
    TrainingData,
    config_from_dict,
    config_to_dict,
    load_npz,
    read_json,
    require,
    write_json,
)
from recsys.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TasteConfig:
    """``alpha``: pseudo-likes at the base rate (smoothing); ``dislike_weight``: how much a
    dislike counts against its genres; ``favourite_weight``: likes one favourite genre is worth;
    ``max_profile``: most recent rated titles used."""

    alpha: float = 3.0
    dislike_weight: float = 0.5
    favourite_weight: float = 0.5
    max_profile: int = 50


class GenreTasteScorer(ScorerBase):
    """Scores titles by the user's genre affinity; see the module docstring."""

    name = "taste"

    def __init__(self, config: TasteConfig | None = None) -> None:
        self.config = config or TasteConfig()
        self.items: ItemIndex | None = None
        self.genres: list[str] = []
        self.genre_index: dict[str, int] = {}  # genre -> column of ``genres``
        self.matrix: sp.csr_matrix | None = None  # items x genres, 1 / sqrt(|genres|) per cell
        self.share: sp.csr_matrix | None = None  # items x genres, 1 / |genres| per cell
        self.base: np.ndarray | None = None  # b_g

    def fit(self, data: TrainingData, progress: Progress | None = None) -> Self:
        titles = data.titles
        if titles.height == 0:
            raise ModelError("The catalogue is empty; run `python -m recsys build` first.")
        lists = (
            [list(g or ()) for g in titles[C.GENRES].to_list()]
            if C.GENRES in titles.columns
            else [[] for _ in range(titles.height)]
        )
        vocab = sorted({g for gs in lists for g in gs})
        col = {g: i for i, g in enumerate(vocab)}
        rows, cols, counts = [], [], []
        for i, gs in enumerate(lists):
            uniq = sorted(set(gs))
            rows += [i] * len(uniq)
            cols += [col[g] for g in uniq]
            counts += [len(uniq)] * len(uniq)
        n = np.asarray(counts, dtype=np.float64)
        shape = (titles.height, len(vocab))
        self.matrix = sp.csr_matrix((1.0 / np.sqrt(n), (rows, cols)), shape=shape)
        self.share = sp.csr_matrix((1.0 / n, (rows, cols)), shape=shape)
        votes = (
            titles[C.VOTES].cast(pl.Float64).fill_null(0.0).to_numpy()
            if C.VOTES in titles.columns
            else np.ones(titles.height)
        )
        weight = np.log1p(np.clip(votes, 0.0, None))
        mass = np.asarray(self.share.T @ weight).ravel()
        total = float(mass.sum())
        self.base = mass / total if total > 0 else np.full(len(vocab), 1.0 / max(len(vocab), 1))
        self.base = np.clip(self.base, 1e-6, None)
        self.genres = vocab
        self.genre_index = {g: i for i, g in enumerate(vocab)}
        self.items = ItemIndex(titles[C.TCONST].to_list())
        return self

    def _fitted(self) -> tuple[ItemIndex, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        if self.items is None or self.matrix is None or self.share is None or self.base is None:
            raise ModelError("The taste model is not fitted; run `python -m recsys train`.")
        return self.items, self.matrix, self.share, self.base

    def candidates(self, tconsts: Sequence[str]) -> Block:
        """The known candidates grouped by genre set: ``TasteBlock(table, codes)`` with one row
        of ``table`` per distinct genre set (a few hundred for a whole section), so a request
        costs one tiny product and a gather."""
        items, matrix, _, _ = self._fitted()
        positions = items.lookup(tconsts)
        rows = sp.csr_matrix(matrix[positions[positions >= 0]])
        codes, first = _genre_sets(rows, len(self.genres))
        table = rows[first].toarray() if len(first) else np.zeros((0, len(self.genres)))
        # int32 codes: the blend's gather is compiled (compiled.gather_add) and reads half as much
        return Block(tconsts, positions, TasteBlock(table, codes.astype(np.int32), np.flatnonzero(positions >= 0)))

    def affinity(self, profile: Profile) -> np.ndarray | None:
        """``a_g`` per genre (in ``self.genres`` order); None without any signal."""
        items, _, share, base = self._fitted()
        cfg = self.config
        tconsts, values = profile.tconsts[-cfg.max_profile :], profile.values[-cfg.max_profile :]
        rows = items.lookup(tconsts)
        known = rows >= 0
        w = np.where(values > 0, values, -cfg.dislike_weight * np.abs(values))[known]
        counts = _weighted_columns(share, rows[known], w, len(base))
        total = float(np.abs(w[w > 0]).sum())
        index = self.genre_index
        for g in profile.genres:
            if g in index:
                counts[index[g]] += cfg.favourite_weight
                total += cfg.favourite_weight
        if total <= 0:
            return None
        return np.log(np.maximum(counts + cfg.alpha * base, 1e-3 * base) / ((total + cfg.alpha) * base))

    def prepare(self, profile: Profile) -> TasteQuery | None:
        affinity = self.affinity(profile)
        return None if affinity is None else TasteQuery(self, affinity)

    def top_genres(self, profile: Profile, n: int = 3) -> list[str]:
        """The ``n`` genres with the largest positive lift, best first."""
        a = self.affinity(profile)
        if a is None:
            return []
        order = np.argsort(-a, kind="stable")
        return [self.genres[i] for i in order[:n] if a[i] > 0]

    def save(self, directory: Path) -> None:
        items, _matrix, share, base = self._fitted()
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(
            directory / "taste.npz",
            base=base,
            indptr=share.indptr,
            indices=share.indices,
            counts=np.diff(share.indptr),
        )
        items.save(directory / "items.json")
        write_json(directory / "genres.json", self.genres)
        write_json(directory / "config.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, "taste.npz", "items.json", "genres.json", "config.json")
        scorer = cls(config_from_dict(TasteConfig, read_json(directory / "config.json")))
        arrays = load_npz(directory / "taste.npz")
        try:
            items = ItemIndex.load(directory / "items.json")
            genres = list(read_json(directory / "genres.json"))
            indptr, indices, base = arrays["indptr"], arrays["indices"], arrays["base"]
            counts = np.repeat(np.diff(indptr), np.diff(indptr)).astype(np.float64)
            shape = (len(items), len(genres))
            scorer.share = sp.csr_matrix((1.0 / np.maximum(counts, 1), indices, indptr), shape=shape)
            scorer.matrix = sp.csr_matrix((1.0 / np.sqrt(np.maximum(counts, 1)), indices, indptr), shape=shape)
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(
                f"Taste model in {directory} is inconsistent ({exc}); run `python -m recsys train`."
            ) from exc
        if len(base) != len(genres):
            raise ModelError(f"Taste model in {directory} is inconsistent; run `python -m recsys train`.")
        scorer.items, scorer.genres, scorer.base = items, genres, base.astype(np.float64)
        scorer.genre_index = {g: i for i, g in enumerate(genres)}
        return scorer


@dataclass(frozen=True)
class TasteBlock:
    """Candidates by genre set: ``table`` (sets x genres, the scorer's row values) and
    ``codes`` (known candidate -> its set's row)."""

    table: np.ndarray
    codes: np.ndarray
    #: block indices of the known candidates, and the number of candidates per genre set
    known: np.ndarray
    counts: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", np.bincount(self.codes, minlength=len(self.table)).astype(np.float64))


class TasteQuery:
    """One profile's genre affinities; scores are ``block rows @ a``."""

    def __init__(self, scorer: GenreTasteScorer, affinity: np.ndarray) -> None:
        self.scorer, self.affinity = scorer, affinity

    def scores(self, block: Block) -> np.ndarray:
        data: TasteBlock = block.data
        out = np.full(len(block), np.nan)
        out[block.positions >= 0] = (data.table @ self.affinity)[data.codes]
        return out

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return [], np.zeros((len(positions), 0))

    def fused(self, block: Block) -> TasteTerm:
        """This profile's part of the fused blend over ``block`` (:mod:`recsys.models.engine`)."""
        return TasteTerm(block, np.asarray(block.data.table @ self.affinity, dtype=np.float64))

    def best_genre(self, genres: Sequence[str]) -> str | None:
        """The title genre with the largest positive lift (for a "you like ..." reason)."""
        index = self.scorer.genre_index
        best, best_a = None, 0.0
        for g in genres:
            i = index.get(g)
            if i is not None and self.affinity[i] > best_a:
                best, best_a = g, float(self.affinity[i])
        return best


class TasteTerm:
    """:meth:`TasteQuery.scores` as a fused term: one value per genre set (``per_set``), moments
    from the number of candidates per set, one gather into the blend."""

    def __init__(self, block: Block, per_set: np.ndarray) -> None:
        self.block, self.data, self.per_set = block, block.data, per_set

    def moments(self) -> tuple[int, float, float]:
        v, c = self.per_set, self.data.counts
        return len(self.data.codes), float(v @ c), float((v * v) @ c)

    def at(self, positions: np.ndarray) -> np.ndarray:
        out = np.full(len(positions), np.nan)
        known = self.block.positions[positions] >= 0
        # the known candidates' rank among the known ones is their code's index
        slot = np.searchsorted(self.data.known, np.asarray(positions)[known])
        out[known] = self.per_set[self.data.codes[slot]]
        return out

    def add_to(self, out: np.ndarray, coef: float, mean: float) -> np.ndarray | None:
        full = len(self.data.codes) == len(out)
        if coef:  # one compiled pass (the gather and the add) over the section
            at = _NONE_I if full else self.data.known
            table = (self.per_set - mean) * coef
            compiled.gather_add(out, at, table, self.data.codes)
        return None if full else self.data.known


_NONE_I = np.zeros(0, dtype=np.int64)


def _weighted_columns(matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray, width: int) -> np.ndarray:
    """``matrix[rows].T @ weights`` (a row may repeat) from the CSR arrays with one bincount:
    about 10 us for a 50-title profile where scipy's row indexing and product cost ~60 us."""
    starts = matrix.indptr[rows].astype(np.int64)
    lens = matrix.indptr[rows + 1].astype(np.int64) - starts
    take = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
    values = matrix.data[take] * np.repeat(weights, lens)
    # float64 even when empty (numpy's bincount of nothing is int64)
    return np.bincount(matrix.indices[take], weights=values, minlength=width).astype(np.float64, copy=False)


def _genre_sets(rows: sp.csr_matrix, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(code per row, a row of each code)``: rows with the same set of genre columns share a
    code. The set is packed into integers (64 genres per word, one pass over the nonzeros)
    instead of a tuple per row (0.64 s for the mirror's two sections at each model load, ~10 ms
    now)."""
    n = rows.shape[0]
    words = max(1, -(-width // 64))
    keys = np.zeros((n, words), dtype=np.uint64)
    row_of = np.repeat(np.arange(n), np.diff(rows.indptr))
    cols = rows.indices.astype(np.int64)
    np.bitwise_or.at(keys, (row_of, cols // 64), np.left_shift(np.uint64(1), (cols % 64).astype(np.uint64)))
    _, first, codes = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), first.astype(np.int64)
