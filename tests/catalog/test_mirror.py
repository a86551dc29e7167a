"""End to end on the shared IMDb / MovieLens mirror, served over loopback HTTP.

The mirror lives outside the repository (``tests/support/mirror.py``); nothing from it is copied
into the repo. Skipped when absent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from recsys.catalog.build import build
from recsys.catalog.download import fetch
from recsys.catalog.queries import Catalog
from recsys.config import IMDB_FILES, IMDB_OPTIONAL_FILES, MOVIELENS_FILE, Settings
from tests.fixtures.httpserver import FileServer
from tests.support.mirror import mirror_or_skip

pytestmark = [pytest.mark.mirror, pytest.mark.slow]


def test_fetch_and_build_from_the_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mirror = mirror_or_skip()
    with FileServer(mirror) as server:
        settings = Settings(
            data_dir=tmp_path / "data",
            imdb_base_url=server.url("imdb/"),
            movielens_url=server.url(f"movielens/{MOVIELENS_FILE}"),
        )
        started = time.perf_counter()
        paths = fetch(settings)
        fetched = time.perf_counter()
        manifest = build(settings)
        built = time.perf_counter()

    people = [n for n in IMDB_OPTIONAL_FILES if (mirror / "imdb" / n).is_file()]
    assert sorted(p.name for p in paths) == sorted([*IMDB_FILES, MOVIELENS_FILE, *people])

    with Catalog(settings.parquet_dir) as cat:
        stats = cat.stats()
        assert stats["by_kind"]["movie"] > 1_000
        assert stats["by_kind"]["tv"] > 1_000
        assert stats["year_max"] >= 2020
        for kind in ("movie", "tv"):
            trending = cat.trending(kind, limit=20)
            assert trending.height == 20
            newest = manifest["newest_year_by_kind"][kind]
            assert trending["start_year"].min() >= newest - 2
        assert cat.search("godfather", kind="movie").height >= 1
        ratings = cat.movielens_ratings()
        assert ratings.height > 10_000  # thousands of ratings mapped to IMDb ids
        assert ratings["ml_user_id"].n_unique() > 100
        assert ratings["in_catalog"].sum() > 10_000

    with capsys.disabled():
        print(
            f"\n[mirror] fetch {fetched - started:.2f} s + build {built - fetched:.2f} s"
            f" = {built - started:.2f} s; titles {manifest['row_counts']['titles']:,}"
            f" ({manifest['titles_by_kind']}), people {manifest['row_counts']['people']:,},"
            f" MovieLens ratings {manifest['row_counts']['movielens_ratings']:,}"
            f" ({manifest['movielens']['in_catalog_ratings']:,} in the catalogue)"
        )
