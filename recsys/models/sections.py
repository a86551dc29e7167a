"""Per-section precomputations of a trained recommender: each feed section's ("movie" / "tv")
titles, the scorers' candidate blocks over them, genre masks, languages, votes and training
positives, built once before the first request and read-only afterwards; and the ranking stages'
view of a section's candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from recsys.columns import KINDS
from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models.artifacts import TRAIN_HINT
from recsys.models.audience import maturity
from recsys.models.base import Block, Scorer, TrainingData, has_rows
from recsys.models.rerank.base import CandidateFacts, CatalogueShares, Pool

#: A scorer knowing fewer than this share of a section's titles passes its weight to its heir
#: there (registry.section_weights). Measured on the mirror: ALS knows 12% of the films (7,773)
#: but 0.4% of the shows (71 MovieLens titles that IMDb lists as mini-series), whose few z-scores
#: otherwise put the same handful of documentaries on every TV list. Once testers have rated a
#: few hundred shows, ALS takes part in TV again.
MIN_SECTION_COVERAGE = 0.02
#: Column of the model's titles: positive interactions in its training data (MovieLens ratings >=
#: 4 and the app's likes), the no-likes list's order where a section has them (see ``Recommender._popular``).
POSITIVES = "positives"


@dataclass
class Section:
    """Per-kind arrays precomputed before the first request (read-only afterwards)."""

    kind: str
    tconsts: np.ndarray  # object array of tconst, catalogue order
    blocks: dict[str, Block]  # each scorer's candidate block over these titles
    popularity: np.ndarray  # the catalogue's popularity (NaN when unknown)
    genres: list[list[str]]  # genres per title
    languages: np.ndarray  # object array: original language per title (None when unknown)
    log_votes: np.ndarray  # ln(1 + IMDb votes) per title, NaN when unknown
    common_language: str | None  # the most common known language here (not worth naming)
    genre_masks: dict[str, np.ndarray]
    position: dict[str, int]  # tconst -> position in this section
    positives: np.ndarray | None = None  # training positives per title; None when none are known
    blind: tuple[str, ...] = ()  # scorers knowing under MIN_SECTION_COVERAGE of these titles
    #: per title: 1 children's, 2 mature, 0 neither (:func:`recsys.models.audience.maturity`), so
    #: the reasons index an array instead of testing each card's genres per request
    maturity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    #: the ranking stages' per-title arrays (genre masks, family filter, language buckets)
    facts: CandidateFacts | None = None
    #: IMDb votes per title (0 when unknown), from ``log_votes``: "More like this" reads them for
    #: every request (recomputing them cost ~0.3 ms a details click)
    votes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.tconsts)


def build_section(kind: str, titles: pl.DataFrame, scorers: Mapping[str, Scorer]) -> Section:
    """The per-kind arrays of ``titles`` (the model's catalogue frame) and each scorer's block."""
    frame = titles.filter(pl.col(C.KIND) == kind)
    tconsts = np.asarray(frame[C.TCONST].to_list(), dtype=object)
    ids = tconsts.tolist()
    blocks = {name: scorer.candidates(ids) for name, scorer in scorers.items()}
    content = blocks.get("content")
    if content is not None and (content.positions < 0).any():
        raise ModelError(f"The content model does not cover the catalogue; {TRAIN_HINT}.")
    popularity = (
        frame[C.POPULARITY].cast(pl.Float64).fill_null(np.nan).to_numpy()
        if C.POPULARITY in frame.columns
        else np.zeros(len(tconsts))
    )
    has_genres = C.GENRES in frame.columns
    genres = [list(g or ()) for g in frame[C.GENRES].to_list()] if has_genres else [[] for _ in tconsts]
    languages = np.asarray(
        frame[C.LANGUAGE].to_list() if C.LANGUAGE in frame.columns else [None] * len(tconsts), dtype=object
    )
    known = Counter(x for x in languages.tolist() if x)
    log_votes = (
        np.log1p(frame[C.VOTES].cast(pl.Float64).fill_null(np.nan).to_numpy().clip(min=0.0))
        if C.VOTES in frame.columns
        else np.full(len(tconsts), np.nan)
    )
    masks: dict[str, np.ndarray] = {}
    for i, gs in enumerate(genres):
        for g in gs:
            mask = masks.get(g)
            if mask is None:
                mask = masks[g] = np.zeros(len(tconsts), dtype=bool)
            mask[i] = True
    by_set: dict[tuple[str, ...], int] = {}
    levels = [by_set[key] if (key := tuple(gs)) in by_set else by_set.setdefault(key, maturity(gs)) for gs in genres]
    positives = frame[POSITIVES].fill_null(0).to_numpy().astype(np.float64) if POSITIVES in frame.columns else None
    blind = tuple(
        name for name, block in blocks.items() if len(block) and (block.positions >= 0).mean() < MIN_SECTION_COVERAGE
    )
    return Section(
        kind=kind,
        blind=blind,
        tconsts=tconsts,
        blocks=blocks,
        popularity=popularity,
        genres=genres,
        languages=languages,
        log_votes=log_votes,
        common_language=known.most_common(1)[0][0] if known else None,
        genre_masks=masks,
        position={t: i for i, t in enumerate(ids)},
        positives=positives if positives is not None and positives.any() else None,
        maturity=np.asarray(levels, dtype=np.int8),
        facts=CandidateFacts.of(masks, languages.tolist(), len(tconsts)),
        votes=np.rint(np.expm1(np.nan_to_num(log_votes, nan=0.0))),
    )


@dataclass(frozen=True)
class TitleInfo:
    """What the reasons need about any title, liked ones included (which may be of the other
    section): genres and original language (:attr:`Columns.LANGUAGE`, when the catalogue has it),
    and each language's share of the catalogue's titles; ``maturity``: the children's (1) and
    mature (2) titles' level (:func:`recsys.models.audience.maturity`; absent: neither), so the
    reasons' clash test looks the liked titles up instead of testing their genres per request."""

    genres: dict[str, list[str]]
    language: dict[str, str]
    language_share: dict[str, float]
    maturity: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, tconsts: Sequence[str], genres: Sequence[Sequence[str]], languages: Sequence[str | None]) -> TitleInfo:
        """From per-title sequences (the sections' arrays, or a frame's columns)."""
        language = {t: lg for t, lg in zip(tconsts, languages, strict=True) if lg}
        counts = Counter(language.values())
        total = sum(counts.values()) or 1
        by_set: dict[tuple[str, ...], int] = {}
        levels = {}
        for t, g in zip(tconsts, genres, strict=True):
            if g:
                key = tuple(g)
                level = by_set[key] if key in by_set else by_set.setdefault(key, maturity(key))
                if level:
                    levels[t] = level
        return cls(
            {t: list(g) for t, g in zip(tconsts, genres, strict=True) if g},
            language,
            {lang: c / total for lang, c in counts.items()},
            levels,
        )


