"""Reasons on the cards (:mod:`recsys.models.reasons`): negligible titles never named, variety
across consecutive cards, dislikes never named, taste and popularity reasons.

Small hand-made contribution matrices go through :func:`reasons_for` (with stand-ins for the
recommender, the section and the prepared queries) and :func:`_pick`; then end to end on the
fixture catalogue.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from recsys.models import Profile, Recommender, registry
from recsys.models.audience import is_childrens, is_mature, maturity_clash
from recsys.models.reasons import (
    ALS_NAMED,
    COMPARABLE,
    CONTENT_NAMED,
    NEGLIGIBLE,
    REPEAT_DISCOUNT,
    _pick,
    reasons_for,
)
from recsys.models.sections import TitleInfo

NAMES = {"ttA": "Alpha", "ttB": "Beta", "ttC": "Gamma", "ttD": "Delta"}
LIKED = [("ttA", 1), ("ttB", 1), ("ttC", 1)]


class SplitQuery:
    """A scorer query whose score splits over ``names`` as the rows of ``matrix`` (one per card),
    with the item similarity of each card to each liked title in ``similar`` (default 1: every
    pair related enough to be named)."""

    def __init__(self, names: list[str], matrix: list[list[float]], similar: list[list[float]] | None = None) -> None:
        self.names, self.matrix = names, np.asarray(matrix, dtype=float)
        self.similar = np.ones_like(self.matrix) if similar is None else np.asarray(similar, dtype=float)

    def contributions(self, block: object, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return list(self.names), self.matrix[positions]

    def item_similarity(self, block: object, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return list(self.names), self.similar[positions]


class TasteQuery:
    def __init__(self, genre: str | None) -> None:
        self.genre = genre

    def contributions(self, block: object, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return [], np.zeros((len(positions), 0))

    def best_genre(self, genres: list[str]) -> str | None:
        return self.genre if self.genre in genres else None


def reasons(
    matrix: list[list[float]],
    names: list[str] | None = None,
    profile: list[tuple[str, int]] = LIKED,
    favourites: tuple[str, ...] = (),
    taste: TasteQuery | None = None,
    taste_z: list[float] | None = None,
    kind: str = "movie",
    similar: list[list[float]] | None = None,
    card_genres: list[list[str]] | None = None,
    catalogue: pl.DataFrame | None = None,
    als_z: list[float] | None = None,
) -> list[str]:
    n = len(matrix)
    queries: dict[str, object] = {"content": SplitQuery(names or ["ttA", "ttB", "ttC"], matrix, similar)}
    weights = {"content": 1.0}
    components: dict[str, np.ndarray] = {"content": np.ones(n)}
    if als_z is not None:
        weights["als"] = 1.0
        components["als"] = np.asarray(als_z)
    if taste is not None:
        queries["taste"] = taste
        weights["taste"] = 1.0
        components["taste"] = np.asarray(taste_z if taste_z is not None else [0.0] * n)
    sec = SimpleNamespace(
        kind=kind,
        blocks={"content": None, "taste": None},
        genres=card_genres or [["Crime", "Drama"]] * n,
        tconsts=np.asarray([f"ttCard{i}" for i in range(n)], dtype=object),
    )
    frame = catalogue if catalogue is not None else pl.DataFrame({"tconst": []}, schema={"tconst": pl.String})
    column = {c: frame[c].to_list() if c in frame.columns else [None] * frame.height for c in ("genres", "language")}
    info = TitleInfo.of(frame["tconst"].to_list(), [g or [] for g in column["genres"]], column["language"])
    prepared = SimpleNamespace(titles=info, names=NAMES)  # what Recommender.prepare() holds
    return reasons_for(
        prepared,  # type: ignore[arg-type]  # a stand-in holding only what reasons_for reads
        sec,  # type: ignore[arg-type]  # a stand-in holding only what reasons_for reads
        Profile.of(profile, genres=favourites),
        queries,  # type: ignore[arg-type]  # stand-in queries with only the methods reasons_for calls
        np.arange(n),
        weights,
        {"content": 1.0, "taste": 1.0},
        components,
    )


def test_the_rules_constants_are_sane() -> None:
    assert 0 < NEGLIGIBLE < COMPARABLE < 1 and 0 < REPEAT_DISCOUNT < 1


def test_the_best_two_titles_are_named_best_first() -> None:
    assert reasons([[0.2, 1.0, 0.5]]) == ["Because you liked Beta, Gamma"]


def test_a_negligible_contribution_is_never_named() -> None:
    # Beta's share is below NEGLIGIBLE of the best: only Alpha is named, never Beta
    assert reasons([[1.0, 0.2, 0.0]]) == ["Because you liked Alpha"]
    # not even when every card would otherwise repeat Alpha alone
    out = reasons([[1.0, 0.24, -0.5]] * 4)
    assert out == ["Because you liked Alpha"] * 4
    # a negative share is never named either
    assert reasons([[1.0, -0.9, 0.0]]) == ["Because you liked Alpha"]


def test_consecutive_cards_do_not_repeat_a_pair_when_another_title_is_comparable() -> None:
    # Gamma (0.8) is within COMPARABLE of the best on both cards: the second card swaps it in
    out = reasons([[1.0, 0.9, 0.8], [1.0, 0.9, 0.8]])
    assert out == ["Because you liked Alpha, Beta", "Because you liked Alpha, Gamma"]
    # over many equal cards every comparable title keeps being named, no pair twice in a row
    many = reasons([[1.0, 0.95, 0.9]] * 6)
    pairs = [frozenset(r.removeprefix("Because you liked ").split(", ")) for r in many]
    assert all(a != b for a, b in zip(pairs, pairs[1:], strict=False))
    assert Counter(n for p in pairs for n in p).keys() == {"Alpha", "Beta", "Gamma"}


def test_the_pair_repeats_when_no_other_title_is_comparable() -> None:
    # Gamma's share (0.3) is not negligible but far below the best: the honest pair stays
    assert reasons([[1.0, 0.9, 0.3], [1.0, 0.9, 0.3]]) == ["Because you liked Alpha, Beta"] * 2


def test_disliked_titles_are_never_named_even_if_a_scorer_reports_them() -> None:
    profile = [("ttA", 1), ("ttB", 1), ("ttD", -1)]
    out = reasons([[0.5, 0.4, 2.0]] * 3, names=["ttA", "ttB", "ttD"], profile=profile)
    assert out == ["Because you liked Alpha, Beta"] * 3
    assert not any("Delta" in r for r in out)


def test_taste_reason_when_the_taste_explains_more_than_any_liked_title() -> None:
    out = reasons([[0.3, 0.1, 0.0], [0.3, 0.1, 0.0]], taste=TasteQuery("Crime"), taste_z=[2.0, 0.1], kind="tv")
    # card 1: taste share 1 * 2.0 / 2 = 1.0 > 0.3 / 2; card 2: 0.05 < 0.15 -> the liked titles
    assert out == ["Because you like crime shows", "Because you liked Alpha, Beta"]


def test_popular_reason_when_nothing_personal_explains_the_card() -> None:
    assert reasons([[0.0, 0.0, 0.0]], favourites=("Drama",)) == ["Popular in Drama"]
    assert reasons([[-0.1, 0.0, 0.0]]) == ["Popular on IMDb"]
    # a taste without a positive genre for the card falls back to popularity too
    assert reasons([[0.0, 0.0, 0.0]], taste=TasteQuery(None), taste_z=[3.0]) == ["Popular on IMDb"]


def test_pick_directly() -> None:
    names = ["ttA", "ttB", "ttC"]
    row = [1.0, 0.9, 0.8]
    # Alpha and Beta used twice before: the comparable Gamma now leads the discounted order
    used = Counter({"ttA": 2, "ttB": 2})
    assert _pick(row, [0, 1, 2], 1.0, names, used, (), 2) == ["ttC", "ttA"]
    # a title below COMPARABLE never overtakes a comparable one, however often they were used
    row = [1.0, 0.5, 0.0]
    assert _pick(row, [0, 1], 1.0, names, Counter({"ttA": 10}), (), 1) == ["ttA"]
    row = [1.0, 0.5, 0.4]
    assert _pick(row, [0, 1, 2], 1.0, names, Counter({"ttA": 8}), (), 2) == ["ttA", "ttB"]
    # the same pair as the previous card is broken with a comparable spare
    row = [1.0, 0.9, 0.75]
    assert _pick(row, [0, 1, 2], 1.0, names, Counter(), ("ttA", "ttB"), 2) == ["ttA", "ttC"]


def test_the_main_contributor_is_not_dropped_after_many_cards() -> None:
    """Alpha explains eight cards alone; on the ninth it still contributes twice as much as
    anyone else, so it must still be named (variety only swaps between comparable titles)."""
    out = reasons([[1.0, 0.0, 0.0]] * 8 + [[1.0, 0.5, 0.4]])
    assert out[:8] == ["Because you liked Alpha"] * 8
    assert out[8] == "Because you liked Alpha, Beta"


# --- end to end on the fixture catalogue ------------------------------------------------------

CRIME_FAN = [
    ("tt0000001", 1),
    ("tt0000002", 2),
    ("tt0000004", 1),
    ("tt0000101", 1),
    ("tt0000011", 1),
    ("tt0000005", -1),
    ("tt0000103", -1),
]
_REASON = re.compile(r"Because you liked (.+)|Because you like [a-z-]+ (films|shows)|Popular (in \w+|on IMDb)")


@pytest.mark.parametrize("kind", ["movie", "tv"])
def test_feed_reasons_name_liked_titles_only_and_vary(recommender: Recommender, kind: str) -> None:
    names = recommender.names
    liked = {names[t] for t, v in CRIME_FAN if v > 0}
    disliked = {names[t] for t, v in CRIME_FAN if v < 0}
    out = recommender.recommend(CRIME_FAN, kind, n=10)
    named_lists = []
    for reason in out["reason"].to_list():
        m = _REASON.fullmatch(reason)
        assert m is not None, reason
        if m.group(1):
            named = m.group(1).split(", ")
            assert 1 <= len(named) <= recommender.config.reason_titles
            assert set(named) <= liked and not set(named) & disliked
            named_lists.append(frozenset(named))
    # more than one explanation over the list: the crime fan's films and Orbit both show up
    assert len(set(named_lists)) >= 2


def test_a_single_like_is_the_reason_for_its_own_kind(recommender: Recommender) -> None:
    # the full hybrid from one like (the served feed uses the cold-start blend below 3 likes)
    rec = Recommender(recommender.hybrid, recommender.titles, replace(recommender.config, hybrid_from_likes=1))
    out = rec.recommend([("tt0000012", 1)], "movie", n=2)  # Summer Letters (romance)
    assert out["tconst"].to_list() == ["tt0000013", "tt0000014"]  # the other two "Letters"
    assert out["reason"].to_list() == ["Because you liked Summer Letters"] * 2


# --- reasons that are true (issue 18) ----------------------------------------------------------


def test_a_liked_title_is_named_only_when_it_is_similar_enough() -> None:
    below = CONTENT_NAMED - 0.01
    # Alpha contributes most but is not similar enough to the card: only Beta is named
    assert reasons([[1.0, 0.9, 0.0]], similar=[[below, CONTENT_NAMED, 0.0]]) == ["Because you liked Beta"]
    # nothing similar enough: the taste, else "popular with people like you" when ALS leads the
    # card, else the popularity -- never a title a person would find unrelated
    unrelated = [[below, below, below]]
    assert reasons([[1.0, 0.9, 0.5]], similar=unrelated, taste=TasteQuery("Crime"), taste_z=[0.1]) == [
        "Because you like crime films"
    ]
    assert reasons([[1.0, 0.9, 0.5]], similar=unrelated, als_z=[2.0]) == ["Popular with people like you"]
    assert reasons([[1.0, 0.9, 0.5]], similar=unrelated, als_z=[0.5]) == ["Popular on IMDb"]  # content leads


def test_the_thresholds_are_the_measured_ones() -> None:
    assert (CONTENT_NAMED, ALS_NAMED) == (0.70, 0.62)
    assert registry.named_at() == {"content": CONTENT_NAMED, "als": ALS_NAMED}


def _catalogue(rows: dict[str, tuple[list[str], str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tconst": list(rows),
            "genres": [g for g, _ in rows.values()],
            "language": [lang for _, lang in rows.values()],
        },
        schema={"tconst": pl.String, "genres": pl.List(pl.String), "language": pl.String},
    )


def test_a_childrens_title_never_explains_a_mature_card_and_vice_versa() -> None:
    family = _catalogue({"ttA": (["Adventure", "Comedy", "Family"], None), "ttB": (["Drama"], None)})
    # Alpha (a Paddington) has the larger share and is "similar", but the card is a crime thriller
    out = reasons([[1.0, 0.5, 0.0]], catalogue=family, card_genres=[["Crime", "Thriller"]])
    assert out == ["Because you liked Beta"]
    # the other way round: a horror like never explains an animated family film
    horror = _catalogue({"ttA": (["Horror"], None), "ttB": (["Comedy"], None)})
    assert reasons([[1.0, 0.5, 0.0]], catalogue=horror, card_genres=[["Animation", "Family"]]) == [
        "Because you liked Beta"
    ]
    # a lone clashing title: the taste or the popularity instead
    assert reasons([[1.0, 0.0, 0.0]], catalogue=family, card_genres=[["War", "Drama"]]) == ["Popular on IMDb"]
    # a pair that does not clash is named as before
    assert reasons([[1.0, 0.5, 0.0]], catalogue=family, card_genres=[["Comedy"]]) == ["Because you liked Alpha, Beta"]


def test_maturity_rule() -> None:
    assert is_childrens(["Animation", "Family"]) and is_childrens(["Comedy", "Family"])
    assert is_childrens(["Animation", "Comedy"])
    assert not is_childrens(["Animation", "Horror", "Thriller"])  # Perfect Blue is not for children
    assert is_mature(["Crime", "Drama"]) and is_mature(["War"]) and is_mature(["Adult"])
    assert not is_mature(["Crime", "Family"])  # a family caper
    assert maturity_clash(["Adventure", "Comedy", "Family"], ["Crime", "Drama", "Thriller"])
    assert maturity_clash(["Horror"], ["Animation", "Adventure"])
    assert not maturity_clash(["Animation", "Family"], ["Comedy", "Romance"])
    assert not maturity_clash(["Crime", "Drama"], ["Drama", "Thriller"])


def test_a_language_the_likes_concentrate_on_is_named() -> None:
    rows: dict[str, tuple[list[str], str | None]] = {f"ttE{i}": (["Drama"], "en") for i in range(12)}
    rows.update({"ttA": (["Drama"], "ja"), "ttB": (["Crime"], "ja"), "ttC": (["Drama"], "en")})
    rows.update({"ttCard0": (["Drama"], "ja"), "ttCard1": (["Drama"], "ja"), "ttCard2": (["Drama"], "en")})
    catalogue = _catalogue(rows)
    unrelated = [[0.0, 0.0, 0.0]] * 3
    out = reasons(
        [[1.0, 0.9, 0.5]] * 3, similar=unrelated, catalogue=catalogue, taste=TasteQuery("Drama"), taste_z=[0.1] * 3
    )
    # 2 of 3 likes are Japanese (5x its 3/18 share of the catalogue): Japanese cards say so, and
    # the genre taste takes its turn; the English card gets the genre taste only
    assert out == ["Because you like Japanese films", "Because you like drama films", "Because you like drama films"]
    # English likes: English is most of the catalogue, never a "cinema"
    english = [("ttE0", 1), ("ttE1", 1), ("ttC", 1)]
    out = reasons(
        [[1.0, 0.9, 0.5]] * 3,
        names=["ttE0", "ttE1", "ttC"],
        profile=english,
        similar=unrelated,
        catalogue=catalogue,
        taste=TasteQuery("Drama"),
        taste_z=[0.1] * 3,
    )
    assert out == ["Because you like drama films"] * 3
    # without the language column, no language is ever named
    out = reasons(
        [[1.0, 0.9, 0.5]] * 3,
        similar=unrelated,
        catalogue=catalogue.drop("language"),
        taste=TasteQuery("Drama"),
        taste_z=[0.1] * 3,
    )
    assert out == ["Because you like drama films"] * 3


def test_two_scorers_shares_add_up_per_liked_title_whatever_their_order() -> None:
    """The share matrix's columns follow the first scorer's liked titles, a second scorer's
    titles (in its own order, with a disliked one) add into theirs, and the similarity gate maps
    each scorer's titles the same way."""
    from recsys.models.reasons import liked_shares, named_gate

    content = SplitQuery(["ttA", "ttB"], [[1.0, 2.0], [3.0, np.nan]], [[0.9, 0.1], [0.1, 0.1]])
    als = SplitQuery(
        ["ttC", "ttD", "ttA"], [[10.0, 99.0, 20.0], [30.0, 99.0, 40.0]], [[0.1, 0.9, 0.1], [0.7, 0.9, 0.7]]
    )
    queries = {"content": content, "als": als}
    sec = SimpleNamespace(blocks={"content": None, "als": None}, genres=[["Drama"], ["Drama"]])
    top = np.arange(2)
    weights, scales = {"content": 1.0, "als": 1.0}, {"content": 1.0, "als": 10.0}
    liked = {"ttA", "ttB", "ttC"}
    columns, share = liked_shares(sec, queries, top, weights, scales, liked)  # type: ignore[arg-type]  # stand-ins
    assert columns.names == ["ttA", "ttB", "ttC"]
    # each weight is half of the total; ALS terms divided by its scale; NaN counts as 0
    assert share.tolist() == [[0.5 + 1.0, 1.0, 0.5], [1.5 + 2.0, 0.0, 1.5]]
    gate = named_gate(sec, queries, top, columns.names, {}, None, columns)  # type: ignore[arg-type]  # stand-ins
    # content names A on card 0 (0.9 >= 0.70); ALS names C and A on card 1 (0.7 >= 0.62); D is no column
    assert gate.tolist() == [[True, False, False], [True, False, True]]
