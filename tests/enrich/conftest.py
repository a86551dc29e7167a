"""Fixtures for the TMDb enrichment tests: the fake TMDb server, a settable clock, recorded
sleeps, and stores on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from recsys.store import Store
from tests.enrich.fake_tmdb import FakeTmdb
from tests.support.postgres import (
    postgres_admin_url,  # noqa: F401 - session fixture
    throwaway_database,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand (thread-safe)."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


class Sleeps(list[float]):
    """Records the waits a client asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback requests must not go through a proxy from the developer's environment."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def tmdb() -> Iterator[FakeTmdb]:
    with FakeTmdb() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def postgres_enrich_url(postgres_admin_url: str) -> Iterator[URL]:
    """A database for this session's enrichment tests, dropped at the end."""
    with throwaway_database(postgres_admin_url, "cineblend_enrich") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store per test: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_store")
        return
    from sqlalchemy import create_engine, text

    base: URL = request.getfixturevalue("postgres_enrich_url")
    schema = f"e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        pg_store = Store.open(url.render_as_string(hide_password=False))
        try:
            yield pg_store
        finally:
            pg_store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
