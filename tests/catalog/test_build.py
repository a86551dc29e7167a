"""build(): raw fixture files -> Parquet catalogue, its contents, and failing safely."""

from __future__ import annotations

import gzip
import json
import math
import os
import statistics
from pathlib import Path

import duckdb
import pytest

from recsys.catalog.build import (
    MOVIELENS_SCHEMA,
    PEOPLE_SCHEMA,
    STEPS,
    TITLES_SCHEMA,
    build,
    catalog_ready,
    read_manifest,
)
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.errors import BuildError
from tests.fixtures.make_data import ALL_TITLES, KEPT_MOVIES, KEPT_TV, write_raw_fixture


def _describe(path: Path) -> dict[str, str]:
    with duckdb.connect() as con:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return {row[0]: str(row[1]) for row in rows}


def _build_error(settings: Settings) -> str:
    with pytest.raises(BuildError) as info:
        build(settings)
    message = str(info.value)
    assert "\n" not in message, "BuildError messages are one line"
    return message


def _leftovers(data_dir: Path) -> list[str]:
    return sorted(
        p.name for p in data_dir.iterdir() if p.name.startswith(("parquet.new-", "parquet.work-", "parquet.old"))
    )


@pytest.fixture()
def fresh(tmp_path: Path) -> Settings:
    """A data folder with the raw fixture files and no catalogue yet."""
    write_raw_fixture(tmp_path / "raw")
    return Settings(data_dir=tmp_path)


# ---------------------------------------------------------------------------- contents


def test_parquet_files_have_the_contract_columns_and_types(built: Settings) -> None:
    folder = built.parquet_dir
    assert _describe(folder / "titles.parquet") == TITLES_SCHEMA
    assert _describe(folder / "people.parquet") == PEOPLE_SCHEMA
    assert _describe(folder / "movielens_ratings.parquet") == MOVIELENS_SCHEMA
    assert TITLES_SCHEMA["genres"] == "VARCHAR[]" and TITLES_SCHEMA["num_votes"] == "BIGINT"


def test_only_movies_and_series_not_adult_with_enough_votes_are_kept(catalog: Catalog) -> None:
    frame = catalog.all_titles()

    assert sorted(frame["tconst"].to_list()) == sorted(KEPT_MOVIES + KEPT_TV)
    assert frame.height == 38
    kept = set(frame["tconst"].to_list())
    for excluded in ("tt0300001", "tt0300002", "tt0300003", "tt0300004", "tt0300005"):
        assert excluded not in kept, "short / tvEpisode / tvMovie / videoGame / video"
    assert "tt0100025" not in kept, "adult"
    assert "tt0100023" not in kept and "tt0200017" not in kept, "fewer than 100 votes"
    assert "tt0100024" not in kept, "no ratings row = 0 votes"
    assert frame["num_votes"].min() == 120
    kinds = dict(zip(frame["tconst"].to_list(), frame["kind"].to_list(), strict=True))
    assert (kinds["tt0100001"], kinds["tt0200003"], kinds["tt0200001"]) == ("movie", "tv", "tv")


def test_imdb_null_markers_become_nulls_and_empty_lists(catalog: Catalog) -> None:
    backslash = catalog.title("tt0100014")
    assert backslash is not None
    assert backslash["runtime_minutes"] is None
    assert backslash["end_year"] is None
    no_genres = catalog.title("tt0100022")
    assert no_genres is not None and no_genres["genres"] == []
    ended = catalog.title("tt0200002")
    assert ended is not None and (ended["start_year"], ended["end_year"]) == (2023, 2024)


def test_awkward_titles_come_through_verbatim(catalog: Catalog) -> None:
    frame = catalog.all_titles()
    titles = dict(zip(frame["tconst"].to_list(), frame["primary_title"].to_list(), strict=True))
    assert titles["tt0100002"] == 'The "Quoted" Heist'
    assert titles["tt0100014"] == "Back\\Slash Theory"
    assert titles["tt0100003"] == "Amélie-ish"
    assert titles["tt0100013"] == "Pizza 🍕 Night"
    assert titles["tt10000015"] == "Eight Digit Adventure"