@dataclass(frozen=True)
class Prepared:
    """Everything a recommender builds once before its first request (read-only afterwards):
    ``names`` (tconst -> primary title), the ``sections``, the catalogue's vote-weighted genre
    and language ``shares`` (what a taste is compared with), ``genre_counts`` (titles per
    genre over the catalogue: a title's rarest genre is its main one) and ``titles``, every
    title's genres and language by tconst (the reasons)."""

    names: dict[str, str]
    sections: dict[str, Section]
    shares: CatalogueShares
    genre_counts: Counter[str]
    titles: TitleInfo

    @classmethod
    def of(cls, titles: pl.DataFrame, scorers: Mapping[str, Scorer]) -> Prepared:
        names = dict(zip(titles[C.TCONST].to_list(), titles[C.TITLE].to_list(), strict=True))
        sections = {kind: build_section(kind, titles, scorers) for kind in KINDS}
        # from the sections' arrays: converting the frame's genre lists again costs ~0.2 s
        secs = list(sections.values())
        tconsts = [t for s in secs for t in s.tconsts.tolist()]
        genres = [g for s in secs for g in s.genres]
        languages = [c for s in secs for c in s.languages.tolist()]
        votes = np.concatenate([np.expm1(np.nan_to_num(s.log_votes, nan=0.0)) for s in secs])
        counts: Counter[str] = Counter()
        for s in secs:
            counts.update({g: int(mask.sum()) for g, mask in s.genre_masks.items()})
        return cls(
            names,
            sections,
            CatalogueShares.of(genres, languages, votes),
            counts,
            TitleInfo.of(tconsts, genres, languages),
        )


def catalogue_shares(titles: pl.DataFrame) -> CatalogueShares:
    """:class:`CatalogueShares` of a catalogue frame (genres, language, num_votes; missing columns
    count as empty): the same numbers for the feed (the model's titles) and the evaluation."""
    n = titles.height
    return CatalogueShares.of(
        [list(g or ()) for g in titles[C.GENRES].to_list()] if C.GENRES in titles.columns else [[] for _ in range(n)],
        titles[C.LANGUAGE].to_list() if C.LANGUAGE in titles.columns else [None] * n,
        titles[C.VOTES].cast(pl.Float64).fill_null(0.0).to_numpy() if C.VOTES in titles.columns else np.zeros(n),
    )


def section_pool(sec: Section, positions: np.ndarray, scores: np.ndarray) -> Pool:
    """The ranking stages' view of a section's candidates at ``positions`` (best first)."""
    return Pool.gather(positions, scores, sec.genres, sec.languages, sec.log_votes, sec.facts)


def with_positives(data: TrainingData) -> pl.DataFrame:
    """``data.titles`` with :data:`POSITIVES`: each title's positive interactions in the training
    data (MovieLens ratings >= 4, the app's likes and superlikes; 0 when none)."""
    parts: list[pl.LazyFrame] = []
    if data.ratings is not None and has_rows(data.ratings):
        parts.append(data.ratings.lazy().filter(pl.col("rating") >= 4.0).select(C.TCONST))
    if data.app is not None and data.app.height and C.VALUE in data.app.columns:
        parts.append(data.app.lazy().filter(pl.col(C.VALUE) > 0).select(C.TCONST))
    if not parts:
        return data.titles.drop(POSITIVES, strict=False)
    counts = (
        pl.concat(parts).group_by(C.TCONST).agg(pl.len().cast(pl.Int64).alias(POSITIVES)).collect(engine="streaming")
    )
    return (
        data.titles.drop(POSITIVES, strict=False)
        .join(counts, on=C.TCONST, how="left", maintain_order="left")
        .with_columns(pl.col(POSITIVES).fill_null(0))
    )
