"""The contract of a ranking stage, and the two inputs every stage reads.

A stage runs after the blend on a *pool*: the best ``pool_size`` blended candidates, best first
(:class:`Pool`). It knows the user's taste (:class:`Taste`: recency-weighted genre and language
distributions of the likes, their typical popularity, whether the profile is a family one) and
returns the pool in a new order (best first, possibly shorter: a filter drops titles). Stages run in registry order; each gets the previous stage's order as its pool. The
strength of a stage is one number (0 = off), chosen on validation like the scorer weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, TypeVar, overload

import numpy as np

from recsys.models.audience import CHILD_GENRES, FAMILY_UNSUITABLE
from recsys.models.rerank.distribution import distribution, recency_weights

T = TypeVar("T")

#: A profile is a family profile when at least this share of its (recency-weighted) likes are
#: family titles and none of its likes is mature.
FAMILY_SHARE = 0.6
#: Recency of the taste distributions (weight ratio between consecutive likes): the last ~20
#: likes count, the latest most (Steck 2018 weights the history the same way).
TASTE_RECENCY = 0.95
UNDETERMINED = "und"
#: How far a taste must stand out from what the audience watches to be calibrated
#: (:meth:`Taste.of`): at ``DISTINCT_FROM`` above the catalogue's vote-weighted share nothing, at
#: ``DISTINCT_FULL`` fully. Measured on the mirror: the most over-represented genre of a MovieLens
#: history stands 0.23 above it (median; 75th percentile 0.33, 90th 0.46), for 13 liked films of
#: one genre plus that favourite genre 0.69 (Comedy) to 0.99 (Documentary, Western).
DISTINCT_FROM = 0.55
DISTINCT_FULL = 0.65
#: Likes from which a taste's shares are trusted fully; below, ``distinctive`` is scaled by
#: ``likes / TASTE_EVIDENCE``: five onboarding picks share a genre by chance far more often than
#: ten likes do (measured: calibrating new users at full strength after 5 likes cost their NDCG@10
#: 0.101 -> 0.096 over 10 seeded draws, the same order as its 95% interval).
TASTE_EVIDENCE = 10
#: The most present genres whose pairs are also compared with the catalogue.
PAIR_CANDIDATES = 5


@dataclass(frozen=True)
class CatalogueShares:
    """Vote-weighted share of the catalogue carrying each genre and each original language (a
    title weighs its IMDb votes: what the audience watches): what a taste is compared with to tell
    whether it is distinctive."""

    genres: dict[str, float] = field(default_factory=dict)
    languages: dict[str, float] = field(default_factory=dict)
    both: dict[tuple[str, str], float] = field(default_factory=dict)  # (a, b), a < b: carrying both

    def either(self, a: str, b: str) -> float:
        """Share carrying genre ``a`` or ``b``."""
        pair = (a, b) if a < b else (b, a)
        return self.genres.get(a, 0.0) + self.genres.get(b, 0.0) - self.both.get(pair, 0.0)

    @classmethod
    def of(
        cls, genres: Sequence[Sequence[str]], languages: Sequence[str | None], votes: Sequence[float] | np.ndarray
    ) -> CatalogueShares:
        w = np.nan_to_num(np.asarray(votes, dtype=np.float64), nan=0.0).clip(min=0.0)
        total = float(w.sum())
        if total <= 0:
            w, total = np.ones(len(genres)), float(max(len(genres), 1))
        w = w / total
        # titles x genres indicator (a genre listed twice counts once), then one product each:
        # genre shares w @ M, pair shares M^T diag(w) M (a few ms for the full catalogue)
        names = sorted({x for gs in genres for x in gs})
        col = {x: j for j, x in enumerate(names)}
        lengths = np.fromiter((len(gs) for gs in genres), dtype=np.int64, count=len(genres))
        rows = np.repeat(np.arange(len(genres)), lengths)
        cols = np.fromiter((col[x] for gs in genres for x in gs), dtype=np.int64, count=int(lengths.sum()))
        m = np.zeros((len(genres), len(names)))
        m[rows, cols] = 1.0
        single = w @ m
        pairs = m.T @ (m * w[:, None])
        g = {x: float(single[j]) for j, x in enumerate(names) if single[j] > 0}
        both = {
            (a, b): float(pairs[i, j])
            for i, a in enumerate(names)
            for j, b in enumerate(names)
            if i < j and pairs[i, j] > 0
        }
        lang: dict[str, float] = {}
        for c, wi in zip(languages, w, strict=True):
            if c:
                lang[c] = lang.get(c, 0.0) + float(wi)
        return cls(g, lang, both)


DEFAULT_LANGUAGE = "_default"  # English or unknown: one language bucket of the calibration


def language_bucket(code: str | None) -> str:
    """The calibration's language bucket of an original language: itself, or English or unknown
    together (:data:`DEFAULT_LANGUAGE`)."""
    return code if code and code != "en" else DEFAULT_LANGUAGE


class Gathered(Sequence[T]):
    """``[source[i] for i in at]`` without building the list: a pool's genres or languages as a
    view of the candidate set's per-title sequence, read element by element only by the stages
    that need them (:class:`CandidateFacts` answers the common questions from arrays)."""

    __slots__ = ("at", "source")

    def __init__(self, source: Sequence[T] | np.ndarray, at: np.ndarray) -> None:
        self.source, self.at = source, at

    def __len__(self) -> int:
        return len(self.at)

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return self.tolist()[i]
        item: T = self.source[int(self.at[i])]
        return item

    def __iter__(self) -> Iterator[T]:
        return iter(self.tolist())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self.tolist() == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics, as a list

    def tolist(self) -> list[T]:
        if isinstance(self.source, np.ndarray):
            items: list[T] = self.source[self.at].tolist()
            return items
        return [self.source[i] for i in self.at.tolist()]

    def take(self, order: np.ndarray) -> Gathered[T]:
        """The view restricted to ``order`` (indices into it)."""
        return Gathered(self.source, self.at[order])


@dataclass(frozen=True, eq=False)
class CandidateFacts:
    """Per title of a candidate set (a feed section), what the stages ask of each pool title, as
    arrays built once before the first request: ``genre_masks`` (genre -> titles carrying it; the
    section's own masks, no copy), ``unsuitable`` (a :data:`FAMILY_UNSUITABLE` genre: the family
    filter) and ``bucket`` (the code of the title's :func:`language_bucket` in ``bucket_code``).
    With them a pool's genre and language matrices are a few gathers instead of a Python loop over
    the pool's titles (measured: see :func:`recsys.models.rerank.calibration.greedy`)."""

    genre_masks: Mapping[str, np.ndarray]
    unsuitable: np.ndarray
    bucket: np.ndarray
    bucket_code: Mapping[str, int]

    @classmethod
    def of(cls, genre_masks: Mapping[str, np.ndarray], languages: Sequence[str | None], size: int) -> CandidateFacts:
        unsuitable = np.zeros(size, dtype=bool)
        for g, mask in genre_masks.items():
            if g in FAMILY_UNSUITABLE:
                unsuitable |= mask
        code: dict[str, int] = {}
        bucket = np.fromiter(
            (code.setdefault(language_bucket(c), len(code)) for c in languages), dtype=np.int32, count=size
        )
        return cls(genre_masks, unsuitable, bucket, code)


@dataclass(frozen=True)
class Pool:
    """The blended candidates a stage may reorder, best first.

    ``positions``: into the candidate set (a feed section, the evaluation catalogue);
    ``scores``: blended scores (descending); ``genres`` / ``languages`` / ``log_votes``: per pool
    entry (language None when unknown; ``ln(1 + votes)``, NaN when unknown); ``facts``: the
    candidate set's :class:`CandidateFacts` when it has them (indexed by ``positions``).
    """

    positions: np.ndarray
    scores: np.ndarray
    genres: Sequence[Sequence[str]]
    languages: Sequence[str | None]
    log_votes: np.ndarray
    facts: CandidateFacts | None = None

    def __len__(self) -> int:
        return len(self.positions)

    @classmethod
    def gather(
        cls,
        positions: np.ndarray,
        scores: np.ndarray,
        genres: Sequence[Sequence[str]],
        languages: Sequence[str | None] | np.ndarray,
        log_votes: np.ndarray,
        facts: CandidateFacts | None = None,
    ) -> Pool:
        """The pool at ``positions`` of per-candidate arrays over a whole candidate set (a feed
        section, the evaluation's items); ``scores`` already at those positions. Genres and
        languages are views (:class:`Gathered`), read only by a stage that needs them."""
        return cls(
            positions=positions,
            scores=scores,
            genres=Gathered(genres, positions),
            languages=Gathered(languages, positions),
            log_votes=log_votes[positions],
            facts=facts,
        )

    def take(self, order: np.ndarray, scores: np.ndarray | None = None) -> Pool:
        """The pool restricted to ``order`` (indices into it), in that order; ``scores``: new
        scores per entry of this pool (default: its own), taken in the same order."""
        order = np.asarray(order, dtype=np.int64)
        positions = self.positions[order]
        return Pool(
            positions=positions,
            scores=(self.scores if scores is None else scores)[order],
            genres=self._take(self.genres, order, positions),
            languages=self._take(self.languages, order, positions),
            log_votes=self.log_votes[order],
            facts=self.facts,
        )

    def _take(self, items: Sequence[T], order: np.ndarray, positions: np.ndarray) -> Sequence[T]:
        if isinstance(items, Gathered):
            # a view at the pool's own positions (Pool.gather) stays one at the new positions
            return Gathered(items.source, positions) if items.at is self.positions else items.take(order)
        return [items[i] for i in order.tolist()]


@dataclass(frozen=True)
class Taste:
    """What a profile's likes say about the person (see :meth:`of`)."""

    genres: dict[str, float] = field(default_factory=dict)
    #: weighted share of the likes that carry each genre (1.0: every like is a comedy)
    presence: dict[str, float] = field(default_factory=dict)
    languages: dict[str, float] = field(default_factory=dict)
    log_votes: float = float("nan")  # recency-weighted mean ln(1 + votes) of the likes
    family: bool = False
    likes: int = 0
    distinctive: float = 1.0  # in [0, 1]: how far the taste stands out from the catalogue

    @classmethod
    def of(
        cls,
        genres: Sequence[Sequence[str]],
        languages: Sequence[str | None],
        log_votes: Sequence[float],
        values: Sequence[float],
        favourite_genres: Sequence[str] = (),
        catalogue: CatalogueShares | None = None,
    ) -> Taste:
        """The taste of rated titles oldest first (``values``: like 1, superlike 2, dislike -1;
        only likes count). Each like weighs ``value * TASTE_RECENCY ** age``. Favourite genres
        chosen at onboarding count as one extra like spread over them, so a profile with a single
        like is not reduced to that title's genres.

        ``distinctive``: with ``d`` the largest excess of a genre's share of the likes
        (:attr:`presence`), of a pair of genres' (likes carrying either), or of a non-English
        language's share over its share of ``catalogue``,
        ``clip((d - DISTINCT_FROM) / (DISTINCT_FULL - DISTINCT_FROM), 0, 1)``, times ``min(1, likes /
        TASTE_EVIDENCE)``; 1 without a catalogue."""
        # one pass over the likes, the pairs' 0/1 matrix over the five candidates only (measured
        # on the mirror's 200 simulated users: 86 -> 74 us a call alone; the feed's taste step,
        # with Recommender.taste skipping the dislikes, 208 -> 183 us a request). Every sum adds
        # the same terms in the same order as the plain loops of tests/models/test_rerank.py
        # (_distinctive_by_loop), so the figures are equal bit for bit
        liked = [i for i, v in enumerate(values) if v > 0]
        w = [float(values[i]) * r for i, r in zip(liked, recency_weights(len(liked), TASTE_RECENCY), strict=True)]
        gs = [genres[i] for i in liked]
        if favourite_genres:
            gs.append(favourite_genres)
        total = 0.0  # the likes' weight
        for wi in w:
            total += wi
        total_w = total + 1.0 if favourite_genres else total  # with the favourite genres
        family_w = 0.0  # the children's likes' weight
        mature = False
        sums: dict[str, float] = {}  # the weight of the likes carrying each genre
        presence: dict[str, float] = {}
        langs: dict[str, float] = {}  # distribution() of one category a like: its language
        sets = []
        for i, wi, g in zip(liked, w, gs, strict=False):  # gs may end with the favourite genres
            gset = set(g)
            sets.append(gset)
            if CHILD_GENRES & gset:
                family_w += wi
            mature = mature or bool(FAMILY_UNSUITABLE & gset)
            for c in gset:
                sums[c] = sums.get(c, 0.0) + wi
            # in the likes' order, not a set's: the genres' order sets the calibration's float sums,
            # and a set's order changes with PYTHONHASHSEED (the stage grid's figures did)
            for c in dict.fromkeys(g):
                presence[c] = presence.get(c, 0.0) + wi / total_w
            # a like of unknown language counts as "und" (ISO 639-2 "undetermined"), so a few
            # known Japanese likes among many unknown ones are not read as an all-Japanese taste
            lang = languages[i] or UNDETERMINED
            langs[lang] = langs.get(lang, 0.0) + wi
        lang_dist = {c: v / total for c, v in langs.items()} if total > 0 else {}
        if favourite_genres:
            w.append(1.0)
            for c in dict.fromkeys(favourite_genres):
                presence[c] = presence.get(c, 0.0) + 1.0 / total_w
        genre_dist = distribution(gs, w)
        mean_lv = _weighted_mean([log_votes[i] for i in liked], w[: len(liked)])
        distinctive = 1.0
        if catalogue is not None and total > 0:
            # from the likes alone: favourite genres say what to show, not how much a taste stands out
            share = {c: sums.get(c, 0.0) / total for c in presence}
            excess = [v - catalogue.genres.get(g, 0.0) for g, v in share.items()]
            # a fan of two genres (horror or comedy on every like) stands out as a pair
            top = sorted(share, key=lambda g: -share[g])[:PAIR_CANDIDATES]
            pairs = [(a, b) for i, a in enumerate(top) for b in top[i + 1 :]]
            if pairs:  # every pair's column at once: likes x pairs 0/1, a running sum per column
                carries = np.asarray([[c in gset for c in top] for gset in sets], dtype=bool)
                first = [top.index(a) for a, _ in pairs]
                second = [top.index(b) for _, b in pairs]
                both = carries[:, first] | carries[:, second]
                # np.cumsum adds in order, as the loop does (adding 0.0 changes nothing)
                liked_w = np.asarray(w[: len(liked)], dtype=np.float64)[:, None]
                either = (np.cumsum(liked_w * both, axis=0)[-1] / total).tolist()
                excess += [e - catalogue.either(a, b) for e, (a, b) in zip(either, pairs, strict=True)]
            excess += [
                v - catalogue.languages.get(c, 0.0) for c, v in lang_dist.items() if c not in ("en", UNDETERMINED)
            ]
            d = max(excess, default=0.0)
            distinctive = float(min(1.0, max(0.0, (d - DISTINCT_FROM) / (DISTINCT_FULL - DISTINCT_FROM))))
            distinctive *= min(1.0, len(liked) / TASTE_EVIDENCE)
        return cls(
            distinctive=distinctive,
            genres=genre_dist,
            presence=presence if total_w > 0 else {},
            languages=lang_dist,
            log_votes=mean_lv,
            family=bool(total > 0 and family_w / total >= FAMILY_SHARE and not mature),
            likes=len(liked),
        )


def _weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """``np.average(values, weights=weights)`` over the finite values (NaN when none or no
    weight), without its checks: the same two numpy sums and division."""
    lv = np.asarray(values, dtype=np.float64)
    lw = np.asarray(weights, dtype=np.float64)
    if not all(map(math.isfinite, values)):
        ok = np.isfinite(lv)
        lv, lw = lv[ok], lw[ok]
    scale = lw.sum()
    return float(np.multiply(lv, lw).sum() / scale) if len(lv) and scale > 0 else float("nan")


class Stage(Protocol):
    """A ranking stage: ``rerank(pool, taste, n, strength)`` -> the pool in its new order, best
    first, with the scores it ranked by (a filter returns fewer entries)."""

    name: ClassVar[str]

    def rerank(self, pool: Pool, taste: Taste, n: int, strength: float) -> Pool: ...
