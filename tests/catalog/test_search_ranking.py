"""Search ranking: match quality combined with popularity, and typo tolerance, on a tiny
hand-written catalogue (namesakes of famous titles with few votes)."""

from __future__ import annotations

import duckdb
import pytest

from recsys.catalog.build import TITLES_SCHEMA
from recsys.catalog.queries import Catalog

# tconst, kind, primary title, original title, year, votes
ROWS = [
    ("tt0000101", "movie", "The Godfather", "The Godfather", 1972, 2_100_000),
    ("tt0000102", "movie", "Godfather", "Godfather", 2022, 7_000),
    ("tt0000103", "movie", "Godfather Mendoza", "Godfather Mendoza", 2005, 641),
    ("tt0000104", "movie", "The Godfather: Part II", "The Godfather: Part II", 1974, 1_300_000),
    ("tt0000105", "movie", "Tokyo Godfathers", "Tokyo Godfathers", 2003, 43_000),
    ("tt0000201", "movie", "Seven", "Seven", 2019, 476),
    ("tt0000202", "movie", "Seven (a.k.a. Se7en)", "Seven (a.k.a. Se7en)", 1995, 1_700_000),
    ("tt0000203", "movie", "Seven Samurai", "Shichinin no samurai", 1954, 390_000),
    ("tt0000204", "movie", "Seventh Seal, The", "Det sjunde inseglet", 1957, 210_000),
    ("tt0000301", "movie", "Goodfellas", "Goodfellas", 1990, 1_200_000),
    ("tt0000302", "tv", "Goodfellas Kitchen", "Goodfellas Kitchen", 2015, 80),
    ("tt0000401", "movie", "Harbor", "Harbor", 2019, 120),
    ("tt0000402", "movie", "Harbor Lights", "Harbor Lights", 1994, 90_000),
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("ranking")
    con = duckdb.connect()
    values = ", ".join(
        f"('{t}', '{'movie' if k == 'movie' else 'tvSeries'}', '{k}', ?, ?, {y}, NULL, 100, ['Drama'],"
        f" 7.0, {v}, {v / 1000.0}, [], [], [], NULL, NULL, strip_accents(lower(? || ' ' || ?)))"
        for t, k, _p, _o, y, v in ROWS
    )
    params = [x for _t, _k, p, o, _y, _v in ROWS for x in (p, o, p, o)]
    cols = ", ".join(f'"{c}"' for c in TITLES_SCHEMA)
    casts = ", ".join(f'"{c}"::{t} AS "{c}"' for c, t in TITLES_SCHEMA.items())
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {values}) v({cols})", params)
    con.execute(f"COPY (SELECT {casts} FROM t) TO '{folder / 'titles.parquet'}' (FORMAT parquet)")
    con.close()
    return Catalog(folder)


def ids(frame) -> list[str]:
    return frame["tconst"].to_list()


def test_the_famous_film_beats_an_exact_namesake_with_few_votes(catalog: Catalog) -> None:
    found = ids(catalog.search("godfather"))
    # The Godfather (2.1M), then Part II (1.3M: famous, so above an exact namesake since issue 20,
    # as "the silence" lists The Silence of the Lambs first), then Godfather (7k), then Mendoza (641)
    assert found[:3] == ["tt0000101", "tt0000104", "tt0000102"]
    assert found.index("tt0000102") < found.index("tt0000103")
    assert ids(catalog.search("GODFATHER"))[0] == "tt0000101"


def test_seven_lists_se7en_first_and_the_476_vote_namesake_after(catalog: Catalog) -> None:
    found = ids(catalog.search("seven"))
    assert found[0] == "tt0000202"
    assert found.index("tt0000201") < found.index("tt0000204")  # exact title before "Seventh"


def test_an_exact_match_still_beats_a_merely_popular_prefix_match(catalog: Catalog) -> None:
    assert ids(catalog.search("harbor")) == ["tt0000401", "tt0000402"]


def test_typos_are_tolerated_only_when_asked_and_after_real_matches(catalog: Catalog) -> None:
    assert ids(catalog.search("gooffellas")) == []  # literal search stays literal
    assert ids(catalog.search("gooffellas", fuzzy=True))[0] == "tt0000301"
    assert ids(catalog.search("godfathr", fuzzy=True))[0] == "tt0000101"
    assert ids(catalog.search("godfathr", fuzzy=True, kind="tv")) == []  # filters still apply
    # enough real matches: no typo matches mixed in
    assert ids(catalog.search("godfather", fuzzy=True)) == ids(catalog.search("godfather"))
    assert ids(catalog.search("zzzzqqq", fuzzy=True)) == []
    assert ids(catalog.search("'; DROP TABLE titles; --", fuzzy=True)) == []
    assert catalog.all_titles().height == len(ROWS)
