"""The Enricher: posters come from the cache only (never waiting on TMDb), prefetch fetches what
is missing or stale in the background, once per title, and a missing or rejected key turns it
into a no-op. Races are arranged with events held by the fake server, never with sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from recsys.config import Settings
from recsys.enrich import Enricher, Missing, TmdbCache, TmdbClient, TmdbInfo, make_enricher
from recsys.store import Store
from tests.enrich.conftest import T0, Clock
from tests.enrich.fake_tmdb import API_KEY, FakeTmdb, Reply

WAIT = 10.0  # upper bound for events; the tests finish in milliseconds


@pytest.fixture
def cache(sqlite_store: Store, clock: Clock) -> TmdbCache:
    return TmdbCache(sqlite_store.engine, clock=clock)


def make(server: FakeTmdb, cache: TmdbCache, key: str = API_KEY, **kwargs: Any) -> Enricher:
    client = TmdbClient(
        key,
        base_url=server.url,
        retries=0,
        timeout=(2.0, 5.0),
        clock=cache.now,
        sleep=lambda _s: None,
    )
    return Enricher(client, cache, **kwargs)


@pytest.fixture
def enricher(tmdb: FakeTmdb, cache: TmdbCache) -> Iterator[Enricher]:
    e = make(tmdb, cache)
    try:
        yield e
    finally:
        tmdb.release()
        e.close()


def test_prefetch_then_posters(enricher: Enricher, tmdb: FakeTmdb, cache: TmdbCache) -> None:
    titles = ["tt0111161", "tt0903747", "tt9999999"]
    assert enricher.posters(titles) == {}  # nothing known yet: placeholders
    assert enricher.prefetch(titles) == 3
    assert enricher.wait_idle(WAIT)
    got = enricher.posters(titles)
    assert sorted(got) == ["tt0111161", "tt0903747"]  # the miss is not a poster
    assert got["tt0111161"].poster_url == ("https://image.tmdb.org/t/p/w342/9cqNxx0GxF0bflZmeSMuL5tnGzr.jpg")
    assert got["tt0903747"].media_type == "tv"
    assert enricher.info("tt0111161") == got["tt0111161"]
    assert cache.get(["tt9999999"]) == {"tt9999999": Missing("tt9999999", T0)}
    # everything is cached and fresh now: nothing more to ask
    assert enricher.prefetch(titles) == 0
    assert [tmdb.count(t) for t in titles] == [1, 1, 1]


def test_posters_never_wait_for_a_fetch_in_flight(enricher: Enricher, tmdb: FakeTmdb) -> None:
    held = tmdb.hold("tt0111161")
    assert enricher.prefetch(["tt0111161"]) == 1
    assert tmdb.arrived("tt0111161").wait(WAIT)  # the request is now hanging at TMDb
    started = time.monotonic()
    assert enricher.posters(["tt0111161"]) == {}
    assert time.monotonic() - started < 1.0
    assert enricher.in_flight() == {"tt0111161"}
    held.set()
    assert enricher.wait_idle(WAIT)
    info = enricher.posters(["tt0111161"])["tt0111161"]
    assert info.tmdb_id == 278


def test_prefetch_is_deduplicated_while_in_flight(enricher: Enricher, tmdb: FakeTmdb) -> None:
    held = tmdb.hold("tt0111161")
    assert enricher.prefetch(["tt0111161", "tt0111161", "tt0903747"]) == 2
    assert tmdb.arrived("tt0111161").wait(WAIT)
    # a rerun of the page asks again while the first lookup hangs: nothing new is queued
    assert enricher.prefetch(["tt0111161"]) == 0
    assert enricher.prefetch(["tt0111161", "tt0903747"]) <= 1  # tt0903747 may be done already
    held.set()
    assert enricher.wait_idle(WAIT)
    assert tmdb.count("tt0111161") == 1
    assert tmdb.count("tt0903747") == 1


def test_concurrent_prefetches_fetch_each_title_once(enricher: Enricher, tmdb: FakeTmdb) -> None:
    titles = [f"tt{n:07d}" for n in range(1, 21)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def page_run() -> None:
        try:
            barrier.wait(WAIT)
            for _ in range(3):
                enricher.prefetch(titles)
                enricher.posters(titles)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=page_run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert errors == []
    assert enricher.wait_idle(WAIT)
    assert {t: tmdb.count(t) for t in titles} == dict.fromkeys(titles, 1)


def test_fresh_entries_are_not_fetched_and_stale_ones_are_refreshed(
    enricher: Enricher, tmdb: FakeTmdb, cache: TmdbCache, clock: Clock
) -> None:
    old = TmdbInfo("tt0111161", 278, "movie", "https://image.tmdb.org/t/p/w342/old.jpg", None, T0)
    cache.put(old)
    assert enricher.prefetch(["tt0111161"]) == 0
    assert tmdb.seen == []

    clock.advance(timedelta(days=30))
    held = tmdb.hold("tt0111161")
    assert enricher.prefetch(["tt0111161"]) == 1
    assert tmdb.arrived("tt0111161").wait(WAIT)
    assert enricher.posters(["tt0111161"]) == {"tt0111161": old}  # the stale poster meanwhile
    held.set()
    assert enricher.wait_idle(WAIT)
    new = enricher.posters(["tt0111161"])["tt0111161"]
    assert new.poster_url is not None
    assert new.poster_url.endswith("/9cqNxx0GxF0bflZmeSMuL5tnGzr.jpg")
    assert new.fetched_at == T0 + timedelta(days=30)


def test_misses_are_rechecked_after_a_week(enricher: Enricher, tmdb: FakeTmdb, clock: Clock) -> None:
    assert enricher.prefetch(["tt9999999"]) == 1
    assert enricher.wait_idle(WAIT)
    clock.advance(timedelta(days=6))
    assert enricher.prefetch(["tt9999999"]) == 0
    clock.advance(timedelta(days=1))
    assert enricher.prefetch(["tt9999999"]) == 1
    assert enricher.wait_idle(WAIT)
    assert tmdb.count("tt9999999") == 2


def test_failed_lookups_are_not_cached_and_retried_later(
    enricher: Enricher, tmdb: FakeTmdb, cache: TmdbCache, clock: Clock
) -> None:
    tmdb.script("tt0111161", Reply(500), Reply(200, b"<html>proxy error</html>"))
    assert enricher.prefetch(["tt0111161"]) == 1
    assert enricher.wait_idle(WAIT)
    assert cache.get(["tt0111161"]) == {}  # not a miss: TMDb did not answer
    assert enricher.prefetch(["tt0111161"]) == 0  # not hammered on every rerun
    clock.advance(timedelta(minutes=10))
    assert enricher.prefetch(["tt0111161"]) == 1
    assert enricher.wait_idle(WAIT)
    assert cache.get(["tt0111161"]) == {}  # malformed this time: still nothing cached
    assert tmdb.count("tt0111161") == 2


def test_the_queue_is_bounded(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    enricher = make(tmdb, cache, max_workers=1, max_queue=1)
    try:
        held = tmdb.hold("tt0000001")
        assert enricher.prefetch(["tt0000001"]) == 1
        assert tmdb.arrived("tt0000001").wait(WAIT)  # the only worker is busy
        assert enricher.prefetch(["tt0000002", "tt0000003", "tt0000004"]) == 1
        assert enricher.in_flight() == {"tt0000001", "tt0000002"}
        held.set()
        assert enricher.wait_idle(WAIT)
        # the dropped titles are asked for by the next call
        assert enricher.prefetch(["tt0000002", "tt0000003"]) == 1
        assert enricher.wait_idle(WAIT)
        assert [tmdb.count(f"tt000000{n}") for n in (1, 2, 3, 4)] == [1, 1, 1, 0]
    finally:
        enricher.close()


def test_a_rejected_key_stops_enrichment_with_a_clear_problem(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    enricher = make(tmdb, cache, key="ffffffffffffffffffffffffffffffff", max_workers=1)
    try:
        assert enricher.enabled and enricher.problem is None
        enricher.prefetch(["tt0111161", "tt0903747", "tt9999999"])
        assert enricher.wait_idle(WAIT)
        assert enricher.problem == "TMDb rejected the API key; check TMDB_API_KEY"
        assert not enricher.enabled
        assert len(tmdb.seen) == 1  # the other queued titles never reached TMDb
        assert enricher.prefetch(["tt0133093"]) == 0
        assert enricher.posters(["tt0111161"]) == {}
    finally:
        enricher.close()


def test_without_a_key_everything_is_a_no_op(cache: TmdbCache) -> None:
    cache.put(TmdbInfo("tt0111161", 278, "movie", None, None, T0))
    enricher = Enricher(None, cache)
    assert not enricher.enabled
    assert enricher.posters(["tt0111161"]) == {}
    assert enricher.prefetch(["tt0111161", "tt9999999"]) == 0
    assert enricher.in_flight() == frozenset()
    assert enricher.wait_idle(0)
    assert enricher.problem is None
    enricher.close()


def test_malformed_ids_are_ignored(enricher: Enricher, tmdb: FakeTmdb) -> None:
    assert enricher.posters(["nope", "", "tt1"]) == {}
    assert enricher.prefetch(["nope", "tt1", None]) == 0  # type: ignore[list-item]  # a None on purpose: it is skipped
    assert tmdb.seen == []


def test_close_stops_the_workers(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    others = set(threading.enumerate())  # enrichers of other tests may still be running
    enricher = make(tmdb, cache)
    assert enricher.prefetch(["tt0111161"]) == 1
    assert enricher.wait_idle(WAIT)
    enricher.close()
    assert not enricher.enabled
    assert enricher.prefetch(["tt0903747"]) == 0
    mine = set(threading.enumerate()) - others
    assert not [t for t in mine if t.name.startswith("tmdb-prefetch")]


def test_make_enricher_follows_the_settings(tmp_path: Path, sqlite_store: Store) -> None:
    without = make_enricher(Settings(data_dir=tmp_path), sqlite_store)
    assert not without.enabled
    with_key = make_enricher(Settings(data_dir=tmp_path, tmdb_api_key=API_KEY), sqlite_store)
    try:
        assert with_key.enabled
    finally:
        with_key.close()
