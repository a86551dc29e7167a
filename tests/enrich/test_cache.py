"""The TMDb cache in the store (SQLite and PostgreSQL): hits and misses round-trip with their
age, expire after their TTL, and upserts keep the newest answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from recsys.enrich import HIT_TTL, MISS_TTL, Missing, TmdbCache, TmdbInfo
from recsys.errors import UnknownTitleError
from recsys.store import Store
from recsys.store.schema import tmdb_cache
from tests.enrich.conftest import T0, Clock

SHAWSHANK = TmdbInfo("tt0111161", 278, "movie", "https://image.tmdb.org/t/p/w342/a.jpg", "Andy ... Zihuatanejo.", T0)
BREAKING_BAD = TmdbInfo("tt0903747", 1396, "tv", None, None, T0)
UNKNOWN = Missing("tt9999999", T0)


@pytest.fixture
def cache(store: Store, clock: Clock) -> TmdbCache:
    return TmdbCache(store.engine, clock=clock)


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(tmdb_cache)) or 0)


def test_hits_and_misses_round_trip(cache: TmdbCache, store: Store) -> None:
    assert cache.get(["tt0111161"]) == {}
    cache.put(SHAWSHANK)
    cache.put(BREAKING_BAD)
    cache.put(UNKNOWN)
    got = cache.get(["tt0111161", "tt0903747", "tt9999999", "tt0000001"])
    assert got == {"tt0111161": SHAWSHANK, "tt0903747": BREAKING_BAD, "tt9999999": UNKNOWN}
    assert got["tt0111161"].fetched_at.utcoffset() == timedelta(0)  # aware UTC back
    assert _rows(store) == 3


def test_empty_request_reads_nothing(cache: TmdbCache) -> None:
    assert cache.get([]) == {}
    cache.put_many([])


def test_unicode_and_long_overviews_survive(cache: TmdbCache) -> None:
    overview = "Amélie — 天使 " * 400  # ~5,600 characters
    info = TmdbInfo("tt0211915", 194, "movie", None, overview, T0)
    cache.put(info)
    assert cache.get(["tt0211915"])["tt0211915"] == info


def test_ages_and_expiry(cache: TmdbCache, clock: Clock) -> None:
    cache.put_many([SHAWSHANK, UNKNOWN])
    assert (timedelta(days=30), timedelta(days=7)) == (HIT_TTL, MISS_TTL)
    titles = ["tt9999999", "tt0111161", "tt0000001"]
    # nothing cached for tt0000001: always due
    assert cache.needs_fetch(titles) == ["tt0000001"]

    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    entries = cache.get(titles)
    assert cache.age(entries["tt9999999"]) == timedelta(days=7) - timedelta(seconds=1)
    assert not cache.is_stale(entries["tt9999999"])
    assert cache.needs_fetch(titles) == ["tt0000001"]

    clock.advance(timedelta(seconds=1))  # the miss is 7 days old: re-check it
    assert cache.is_stale(cache.get(["tt9999999"])["tt9999999"])
    assert cache.needs_fetch(titles) == ["tt9999999", "tt0000001"]

    clock.advance(timedelta(days=23) - timedelta(seconds=1))  # the hit is 30 days - 1 s old
    assert cache.needs_fetch(titles) == ["tt9999999", "tt0000001"]
    clock.advance(timedelta(seconds=1))
    assert cache.needs_fetch(titles) == titles
    # stale entries are still returned: an old poster beats a placeholder
    assert cache.get(["tt0111161"]) == {"tt0111161": SHAWSHANK}


def test_custom_ttls(store: Store, clock: Clock) -> None:
    cache = TmdbCache(store.engine, hit_ttl=timedelta(hours=1), miss_ttl=timedelta(0), clock=clock)
    cache.put_many([SHAWSHANK, UNKNOWN])
    assert cache.needs_fetch(["tt0111161", "tt9999999"]) == ["tt9999999"]
    clock.advance(timedelta(hours=1))
    assert cache.needs_fetch(["tt0111161", "tt9999999"]) == ["tt0111161", "tt9999999"]


def test_upsert_replaces_an_older_answer(cache: TmdbCache, store: Store) -> None:
    cache.put(Missing("tt0111161", T0))
    newer = TmdbInfo("tt0111161", 278, "movie", None, "Now on TMDb.", T0 + timedelta(days=8))
    cache.put(newer)
    assert cache.get(["tt0111161"]) == {"tt0111161": newer}
    # and a hit can turn into a miss again (TMDb removed the link)
    gone = Missing("tt0111161", T0 + timedelta(days=40))
    cache.put(gone)
    assert cache.get(["tt0111161"]) == {"tt0111161": gone}
    assert _rows(store) == 1


def test_an_older_answer_never_replaces_a_newer_one(cache: TmdbCache) -> None:
    newer = TmdbInfo("tt0111161", 278, "movie", None, "fresh", T0 + timedelta(hours=1))
    cache.put(newer)
    cache.put(Missing("tt0111161", T0))  # a slow worker finishing late
    assert cache.get(["tt0111161"]) == {"tt0111161": newer}


def test_put_many_with_the_same_title_twice_keeps_the_newest(cache: TmdbCache) -> None:
    later = Missing("tt0111161", T0 + timedelta(minutes=5))
    cache.put_many([SHAWSHANK, later, UNKNOWN])
    assert cache.get(["tt0111161", "tt9999999"]) == {"tt0111161": later, "tt9999999": UNKNOWN}


def test_many_titles_are_read_in_chunks(cache: TmdbCache) -> None:
    entries = [Missing(f"tt{n:07d}", T0) for n in range(1, 1201)]
    cache.put_many(entries)
    got = cache.get(e.tconst for e in entries)
    assert len(got) == 1200
    assert got["tt0001200"] == Missing("tt0001200", T0)


def test_refuses_malformed_entries(cache: TmdbCache) -> None:
    with pytest.raises(UnknownTitleError):
        cache.put(Missing("not-a-title", T0))
    with pytest.raises(TypeError):
        cache.put("tt0111161")  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
