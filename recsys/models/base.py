"""The scorer contract every recommender component implements, and the pieces they share.

**Profile.** A user's current interactions as ``(tconst, value)`` pairs in chronological order
(oldest first), with the app's values (like ``1``, superlike ``2``, dislike ``-1``), plus the
favourite genres chosen at onboarding. :meth:`Profile.of` accepts a polars frame ``[tconst,
value]`` (sorted by ``updated_at`` / ``created_at`` / ``timestamp`` when such a column is there), a
sequence of pairs or a :class:`Profile`. ``user_key`` (for example ``"ml:12"``) names a user who was
part of a model's training data; the ALS scorer then uses the trained factors instead of folding in.

**Training data.** :class:`TrainingData` is the one object every scorer fits on: the catalogue
frame, the MovieLens ratings, the app's interactions and the MovieLens tags (any but the titles may
be missing). A scorer takes what it needs and ignores the rest.

**The contract** (:class:`Scorer`, LensKit / RecTools style). Every scorer has

- ``fit(data, progress) -> self``;
- ``candidates(tconsts) -> Block``: whatever per-title arrays scoring needs, gathered once per
  candidate set (a feed section, the evaluation catalogue) and reused by every request;
- ``prepare(profile) -> ScorerQuery | None``: the per-request user state (a profile vector, an ALS
  fold-in); ``None`` when the scorer has no signal for this profile;
- ``query.scores(block)``: float64 scores, one per candidate, NaN where it cannot score (a title
  it never saw);
- ``query.contributions(block, positions)``: per liked title, its share of the raw score of the
  candidates at ``positions`` (the reasons on the cards); a scorer that cannot split its score
  returns no columns;
- ``save(directory)`` and ``load(directory)``.

A fitted scorer is never mutated by ``prepare`` or ``score``: one instance is shared by every
session and thread. :class:`ScorerBase` derives ``score(profile, candidates)`` and
``candidate_scorer(candidates)`` from the contract. Scorers are listed in
:mod:`recsys.models.registry`; adding one is one new module and one registry line.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeAlias, TypeVar

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.progress import Progress

log = logging.getLogger(__name__)

T = TypeVar("T")


_TIME_COLUMNS = ("updated_at", C.TIMESTAMP, "timestamp")


@dataclass(frozen=True, eq=False)
class Profile:
    """One user's interactions, oldest first: ``tconsts[i]`` rated ``values[i]`` (app scale,
    non-zero); ``genres`` are the favourite genres chosen at onboarding (may be empty)."""

    tconsts: tuple[str, ...]
    values: np.ndarray
    user_key: str | None = None
    genres: tuple[str, ...] = ()

    @classmethod
    def of(cls, profile: ProfileLike, user_key: str | None = None, genres: Sequence[str] | None = None) -> Profile:
        """Coerce a frame ``[tconst, value]`` / pairs / Profile; duplicates keep the last value,
        zero values are dropped. A frame with a time column is put in chronological order."""
        if isinstance(profile, Profile):
            changes: dict[str, Any] = {}
            if user_key is not None and user_key != profile.user_key:
                changes["user_key"] = user_key
            if genres is not None and tuple(genres) != profile.genres:
                changes["genres"] = tuple(genres)
            return dataclasses.replace(profile, **changes) if changes else profile
        wanted = tuple(genres or ())
        if isinstance(profile, pl.DataFrame):
            if profile.height == 0:
                return cls((), np.zeros(0), user_key, wanted)
            missing = {C.TCONST, C.VALUE} - set(profile.columns)
            if missing:
                raise ModelError(f"A profile frame needs the columns tconst and value (missing {sorted(missing)}).")
            when = next((c for c in _TIME_COLUMNS if c in profile.columns), None)
            if when is not None:
                profile = profile.sort(when, nulls_last=False, maintain_order=True)
            tconsts = profile[C.TCONST].to_list()
            values = profile[C.VALUE].cast(pl.Float64).to_list()
        else:
            pairs = list(profile)
            tconsts = [str(t) for t, _ in pairs]
            values = [float(v) for _, v in pairs]
        last: dict[str, float] = {}
        for t, v in zip(tconsts, values, strict=True):
            if v is None or not math.isfinite(v):  # (numpy's isfinite: ~0.6 us a value)
                continue
            last.pop(t, None)  # keep insertion order of the latest value
            last[t] = v
        kept = [(t, v) for t, v in last.items() if v != 0]
        return cls(
            tuple(t for t, _ in kept),
            np.asarray([v for _, v in kept], dtype=np.float64),
            user_key,
            wanted,
        )

    def __len__(self) -> int:
        return len(self.tconsts)

    @functools.cached_property
    def liked(self) -> tuple[str, ...]:
        """Titles liked or superliked (value > 0), oldest first (computed once: a feed request
        asks for it in every section)."""
        return tuple(t for t, v in zip(self.tconsts, self.values, strict=True) if v > 0)

    @property
    def n_likes(self) -> int:
        return int(np.count_nonzero(self.values > 0))


@dataclass(frozen=True)
class TrainingData:
    """Everything a scorer may fit on; only ``titles`` is required.

    ``titles``: the catalogue frame (``recsys.catalog.queries.Catalog.all_titles``: tconst, kind,
    title_type, primary_title, start_year, runtime_minutes, genres, average_rating, num_votes,
    popularity, and directors / writers / cast when the people files were built).
    ``ratings``: MovieLens ``[ml_user_id, tconst, rating, timestamp]`` (stars 0.5..5, epoch s),
    in memory or lazy (``train`` passes ``Catalog.movielens_ratings_scan``: each scorer then reads
    only the columns it needs, and at 25M ratings the ~1 GB frame is never held).
    ``app``: the app's interactions ``[user_id, tconst, value, created_at]`` (like 1, superlike 2,
    dislike -1). ``tags``: MovieLens tags ``[tconst, tag]`` (one row per tag application).
    """

    titles: pl.DataFrame
    ratings: pl.DataFrame | pl.LazyFrame | None = None
    app: pl.DataFrame | None = None
    tags: pl.DataFrame | None = None


def has_rows(frame: pl.DataFrame | pl.LazyFrame) -> bool:
    """Whether a frame, or a lazy query (a Parquet scan answers from its metadata), has a row."""
    if isinstance(frame, pl.LazyFrame):
        return bool(frame.select(pl.len()).collect().item())
    return frame.height > 0


ProfileLike: TypeAlias = Profile | pl.DataFrame | Sequence[tuple[str, float]]


@dataclass(frozen=True, eq=False)
class Block:
    """A candidate set prepared for one scorer: ``tconsts``, their ``positions`` in the scorer's
    vocabulary (``-1`` = unknown) and ``data``, the scorer's own gathered arrays (TF-IDF rows,
    item factors ... of the known candidates, in order)."""

    tconsts: Sequence[str]
    positions: np.ndarray
    data: Any = None

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def known(self) -> np.ndarray:
        """Indices (into the block) of the candidates the scorer knows."""
        return np.flatnonzero(self.positions >= 0)


class ScorerQuery(Protocol):
    """One user, prepared once per request by :meth:`Scorer.prepare`."""

    def scores(self, block: Block) -> np.ndarray:
        """Raw scores (float64), one per candidate of ``block``; NaN where it cannot score."""
        ...

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``(liked tconsts, array len(positions) x len(liked))``: each liked title's share of the
        raw score of ``block`` candidates ``positions``; no columns when the score does not split."""
        ...