def test_search_text_is_lower_case_accent_free_primary_plus_original(built: Settings) -> None:
    with duckdb.connect() as con:
        rows = dict(
            con.execute(
                "SELECT tconst, search_text FROM read_parquet(?) WHERE tconst IN"
                " ('tt0100003', 'tt0100010', 'tt0200005', 'tt0100011')",
                [str(built.parquet_dir / "titles.parquet")],
            ).fetchall()
        )
    assert rows == {
        "tt0100003": "amelie-ish",
        "tt0100010": "paper dragons drachen aus papier",
        "tt0200005": "les echos du nord",
        "tt0100011": "senor sandwich",
    }


def test_popularity_is_the_bayesian_rating_times_log_votes(catalog: Catalog) -> None:
    kept = set(KEPT_MOVIES + KEPT_TV)
    rows: list[tuple[str, float, int]] = []
    for t in ALL_TITLES:
        tconst, rating, votes = t[0], t[9], t[10]
        if tconst in kept:
            assert rating is not None and votes is not None  # every kept title is rated
            rows.append((tconst, rating, votes))
    c = statistics.mean(r[1] for r in rows)  # mean rating of the kept titles
    m = statistics.median(r[2] for r in rows)  # median votes of the kept titles
    assert m == (4800 + 5000) / 2  # 19th and 20th of the 38 sorted vote counts

    frame = catalog.all_titles()
    got = dict(zip(frame["tconst"].to_list(), frame["popularity"].to_list(), strict=True))
    for tconst, r, v in rows:
        expected = (v / (v + m) * r + m / (v + m) * c) * math.log(1 + v)
        assert got[tconst] == pytest.approx(expected, rel=1e-9)
    top = frame.sort("popularity", descending=True)["tconst"].to_list()[:3]
    assert top == ["tt0100018", "tt0200015", "tt0200001"]  # Harbor Lights, Galaxy Patrol, Starlight


def test_directors_writers_and_leading_cast_are_resolved_to_names(catalog: Catalog) -> None:
    cat = catalog.title("tt0100001")
    assert cat is not None
    assert cat["directors"] == ["Ada Quill"]
    assert cat["writers"] == ["Bram Oakes", "Ada Quill"]  # IMDb's order, not alphabetical
    # first four actors / actresses by `ordering` (the file lists them shuffled; 5 in total)
    assert cat["cast"] == ["Zoë Ålander", "Cyrus Penhallow", "Dara Finch", "Emil Varga"]

    heist = catalog.title("tt0100002")
    assert heist is not None and heist["cast"] == ["Gus Moreau", "Juno Castellanos"]  # no "self"
    amelie = catalog.title("tt0100003")
    assert amelie is not None
    assert amelie["directors"] == ["Ada Quill", "nm0900099"]  # unknown name stays an nconst
    assert amelie["writers"] == [] and amelie["cast"] == []
    precinct = catalog.title("tt0200001")
    assert precinct is not None and precinct["cast"] == ["Kit Marlowe-Reyes", "nm0900099"]


