"""The TMDb cache in the app store: one row per IMDb title, a hit or a miss, with its age.

Hits are re-checked after :data:`HIT_TTL` (posters and overviews change rarely), misses after
:data:`MISS_TTL` (TMDb adds titles every day). A stale entry is still returned by
:meth:`TmdbCache.get` (an old poster beats a placeholder); :meth:`TmdbCache.needs_fetch` says what
to look up again. Writes are upserts that never replace a newer answer with an older one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from recsys.enrich.tmdb import Missing, TmdbInfo
from recsys.store import check_tconst
from recsys.store.engine import dialect_insert, translate_errors, write_transaction
from recsys.store.schema import POSTER_URL_MAX, tmdb_cache, utcnow

logger = logging.getLogger(__name__)

HIT_TTL = timedelta(days=30)
MISS_TTL = timedelta(days=7)
#: Keys per ``IN (...)`` query (well under SQLite's and PostgreSQL's parameter limits).
CHUNK = 500

CacheEntry = TmdbInfo | Missing


class TmdbCache:
    """Cached TMDb answers in the store's ``tmdb_cache`` table; safe to share between threads."""

    def __init__(
        self,
        engine: Engine,
        *,
        hit_ttl: timedelta = HIT_TTL,
        miss_ttl: timedelta = MISS_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Use the store's engine (``Store.engine``); its schema must be current (0002+)."""
        self._engine = engine
        self.hit_ttl = hit_ttl
        self.miss_ttl = miss_ttl
        self._clock = clock
        self._insert: Any = dialect_insert(engine)

    def now(self) -> datetime:
        """The cache's clock (aware UTC)."""
        return self._clock()

    def get(self, tconsts: Iterable[str]) -> dict[str, CacheEntry]:
        """Every cached entry among ``tconsts``, fresh or stale; absent titles are left out."""
        keys = list(dict.fromkeys(tconsts))
        found: dict[str, CacheEntry] = {}
        t = tmdb_cache.c
        with translate_errors(self._engine.url), self._engine.connect() as conn:
            for start in range(0, len(keys), CHUNK):
                rows = conn.execute(
                    select(
                        t.tconst,
                        t.tmdb_id,
                        t.media_type,
                        t.poster_url,
                        t.overview,
                        t.hit,
                        t.fetched_at,
                    ).where(t.tconst.in_(keys[start : start + CHUNK]))
                )
                for row in rows:
                    entry = _entry(row)
                    if entry is not None:
                        found[row.tconst] = entry
        return found

    def put(self, entry: CacheEntry) -> None:
        """Store a hit or a miss, replacing an older entry for the same title (upsert)."""
        self.put_many([entry])

    def put_many(self, entries: Iterable[CacheEntry]) -> None:
        """Store several entries in one transaction (see :meth:`put`)."""
        newest: dict[str, dict[str, Any]] = {}
        for entry in entries:  # one row per title: PostgreSQL refuses to upsert a row twice
            row = _row(entry)
            kept = newest.get(row["tconst"])
            if kept is None or kept["fetched_at"] <= row["fetched_at"]:
                newest[row["tconst"]] = row
        rows = list(newest.values())
        if not rows:
            return
        stmt = self._insert(tmdb_cache)
        stmt = stmt.on_conflict_do_update(
            index_elements=[tmdb_cache.c.tconst],
            set_={
                name: getattr(stmt.excluded, name)
                for name in ("tmdb_id", "media_type", "poster_url", "overview", "hit", "fetched_at")
            },
            # two workers racing on one title: the newer answer stays
            where=tmdb_cache.c.fetched_at <= stmt.excluded.fetched_at,
        )
        with translate_errors(self._engine.url), write_transaction(self._engine) as conn:
            conn.execute(stmt, rows)

    def age(self, entry: CacheEntry) -> timedelta:
        """How long ago TMDb gave this answer."""
        return self._clock() - entry.fetched_at

    def is_stale(self, entry: CacheEntry) -> bool:
        """True when the entry is due a re-check (hits after ``hit_ttl``, misses ``miss_ttl``)."""
        ttl = self.hit_ttl if isinstance(entry, TmdbInfo) else self.miss_ttl
        return self.age(entry) >= ttl

    def needs_fetch(self, tconsts: Iterable[str]) -> list[str]:
        """The titles among ``tconsts`` that are not cached or whose entry is stale, in order."""
        keys = list(dict.fromkeys(tconsts))
        cached = self.get(keys)
        return [k for k in keys if k not in cached or self.is_stale(cached[k])]


def _entry(row: Any) -> CacheEntry | None:
    if not row.hit:
        return Missing(row.tconst, row.fetched_at)
    if row.tmdb_id is None or row.media_type not in ("movie", "tv"):
        logger.warning("TMDb cache row for %s is incomplete; it will be fetched again", row.tconst)
        return None
    return TmdbInfo(
        tconst=row.tconst,
        tmdb_id=row.tmdb_id,
        media_type=row.media_type,
        poster_url=row.poster_url,
        overview=row.overview,
        fetched_at=row.fetched_at,
    )


def _row(entry: CacheEntry) -> dict[str, Any]:
    if isinstance(entry, TmdbInfo | Missing):
        check_tconst(entry.tconst)
    if isinstance(entry, TmdbInfo):
        poster = entry.poster_url
        if poster is not None and len(poster) > POSTER_URL_MAX:
            poster = None
        return {
            "tconst": entry.tconst,
            "tmdb_id": entry.tmdb_id,
            "media_type": entry.media_type,
            "poster_url": poster,
            "overview": entry.overview,
            "hit": True,
            "fetched_at": entry.fetched_at,
        }
    if isinstance(entry, Missing):
        return {
            "tconst": entry.tconst,
            "tmdb_id": None,
            "media_type": None,
            "poster_url": None,
            "overview": None,
            "hit": False,
            "fetched_at": entry.fetched_at,
        }
    raise TypeError(f"Expected TmdbInfo or Missing, got {type(entry).__name__}.")
