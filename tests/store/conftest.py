"""Fixtures for the app store tests.

``store_url`` yields a fresh, empty database URL per test. Today that is a SQLite file under
``tmp_path``; set ``CINEBLEND_TEST_POSTGRES_URL`` (an admin URL such as
``postgresql+psycopg://cine@127.0.0.1:54321/postgres``) to run the same tests on PostgreSQL too,
each in a database created for the test and dropped after it. Tests that are about SQLite itself
(pragmas, lock file, file paths) use ``sqlite_url`` instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.store import Store, accounts

POSTGRES_ENV = "CINEBLEND_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap hashes for speed; the compatibility tests hash at the default cost explicitly."""
    monkeypatch.setattr(accounts, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'app.db'}"


@pytest.fixture(params=_backends())
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(os.environ[POSTGRES_ENV])
    name = f"cineblend_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()