class Scorer(Protocol):
    """What the hybrid, the evaluation and the CLI need from a scorer; see the module docstring."""

    name: ClassVar[str]

    def fit(self, data: TrainingData, progress: Progress | None = None) -> Self: ...

    def candidates(self, tconsts: Sequence[str]) -> Block: ...

    def prepare(self, profile: Profile) -> ScorerQuery | None: ...

    def score(self, profile: ProfileLike, candidates: Sequence[str]) -> np.ndarray: ...

    def candidate_scorer(self, candidates: Sequence[str]) -> Callable[[ProfileLike], np.ndarray]: ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Self: ...


class ScorerBase:
    """``score`` and ``candidate_scorer`` derived from ``candidates`` + ``prepare``."""

    name: ClassVar[str] = "scorer"

    def candidates(self, tconsts: Sequence[str]) -> Block:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare(self, profile: Profile) -> ScorerQuery | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def score(self, profile: ProfileLike, candidates: Sequence[str]) -> np.ndarray:
        """Scores of ``candidates`` for ``profile`` (NaN where the scorer cannot score)."""
        return self.candidate_scorer(candidates)(profile)

    def candidate_scorer(self, candidates: Sequence[str]) -> Callable[[ProfileLike], np.ndarray]:
        """``score`` for a fixed candidate list, the candidates gathered once (evaluation loops)."""
        block = self.candidates(list(candidates))

        def score(profile: ProfileLike) -> np.ndarray:
            query = self.prepare(Profile.of(profile))
            if query is None:
                return np.full(len(block), np.nan)
            return query.scores(block)

        return score


class ItemIndex:
    """A fixed vocabulary of item ids (tconsts) <-> row positions ``0..n-1``."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = np.asarray(list(ids), dtype=object)
        self._pos = {t: i for i, t in enumerate(self.ids.tolist())}
        if len(self._pos) != len(self.ids):
            raise ModelError("Duplicate ids in a model vocabulary; rebuild the catalogue and retrain.")

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item: object) -> bool:
        return item in self._pos

    def get(self, item: str, default: int = -1) -> int:
        return self._pos.get(item, default)

    def lookup(self, items: Iterable[str]) -> np.ndarray:
        """Positions of ``items`` (int64), ``-1`` for ids not in the vocabulary."""
        # map over the bound method: ~2x faster than a generator expression on a catalogue
        return np.fromiter(map(self._pos.get, items, itertools.repeat(-1)), dtype=np.int64)

    def save(self, path: Path) -> None:
        write_json(path, self.ids.tolist())

    @classmethod
    def load(cls, path: Path) -> ItemIndex:
        return cls(read_json(path))


def gather(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values[positions]`` as float64 with NaN where ``positions`` is ``-1``."""
    out = np.full(len(positions), np.nan, dtype=np.float64)
    known = positions >= 0
    out[known] = values[positions[known]]
    return out


# --- artifacts -------------------------------------------------------------------------------


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, default=_json_default))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read model file {path}: {exc}; run `python -m recsys train`.") from exc


def _json_default(obj: object) -> object:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple | frozenset | set):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def config_to_dict(config: object) -> dict[str, Any]:
    assert dataclasses.is_dataclass(config) and not isinstance(config, type)
    return dataclasses.asdict(config)


def config_from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build a frozen config dataclass from saved JSON, tuples restored, unknown keys ignored."""
    assert dataclasses.is_dataclass(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            value = data[f.name]
            kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def load_npz(path: Path) -> Mapping[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"Cannot read model file {path}: {exc}; run `python -m recsys train`.") from exc


def require(directory: Path, *names: str) -> None:
    """Raise ModelError unless every file ``names`` exists in ``directory``."""
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise ModelError(f"Model files missing in {directory}: {', '.join(missing)}; run `python -m recsys train`.")
