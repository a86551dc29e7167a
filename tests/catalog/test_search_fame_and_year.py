"""Search: fame and a year in the query (issue 20, item 8), on a hand-written title table:
a famous prefix match beats an exact namesake known to far fewer people ("the silence",
"breaking"), an exact match still beats a merely popular one ("harbor"), and "Dune 2021" /
"dune (1984)" find that year's Dune while "Wonder Woman 1984" is searched as typed."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from recsys.catalog.queries import Catalog, trailing_year
from recsys.config import Settings

# tconst, title, year, votes
TITLES = [
    ("tt9000001", "The Silence", 2019, 47_814),
    ("tt9000002", "The Silence of the Lambs", 1991, 1_464_685),
    ("tt9000003", "Breaking", 2022, 5_852),
    ("tt9000004", "Breaking Bad", 2008, 2_396_785),
    ("tt9000005", "Harbor", 2001, 120),
    ("tt9000006", "Harbor Lights", 1990, 90_000),
    ("tt9000007", "Batman", 1989, 386_536),
    ("tt9000008", "Batman Begins", 2005, 1_500_453),
    ("tt9000009", "Dune", 2021, 672_847),
    ("tt9000010", "Dune", 1984, 165_507),
    ("tt9000011", "Wonder Woman 1984", 2020, 277_805),
]


@pytest.fixture(scope="module")
def catalog(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("ranking") / "parquet"
    shutil.copytree(built.parquet_dir, folder)
    template = pl.read_parquet(Path(built.parquet_dir) / "titles.parquet").filter(pl.col("kind") == "movie").head(1)
    rows = [
        template.with_columns(
            pl.lit(tconst).alias("tconst"),
            pl.lit(title).alias("primary_title"),
            pl.lit(title).alias("original_title"),
            pl.lit(year).cast(template.schema["start_year"]).alias("start_year"),
            pl.lit(votes).cast(template.schema["num_votes"]).alias("num_votes"),
            pl.lit(title.lower()).alias("search_text"),
        )
        for tconst, title, year, votes in TITLES
    ]
    pl.concat(rows).write_parquet(folder / "titles.parquet")
    return Catalog(folder)


def titles(frame: pl.DataFrame) -> list[tuple[str, int]]:
    return list(zip(frame["primary_title"].to_list(), frame["start_year"].to_list(), strict=True))


def test_a_famous_prefix_match_beats_a_little_known_exact_namesake(catalog: Catalog) -> None:
    assert titles(catalog.search("the silence")) == [("The Silence of the Lambs", 1991), ("The Silence", 2019)]
    assert titles(catalog.search("breaking")) == [("Breaking Bad", 2008), ("Breaking", 2022)]
    assert titles(catalog.search("harbor")) == [("Harbor", 2001), ("Harbor Lights", 1990)]
    assert titles(catalog.search("batman")) == [("Batman", 1989), ("Batman Begins", 2005)]


def test_a_year_at_the_end_of_the_query_is_the_start_year(catalog: Catalog) -> None:
    assert titles(catalog.search("Dune 2021")) == [("Dune", 2021)]
    assert titles(catalog.search("dune (1984)")) == [("Dune", 1984)]
    assert titles(catalog.search("wonder woman 1984")) == [("Wonder Woman 1984", 2020)]
    assert titles(catalog.search("dune 2021", year_max=2000)) == []  # the filters still apply
    assert [trailing_year(t) for t in ("Dune 2021", "1917", "Blade Runner 2049", "Dune (1984) ")] == [
        ("Dune", 2021),
        None,
        None,
        ("Dune", 1984),
    ]
