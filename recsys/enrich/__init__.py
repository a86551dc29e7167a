"""Enrichment from TMDb: posters and overviews by IMDb id, cached in the store, never blocking.

::

    from recsys.enrich import make_enricher

    enricher = make_enricher(settings, store)   # once per process; no-op without TMDB_API_KEY
    known = enricher.posters(tconsts)           # {tconst: TmdbInfo} from the cache, no network
    enricher.prefetch(tconsts)                  # background lookups of what is missing / stale

Show :data:`TMDB_ATTRIBUTION` wherever TMDb posters or overviews appear.
"""

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
