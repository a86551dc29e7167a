"""Catalog queries over the catalogue built from the fixture (known answers from make_data)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import polars as pl
import pytest

from recsys.catalog.queries import NOT_BUILT, TITLE_COLUMNS, Catalog, is_valid_tconst
from recsys.config import Settings
from recsys.errors import CatalogError

# movies from 2022-2024 (newest movie year 2024), by votes
TRENDING_MOVIES = [
    "tt0100004",  # Orbit of Ashes 30000
    "tt0100008",  # The Clockmaker's Daughter 22000
    "tt0100001",  # The Lighthouse Keeper's Cat 15000
    "tt0100002",  # The "Quoted" Heist 12000
    "tt0100003",  # Amélie-ish 9000
    "tt0100007",  # Midnight at Kettle Lake 5200
    "tt0100016",  # Winter Orchard (2022) 4800
    "tt0100010",  # Paper Dragons 3100
    "tt10000015",  # Eight Digit Adventure 2600
    "tt0100012",  # It's Complicated, Again 2400
    "tt0100009",  # Dust Riders 1300
    "tt0100011",  # Señor Sandwich 800
    "tt0100005",  # 100% Pure Nonsense 700
    "tt0100014",  # Back\Slash Theory 640
    "tt0100006",  # snake_case Stories 450
    "tt0100013",  # Pizza Night 150
]
# TV from 2023-2025 (newest TV year 2025): Harbor Patrol (2022, 5000 votes) is out
TRENDING_TV = [
    "tt0200001",  # 45000
    "tt0200011",  # 27000
    "tt0200003",  # 12500
    "tt0200013",  # 9800
    "tt0200002",  # 8000
    "tt0200004",  # 6700
    "tt0200009",  # 4100
    "tt0200005",  # 3300
    "tt0200007",  # 2200
    "tt0200012",  # 1900
    "tt0200006",  # 1500
    "tt0200008",  # 900
    "tt0200010",  # 350
]
GENRES = [
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Mystery",
    "Reality-TV",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "Western",
]


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["tconst"].to_list()


# ---------------------------------------------------------------------------- trending


def test_trending_movies_cover_three_years_up_to_the_newest_movie_year(catalog: Catalog) -> None:
    frame = catalog.trending("movie")
    assert ids(frame) == TRENDING_MOVIES
    assert list(frame.columns) == list(TITLE_COLUMNS)
    assert "search_text" not in frame.columns


def test_trending_tv_window_ends_at_the_newest_tv_year(catalog: Catalog) -> None:
    assert ids(catalog.trending("tv")) == TRENDING_TV


def test_trending_years_limit_and_exclude(catalog: Catalog) -> None:
    assert ids(catalog.trending("movie", years=1)) == [
        "tt0100004",
        "tt0100008",
        "tt0100001",
        "tt10000015",
        "tt0100009",
        "tt0100011",
        "tt0100006",
        "tt0100013",
    ]
    assert ids(catalog.trending("tv", limit=3)) == TRENDING_TV[:3]
    excluded = catalog.trending("movie", exclude=["tt0100004", "tt0100001", "tt0200001"])
    assert ids(excluded) == [t for t in TRENDING_MOVIES if t not in ("tt0100004", "tt0100001")]
    many = [f"tt{n:07d}" for n in range(20_000)] + ["tt0100004"]  # a large exclusion list
    assert ids(catalog.trending("movie", limit=1, exclude=many)) == ["tt0100008"]


def test_unknown_kind_is_rejected(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="kind"):
        catalog.trending("film")


# ---------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AMELIE", ["tt0100003"]),
        ("amélie", ["tt0100003"]),
        ("ÉCHOS", ["tt0200005"]),
        ("echos nord", ["tt0200005"]),
        ("señor", ["tt0100011"]),
        ("SENOR", ["tt0100011"]),
        ("lighth", ["tt0100001"]),  # partial word
        ("keeper LIGHTHOUSE", ["tt0100001"]),  # any order
        ("drachen", ["tt0100010"]),  # original title
        ("lighthouse meadow", []),  # every word must match
    ],
)
def test_search_ignores_case_and_accents_and_matches_every_word(
    catalog: Catalog, text: str, expected: list[str]
) -> None:
    assert ids(catalog.search(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["tt0100005"]),
        ("100%", ["tt0100005"]),
        ("_", ["tt0100006"]),
        ("e_c", ["tt0100006"]),  # as a LIKE pattern this would match "the c..." too
        ('"quoted"', ["tt0100002"]),
        ('"', ["tt0100002"]),
        ("'", ["tt0100008", "tt0100001", "tt0100012"]),  # by votes
        ("\\", ["tt0100014"]),
        ("back\\slash", ["tt0100014"]),
        ("🍕", ["tt0100013"]),
        ("%_", []),
    ],
)
def test_search_treats_special_characters_literally(catalog: Catalog, text: str, expected: list[str]) -> None:
    assert ids(catalog.search(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "harbor " * 2_000,
        " ".join(f"w{i}" for i in range(5_000)),
        "'; DROP VIEW titles; --",
        "?",
        "$1",
        "\x00harbor",
        "\ud800lone surrogate",
        "😀" * 3_000,
    ],
)
def test_hostile_search_input_is_harmless(catalog: Catalog, text: str) -> None:
    catalog.search(text)
    assert catalog.all_titles().height == 38


def test_search_ranks_exact_title_first_then_by_votes(catalog: Catalog) -> None:
    # "Harbor" (120 votes) before "Harbor Lights" (90000) and "Harbor Patrol" (5000)
    assert ids(catalog.search("harbor")) == ["tt0100017", "tt0100018", "tt0200014"]
    assert ids(catalog.search("  HARBOR  ")) == ["tt0100017", "tt0100018", "tt0200014"]


def test_empty_search_browses_by_popularity(catalog: Catalog) -> None:
    everything = catalog.all_titles().sort("popularity", descending=True)
    assert ids(catalog.search("", limit=100)) == ids(everything)
    assert ids(catalog.search("   ", limit=3)) == ["tt0100018", "tt0200015", "tt0200001"]
    tv = catalog.search("", kind="tv", limit=100)
    assert set(tv["kind"].to_list()) == {"tv"} and tv.height == 16


def test_search_filters(catalog: Catalog) -> None:
    assert set(ids(catalog.search("", genres=["Western"]))) == {"tt0100009", "tt0200009"}
    assert set(ids(catalog.search("", genres=["Western", "Horror"], kind="movie"))) == {
        "tt0100009",
        "tt0100007",
    }
    assert set(ids(catalog.search("", year_min=2025))) == {"tt0200004", "tt0200011"}
    assert set(ids(catalog.search("", year_max=1995))) == {"tt0100018", "tt0100021"}
    assert set(ids(catalog.search("", min_rating=8.2))) == {"tt0200001", "tt0200003"}
    assert ids(catalog.search("patrol", kind="tv", year_max=2000)) == ["tt0200015"]
    assert ids(catalog.search("patrol", kind="movie")) == []


def test_search_pages_with_limit_and_offset(catalog: Catalog) -> None:
    first = ids(catalog.search("", limit=5))
    second = ids(catalog.search("", limit=5, offset=5))
    assert len(first) == len(second) == 5
    assert first + second == ids(catalog.search("", limit=10))
    assert ids(catalog.search("", limit=5, offset=100)) == []


# ---------------------------------------------------------------------------- genres / titles


def test_by_genres_any_of_by_popularity_minus_exclusions(catalog: Catalog) -> None:
    assert ids(catalog.by_genres(["Western", "Horror"], "movie")) == ["tt0100007", "tt0100009"]
    assert ids(catalog.by_genres(["Western", "Horror"], "tv")) == ["tt0200009", "tt0200012"]
    assert ids(catalog.by_genres(["Western", "Horror"], "tv", exclude=["tt0200009"])) == ["tt0200012"]
    assert ids(catalog.by_genres(["Reality-TV"], "movie")) == []
    assert ids(catalog.by_genres([], "tv", limit=2)) == ["tt0200015", "tt0200001"]
    drama = catalog.by_genres(["Drama"], "movie", limit=3)
    assert ids(drama) == ["tt0100018", "tt0100008", "tt0100019"]


def test_title_lookup(catalog: Catalog) -> None:
    title = catalog.title("tt0200005")
    assert title is not None
    assert title["primary_title"] == "Les Échos du Nord"
    assert title["title_type"] == "tvMiniSeries" and title["kind"] == "tv"
    assert title["genres"] == ["Mystery", "Thriller"]
    assert (title["average_rating"], title["num_votes"]) == (7.9, 3300)
    assert set(title) == set(TITLE_COLUMNS)
    assert catalog.title("tt0999999") is None  # well-formed, unknown
    assert catalog.title("tt0300002") is None  # an episode, not in the catalogue
    assert catalog.title("not-an-id") is None
    assert catalog.title("tt0100001' OR '1'='1") is None


def test_titles_keep_the_input_order(catalog: Catalog) -> None:
    wanted = ["tt0200001", "tt9999999", "tt0100013", "bogus", "tt0200001", "tt0100001"]
    frame = catalog.titles(wanted)
    assert ids(frame) == ["tt0200001", "tt0100013", "tt0100001"]
    assert catalog.titles([]).height == 0
    assert list(catalog.titles([]).columns) == list(TITLE_COLUMNS)


def test_genres_are_sorted_and_present(catalog: Catalog) -> None:
    assert catalog.genres() == GENRES  # no "Short" (shorts are not kept)


def test_stats(catalog: Catalog) -> None:
    stats = catalog.stats()
    assert stats["titles"] == 38
    assert stats["by_kind"] == {"movie": 22, "tv": 16}
    assert stats["by_type"] == {"movie": 22, "tvMiniSeries": 5, "tvSeries": 11}
    assert (stats["year_min"], stats["year_max"]) == (1962, 2025)
    assert (stats["movielens_ratings"], stats["movielens_users"]) == (17, 4)
    assert stats["min_votes"] == 100 and stats["built_at"]


def test_people_of_a_title(catalog: Catalog) -> None:
    assert catalog.people("tt0200001")["name"].to_list() == ["Kit Marlowe-Reyes", "nm0900099"]
    empty = catalog.people("tt9999999")
    assert empty.height == 0
    assert empty.columns == ["tconst", "nconst", "name", "category", "ordering"]


def test_queries_from_many_threads_at_once(catalog: Catalog) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        try:
            start.wait()
            for _ in range(15):
                assert ids(catalog.search("harbor")) == ["tt0100017", "tt0100018", "tt0200014"]
                assert ids(catalog.trending("tv")) == TRENDING_TV
                assert catalog.title("tt0100001") is not None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------------------- errors


def test_missing_catalogue_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        Catalog(tmp_path / "parquet")
    assert str(info.value) == (
        "Catalogue not built yet: run `python -m recsys fetch` then `python -m recsys build` (or use the Data page)."
    )
    assert str(info.value) == NOT_BUILT


@pytest.mark.parametrize("file", ["titles.parquet", "movielens_ratings.parquet", "people.parquet"])
def test_corrupt_parquet_says_to_rebuild(built: Settings, tmp_path: Path, file: str) -> None:
    copy = tmp_path / "parquet"
    shutil.copytree(built.parquet_dir, copy)
    (copy / file).write_bytes(b"PAR1 this is not parquet PAR1")

    with pytest.raises(CatalogError, match=r"unreadable .*rebuild it with `python -m recsys"):
        Catalog(copy)


def test_truncated_parquet_found_at_query_time_says_to_rebuild(built: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "parquet"
    shutil.copytree(built.parquet_dir, copy)
    cat = Catalog(copy)
    data = (copy / "titles.parquet").read_bytes()
    (copy / "titles.parquet").write_bytes(data[: len(data) // 2])
    try:
        with pytest.raises(CatalogError, match="rebuild"):
            cat.search("harbor")
    finally:
        cat.close()


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("tt0111161", True),
        ("tt10000015", True),
        ("tt1234567890", True),
        ("tt123456", False),
        ("tt12345678901", False),
        ("TT0111161", False),
        ("tt0111161\n", False),
        (" tt0111161", False),
        ("tt011116a", False),
        ("tt٠١٢٣٤٥٦", False),  # non-ASCII digits
        ("", False),
        (None, False),
        (111161, False),
    ],
)
def test_is_valid_tconst(value: object, valid: bool) -> None:
    assert is_valid_tconst(value) is valid


def test_the_ratings_scan_holds_the_same_ratings(catalog: Catalog) -> None:
    key = ["ml_user_id", "timestamp", "tconst"]
    scanned = catalog.movielens_ratings_scan().collect().sort(key)
    assert scanned.height == 17
    assert scanned.equals(catalog.movielens_ratings().sort(key))
