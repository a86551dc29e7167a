"""Fixtures for the catalogue tests: fixture data, a loopback server, a built catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.catalog import download
from recsys.catalog.build import build
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from tests.fixtures.httpserver import FileServer
from tests.fixtures.make_data import (
    write_imdb_fixture,
    write_movielens_fixture,
    write_raw_fixture,
)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """No waiting between download retries in tests."""
    monkeypatch.setattr(download, "RETRY_BACKOFF", 0.0)


@pytest.fixture()
def source_root(tmp_path: Path) -> Path:
    """A mirror-like folder: imdb/*.tsv.gz (with people files) and movielens/ml-latest-small.zip."""
    root = tmp_path / "source"
    write_imdb_fixture(root / "imdb", people=True)
    write_movielens_fixture(root / "movielens" / "ml-latest-small.zip")
    return root


@pytest.fixture()
def server(source_root: Path) -> Iterator[FileServer]:
    with FileServer(source_root) as srv:
        yield srv


@pytest.fixture()
def http_settings(tmp_path: Path, server: FileServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        imdb_base_url=server.url("imdb/"),
        movielens_url=server.url("movielens/ml-latest-small.zip"),
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data folder whose catalogue was built from the fixture (shared, read-only)."""
    data = tmp_path_factory.mktemp("built")
    write_raw_fixture(data / "raw")
    settings = Settings(data_dir=data)
    build(settings)
    return settings


@pytest.fixture(scope="module")
def catalog(built: Settings) -> Iterator[Catalog]:
    with Catalog(built.parquet_dir) as cat:
        yield cat
