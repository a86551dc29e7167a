"""Private in-memory stores (demo sessions) come from a schema template migrated once per
process: each is at the newest revision with the full schema, independent of the others, and
many can be opened from threads at once without Alembic running again (issue 10: Alembic's
module-level state made 8 concurrent demo starts fail)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from recsys.store import Store, migrate
from recsys.store.schema import metadata
from tests.support.narrow import present

THREADS = 16


def test_in_memory_store_has_the_newest_schema() -> None:
    with Store.in_memory() as store:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        user = store.create_user("ada", "Ada", "ada@example.com", "hash")
        store.rate(user.id, "tt0111161", 1)
        store.delete_user(user.id)  # cascades (foreign keys on in the copy)
        assert store.all_interactions().is_empty()


def test_in_memory_stores_are_independent() -> None:
    with Store.in_memory() as first, Store.in_memory() as second:
        first.create_user("ada", "Ada", "ada@example.com", "hash")
        assert second.get_user("ada") is None
    with Store.in_memory() as third:  # the template itself never receives a write
        assert third.get_user("ada") is None


def test_concurrent_opens_never_run_alembic_again(monkeypatch: pytest.MonkeyPatch) -> None:
    migrate.schema_template()  # built (once per process) before the burst
    upgrades: list[str] = []
    real_upgrade = command.upgrade

    def counting_upgrade(*args: Any, **kwargs: Any) -> None:
        upgrades.append(threading.current_thread().name)
        real_upgrade(*args, **kwargs)

    monkeypatch.setattr(command, "upgrade", counting_upgrade)
    barrier = threading.Barrier(THREADS)

    def open_and_use(i: int) -> str:
        barrier.wait(timeout=30)
        with Store.in_memory() as store:
            user = store.create_user(f"user{i}", "U", f"u{i}@example.com", "hash")
            store.rate(user.id, "tt0111161", 1)
            return present(store.get_user_by_id(user.id)).username

    with ThreadPoolExecutor(THREADS) as pool:
        names = list(pool.map(open_and_use, range(THREADS)))
    assert names == [f"user{i}" for i in range(THREADS)]
    assert upgrades == []


def test_alembic_runs_in_one_thread_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever still migrates in-process (the shared store) takes the process-wide lock."""
    inside = 0
    most = 0
    guard = threading.Lock()
    real_upgrade = command.upgrade

    def watched_upgrade(*args: Any, **kwargs: Any) -> None:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        try:
            real_upgrade(*args, **kwargs)
        finally:
            with guard:
                inside -= 1

    monkeypatch.setattr(command, "upgrade", watched_upgrade)
    barrier = threading.Barrier(8)

    def open_fresh(_: int) -> bool:
        barrier.wait(timeout=30)
        with Store.open("sqlite://") as store:  # migrates a new in-memory database
            return migrate.current_revision(store.engine) == migrate.head_revision()

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(open_fresh, range(8)))
    assert most == 1
