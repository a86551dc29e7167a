"""Reasons on the cards: which liked titles (or which taste) explain each recommendation.

For a card ``i`` every positively weighted scorer that can split its score
(``ScorerQuery.contributions``) gives each liked title ``j`` a raw term ``c_kij``; its share of the
blend is ``sum_k w_k c_kij / scale_k`` (``scale_k`` the normalisation divisor), in the same units
as the blended score. Then, card by card in rank order:

- a liked title is named only when it is *similar* to the card: content cosine at least
  :data:`CONTENT_NAMED` (0.70) or ALS item cosine at least :data:`ALS_NAMED` (0.62), both measured
  on the mirror (see the constants), and never across the children's / mature line
  (:func:`maturity_clash`): "Game of Thrones - because you liked Paddington" (cosine 0.43, a
  family film for a violent drama) is gone;
- titles whose share is below ``NEGLIGIBLE`` of the card's best share (or not positive) are never
  named;
- the best title is always a candidate; a title already named on earlier cards is discounted
  (``REPEAT_DISCOUNT`` per use) among the titles within ``COMPARABLE`` of the best, so consecutive
  cards do not repeat the same pair when another liked title contributes comparably;
- when the genre taste explains the card clearly more than any single liked title (its weighted
  z-score above ``TASTE_OVER_TITLE`` times the best share), or no liked title has a positive
  share, the reason names the taste -- though not on two cards in a row while a liked title still
  explains the second one non-negligibly, so a list mixes tastes and titles
  ("Because you like crime films"), or the language the likes concentrate on when the card is
  in it ("Because you like Japanese films", with :attr:`Columns.LANGUAGE`; language and genre take
  turns); failing that "Popular with people like you" when ALS is the card's largest weighted
  component, else the popularity ("Popular in Drama").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np

from recsys.languages import language_name
from recsys.models import registry
from recsys.models.audience import maturity
from recsys.models.base import Profile, ScorerQuery
from recsys.models.sections import Prepared, Section, TitleInfo

NEGLIGIBLE = 0.25  # a share below this fraction of the card's best is never named
COMPARABLE = 0.7  # shares within this fraction of the best compete on variety
REPEAT_DISCOUNT = 0.8  # each earlier use of a title multiplies its share by this when competing
TASTE_OVER_TITLE = 2.0  # the taste is named when its share is above this many times the best title's
#: The thresholds to name a liked title live with each scorer's spec
#: (:attr:`recsys.models.registry.ScorerSpec.named_at`): content 0.70, ALS 0.62.
CONTENT_NAMED = registry.CONTENT_NAMED
ALS_NAMED = registry.ALS_NAMED
LANGUAGE_SHARE = 0.5  # a language is a taste from this share of the likes with a known language
LANGUAGE_LIFT = 2.0  # ... and this many times its share of the catalogue
POPULAR_WITH_YOU = "Popular with people like you"
_TINY = float(np.nextafter(0.0, 1.0))  # the smallest positive double: x >= _TINY is x > 0


def popular_reason(genres: Sequence[str], favourite_genres: Sequence[str]) -> str:
    for g in favourite_genres:
        if g in genres:
            return f"Popular in {g}"
    return "Popular on IMDb"


def taste_reason(genre: str, kind: str) -> str:
    noun = "films" if kind == "movie" else "shows"
    return f"Because you like {genre.lower()} {noun}"


class LikedColumns:
    """The liked titles' columns of the share matrix, in order of first appearance over the
    scorers, and where a scorer's list of titles falls in them (:meth:`at`)."""

    __slots__ = ("index", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, titles: Sequence[str], liked: AbstractSet[str]) -> None:
        for t in titles:
            if t in liked and t not in self.index:
                self.index[t] = len(self.names)
                self.names.append(t)

    def at(self, titles: Sequence[str]) -> slice | list[int]:
        """The column of each of ``titles`` (-1: not a column); a slice when they are the first
        columns in order (content's liked titles, usually: a view instead of a gather)."""
        if list(titles) == self.names[: len(titles)]:
            return slice(0, len(titles))
        return [self.index.get(t, -1) for t in titles]


