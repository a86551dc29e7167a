"""Popularity scorer: the baseline, the third hybrid signal and the cold-start ranking.

Two sources (``PopularityConfig.source``):

- ``"imdb"`` (default, used by the app): the catalogue's ``popularity`` column, the Bayesian-
  weighted IMDb rating times log votes ``(v/(v+m) R + m/(v+m) C) ln(1 + v)`` computed at build
  time (see :mod:`recsys.catalog`). Covers every title, movies and TV alike.
- ``"interactions"``: ``ln(1 + n)`` with ``n`` the number of positive interactions (MovieLens
  rating >= ``positive_rating``, app like / superlike) per title; the classic "most popular"
  baseline of offline evaluation on MovieLens.

The score ignores the profile; NaN for titles the scorer does not know.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models.base import (
    Block,
    ItemIndex,
    Profile,
    ScorerBase,
    TrainingData,
    config_from_dict,
    config_to_dict,
    gather,
    has_rows,
    load_npz,
    read_json,
    require,
    write_json,
)
from recsys.models.engine import DenseTerm
from recsys.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PopularityConfig:
    source: Literal["imdb", "interactions"] = "imdb"
    positive_rating: float = 4.0


class PopularityScorer(ScorerBase):
    """Scores every known title by its popularity; see the module docstring."""

    name = "popularity"

    def __init__(self, config: PopularityConfig | None = None) -> None:
        self.config = config or PopularityConfig()
        self.items: ItemIndex | None = None
        self.values: np.ndarray | None = None

    def fit(self, data: TrainingData, progress: Progress | None = None) -> Self:
        """Fit from ``data.titles`` (source "imdb") or from ``data.ratings`` + ``data.app``
        (source "interactions")."""
        return self.fit_frames(data.titles, data.ratings, data.app)

    def fit_frames(
        self,
        titles: pl.DataFrame | None = None,
        movielens_ratings: pl.DataFrame | pl.LazyFrame | None = None,
        app_interactions: pl.DataFrame | None = None,
    ) -> Self:
        """:meth:`fit` from the frames directly."""
        if self.config.source == "imdb":
            if titles is None or titles.height == 0:
                raise ModelError("The catalogue is empty; run `python -m recsys build` first.")
            frame = titles.select(C.TCONST, pl.col(C.POPULARITY).cast(pl.Float64).fill_null(0.0))
            self.items = ItemIndex(frame[C.TCONST].to_list())
            self.values = frame[C.POPULARITY].to_numpy().astype(np.float64)
            return self
        parts: list[pl.LazyFrame] = []
        if movielens_ratings is not None and has_rows(movielens_ratings):
            parts.append(
                movielens_ratings.lazy().filter(pl.col("rating") >= self.config.positive_rating).select(C.TCONST)
            )
        if app_interactions is not None and app_interactions.height:
            parts.append(app_interactions.lazy().filter(pl.col(C.VALUE) > 0).select(C.TCONST))
        if not parts:
            raise ModelError("No interactions to count popularity from; run `python -m recsys build`.")
        counts = pl.concat(parts).group_by(C.TCONST).len().sort(C.TCONST).collect(engine="streaming")
        self.items = ItemIndex(counts[C.TCONST].to_list())
        self.values = np.log1p(counts["len"].to_numpy().astype(np.float64))
        return self

    def _fitted(self) -> tuple[ItemIndex, np.ndarray]:
        if self.items is None or self.values is None:
            raise ModelError("The popularity model is not fitted; run `python -m recsys train`.")
        return self.items, self.values

    def candidates(self, tconsts: Sequence[str]) -> Block:
        items, values = self._fitted()
        positions = items.lookup(tconsts)
        return Block(tconsts, positions, gather(values, positions))

    def prepare(self, profile: Profile) -> PopularityQuery:
        """The same query for everyone: popularity ignores the profile."""
        return _QUERY

    def values_of(self, candidates: Sequence[str]) -> np.ndarray:
        """Popularity of each candidate; NaN for unknown titles."""
        items, values = self._fitted()
        return gather(values, items.lookup(candidates))

    def save(self, directory: Path) -> None:
        items, values = self._fitted()
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "popularity.npz", values=values)
        items.save(directory / "items.json")
        write_json(directory / "config.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, "popularity.npz", "items.json", "config.json")
        scorer = cls(config_from_dict(PopularityConfig, read_json(directory / "config.json")))
        scorer.items = ItemIndex.load(directory / "items.json")
        values = load_npz(directory / "popularity.npz").get("values")
        if values is None or len(values) != len(scorer.items):
            raise ModelError(f"Popularity model in {directory} is inconsistent; run `python -m recsys train`.")
        scorer.values = values.astype(np.float64)
        return scorer


class PopularityQuery:
    """Scores are the gathered popularity values; nothing to explain per liked title."""

    def scores(self, block: Block) -> np.ndarray:
        return np.array(block.data, dtype=np.float64, copy=True)

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return [], np.zeros((len(positions), 0))

    def fused(self, block: Block) -> DenseTerm:
        """The block's values as a fused term, built once per block (the same for everyone)."""
        cached = _TERMS.get(id(block))
        if cached is not None and cached[0] is block:
            return cached[1]
        term = DenseTerm(np.asarray(block.data, dtype=np.float64))
        term.moments()
        with _TERMS_LOCK:
            if len(_TERMS) >= 16:  # blocks of a few loaded models at most: forget the oldest
                _TERMS.pop(next(iter(_TERMS)))
            _TERMS[id(block)] = (block, term)
        return term


_QUERY = PopularityQuery()
_TERMS: dict[int, tuple[Block, DenseTerm]] = {}
_TERMS_LOCK = threading.Lock()
