"""Driver and configuration failures become one-line StoreErrors that say what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from recsys.errors import StoreError
from recsys.store import Store, engine


def test_locked_database_becomes_a_busy_store_error(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_S", 0.2)
    with Store.open(sqlite_url) as store:
        user = store.create_user("ada", "Ada", "ada@example.com", "h")
        other = sqlite3.connect(tmp_path / "data" / "app.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            with pytest.raises(StoreError) as info:
                store.rate(user.id, "tt0111161", 1)
            message = str(info.value)
            assert message.startswith(f"The database at {store.url} is busy")
            assert "retry in a moment" in message and "\n" not in message
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert store.rate(user.id, "tt0111161", 1) is True  # works once the lock is gone
        assert store.history(user.id).height == 1


def test_unreachable_server_message_hides_the_password() -> None:
    url = "postgresql+psycopg://cine:s3cr3t-pw@127.0.0.1:1/cineblend"
    with pytest.raises(StoreError) as info:
        Store.open(url)
    message = str(info.value)
    assert "s3cr3t-pw" not in message
    assert "postgresql+psycopg://cine:***@127.0.0.1:1/cineblend" in message
    assert "\n" not in message


def test_database_folder_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot create the folder for the database"):
        Store.open(f"sqlite:///{blocker / 'app.db'}")


def test_not_a_database_file(tmp_path: Path) -> None:
    junk = tmp_path / "app.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    expected = r"is unusable \(file is not a database\); restore a backup"
    with pytest.raises(StoreError, match=expected):
        Store.open(f"sqlite:///{junk}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:pw@localhost/db", "Unsupported database mysql://u:***@localhost/db"),
        ("not a url", "is not a valid database URL"),
    ],
)
def test_unsupported_or_invalid_urls(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as info:
        Store.open(url)
    assert expected in str(info.value)
    assert "u:pw" not in str(info.value)