def liked_shares(
    sec: Section,
    queries: Mapping[str, ScorerQuery],
    top: np.ndarray,
    weights: Mapping[str, float],
    scales: Mapping[str, float],
    liked: AbstractSet[str],
) -> tuple[LikedColumns, np.ndarray]:
    """``(liked titles' columns, array len(top) x columns)``: each liked title's share of each
    card's blend."""
    total_w = sum(weights.values()) or 1.0
    columns = LikedColumns()
    blocks: list[tuple[list[str], np.ndarray]] = []
    for name, q in queries.items():
        w, scale = weights.get(name, 0.0), scales.get(name, 0.0)
        if w <= 0 or scale <= 0:
            continue
        names, contrib = q.contributions(sec.blocks[name], top)
        if not names:
            continue
        blocks.append((names, contrib * (w / (scale * total_w))))
        columns.add(names, liked)
    share = np.zeros((len(top), len(columns.names)))
    for names, contrib in blocks:
        at = columns.at(names)
        if isinstance(at, slice) or (min(at) >= 0 and len(set(at)) == len(at)):  # each column once
            share[:, at] += _nan_as(contrib, 0.0)
            continue
        cols = np.asarray(at, dtype=np.int64)
        keep = cols >= 0
        if keep.any():
            cols, values = cols[keep], _nan_as(contrib[:, keep], 0.0)
            if len(set(cols.tolist())) == len(cols):  # one add per element, as np.add.at, far cheaper
                share[:, cols] += values
            else:  # columns repeat
                np.add.at(share.T, cols, values.T)
    return columns, share


def reasons_for(
    prepared: Prepared,
    sec: Section,
    profile: Profile,
    queries: Mapping[str, ScorerQuery],
    top: np.ndarray,
    weights: Mapping[str, float],
    scales: Mapping[str, float],
    components: Mapping[str, np.ndarray],
    per_card: int = 2,
) -> list[str]:
    """One reason per card of ``top`` (rank order); see the module docstring.

    The matrices (shares, the similarity gate, the best share and the nameable titles of every
    card) are whole-array steps; the loop over the cards only makes the sequential choices, and
    a card with one nameable title skips :func:`_pick`. What the cards rarely need (which
    component leads: only for a popularity reason) is computed when first needed, and what both
    sections of a request share (the liked set, the cinemas) once per request
    (:func:`_profile_facts`). Measured on the mirror's 200 simulated users (both sections, the
    scorers' ``contributions`` / ``item_similarity`` included, ~40% of it): 432 -> 345 us a
    request alone, 665 -> 560 us inside the feed's requests (in-process A/B, same lists)."""
    if len(top) == 0:
        return []
    info = prepared.titles
    liked, liked_cinemas = _profile_facts(info, profile)
    columns, share = liked_shares(sec, queries, top, weights, scales, liked)
    names = columns.names
    n = len(top)
    if share.size:
        gate = named_gate(sec, queries, top, names, info.genres, info.maturity, columns)
        share = np.where(gate, share, 0.0)
        # each card's best share and the titles worth naming: positive (at least the smallest
        # positive double) and not negligible, for all cards at once
        best_of = share.max(axis=1)
        card, col = np.nonzero(share >= np.maximum(NEGLIGIBLE * best_of, _TINY)[:, None])
        values = share[card, col].tolist()
        cuts = np.searchsorted(card, np.arange(n + 1)).tolist()
        cols, bests = col.tolist(), best_of.tolist()
    else:
        values, cols, cuts, bests = [], [], [0] * (n + 1), [0.0] * n
    titles = prepared.names
    taste_name = next(iter(registry.with_capability("taste")), None)  # the genre-taste scorer
    taste = queries.get(taste_name) if taste_name else None
    best_genre = getattr(taste, "best_genre", None)
    total_w = sum(weights.values()) or 1.0
    taste_z = components.get(taste_name) if taste_name else None
    taste_w = weights.get(taste_name, 0.0) / total_w if taste_name else 0.0
    taste_shares = (
        [(z if z == z else 0.0) * taste_w for z in np.asarray(taste_z, dtype=np.float64).tolist()]  # NaN: 0
        if taste is not None and taste_z is not None
        else [0.0] * n
    )
    led: list[bool] | None = None  # _als_led, computed on the first card that needs it
    noun = _noun(sec.kind)
    used: dict[str, int] = {}
    previous: tuple[str, ...] = ()
    out: list[str] = []
    taste_named = False  # the previous card named the taste
    last_taste = ""
    for i, item in enumerate(top.tolist()):
        best = bests[i]
        taste_share = taste_shares[i]
        # the taste when it clearly explains the card better than any liked title -- but not on
        # two cards in a row while a liked title still explains this one non-negligibly
        taste_first = taste_share > TASTE_OVER_TITLE * best and not (taste_named and best >= NEGLIGIBLE * taste_share)
        if best <= 0 or taste_first:
            genre = best_genre(sec.genres[item]) if best_genre is not None else None
            language = info.language.get(str(sec.tconsts[item])) if liked_cinemas else None
            cinema = language_name(language) if language in liked_cinemas else None
            if genre is not None or cinema is not None or best <= 0:
                options = [
                    *([f"Because you like {cinema} {noun}"] if cinema else []),
                    *([taste_reason(genre, sec.kind)] if genre else []),
                ]
                if not options:
                    if led is None:
                        led = _als_led(components, weights, n)
                    reason = POPULAR_WITH_YOU if led[i] else popular_reason(sec.genres[item], profile.genres)
                else:  # the language and the genre take turns when both apply
                    reason = options[1] if len(options) > 1 and options[0] == last_taste else options[0]
                out.append(reason)
                previous = ()
                taste_named = bool(options)
                last_taste = reason if options else last_taste
                continue
        taste_named = False
        a, b = cuts[i], cuts[i + 1]
        if b - a == 1 and per_card >= 1:  # the one candidate (as _pick would answer)
            t = names[cols[a]]
            used[t] = used.get(t, 0) + 1
            previous = (t,)
            out.append("Because you liked " + titles.get(t, t))
            continue
        eligible = cols[a:b]
        chosen = _pick(dict(zip(eligible, values[a:b], strict=True)), eligible, best, names, used, previous, per_card)
        for t in chosen:
            used[t] = used.get(t, 0) + 1
        previous = tuple(sorted(chosen))
        out.append("Because you liked " + ", ".join([titles.get(t, t) for t in chosen]))
    return out


