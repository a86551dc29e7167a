"""A small, defensive TMDb client: posters and overviews looked up by IMDb id.

One endpoint is used, ``GET /3/find/{tconst}?external_source=imdb_id``; the first
``movie_results`` entry (else the first ``tv_results`` entry) becomes a :class:`TmdbInfo`::

    client = TmdbClient(settings.tmdb_api_key)
    info = client.find("tt0111161")      # TmdbInfo(..., poster_url="https://image.tmdb.org/...")

Credentials: a v3 API key goes as the ``api_key`` query parameter, a v4 read access token (a long
JWT, ``xxx.yyy.zzz``) as ``Authorization: Bearer``. Neither is ever logged.

Failure policy (the feed must never break because of TMDb):

- 429 and 5xx answers, connection errors and timeouts are retried ``retries`` times with
  exponential backoff (``backoff * 2**attempt`` seconds); a ``Retry-After`` header is honoured,
  capped at ``max_wait`` seconds. After the last attempt the lookup gives up (``None``).
- A malformed body or an answer of an unexpected shape is a miss with a logged warning.
- 401 means the key is wrong: the first caller gets :class:`~recsys.errors.EnrichError`, then the
  client disables itself for its lifetime (every later lookup is ``None`` without any request).

The client is thread-safe: each thread gets its own ``requests.Session`` unless one is given.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import requests

from recsys.errors import EnrichError, UnknownTitleError
from recsys.store import check_tconst

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.themoviedb.org"
#: Poster images in the width the cards use (342 px: sharp on a laptop, ~30 KB each).
POSTER_BASE_URL = "https://image.tmdb.org/t/p/w342"
#: TMDb's terms ask apps that use its API to show this notice (e.g. next to the IMDb line).
TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
REJECTED_KEY_MESSAGE = "TMDb rejected the API key; check TMDB_API_KEY"

MediaType = Literal["movie", "tv"]
_RESULT_KEYS: tuple[tuple[str, MediaType], ...] = (("movie_results", "movie"), ("tv_results", "tv"))
# TMDb poster paths look like "/q6y0Go1tsGEsmtFryDOJo3dEmqu.jpg"; anything else is not pasted
# into a URL
_POSTER_PATH_RE = re.compile(r"/[A-Za-z0-9_\-]{1,200}\.(?:jpg|jpeg|png|webp|svg)")
# v4 read access tokens are JWTs: three base64url parts separated by dots
_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


# worth another attempt: the connection failed, stalled or broke off mid-answer
_RETRYABLE_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TmdbInfo:
    """What TMDb knows about one IMDb title (a cache hit)."""

    tconst: str
    tmdb_id: int
    media_type: MediaType
    poster_url: str | None  #: ``POSTER_BASE_URL + poster_path``, or None without a poster
    overview: str | None
    fetched_at: datetime  #: when TMDb answered (aware UTC)

    @property
    def tmdb_url(self) -> str:
        """The title's page on themoviedb.org (for a "more on TMDb" link)."""
        return f"https://www.themoviedb.org/{self.media_type}/{self.tmdb_id}"


@dataclass(frozen=True)
class Missing:
    """TMDb answered and knows no movie or TV show with this IMDb id (a cached miss)."""

    tconst: str
    fetched_at: datetime


def is_tconst(value: object) -> bool:
    """True when ``value`` is a well-formed IMDb title id (``tt`` and 7 to 10 digits)."""
    try:
        check_tconst(value)  # type: ignore[arg-type]  # any object on purpose: non-strings raise too
    except UnknownTitleError:
        return False
    return True


def is_read_access_token(credential: str) -> bool:
    """True for a v4 read access token (a JWT), False for a v3 API key (32 hex characters)."""
    return len(credential) > 64 and _TOKEN_RE.fullmatch(credential) is not None


def parse_find(
    tconst: str, payload: Any, fetched_at: datetime, poster_base: str = POSTER_BASE_URL
) -> TmdbInfo | Missing | None:
    """Turn a ``/3/find`` JSON body into a hit, a miss, or None (with a warning) if malformed."""
    if not isinstance(payload, dict):
        logger.warning("TMDb answered %s with a %s, not an object; ignored", tconst, _kind(payload))
        return None
    if not any(key in payload for key, _ in _RESULT_KEYS):
        logger.warning("TMDb answered %s without movie_results / tv_results; ignored", tconst)
        return None
    for key, media_type in _RESULT_KEYS:
        results = payload.get(key, [])
        if not isinstance(results, list):
            logger.warning("TMDb answered %s with %s as a %s; ignored", tconst, key, _kind(results))
            return None
        if not results:
            continue
        entry = results[0]
        tmdb_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(tmdb_id, int) or isinstance(tmdb_id, bool) or tmdb_id <= 0:
            logger.warning("TMDb answered %s with a %s entry without a valid id", tconst, key)
            return None
        poster_path = entry.get("poster_path")
        poster_url = None
        if isinstance(poster_path, str) and _POSTER_PATH_RE.fullmatch(poster_path):
            poster_url = poster_base.rstrip("/") + poster_path
        elif poster_path is not None:
            logger.debug("TMDb poster path %r for %s ignored", poster_path, tconst)
        overview = entry.get("overview")
        overview = (overview.strip() or None) if isinstance(overview, str) else None
        return TmdbInfo(tconst, tmdb_id, media_type, poster_url, overview, fetched_at)
    return Missing(tconst, fetched_at)


