"""Pieces shared by every scorer: the user profile, the scorer protocol, id lookups, artifacts.

A *profile* is a user's current interactions as ``(tconst, value)`` pairs, with the app's values
(like ``1``, superlike ``2``, dislike ``-1``). Scorers accept a polars frame ``[tconst, value]``,
a sequence of pairs or a :class:`Profile`; :meth:`Profile.of` turns any of them into a
:class:`Profile`. A profile may carry ``user_key`` (for example ``"ml:12"``) when the user was part
of a model's training data; the ALS scorer then uses the trained factors instead of folding in.

Every scorer (LensKit style) has ``fit(...)``, ``score(profile, candidates) -> np.ndarray`` (float,
same order as ``candidates``, NaN where it cannot score: unknown items, or a user it has no
signal for), ``save(directory)`` and the class method ``load(directory)``. A fitted scorer is
never mutated by ``score``: one instance is shared by every session and thread.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, TypeAlias, TypeVar

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.errors import ModelError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Profile:
    """One user's interactions: ``tconsts[i]`` rated ``values[i]`` (app scale, non-zero)."""

    tconsts: tuple[str, ...]
    values: np.ndarray
    user_key: str | None = None

    @classmethod
    def of(cls, profile: ProfileLike, user_key: str | None = None) -> Profile:
        """Coerce a frame ``[tconst, value]`` / pairs / Profile; duplicates keep the last value,
        zero values are dropped."""
        if isinstance(profile, Profile):
            if user_key is None or user_key == profile.user_key:
                return profile
            return dataclasses.replace(profile, user_key=user_key)
        if isinstance(profile, pl.DataFrame):
            if profile.height == 0:
                return cls((), np.zeros(0), user_key)
            missing = {C.TCONST, C.VALUE} - set(profile.columns)
            if missing:
                raise ModelError(
                    f"A profile frame needs the columns tconst and value (missing {sorted(missing)})."
                )
            tconsts = profile[C.TCONST].to_list()
            values = profile[C.VALUE].cast(pl.Float64).to_list()
        else:
            pairs = list(profile)
            tconsts = [str(t) for t, _ in pairs]
            values = [float(v) for _, v in pairs]
        last: dict[str, float] = {}
        for t, v in zip(tconsts, values, strict=True):
            if v is None or not np.isfinite(v):
                continue
            last.pop(t, None)  # keep insertion order of the latest value
            last[t] = v
        kept = [(t, v) for t, v in last.items() if v != 0]
        return cls(
            tuple(t for t, _ in kept),
            np.asarray([v for _, v in kept], dtype=np.float64),
            user_key,
        )

    def __len__(self) -> int:
        return len(self.tconsts)

    @property
    def liked(self) -> tuple[str, ...]:
        """Titles liked or superliked (value > 0)."""
        return tuple(t for t, v in zip(self.tconsts, self.values, strict=True) if v > 0)

    @property
    def n_likes(self) -> int:
        return int(np.count_nonzero(self.values > 0))


ProfileLike: TypeAlias = Profile | pl.DataFrame | Sequence[tuple[str, float]]


class Scorer(Protocol):
    """What the hybrid and the evaluation need from a scorer."""

    name: str

    def score(self, profile: ProfileLike, candidates: Sequence[str]) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Self: ...


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
        get = self._pos.get
        return np.fromiter((get(t, -1) for t in items), dtype=np.int64)

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
        raise ModelError(
            f"Model files missing in {directory}: {', '.join(missing)}; run `python -m recsys train`."
        )
