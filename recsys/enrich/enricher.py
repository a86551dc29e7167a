"""Posters and overviews for the UI without ever waiting on TMDb.

:meth:`Enricher.posters` answers from the cache only (one indexed query, no network), so a card
shows a placeholder until its poster is known; :meth:`Enricher.prefetch` queues the titles that
are not cached or are stale for a small pool of background threads. A page does both::

    enricher = make_enricher(settings, store)          # once per process (st.cache_resource)
    known = enricher.posters(tconsts)                  # {tconst: TmdbInfo} cached right now
    enricher.prefetch(tconsts)                         # returns at once; next render has more

Without a TMDb key every method is a no-op and :meth:`posters` returns ``{}``. Titles whose
lookup failed (network trouble, a malformed answer) are not cached; they are asked again after
``retry_failed_after``, so a flaky TMDb is not hammered on every rerun.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from recsys.config import Settings
from recsys.enrich.cache import TmdbCache
from recsys.enrich.tmdb import TmdbClient, TmdbInfo, is_tconst
from recsys.errors import CineBlendError, EnrichError
from recsys.store import Store

logger = logging.getLogger(__name__)

MAX_WORKERS = 4
MAX_QUEUE = 512
RETRY_FAILED_AFTER = timedelta(minutes=10)


class Enricher:
    """Cached TMDb posters for the UI, fetched in the background. Thread-safe; share one."""

    def __init__(
        self,
        client: TmdbClient | None,
        cache: TmdbCache,
        *,
        max_workers: int = MAX_WORKERS,
        max_queue: int = MAX_QUEUE,
        retry_failed_after: timedelta = RETRY_FAILED_AFTER,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``client`` None (no key) makes everything a no-op; ``clock`` defaults to the cache's."""
        if not 1 <= max_workers <= MAX_WORKERS:
            raise ValueError(f"max_workers must be between 1 and {MAX_WORKERS}.")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1.")
        self._client = client
        self._cache = cache
        self._max_workers = max_workers
        self._retry_failed_after = retry_failed_after
        self._clock = clock or cache.now
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=max_queue)
        self._cond = threading.Condition()
        self._inflight: set[str] = set()  # queued or being fetched
        self._failed: dict[str, datetime] = {}  # tconst -> when its lookup last failed
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._problem: str | None = None

    def __repr__(self) -> str:
        return f"Enricher(enabled={self.enabled}, in_flight={len(self._inflight)})"

    @property
    def enabled(self) -> bool:
        """True when a TMDb key is configured and TMDb has not rejected it."""
        return self._client is not None and not self._client.disabled and not self._closed

    @property
    def problem(self) -> str | None:
        """A one-line message when enrichment stopped (e.g. a rejected key), else None."""
        return self._problem

    def posters(self, tconsts: Iterable[str]) -> dict[str, TmdbInfo]:
        """The cached TMDb info (poster, overview) of ``tconsts`` right now; never waits on TMDb.

        Stale hits are included (they are refreshed by :meth:`prefetch`); titles with no known
        poster yet, misses and malformed ids are left out. A store error logs and returns {}.
        """
        if self._client is None:
            return {}
        keys = [t for t in dict.fromkeys(tconsts) if is_tconst(t)]
        if not keys:
            return {}
        try:
            cached = self._cache.get(keys)
        except CineBlendError as exc:
            logger.warning("TMDb cache unreadable, showing placeholders: %s", exc)
            return {}
        return {k: v for k, v in cached.items() if isinstance(v, TmdbInfo)}

    def info(self, tconst: str) -> TmdbInfo | None:
        """The cached TMDb info of one title (see :meth:`posters`)."""
        return self.posters([tconst]).get(tconst)

    def prefetch(self, tconsts: Iterable[str]) -> int:
        """Queue the titles that are not cached or are stale; return how many were queued.

        Returns at once. Titles already queued or being fetched, or whose lookup failed less
        than ``retry_failed_after`` ago, are skipped; when the queue is full the rest is
        dropped (a later call asks again).
        """
        if not self.enabled:
            return 0
        now = self._clock()
        keys = [t for t in dict.fromkeys(tconsts) if is_tconst(t)]
        with self._cond:
            for key, failed_at in list(self._failed.items()):
                if now - failed_at >= self._retry_failed_after:
                    del self._failed[key]
            keys = [k for k in keys if k not in self._inflight and k not in self._failed]
        if not keys:
            return 0
        try:
            due = self._cache.needs_fetch(keys)
        except CineBlendError as exc:
            logger.warning("TMDb cache unreadable, not prefetching: %s", exc)
            return 0
        queued = 0
        with self._cond:
            if self._closed:
                return 0
            self._start_workers()
            for key in due:
                if key in self._inflight:  # another caller queued it meanwhile
                    continue
                try:
                    self._queue.put_nowait(key)
                except queue.Full:
                    logger.debug("TMDb prefetch queue full; %d titles left for later", len(due))
                    break
                self._inflight.add(key)
                queued += 1
        return queued

    def in_flight(self) -> frozenset[str]:
        """The titles queued or being fetched right now."""
        with self._cond:
            return frozenset(self._inflight)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or being fetched (tests, the CLI); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._inflight, timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the workers after their current lookup; queued titles are dropped."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
        while True:  # drop what is queued, then wake every worker with a sentinel
            try:
                key = self._queue.get_nowait()
            except queue.Empty:
                break
            self._done(key)
        for _ in workers:
            self._queue.put(None)
        for worker in workers:
            worker.join(timeout)
        if self._client is not None:
            self._client.close()

    # -- internals --------------------------------------------------------------------------

    def _start_workers(self) -> None:  # called holding self._cond
        while len(self._workers) < self._max_workers:
            worker = threading.Thread(target=self._work, name=f"tmdb-prefetch-{len(self._workers)}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def _work(self) -> None:
        assert self._client is not None
        while True:
            key = self._queue.get()
            if key is None:
                return
            ok = False
            try:
                # another caller may have queued it again just after a worker cached it
                if not self._cache.needs_fetch([key]):
                    ok = True
                    continue
                result = self._client.lookup(key)
                if result is not None:
                    self._cache.put(result)
                    ok = True
            except EnrichError as exc:  # the key was rejected: the client is now disabled
                self._problem = str(exc)
            except CineBlendError as exc:
                logger.warning("TMDb lookup of %s not cached: %s", key, exc)
            except Exception:  # a worker must survive anything
                logger.exception("TMDb lookup of %s failed unexpectedly", key)
            finally:
                self._done(key, failed=not ok)

    def _done(self, key: str | None, failed: bool = False) -> None:
        if key is None:
            return
        with self._cond:
            self._inflight.discard(key)
            if failed:
                self._failed[key] = self._clock()
            self._cond.notify_all()


def make_enricher(settings: Settings, store: Store) -> Enricher:
    """The app's enricher: TMDb lookups when ``TMDB_API_KEY`` is set, else a no-op."""
    cache = TmdbCache(store.engine)
    key = (settings.tmdb_api_key or "").strip()
    return Enricher(TmdbClient(key, base_url=settings.tmdb_base_url) if key else None, cache)
