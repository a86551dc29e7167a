"""Fixtures for the app store tests.

``store_url`` yields a fresh, empty database URL per test, once per backend: a SQLite file under
``tmp_path``, and an empty schema of its own (dropped after it) on PostgreSQL. The
PostgreSQL server is a throwaway cluster started once per session on loopback
(``tests.support.postgres``), or the server named by ``CINEBLEND_TEST_POSTGRES_URL`` (an admin
URL such as ``postgresql+psycopg://cine@127.0.0.1:54321/postgres``). Without PostgreSQL on the
machine the ``postgresql`` params skip with the reason; under CI (``CI=true``) they fail.
Select one backend with ``-k sqlite`` or ``-k postgresql``. Tests that are about SQLite itself
(pragmas, lock file, file paths) use ``sqlite_url`` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from recsys.store import Store
from tests.support.postgres import (
    postgres_admin_url,  # noqa: F401 - session fixture
    throwaway_database,
)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'app.db'}"


@pytest.fixture(scope="session")
def postgres_tests_url(postgres_admin_url: str) -> Iterator[URL]:
    """A database for this session's store tests on the PostgreSQL server, dropped at the end."""
    with throwaway_database(postgres_admin_url, "cineblend_tests") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """An empty database per test: a SQLite file, or an empty PostgreSQL schema.

    On PostgreSQL each test gets its own schema (first on the ``search_path`` of every
    connection made from the URL) instead of its own database: ``CREATE DATABASE`` costs about
    a second here, ``CREATE SCHEMA`` a few milliseconds, and the store never names a schema.
    Connections the test left open are ended before the schema is dropped.
    """
    if request.param == "sqlite":
        yield sqlite_url
        return
    from sqlalchemy import create_engine, text

    base: URL = request.getfixturevalue("postgres_tests_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield base.update_query_dict(
            {"options": f"-csearch_path={schema}", "application_name": schema}
        ).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": schema},
            )
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()
