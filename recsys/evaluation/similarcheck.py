""" "More like this" checks on well-known titles (issue 18): for each title's top ``n``, how many
share its main genre (its least common genre in the catalogue,
:func:`recsys.evaluation.tastecheck.main_genre`) or its original language (when the catalogue
has :attr:`Columns.LANGUAGE`), how many have ``min_votes`` or more votes, and whether the obvious
companion comes first. ``bench/similar_quality.py`` prints the table (before / after); the mirror
test ``tests/models/test_similar_mirror.py`` asserts the targets: at least 7/10 sharing genre or
language, at least 8/10 with 20k+ votes, the companion first where the data can know it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from recsys.columns import Columns as C
from recsys.evaluation.tastecheck import main_genre

#: The ten titles of issue 18: films in four languages, animation, horror and two TV series.
TEN: tuple[str, ...] = (
    "tt0068646",  # The Godfather
    "tt0903747",  # Breaking Bad
    "tt6751668",  # Parasite
    "tt0245429",  # Spirited Away
    "tt0211915",  # Amélie
    "tt0133093",  # The Matrix
    "tt0114709",  # Toy Story
    "tt0081505",  # The Shining
    "tt0047478",  # Seven Samurai
    "tt0944947",  # Game of Thrones
)
#: title -> its obvious companion (sequel / spin-off)
COMPANIONS: dict[str, str] = {
    "tt0068646": "tt0071562",  # The Godfather -> The Godfather: Part II
    "tt0903747": "tt3032476",  # Breaking Bad -> Better Call Saul
    "tt0114709": "tt0120363",  # Toy Story -> Toy Story 2
    "tt0133093": "tt0234215",  # The Matrix -> The Matrix Reloaded
}


@dataclass
class SimilarCheck:
    tconst: str
    title: str
    genre: str | None
    language: str | None
    shown: list[str]  # titles of the list, best first
    on_topic: int  # sharing the main genre or the language
    well_known: int  # with min_votes or more votes
    companion: str | None  # the expected companion's tconst (None: no obvious one)
    companion_rank: int | None  # its rank in the list (None: absent)

    @property
    def n(self) -> int:
        return len(self.shown)


def similar_checks(
    similar: Callable[[str, int], Sequence[str]],
    titles: pl.DataFrame,
    n: int = 10,
    min_votes: int = 20_000,
    famous: Sequence[str] = TEN,
    companions: Mapping[str, str] = COMPANIONS,
) -> list[SimilarCheck]:
    """One :class:`SimilarCheck` per title of ``famous`` found in ``titles`` (the catalogue)."""
    counts = titles.select(pl.col(C.GENRES).explode()).drop_nulls().group_by(C.GENRES).len()
    base = dict(zip(counts[C.GENRES].to_list(), counts["len"].to_list(), strict=True))
    has_lang = C.LANGUAGE in titles.columns
    rows = {r[C.TCONST]: r for r in titles.filter(pl.col(C.TCONST).is_in(list(famous))).to_dicts()}
    out = []
    for tconst in famous:
        row = rows.get(tconst)
        if row is None:
            continue
        genre = main_genre(row.get(C.GENRES) or [], base)
        language = row.get(C.LANGUAGE) if has_lang else None
        ids = list(similar(tconst, n))
        found = titles.filter(pl.col(C.TCONST).is_in(ids))
        by_id = {r[C.TCONST]: r for r in found.to_dicts()}
        shown = [by_id[t] for t in ids if t in by_id]
        on_topic = sum(
            (genre is not None and genre in (r.get(C.GENRES) or []))
            or (language is not None and r.get(C.LANGUAGE) == language)
            for r in shown
        )
        companion = companions.get(tconst)
        out.append(
            SimilarCheck(
                tconst=tconst,
                title=str(row[C.TITLE]),
                genre=genre,
                language=language,
                shown=[str(r[C.TITLE]) for r in shown],
                on_topic=on_topic,
                well_known=sum((r.get(C.VOTES) or 0) >= min_votes for r in shown),
                companion=companion,
                companion_rank=ids.index(companion) + 1 if companion in ids else None,
            )
        )
    return out
