"""Search text: quotes, SQL fragments, ``%``, ``_``, emoji, NUL, 10,000 characters, anything at all.

Through ``Catalog.search`` (every character literal, nothing injected, the catalogue unchanged)
and through the search page and the onboarding search in AppTest (no exception, a result or a
"no match" hint, nothing stored).
"""

from __future__ import annotations

import time

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recsys.catalog.queries import MAX_QUERY_WORDS, TITLE_COLUMNS, Catalog, _clean_text
from recsys.config import Settings
from recsys.ui.cards import md_escape
from tests.app.helpers import alerts, start
from tests.badinput.support import (
    NASTY_TEXT,
    bounded,
    hostile_text,
    make_user,
    signed_in,
    stored_rows,
)

TITLES = 38  # the fixture catalogue: 22 movies + 16 TV titles


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["tconst"].to_list()


def search_text_of(catalog: Catalog) -> dict[str, str]:
    with catalog._cursor() as cur:  # the column the search matches on (not in TITLE_COLUMNS)
        rows = cur.execute("SELECT tconst, search_text FROM titles").fetchall()
    return dict(rows)


# ------------------------------------------------------------------------ Catalog.search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["tt0100005"]),  # 100% Pure Nonsense: % is a character, not a wildcard
        ("100%", ["tt0100005"]),
        ("_", ["tt0100006"]),  # snake_case Stories: _ is a character, not a wildcard
        ("e_c", ["tt0100006"]),
        ('"quoted"', ["tt0100002"]),  # The "Quoted" Heist
        ('"', ["tt0100002"]),
        ("\\", ["tt0100014"]),  # Back\Slash Theory
        ("back\\slash", ["tt0100014"]),
        ("🍕", ["tt0100013"]),  # Pizza 🍕 Night
        ("pizza\x00night", ["tt0100013"]),  # NUL is a word break, not the end of the text
        ("PIZZA\tNIGHT\n", ["tt0100013"]),
        ("' OR 1=1 --", []),
        ("'; DROP VIEW titles; --", []),
        ("%%", []),
        ("__", []),
        ("x" * 10_000, []),
    ],
)
def test_special_characters_are_literal(catalog: Catalog, text: str, expected: list[str]) -> None:
    assert ids(catalog.search(text, limit=100)) == expected
    assert catalog.all_titles().height == TITLES


@given(text=hostile_text)
@bounded(60)
def test_any_text_finds_only_titles_holding_every_word(catalog: Catalog, text: str) -> None:
    started = time.monotonic()
    found = catalog.search(text, limit=100)
    assert time.monotonic() - started < 5
    assert tuple(found.columns) == TITLE_COLUMNS
    assert found["tconst"].n_unique() == found.height
    # the words that must all appear: cleaned and normalised as the search itself documents
    words = list(dict.fromkeys(catalog._normalise(_clean_text(text)).split()))[:MAX_QUERY_WORDS]
    searchable = search_text_of(catalog)
    for tconst in ids(found):
        assert all(w in searchable[tconst] for w in words), (text, tconst)


@given(data=st.data())
@bounded(40)
def test_a_slice_of_a_title_always_finds_it(catalog: Catalog, data: st.DataObject) -> None:
    titles = catalog.all_titles().to_dicts()
    row = data.draw(st.sampled_from(titles))
    title = row["primary_title"]
    start = data.draw(st.integers(0, len(title) - 1))
    end = data.draw(st.integers(start + 1, len(title)))
    piece = title[start:end]
    decorated = data.draw(st.sampled_from(["{}", "  {}  ", "{}\x00", "\t{}\n"]))
    query = decorated.format(piece)
    if not query.strip():
        return
    cased = data.draw(st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
    assert row["tconst"] in ids(catalog.search(cased(query), limit=100)), (title, query)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": -5},
        {"limit": 10**12},
        {"offset": -1},
        {"offset": 10**9},
        {"genres": ["'; DROP VIEW titles; --", "%", "_", ""]},
        {"year_min": -(10**9), "year_max": 10**9},
        {"min_rating": float("nan")},
        {"min_rating": float("inf")},
    ],
)
def test_odd_filters_are_harmless(catalog: Catalog, kwargs: dict) -> None:
    frame = catalog.search("harbor", **kwargs)
    assert tuple(frame.columns) == TITLE_COLUMNS
    assert catalog.all_titles().height == TITLES


# --------------------------------------------------------------------------- the pages


def as_sent(text: str) -> str:
    """What a client sends for ``text``: UTF-8, so a lone surrogate arrives as U+FFFD.

    Pages get it with ``set_value``, not AppTest's ``input``, which silently ignores text
    longer than the field's ``max_chars`` (Streamlit cuts what a client sends to that length).
    """
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def test_search_page_takes_any_text_and_stores_nothing(app_settings: Settings) -> None:
    make_user(app_settings, likes=("tt0100001",))
    at = signed_in()
    at.switch_page("pages/search.py").run()
    assert at.title[0].value == "Search"
    before = stored_rows(app_settings)

    def check(text: str) -> None:
        at.text_input(key="search-text").set_value(as_sent(text)).run()
        assert not at.exception, (text, at.exception)
        assert not alerts(at, "error"), (text, alerts(at, "error"))
        results = [c.value for c in at.caption if str(c.value).startswith("Results ")]
        no_match = [m for m in alerts(at, "info") if "No titles match" in m]
        assert len(results) + len(no_match) == 1, text

    for text in NASTY_TEXT:
        check(text)

    @given(text=hostile_text)
    @bounded(12)
    def any_text(text: str) -> None:
        check(text)

    any_text()
    assert stored_rows(app_settings) == before
    # the page still works for an ordinary search afterwards
    at.text_input(key="search-text").input("harbor").run()
    shown = [str(b.key) for b in at.button if str(b.key).startswith("rate-search-")]
    assert any("tt0100018" in k for k in shown)


def test_onboarding_search_takes_any_text(app_settings: Settings) -> None:
    at = start()
    from tests.app.helpers import pick_genres, register

    register(at)
    pick_genres(at, list(at.button_group(key="onb-genres").options)[:5])
    for text in NASTY_TEXT:
        at.text_input(key="onb-search-movie").set_value(as_sent(text)).run()
        assert not at.exception, (text, at.exception)
    at.text_input(key="onb-search-movie").input("harbor").run()
    assert any("tt0100018" in str(b.key) for b in at.button)


def test_onboarding_no_match_hint_shows_the_search_text_as_typed(app_settings: Settings) -> None:
    at = start()
    from tests.app.helpers import pick_genres, register

    register(at)
    pick_genres(at, list(at.button_group(key="onb-genres").options)[:5])
    text = "**zzq** :red[zzq]"
    at.text_input(key="onb-search-movie").input(text).run()
    hint = next(str(m.value) for m in at.info if "No movies match" in str(m.value))  # the Markdown sent
    assert md_escape(text) in hint
