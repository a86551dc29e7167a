""" "More like this": titles like one title, each with the reason it is there.

**Candidates** (same section as the title, or the section asked for), gathered from three
sources so no single weak signal decides:

- the ``CONTENT_POOL`` nearest content neighbours (TF-IDF cosine) among *known* titles (at least
  the known-title floor of votes, below) and ``CONTENT_POOL // 3`` among all titles;
- the ``ALS_POOL`` nearest ALS item neighbours (cosine of item factors: the people who liked one
  liked the other; this is what knows My Neighbor Totoro for Spirited Away);
- with the language column (:attr:`Columns.LANGUAGE`), the ``CONTENT_POOL`` nearest content
  neighbours in the title's own language; every title sharing a title word or a person (the
  sparse TF-IDF columns) with it.

**Score** of a candidate ``c`` for the title ``q``, from raw bounded components (never z-scored
against each other: on the mirror most vectors are only genre, decade and runtime, so hundreds
of neighbours tie at the same cosine and a z-score turns their last digits into the order)::

    score = cos(q, c)                                   content cosine, 0..1
          + ALS_WEIGHT * max(0, (a - ALS_BASE) / (1 - ALS_BASE))   a: ALS item cosine (0 if unknown)
          + GENRE_BONUS    * [c has q's main genre]
          + LANGUAGE_BONUS * [same original language]   (when the column is known for both)
          + PEOPLE_BONUS   * [c shares a director or writer with q]
          + FAMILIARITY    * min(1, log10(1 + votes_c) / 6)

The main genre is the title's least common genre in the catalogue (Animation for Spirited Away,
Crime for The Godfather; :func:`recsys.evaluation.tastecheck.main_genre`). Then three tiers:

1. the **companions**: known titles of the same series, sharing q's main genre and their title
   words (all the words of the shorter title, or at least two and half of them): The Godfather
   Part II for The Godfather, Toy Story 2 for Toy Story;
2. the other titles with at least ``min(KNOWN_VOTES, votes_q)`` votes (the known-title floor:
   8/10 of a More-like-this list should be titles people know);
3. the rest.

A candidate sharing nothing nameable (no genre, person, language, series or audience) is left
out, so the list may be shorter than asked. Each tier is ordered by score; the score reported is ``score + TIER_STEP * (2 - tier)`` (the raw
score is below ``TIER_STEP``), so it falls with the rank. A candidate whose maturity clashes with the title's (a children's
film next to a horror film, :func:`recsys.models.audience.maturity_clash`) is never shown.

**Reasons** (at most two parts, strongest first): "Same series as The Godfather", "Same
director: Akira Kurosawa" (writer, cast), "People who liked both" (ALS cosine at least
:data:`recsys.models.reasons.ALS_NAMED`), the shared language and main genre ("Japanese,
Animation"), else the shared genres ("Crime, Drama").

Measured on the mirror (``bench/similar_quality.py``, the ten titles of issue 18, top 10, same
model): sharing the main genre or language 97/100 (before: 90), 20k+ votes 100/100 (before: 83),
companion first for The Godfather, Toy Story and The Matrix (before: The Matrix Reloaded absent);
Spirited Away now lists Totoro and Mononoke, Amélie's first neighbour is Eternal Sunshine (1.0M
votes) instead of a 3.6k-vote comedy. About 5-10 ms per title; it reads only the recommender's
prepared sections (:mod:`recsys.models.sections`). The constants below were set by hand on those ten titles and are
deliberately round (no search over them).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.languages import language_name
from recsys.models.als import ALSScorer
from recsys.models.audience import maturity
from recsys.models.base import Scorer
from recsys.models.content import TfidfScorer
from recsys.models.reasons import ALS_NAMED
from recsys.models.sections import Prepared, Section

log = logging.getLogger(__name__)

CONTENT_POOL = 300  # content neighbours gathered (among known titles; a third of it among all)
ALS_POOL = 100  # ALS item neighbours gathered
KNOWN_VOTES = 20_000  # the known-title floor (capped at the title's own votes)
ALS_WEIGHT = 1.5
#: ALS cosine counted from here: the 90th percentile of random pairs of 20k+ vote titles on the
#: mirror is 0.28 (median 0.01, 99th 0.62), so below 0.3 it says nothing about a pair
ALS_BASE = 0.3
GENRE_BONUS = 0.4
GENRE_OVERLAP = 0.3  # times the Jaccard overlap of the two genre sets
LANGUAGE_BONUS = 0.4
PEOPLE_BONUS = 0.3
FAMILIARITY = 0.3
TIER_STEP = 5.0  # above the largest raw score (1 + 1.5 + 0.4 + 0.3 + 0.4 + 0.3 + 0.3 = 4.2)
MAX_WORD_TITLES = 200  # a title word shared by more titles than this gathers no candidates

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PEOPLE = (("dir:", "Same director"), ("wri:", "Same writer"), ("cast:", "Also with"))


def _deslug(slug: str) -> str:
    """``hayao_miyazaki`` -> ``Hayao Miyazaki``: a person's name from the content model's token (the
    model's titles keep no people columns)."""
    return " ".join(part[:1].upper() + part[1:] for part in slug.split("_") if part)


def main_genre(genres: Sequence[str], counts: Counter[str]) -> str | None:
    """The least common of ``genres`` in the catalogue (the most specific one); ties by name."""
    known = [g for g in genres if counts.get(g)]
    return min(known, key=lambda g: (counts[g], g)) if known else None


def title_words(title: str) -> list[str]:
    """A title's words, lower case, in order ("The Godfather: Part II" -> the, godfather, part, ii)."""
    return _WORD.findall(title.lower())


def _distinctive(words: Sequence[str]) -> int:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # loaded on use (issue 24)

    return sum(1 for w in words if len(w) > 1 and w not in ENGLISH_STOP_WORDS and not w.isdigit())


def same_series(query: Sequence[str], other: Sequence[str]) -> bool:
    """Two titles of one series by their words (see :func:`title_words`): the other title starts
    with the whole query title (The Godfather -> The Godfather: Part II, Toy Story -> Toy Story 2),
    or both start with the same run of words holding two distinctive words (Star Wars: Episode
    IV / V; Harry Potter and the ...), or the query starts with the whole other title when that
    has two distinctive words (Toy Story 2 -> Toy Story). Not: Spirited Away / Spirited, Seven
    Samurai / The Last Samurai, Game of Thrones / Game of Death, The Lord of the Rings / The Lord
    of War."""
    if not query or not other or list(query) == list(other):
        return False
    common = 0
    for a, b in zip(query, other, strict=False):
        if a != b:
            break
        common += 1
    if common == len(query):
        return _distinctive(query) >= 1
    if common == len(other):
        return _distinctive(other) >= 2
    return _distinctive(query[:common]) >= 2


def empty_frame() -> pl.DataFrame:
    """A "More like this" frame with no rows."""
    return pl.DataFrame(schema={C.TCONST: pl.String, C.SCORE: pl.Float64, C.RANK: pl.Int32, C.REASON: pl.String})


def similar_explained(
    prepared: Prepared, scorers: Mapping[str, Scorer], tconst: str, n: int, sec: Section
) -> pl.DataFrame:
    """Up to ``n`` titles of ``sec`` like ``tconst``: ``[tconst, score, rank, reason]``, best
    first (see the module docstring); empty when the content model does not know the title."""
    empty = empty_frame()
    content = scorers.get("content")
    if not isinstance(content, TfidfScorer) or "content" not in sec.blocks or n <= 0:
        return empty
    cos = content.similar(tconst, sec.blocks["content"])
    if not np.isfinite(cos).any():
        return empty
    query = _query(prepared, tconst)
    own = sec.position.get(tconst)
    cos = np.nan_to_num(cos, nan=0.0).clip(0.0, 1.0)
    floor = min(KNOWN_VOTES, query.votes) if query.votes > 0 else KNOWN_VOTES
    votes_of = sec.votes  # IMDb votes, 0 when unknown
    known = votes_of >= floor

    pool: set[int] = set()
    pool.update(_top(np.where(known, cos, -1.0), CONTENT_POOL))
    pool.update(_top(cos, CONTENT_POOL // 3))
    als_cos = _als_cosines(scorers, tconst, sec)
    if als_cos is not None:
        pool.update(_top(np.where(known, als_cos, -1.0), ALS_POOL))
    if query.language:
        pool.update(_top(np.where(sec.languages == query.language, cos, -1.0), CONTENT_POOL))
    shared_high = _shared_features(content, tconst, sec)
    pool.update(shared_high)
    pool.discard(-1)
    if own is not None:
        pool.discard(own)
    cand = np.asarray(sorted(i for i in pool if cos[i] > 0 or (als_cos is not None and als_cos[i] > ALS_BASE)))
    if len(cand) == 0:
        return empty
    # a children's title is never "like" a mature one (maturity_clash, from the section's levels)
    level = maturity(query.genres)
    if level:
        cand = cand[(sec.maturity[cand] == 0) | (sec.maturity[cand] == level)]

    # first every candidate's order (tier, score) as arrays (each sum adds the same terms in the
    # same order as one title's would), then the reasons in that order until n titles have one:
    # per-candidate Python over ~560 candidates for 6 shown was most of a details click
    # (similar_explained p50 5.4 -> 2.1 ms on the mirror, the same lists and reasons)
    k = len(cand)
    x = (als_cos[cand] - ALS_BASE) / (1.0 - ALS_BASE) if als_cos is not None else np.zeros(k)
    main_mask = sec.genre_masks.get(query.main) if query.main is not None else None
    has_main = main_mask[cand] if main_mask is not None else np.zeros(k, dtype=bool)
    same_lang = sec.languages[cand] == query.language if query.language else np.zeros(k, dtype=bool)
    directed = np.zeros(k, dtype=bool)
    for i, people in shared_high.items():
        if any(not p.startswith("cast:") for p in people):
            at = int(np.searchsorted(cand, i))
            if at < k and cand[at] == i:
                directed[at] = True
    asked = set(query.genres)
    inter = np.zeros(k, dtype=np.int64)
    for g in asked:
        mask = sec.genre_masks.get(g)
        if mask is not None:
            inter += mask[cand]
    sizes, familiarity = _per_title(sec)
    union = len(asked) + sizes[cand] - inter
    jaccard = np.divide(inter, union, out=np.zeros(k), where=union > 0)
    votes = votes_of[cand]
    familiar = familiarity[cand]
    score = (
        cos[cand]
        + ALS_WEIGHT * np.where(x > 0.0, x, 0.0)
        + GENRE_BONUS * has_main
        + GENRE_OVERLAP * jaccard
        + LANGUAGE_BONUS * same_lang
        + PEOPLE_BONUS * directed
        + familiar
    )
    tier = np.where(votes >= floor, 1, 2)
    for at in np.flatnonzero(has_main & (votes >= floor)).tolist():
        if same_series(query.words, title_words(prepared.names.get(str(sec.tconsts[cand[at]]), ""))):
            tier[at] = 0
    order = np.lexsort((cand, -score, tier))

    rows: list[tuple[int, float, int, str]] = []  # (tier, -score, index, reason)
    a_all = als_cos[cand] if als_cos is not None else np.zeros(k)
    for at in order.tolist():
        i = int(cand[at])
        genres = sec.genres[i]
        parts: list[str] = []
        if tier[at] == 0:
            parts.append(f"Same series as {query.title}")
        people = shared_high.get(i, [])
        for prefix, label in _PEOPLE:
            person = next((p for p in people if p.startswith(prefix)), None)
            if person is not None:
                parts.append(f"{label}: {query.person(person[len(prefix) :])}")
                break
        if float(a_all[at]) >= ALS_NAMED:
            parts.append("People who liked both")
        shared = [g for g in query.genre_order if g in genres]
        lang_name = language_name(query.language) if same_lang[at] and query.language != sec.common_language else None
        if lang_name:
            parts.append(", ".join([lang_name, *shared[:1]]))
        elif shared:
            parts.append(", ".join(g for g in query.genres if g in genres))
        if not parts:
            continue  # shares no genre, person, language or audience: not "like" the title
        rows.append((int(tier[at]), -float(score[at]), i, " · ".join(parts[:2])))
        if len(rows) == n:
            break
    top = rows
    return pl.DataFrame(
        [
            pl.Series(C.TCONST, [str(sec.tconsts[i]) for _, _, i, _ in top], dtype=pl.String),
            pl.Series(C.SCORE, [TIER_STEP * (2 - t) - s for t, s, _, _ in top], dtype=pl.Float64),
            pl.Series(C.RANK, np.arange(1, len(top) + 1, dtype=np.int32)),
            pl.Series(C.REASON, [r for _, _, _, r in top], dtype=pl.String),
        ]
    )


@dataclass(frozen=True)
class _Query:
    title: str
    genres: list[str]
    genre_order: list[str]  # main genre first, then the others as listed
    main: str | None
    language: str | None
    votes: float
    words: list[str]

    def person(self, slug: str) -> str:
        return _deslug(slug)


def _query(prepared: Prepared, tconst: str) -> _Query:
    home = next((s for s in prepared.sections.values() if tconst in s.position), None)
    genres: list[str] = []
    votes = 0.0
    language: str | None = None
    if home is not None:
        at = home.position[tconst]
        genres = list(home.genres[at])
        votes = float(home.votes[at])
        language = home.languages[at]
    main = main_genre(genres, prepared.genre_counts)
    title = prepared.names.get(tconst, tconst)
    return _Query(
        title=title,
        genres=genres,
        genre_order=[*([main] if main else []), *(g for g in genres if g != main)],
        main=main,
        language=language or None,
        votes=votes,
        words=title_words(title),
    )


_PER_TITLE: dict[int, tuple[Section, tuple[np.ndarray, np.ndarray]]] = {}
_PER_TITLE_LOCK = threading.Lock()


def _per_title(sec: Section) -> tuple[np.ndarray, np.ndarray]:
    """Per title of ``sec``, once per section: the size of its genre set and its familiarity
    term ``FAMILIARITY * min(1, log10(1 + votes) / 6)`` (``math.log10``, as for one title)."""
    cached = _PER_TITLE.get(id(sec))
    if cached is not None and cached[0] is sec:
        return cached[1]
    sizes = np.fromiter((len(set(g)) for g in sec.genres), dtype=np.int64, count=len(sec))
    familiar = np.fromiter(
        (FAMILIARITY * min(1.0, math.log10(1.0 + v) / 6.0) for v in sec.votes.tolist()),
        dtype=np.float64,
        count=len(sec),
    )
    with _PER_TITLE_LOCK:
        if len(_PER_TITLE) >= 8:  # the sections of a few loaded models at most: forget the oldest
            _PER_TITLE.pop(next(iter(_PER_TITLE)))
        _PER_TITLE[id(sec)] = (sec, (sizes, familiar))
    return sizes, familiar


def _top(values: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` largest positive values (any order)."""
    k = min(k, len(values))
    if k <= 0:
        return []
    idx = np.argpartition(-values, k - 1)[:k]
    top: list[int] = idx[values[idx] > 0].tolist()
    return top


def _als_cosines(scorers: Mapping[str, Scorer], tconst: str, sec: Section) -> np.ndarray | None:
    """ALS item cosine of every title of ``sec`` to ``tconst`` (0 where ALS does not know a
    title); None when ALS does not know ``tconst``."""
    als = scorers.get("als")
    block = sec.blocks.get("als")
    if not isinstance(als, ALSScorer) or block is None or als.items is None:
        return None
    row = als.items.get(tconst)
    if row < 0:
        return None
    target = np.asarray(als.item_factors[row], dtype=np.float64)
    tn = float(np.linalg.norm(target))
    if tn <= 0:
        return None
    out = np.zeros(len(sec))
    known = block.positions >= 0
    f = np.asarray(block.data.factors, dtype=np.float64)
    if len(f):
        out[known] = (f @ target) / np.maximum(np.linalg.norm(f, axis=1) * tn, 1e-12)
    return out


def _shared_features(content: TfidfScorer, tconst: str, sec: Section) -> dict[int, list[str]]:
    """Section index -> the people features (``dir:``, ``wri:``, ``cast:``) it shares with
    ``tconst``, for every title sharing a title word or a person (empty list for words only)."""
    if content.items is None or content.matrix is None:
        return {}
    row = content.items.get(tconst)
    if row < 0:
        return {}
    matrix = content.matrix
    cols = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
    cols = cols[cols >= content.n_low] - content.n_low
    data = sec.blocks["content"].data
    high = data.high
    out: dict[int, list[str]] = {}
    known = data.known
    for c in cols.tolist():
        feature = content.features[content.n_low + c]
        person = not feature.startswith(("w:", "tag:"))
        start, end = int(high.indptr[c]), int(high.indptr[c + 1])
        if not person and end - start > MAX_WORD_TITLES:
            continue  # a common word ("love", "night") says nothing about a series
        for r in high.indices[start:end].tolist():
            i = int(known[r])
            names = out.setdefault(i, [])
            if person:
                names.append(feature)
    return out