def _kind(value: object) -> str:
    return type(value).__name__


class TmdbClient:
    """Look titles up on TMDb by IMDb id, with short timeouts and bounded retries."""

    def __init__(
        self,
        api_key_or_token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | tuple[float, float] = (3.05, 5),
        retries: int = 3,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        *,
        max_wait: float = 10.0,
        poster_base: str = POSTER_BASE_URL,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a client.

        ``timeout`` is ``(connect, read)`` seconds per attempt; ``retries`` the attempts after
        the first; ``max_wait`` caps every wait between attempts (``Retry-After`` included).
        ``clock`` stamps ``fetched_at``; ``sleep`` waits between attempts (both for tests).
        """
        credential = (api_key_or_token or "").strip()
        if not credential:
            raise EnrichError("The TMDb API key is empty; set TMDB_API_KEY or leave it unset.")
        if retries < 0 or backoff < 0 or max_wait < 0:
            raise ValueError("retries, backoff and max_wait must not be negative.")
        self._credential = credential
        self._bearer = is_read_access_token(credential)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.poster_base = poster_base
        self._clock = clock
        self._sleep = sleep
        self._shared_session = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._disabled = False

    def __repr__(self) -> str:
        auth = "bearer token" if self._bearer else "api key"
        return f"TmdbClient({self.base_url!r}, {auth}, disabled={self._disabled})"

    @property
    def uses_bearer_token(self) -> bool:
        """True when the credential is a read access token (sent as ``Authorization: Bearer``)."""
        return self._bearer

    @property
    def disabled(self) -> bool:
        """True once TMDb rejected the credential (401); the client then never calls TMDb."""
        return self._disabled

    def find(self, tconst: str) -> TmdbInfo | None:
        """The TMDb movie or TV show with IMDb id ``tconst``, or None (miss or no answer).

        Raises UnknownTitleError for a malformed tconst, and EnrichError once on a rejected key.
        """
        result = self.lookup(tconst)
        return result if isinstance(result, TmdbInfo) else None

    def lookup(self, tconst: str) -> TmdbInfo | Missing | None:
        """Like :meth:`find`, telling a miss apart from a failed lookup.

        Returns a :class:`TmdbInfo` (hit), a :class:`Missing` (TMDb answered: unknown id; safe to
        cache) or None (no usable answer: network trouble, retries exhausted, a malformed body,
        the client disabled; do not cache, ask again later).
        """
        tconst = check_tconst(tconst)
        url = f"{self.base_url}/3/find/{tconst}"
        params = {"external_source": "imdb_id"}
        headers = {"Accept": "application/json"}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._credential}"
        else:
            params["api_key"] = self._credential
        for attempt in range(self.retries + 1):
            if self._disabled:
                return None
            wait = self.backoff * 2**attempt
            try:
                response = self._session().get(url, params=params, headers=headers, timeout=self.timeout)
            except _RETRYABLE_ERRORS as exc:
                problem = f"{type(exc).__name__}: {self._redact(exc)}"
            except requests.RequestException as exc:
                logger.warning("TMDb lookup of %s failed: %s", tconst, self._redact(exc))
                return None
            else:
                with response:
                    status = response.status_code
                    if status == 200:
                        return self._parse(tconst, response)
                    if status == 401:
                        self._reject()
                        return None
                    if status == 404:
                        return Missing(tconst, self._clock())
                    if status != 429 and not 500 <= status < 600:
                        logger.warning("TMDb answered %s with HTTP %d; ignored", tconst, status)
                        return None
                    problem = f"HTTP {status}"
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        wait = retry_after
            if attempt == self.retries:
                logger.warning(
                    "TMDb lookup of %s gave up after %d attempts (%s)",
                    tconst,
                    attempt + 1,
                    problem,
                )
                return None
            wait = min(max(wait, 0.0), self.max_wait)
            logger.info("TMDb lookup of %s: %s; retrying in %.2f s", tconst, problem, wait)
            self._sleep(wait)
        return None  # pragma: no cover - the loop always returns

    def close(self) -> None:
        """Close the sessions this client opened (a given ``session`` is left to its owner)."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> TmdbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "CineBlend (+https://www.themoviedb.org/)"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _parse(self, tconst: str, response: requests.Response) -> TmdbInfo | Missing | None:
        try:
            payload = response.json()
        except ValueError:  # requests.JSONDecodeError, UnicodeDecodeError
            logger.warning("TMDb answered %s with malformed JSON; ignored", tconst)
            return None
        return parse_find(tconst, payload, self._clock(), self.poster_base)

    def _reject(self) -> None:
        with self._lock:
            first = not self._disabled
            self._disabled = True
        if first:
            logger.error("%s; TMDb lookups are off until the app restarts", REJECTED_KEY_MESSAGE)
            raise EnrichError(REJECTED_KEY_MESSAGE)

    def _redact(self, exc: BaseException) -> str:
        text = str(exc).replace(self._credential, "***")
        return text.splitlines()[0] if text else type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
