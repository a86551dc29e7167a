"""Migrations: an empty database reaches head, downgrades and upgrades, refuses newer revisions,
rolls back a failed step, and survives two processes starting at once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from recsys.errors import StoreError
from recsys.store import Store, migrate
from recsys.store.engine import make_engine
from recsys.store.schema import metadata, users

APP_TABLES = {"users", "interactions", "interaction_history", "settings", "tmdb_cache", "hidden_titles"}


def _tables(store_or_url: Store | str) -> set[str]:
    if isinstance(store_or_url, Store):
        return set(inspect(store_or_url.engine).get_table_names())
    engine = make_engine(store_or_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_open_creates_every_table_at_head(store: Store) -> None:
    assert _tables(store) >= APP_TABLES
    newest = sorted((migrate.MIGRATIONS_DIR / "versions").glob("0*.py"))[-1]
    # revision ids are descriptive ("0009_run_history"); they start with the file's number
    assert migrate.head_revision().startswith(newest.name[:4])
    assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_models_match_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []


def test_downgrade_to_base_then_upgrade_again(store: Store) -> None:
    store.create_user("ada", "Ada", "ada@example.com", "hash")
    with pytest.raises(StoreError, match="Can't locate revision"):
        migrate.upgrade(store.engine, "no_such_revision")
    migrate.downgrade(store.engine, "base")
    assert migrate.current_revision(store.engine) is None
    assert not APP_TABLES & _tables(store)

    migrate.upgrade(store.engine)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert store.get_user("ada") is None  # base dropped the data
    assert store.create_user("ada", "Ada", "ada@example.com", "hash").username == "ada"


def test_reopening_keeps_data_and_revision(store_url: str) -> None:
    with Store.open(store_url) as first:
        first.create_user("ada", "Ada", "ada@example.com", "hash")
    with Store.open(store_url) as second:
        assert second.get_user("ada") is not None
        assert migrate.current_revision(second.engine) == migrate.head_revision()


def test_refuses_database_from_a_newer_version(store_url: str) -> None:
    with Store.open(store_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError) as info:
        Store.open(store_url)
    message = str(info.value)
    assert "newer CineBlend (revision 9999_future)" in message
    assert "upgrade the app or point DATABASE_URL elsewhere" in message
    assert "The database at " in message
    # nothing was touched
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "9999_future"
    finally:
        engine.dispose()


def test_failed_migration_rolls_back_every_step(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:  # a stray table makes the last create_table fail
            conn.execute(text("CREATE TABLE settings (x INTEGER)"))
        with pytest.raises(StoreError, match="settings"):
            migrate.upgrade(engine)
        assert _tables(store_url) == {"settings"}  # users etc. rolled back, no version stamped
        assert migrate.current_revision(engine) is None
    finally:
        engine.dispose()


def test_sqlite_creates_the_database_folder(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "app.db"
    with Store.open(f"sqlite:///{db}") as store:
        store.create_user("ada", "Ada", "ada@example.com", "hash")
    assert db.is_file()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        # two connections at once: both come from the pool's connect hook
        with store.engine.connect() as a, store.engine.connect() as b:
            for conn in (a, b):
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def _open_and_register(url: str, username: str, barrier: mp.synchronize.Barrier) -> None:
    barrier.wait(timeout=60)
    with Store.open(url) as store:
        store.create_user(username, username, f"{username}@example.com", "hash")


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_two_processes_opening_a_new_database_at_once(sqlite_url: str) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_open_and_register, args=(sqlite_url, name, barrier)) for name in ("ada", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with Store.open(sqlite_url) as store:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        with store.engine.connect() as conn:
            assert sorted(conn.scalars(select(users.c.username))) == ["ada", "bob"]