def test_people_file_holds_the_principals_of_kept_titles(catalog: Catalog) -> None:
    people = catalog.people("tt0100001")
    assert people["ordering"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert people["category"].to_list() == ["actress", "actor", "actress", "actor", "actress", "director", "writer"]
    assert people["name"].to_list()[0] == "Zoë Ålander"
    assert catalog.people("tt0300002").height == 0  # the episode is not in the catalogue


def test_movielens_ratings_are_mapped_to_tconsts(catalog: Catalog) -> None:
    ratings = catalog.movielens_ratings()
    rows = set(ratings.iter_rows())

    assert ratings.height == 17  # 20 ratings - unknown id - adult - tvEpisode
    assert (1, "tt0100018", 4.0, 1700000000, True) in rows  # imdbId "0100018"
    assert (3, "tt10000015", 5.0, 1700200300, True) in rows  # 8-digit imdbId
    assert (1, "tt0300003", 3.0, 1700000400, False) in rows  # tvMovie: kept, not in catalogue
    assert (2, "tt0100023", 3.0, 1700100300, False) in rows  # 42 votes: kept, not in catalogue
    tconsts = set(ratings["tconst"].to_list())
    assert not tconsts & {"tt9999999", "tt0100025", "tt0300002"}
    assert sorted(set(ratings["ml_user_id"].to_list())) == [1, 2, 3, 4]
    assert catalog.movielens_ratings(in_catalog_only=True).height == 15


def test_manifest_and_catalog_ready(built: Settings, tmp_path: Path) -> None:
    manifest = read_manifest(built.parquet_dir)
    assert manifest is not None
    assert manifest["row_counts"] == {"titles": 38, "people": 13, "movielens_ratings": 17}
    assert manifest["titles_by_kind"] == {"movie": 22, "tv": 16}
    assert manifest["newest_year_by_kind"] == {"movie": 2024, "tv": 2025}
    assert manifest["min_votes"] == 100 and manifest["with_people"] is True
    assert manifest["movielens"] == {
        "links": 11,
        "mapped_links": 8,
        "ratings": 20,
        "mapped_ratings": 17,
        "in_catalog_ratings": 15,
    }
    assert set(manifest["sources"]) == {
        "title.basics.tsv.gz",
        "title.ratings.tsv.gz",
        "title.crew.tsv.gz",
        "title.principals.tsv.gz",
        "name.basics.tsv.gz",
        "ml-latest-small.zip",
    }
    assert catalog_ready(built)
    assert not catalog_ready(Settings(data_dir=tmp_path / "nothing"))


def test_build_without_people_files(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw", people=False)
    settings = Settings(data_dir=tmp_path)

    manifest = build(settings)

    assert manifest["with_people"] is False and manifest["row_counts"]["people"] == 0
    assert not (settings.parquet_dir / "people.parquet").exists()
    with Catalog(settings.parquet_dir) as cat:
        title = cat.title("tt0100001")
        assert title is not None
        assert title["cast"] == []
        assert title["directors"] == ["nm0900001"]  # no name.basics: nconsts
        assert cat.people("tt0100001").columns == list(PEOPLE_SCHEMA)
        assert cat.people("tt0100001").height == 0


def test_with_people_off_ignores_people_files_that_are_present(fresh: Settings) -> None:
    settings = Settings(data_dir=fresh.data_dir, with_people=False)

    manifest = build(settings)

    assert manifest["with_people"] is False and manifest["with_names"] is False
    assert not (settings.parquet_dir / "people.parquet").exists()
    with Catalog(settings.parquet_dir) as cat:
        title = cat.title("tt0100001")
        assert title is not None and title["cast"] == [] and title["directors"] == ["nm0900001"]


def test_min_votes_setting_controls_the_vote_filter(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw")
    settings = Settings(data_dir=tmp_path, min_votes=0)

    build(settings)

    with Catalog(settings.parquet_dir) as cat:
        kept = set(cat.all_titles()["tconst"].to_list())
        assert {"tt0100023", "tt0200017", "tt0100024"} <= kept
        assert "tt0100025" not in kept and "tt0300001" not in kept
        unrated = cat.title("tt0100024")
        assert unrated is not None
        assert unrated["num_votes"] == 0 and unrated["average_rating"] is None
        assert unrated["popularity"] == 0.0


def test_progress_reports_every_step(fresh: Settings) -> None:
    seen: list[tuple[str, float, float | None]] = []

    build(fresh, progress=lambda stage, done, total: seen.append((stage, done, total)))

    assert seen == [(step, i, len(STEPS)) for i, step in enumerate(STEPS)] + [("swap", len(STEPS), len(STEPS))]


def test_malformed_rows_are_skipped_and_counted(fresh: Settings) -> None:
    basics = fresh.raw_dir / "title.basics.tsv.gz"
    text = gzip.decompress(basics.read_bytes()).decode()
    text += "tt0100099\tmovie\tA\tTab\tA\tTab\t0\t2020\t\\N\t90\tDrama\n"  # 11 columns
    text += "tt0100098\tmovie\tBad Year\tBad Year\t0\tsoon\t\\N\t90\tDrama\n"  # not a number
    basics.write_bytes(gzip.compress(text.encode()))

    manifest = build(fresh)

    assert manifest["skipped_rows"]["title.basics.tsv.gz"] == 2
    assert manifest["row_counts"]["titles"] == 38


# ---------------------------------------------------------------------------- failures


def test_missing_raw_file_says_to_fetch_first(tmp_path: Path) -> None:
    assert _build_error(Settings(data_dir=tmp_path)) == (
        "title.basics.tsv.gz is missing: run `python -m recsys fetch` first."
    )
    assert not (tmp_path / "parquet").exists()
    assert _leftovers(tmp_path) == []


def test_missing_movielens_zip_says_to_fetch_first(fresh: Settings) -> None:
    (fresh.raw_dir / "ml-latest-small.zip").unlink()
    assert _build_error(fresh) == ("ml-latest-small.zip is missing: run `python -m recsys fetch` first.")


def test_no_title_passing_the_filter_is_an_error(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw")

    message = _build_error(Settings(data_dir=tmp_path, min_votes=10**9))

    assert message.startswith("No titles left after filtering")
    assert "CINEBLEND_MIN_VOTES" in message
    assert not (tmp_path / "parquet").exists()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate-ratings", "title.ratings.tsv.gz is truncated"),
        ("html-basics", "title.basics.tsv.gz is not a valid gzip file"),
        ("wrong-file", "title.crew.tsv.gz does not have IMDb's columns"),
        ("corrupt-zip", "ml-latest-small.zip is corrupt"),
    ],
)
def test_failed_build_keeps_the_previous_catalogue(fresh: Settings, damage: str, expected: str) -> None:
    first = build(fresh)
    raw = fresh.raw_dir
    if damage == "truncate-ratings":
        path = raw / "title.ratings.tsv.gz"
        path.write_bytes(path.read_bytes()[:-40])
    elif damage == "html-basics":
        (raw / "title.basics.tsv.gz").write_text("<!DOCTYPE html><html>Forbidden</html>")
    elif damage == "wrong-file":
        (raw / "title.crew.tsv.gz").write_bytes((raw / "title.ratings.tsv.gz").read_bytes())
    else:
        path = raw / "ml-latest-small.zip"
        path.write_bytes(path.read_bytes()[:300])

    message = _build_error(fresh)

    assert message.startswith(expected)
    assert "python -m recsys fetch" in message
    assert read_manifest(fresh.parquet_dir) == first
    with Catalog(fresh.parquet_dir) as cat:
        assert cat.stats()["titles"] == 38
    assert _leftovers(fresh.data_dir) == []


def test_rebuild_swaps_in_place_and_an_open_catalog_sees_it(fresh: Settings) -> None:
    build(fresh)
    with Catalog(fresh.parquet_dir) as cat:
        assert cat.stats()["titles"] == 38

        build(Settings(data_dir=fresh.data_dir, min_votes=10_000))

        # >= 10,000 votes: 7 movies + 5 TV titles
        assert cat.stats()["titles"] == 12
    assert _leftovers(fresh.data_dir) == []


def test_leftovers_of_a_killed_build_are_cleaned_and_an_interrupted_swap_recovered(
    fresh: Settings,
) -> None:
    build(fresh)
    data = fresh.data_dir
    os.rename(data / "parquet", data / "parquet.old")  # killed between the two renames
    (data / "parquet.new-999999").mkdir()
    (data / "parquet.new-999999" / "titles.parquet").write_bytes(b"half written")
    (data / "parquet.work-999999").mkdir()

    build(fresh)

    assert _leftovers(data) == []
    assert catalog_ready(fresh)


def test_failed_build_without_a_previous_catalogue_leaves_nothing_behind(fresh: Settings) -> None:
    path = fresh.raw_dir / "title.crew.tsv.gz"
    path.write_bytes(path.read_bytes()[:-20])

    message = _build_error(fresh)

    assert message.startswith("title.crew.tsv.gz is truncated")
    assert not fresh.parquet_dir.exists()
    assert _leftovers(fresh.data_dir) == []


def test_manifest_is_json_with_build_time(built: Settings) -> None:
    data = json.loads((built.parquet_dir / "manifest.json").read_text())
    assert data["schema_version"] == 2
    assert data["built_at"].endswith("+00:00")
    assert data["build_seconds"] >= 0


def test_the_package_docstring_documents_every_column() -> None:
    import recsys.catalog

    doc = recsys.catalog.__doc__ or ""
    for column, typ in {**TITLES_SCHEMA, **MOVIELENS_SCHEMA}.items():
        assert column in doc
        if not typ.endswith("[]"):
            assert f"{column} {typ}" in doc
    for column in PEOPLE_SCHEMA:
        assert column in doc


def test_a_second_build_at_the_same_time_is_refused(fresh: Settings) -> None:
    import fcntl

    fresh.data_dir.mkdir(parents=True, exist_ok=True)
    with (fresh.data_dir / ".build.lock").open("a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        message = _build_error(fresh)
    assert message == "Another catalogue build is already running; wait for it to finish."
    assert not fresh.parquet_dir.exists()