def named_gate(
    sec: Section,
    queries: Mapping[str, ScorerQuery],
    top: np.ndarray,
    names: Sequence[str],
    genres: Mapping[str, Sequence[str]],
    levels_of: Mapping[str, int] | None = None,
    columns: LikedColumns | None = None,
) -> np.ndarray:
    """``len(top) x len(names)`` booleans: may liked title ``j`` be named on card ``i``? Only when
    a scorer that can measure item similarity (``item_similarity``) finds the pair at least its
    threshold (:func:`recsys.models.registry.named_at`), and the two titles' maturities do not clash
    (:func:`maturity_clash`; ``levels_of``: the titles' precomputed :attr:`TitleInfo.maturity`,
    else from ``genres``). ``columns``: those of :func:`liked_shares` when ``names`` are theirs."""
    if columns is None:
        columns = LikedColumns()
        columns.add(names, set(names))
    ok = np.zeros((len(top), len(names)), dtype=bool)
    thresholds = registry.named_at()
    for name, q in queries.items():
        measure = getattr(q, "item_similarity", None)
        threshold = thresholds.get(name)
        if measure is None or threshold is None or name not in sec.blocks:
            continue
        liked, sims = measure(sec.blocks[name], top)
        hit = sims >= threshold  # NaN (a title the scorer never saw) compares False
        if not hit.any():  # nothing similar enough (ALS on most TV cards): no columns to map
            continue
        at = columns.at(liked)
        if isinstance(at, slice) or min(at, default=0) >= 0:
            ok[:, at] |= hit
            continue
        cols = np.asarray(at, dtype=np.int64)
        keep = np.flatnonzero(cols >= 0)
        if len(keep):
            ok[:, cols[keep]] |= hit[:, keep]
    # a children's title never explains a mature one, nor the reverse (maturity_clash): levels
    # are 0 / 1 / 2, so a pair clashes exactly when the product of its levels is 2. Only the
    # titles similar to some card are looked up (each lookup in the catalogue-wide dicts costs
    # ~1 us inside a request: measured with :func:`reasons_for`)
    similar: list[bool] = np.any(ok, axis=0).tolist()
    kinds = [
        (levels_of.get(t, 0) if levels_of is not None else maturity(genres.get(t) or ())) if similar[j] else 0
        for j, t in enumerate(names)
    ]
    if any(kinds):
        levels = getattr(sec, "maturity", None)  # precomputed per title by build_section
        cards = levels[top] if levels is not None and len(levels) == len(sec.genres) else _levels(sec, top)
        ok &= np.multiply.outer(cards, np.asarray(kinds, dtype=np.int8)) != 2
    return ok


def _levels(sec: Section, top: np.ndarray) -> np.ndarray:
    return np.fromiter((maturity(sec.genres[i]) for i in top.tolist()), dtype=np.int8, count=len(top))


