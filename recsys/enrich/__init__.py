"""Enrichment from TMDb: posters and overviews by IMDb id, cached in the store, never blocking.

::

    from recsys.enrich import make_enricher

    enricher = make_enricher(settings, store)   # once per process; no-op without TMDB_API_KEY
    known = enricher.posters(tconsts)           # {tconst: TmdbInfo} from the cache, no network
    enricher.prefetch(tconsts)                  # background lookups of what is missing / stale

Show :data:`TMDB_ATTRIBUTION` wherever TMDb posters or overviews appear.
"""

from typing import TYPE_CHECKING

from recsys.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (recsys.lazy: no import cycle with the submodules)
    from recsys.enrich.cache import HIT_TTL, MISS_TTL, CacheEntry, TmdbCache
    from recsys.enrich.enricher import Enricher, make_enricher
    from recsys.enrich.tmdb import (
        POSTER_BASE_URL,
        TMDB_ATTRIBUTION,
        Missing,
        TmdbClient,
        TmdbInfo,
        is_read_access_token,
        is_tconst,
    )

__all__ = [
    "HIT_TTL",
    "MISS_TTL",
    "POSTER_BASE_URL",
    "TMDB_ATTRIBUTION",
    "CacheEntry",
    "Enricher",
    "Missing",
    "TmdbCache",
    "TmdbClient",
    "TmdbInfo",
    "is_read_access_token",
    "is_tconst",
    "make_enricher",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "HIT_TTL": "cache",
        "MISS_TTL": "cache",
        "CacheEntry": "cache",
        "TmdbCache": "cache",
        "Enricher": "enricher",
        "make_enricher": "enricher",
        "POSTER_BASE_URL": "tmdb",
        "TMDB_ATTRIBUTION": "tmdb",
        "Missing": "tmdb",
        "TmdbClient": "tmdb",
        "TmdbInfo": "tmdb",
        "is_read_access_token": "tmdb",
        "is_tconst": "tmdb",
    },
)
