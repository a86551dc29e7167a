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

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import repeat

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


def popular_reason(genres: Sequence[str], favourite_genres: Sequence[str]) -> str:
    for g in favourite_genres:
        if g in genres:
            return f"Popular in {g}"
    return "Popular on IMDb"


def taste_reason(genre: str, kind: str) -> str:
    noun = "films" if kind == "movie" else "shows"
    return f"Because you like {genre.lower()} {noun}"


def liked_shares(
    sec: Section,
    queries: Mapping[str, ScorerQuery],
    top: np.ndarray,
    weights: Mapping[str, float],
    scales: Mapping[str, float],
    liked: set[str],
) -> tuple[list[str], np.ndarray]:
    """``(liked tconsts, array len(top) x liked)``: each liked title's share of each card's blend."""
    total_w = sum(weights.values()) or 1.0
    columns: dict[str, int] = {}
    blocks: list[tuple[list[str], np.ndarray]] = []
    for name, q in queries.items():
        w, scale = weights.get(name, 0.0), scales.get(name, 0.0)
        if w <= 0 or scale <= 0:
            continue
        names, contrib = q.contributions(sec.blocks[name], top)
        if not names:
            continue
        blocks.append((names, contrib * (w / (scale * total_w))))
        for t in names:
            if t in liked and t not in columns:
                columns[t] = len(columns)
    share = np.zeros((len(top), len(columns)))
    for names, contrib in blocks:
        cols = np.fromiter(map(columns.get, names, repeat(-1)), dtype=np.int64, count=len(names))
        keep = cols >= 0
        if keep.any():
            at, values = cols[keep], _nan_as(contrib[:, keep], 0.0)
            if len(set(at.tolist())) == len(at):  # one add per element, as np.add.at, far cheaper
                share[:, at] += values
            else:  # columns repeat
                np.add.at(share.T, at, values.T)
    return list(columns), share


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
    """One reason per card of ``top`` (rank order); see the module docstring."""
    if len(top) == 0:
        return []
    names, share = liked_shares(sec, queries, top, weights, scales, set(profile.liked))
    info = prepared.titles
    if share.size:
        share = np.where(named_gate(sec, queries, top, names, info.genres, info.maturity), share, 0.0)
    titles = prepared.names
    taste_name = next(iter(registry.with_capability("taste")), None)  # the genre-taste scorer
    taste = queries.get(taste_name) if taste_name else None
    total_w = sum(weights.values()) or 1.0
    taste_z = components.get(taste_name) if taste_name else None
    used: Counter[str] = Counter()
    previous: tuple[str, ...] = ()
    out: list[str] = []
    taste_w = weights.get(taste_name, 0.0) / total_w if taste_name else 0.0
    taste_shares = (
        (_nan_as(np.asarray(taste_z, dtype=np.float64), 0.0) * taste_w).tolist()
        if taste is not None and taste_z is not None
        else [0.0] * len(top)
    )
    led = _als_led(components, weights, len(top))
    liked_cinemas = cinemas(info, profile)
    if share.size:
        rows = share.tolist()
        # each card's best share and the titles worth naming (not negligible), for all cards at once
        best_of = share.max(axis=1)
        card, col = np.nonzero((share > 0) & (share >= NEGLIGIBLE * best_of[:, None]))
        cuts = np.searchsorted(card, np.arange(len(top) + 1)).tolist()
        cols, bests = col.tolist(), best_of.tolist()
    else:
        rows, cols, cuts, bests = [[] for _ in top], [], [0] * (len(top) + 1), [0.0] * len(top)
    taste_named = False  # the previous card named the taste
    last_taste = ""
    for i, item in enumerate(top.tolist()):
        row = rows[i]
        best = bests[i]
        # the taste when it clearly explains the card better than any liked title -- but not on
        # two cards in a row while a liked title still explains this one non-negligibly
        taste_first = taste_shares[i] > TASTE_OVER_TITLE * best and not (
            taste_named and best >= NEGLIGIBLE * taste_shares[i]
        )
        if best <= 0 or taste_first:
            genre = taste.best_genre(sec.genres[item]) if taste is not None and hasattr(taste, "best_genre") else None
            language = info.language.get(str(sec.tconsts[item])) if liked_cinemas else None
            cinema = language_name(language) if language in liked_cinemas else None
            if genre is not None or cinema is not None or best <= 0:
                options = [
                    *([f"Because you like {cinema} {_noun(sec.kind)}"] if cinema else []),
                    *([taste_reason(genre, sec.kind)] if genre else []),
                ]
                if not options:
                    reason = POPULAR_WITH_YOU if led[i] else popular_reason(sec.genres[item], profile.genres)
                else:  # the language and the genre take turns when both apply
                    reason = options[1] if len(options) > 1 and options[0] == last_taste else options[0]
                out.append(reason)
                previous = ()
                taste_named = bool(options)
                last_taste = reason if options else last_taste
                continue
        taste_named = False
        eligible = cols[cuts[i] : cuts[i + 1]]
        chosen = _pick(row, eligible, best, names, used, previous, per_card)
        for t in chosen:
            used[t] += 1
        previous = tuple(sorted(chosen))
        out.append("Because you liked " + ", ".join(titles.get(t, t) for t in chosen))
    return out