def _nan_as(values: np.ndarray, fill: float) -> np.ndarray:
    """``values`` with NaN replaced by ``fill`` (``np.nan_to_num`` costs ~15 us a call on a few
    dozen values; the reasons call it a few times per section)."""
    return np.where(np.isnan(values), fill, values)


def _noun(kind: str) -> str:
    return "films" if kind == "movie" else "shows"


def _als_led(components: Mapping[str, np.ndarray], weights: Mapping[str, float], n: int) -> list[bool]:
    """Per card: is a collaborative part (ALS; :func:`registry.with_capability`) its largest
    weighted component, and positive?"""
    mine_names = [c for c in registry.with_capability("collaborative") if c in components and weights.get(c, 0.0) > 0]
    if not mine_names:
        return [False] * n
    weighted = {
        name: _nan_as(np.asarray(values, dtype=np.float64), -np.inf) * weights.get(name, 0.0)
        for name, values in components.items()
        if weights.get(name, 0.0) > 0
    }
    best = np.max(np.vstack(list(weighted.values())), axis=0)
    mine = np.max(np.vstack([weighted[c] for c in mine_names]), axis=0)
    picked: list[bool] = ((mine >= best) & (mine > 0)).tolist()
    return picked


#: The last request's :func:`_profile_facts`: ``(profile, info, liked, cinemas)``. One slot,
#: replaced whole (a thread reads either the old tuple or the new one) and trusted only for the
#: same profile and catalogue objects, so concurrent requests or a reloaded model just recompute.
_LAST_PROFILE: tuple[Profile, TitleInfo, frozenset[str], frozenset[str]] | None = None


def _profile_facts(info: TitleInfo, profile: Profile) -> tuple[frozenset[str], frozenset[str]]:
    """The profile's liked titles and :func:`cinemas`, computed once for the sections of a
    request (the feed calls :func:`reasons_for` per section with the same profile object)."""
    global _LAST_PROFILE
    last = _LAST_PROFILE
    if last is not None and last[0] is profile and last[1] is info:
        return last[2], last[3]
    # the likes from the values as floats: Profile.liked iterates numpy scalars (~14 us a
    # request inside the feed, measured with reasons_for; the reasons are its only reader)
    liked = [t for t, v in zip(profile.tconsts, profile.values.tolist(), strict=True) if v > 0]
    facts = frozenset(liked), frozenset(cinemas(info, liked))
    _LAST_PROFILE = (profile, info, *facts)
    return facts


def cinemas(info: TitleInfo, liked: Iterable[str]) -> set[str]:
    """Languages the ``liked`` titles concentrate on: at least :data:`LANGUAGE_SHARE` of the likes
    with a known language, and at least :data:`LANGUAGE_LIFT` times the language's share of the
    catalogue (so English, most of the catalogue, is never a "cinema")."""
    if not info.language:
        return set()
    counts: dict[str, int] = {}
    for t in liked:
        lang = info.language.get(t)
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    total = sum(counts.values())
    return {
        lang
        for lang, c in counts.items()
        if c / total >= LANGUAGE_SHARE and c / total >= LANGUAGE_LIFT * info.language_share.get(lang, 1.0)
    }


def _pick(
    row: Mapping[int, float] | Sequence[float],
    eligible: Sequence[int],
    best: float,
    names: Sequence[str],
    used: Mapping[str, int],
    previous: tuple[str, ...],
    per_card: int,
) -> list[str]:
    """Up to ``per_card`` liked titles for one card, varied across cards (see module docstring).
    ``row[j]``: the card's share of title ``names[j]``, for each ``j`` of ``eligible``."""
    if len(eligible) == 1 and per_card >= 1:  # the one candidate, whatever the order would be
        return [names[eligible[0]]]
    # comparable titles first: the discount only trades variety among them, and a title far
    # below the best must never push it out, however often the best was named before
    comparable = COMPARABLE * best
    order = []
    for j in eligible:
        share, name = float(row[j]), names[j]
        if share >= comparable:
            order.append((False, -(share * REPEAT_DISCOUNT ** used.get(name, 0)), name))
        else:  # never above a comparable one
            order.append((True, -(share * REPEAT_DISCOUNT ** (used.get(name, 0) + 3)), name))
    order.sort()  # names are distinct: no two keys tie
    chosen = [name for _, _, name in order[:per_card]]
    if tuple(sorted(chosen)) == previous and len(chosen) > 0:
        spare = [name for far, _, name in order[per_card:] if not far]
        if spare:
            chosen[-1] = spare[0]
    return chosen