def named_gate(
    sec: Section,
    queries: Mapping[str, ScorerQuery],
    top: np.ndarray,
    names: Sequence[str],
    genres: Mapping[str, Sequence[str]],
    levels_of: Mapping[str, int] | None = None,
) -> np.ndarray:
    """``len(top) x len(names)`` booleans: may liked title ``j`` be named on card ``i``? Only when
    a scorer that can measure item similarity (``item_similarity``) finds the pair at least its
    threshold (:func:`recsys.models.registry.named_at`), and the two titles' maturities do not clash
    (:func:`maturity_clash`; ``levels_of``: the titles' precomputed :attr:`TitleInfo.maturity`,
    else from ``genres``)."""
    ok = np.zeros((len(top), len(names)), dtype=bool)
    column = {t: j for j, t in enumerate(names)}
    thresholds = registry.named_at()
    for name, q in queries.items():
        measure = getattr(q, "item_similarity", None)
        threshold = thresholds.get(name)
        if measure is None or threshold is None or name not in sec.blocks:
            continue
        liked, sims = measure(sec.blocks[name], top)
        cols = np.fromiter(map(column.get, liked, repeat(-1)), dtype=np.int64, count=len(liked))
        keep = np.flatnonzero(cols >= 0)
        if len(keep):  # NaN (a title the scorer never saw) compares False
            ok[:, cols[keep]] |= sims[:, keep] >= threshold
    # a children's title never explains a mature one, nor the reverse (maturity_clash)
    kinds = np.fromiter(
        map(levels_of.get, names, repeat(0))
        if levels_of is not None
        else (maturity(genres.get(t) or ()) for t in names),
        dtype=np.int8,
        count=len(names),
    )
    if kinds.any() and ok.any():
        levels = getattr(sec, "maturity", None)  # precomputed per title by build_section
        cards = levels[top] if levels is not None and len(levels) == len(sec.genres) else _levels(sec, top)
        ok &= ~((cards[:, None] > 0) & (kinds[None, :] > 0) & (cards[:, None] != kinds[None, :]))
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


def cinemas(info: TitleInfo, profile: Profile) -> set[str]:
    """Languages the profile's likes concentrate on: at least :data:`LANGUAGE_SHARE` of the likes
    with a known language, and at least :data:`LANGUAGE_LIFT` times the language's share of the
    catalogue (so English, most of the catalogue, is never a "cinema")."""
    if not info.language:
        return set()
    counts = Counter(lang for t in profile.liked if (lang := info.language.get(t)))
    total = sum(counts.values())
    return {
        lang
        for lang, c in counts.items()
        if c / total >= LANGUAGE_SHARE and c / total >= LANGUAGE_LIFT * info.language_share.get(lang, 1.0)
    }


def _pick(
    row: Sequence[float],
    eligible: Sequence[int],
    best: float,
    names: Sequence[str],
    used: Counter[str],
    previous: tuple[str, ...],
    per_card: int,
) -> list[str]:
    """Up to ``per_card`` liked titles for one card, varied across cards (see module docstring)."""
    if len(eligible) == 1 and per_card >= 1:  # the one candidate, whatever the order would be
        return [names[eligible[0]]]

    def adjusted(j: int) -> float:
        share = float(row[j])
        if share >= COMPARABLE * best:
            return share * REPEAT_DISCOUNT ** used.get(names[j], 0)
        return share * REPEAT_DISCOUNT ** (used.get(names[j], 0) + 3)  # never above a comparable one

    # comparable titles first: the discount only trades variety among them, and a title far
    # below the best must never push it out, however often the best was named before
    order = sorted(eligible, key=lambda j: (row[j] < COMPARABLE * best, -adjusted(j), names[j]))
    chosen = [names[j] for j in order[:per_card]]
    if tuple(sorted(chosen)) == previous and len(chosen) > 0:
        spare = [names[j] for j in order[per_card:] if row[j] >= COMPARABLE * best]
        if spare:
            chosen[-1] = spare[0]
    return chosen
