"""Download the IMDb dataset files and MovieLens ml-latest-small into ``Settings.raw_dir``.

Sources: ``Settings.imdb_base_url`` (a folder holding ``title.basics.tsv.gz`` ...) and
``Settings.movielens_url`` (the zip itself, or a folder holding ``ml-latest-small.zip``). Each
may be an ``http(s)://`` URL, a ``file://`` URL or a local path.

How a file is fetched, so that a failure never costs good data:

1. If ``raw/<name>`` exists, is valid, and the server's ``Content-Length`` (HEAD) equals its
   size (for a local source: the source's size), it is kept as is (``force=True`` re-fetches).
2. The disk must have room for the file (its size from ``Content-Length`` / the local source)
   plus a reserve, or the download is refused before it starts. Bytes stream into
   ``raw/<name>.part``. A ``.part`` left by an interrupted run is resumed with
   an HTTP ``Range`` request; a server that answers ``200`` instead of ``206`` restarts it from
   zero. A connection dropped mid-body is retried (``MAX_ATTEMPTS``) from where it stopped.
3. The ``.part`` is verified: a gzip is decompressed to its end (truncation, an HTML error page
   or any non-gzip shows up here), a zip passes ``testzip()`` and holds ``ratings.csv`` and
   ``links.csv``. Both are refused the moment they would expand past the bounds of
   :mod:`recsys.catalog.limits` (100:1, ``CINEBLEND_MAX_UNCOMPRESSED_GB``). A corrupt or
   refused ``.part`` is deleted so the next run starts clean.
4. Only then ``os.replace`` puts it in place of ``raw/<name>``; until then the old file stays.

The optional people files (``title.principals``, ``name.basics``) and ``title.akas`` (with
``Settings.with_akas``; the titles' languages, see :mod:`recsys.catalog.language`) are skipped with a warning
when the source does not have them (HTTP 404 / missing local file); every other failure raises
:class:`~recsys.errors.FetchError` with a one-line message.
"""

from __future__ import annotations

import gzip
import http.client
import logging
import os
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import requests
import urllib3.exceptions

from recsys import config
from recsys.catalog.limits import Expansion, require_free
from recsys.config import Settings
from recsys.errors import FetchError
from recsys.jobs.locks import exclusive
from recsys.progress import Progress, null_progress
from recsys.urls import mask_url

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP connection."""
READ_TIMEOUT = 30.0
"""Seconds without a byte from the server before the download counts as stalled."""
MAX_ATTEMPTS = 3
"""Tries per file when the connection drops mid-body (each resumes where the last stopped)."""
RETRY_BACKOFF = 1.0
"""Seconds to wait before retry ``n`` is ``RETRY_BACKOFF * n``."""
CHUNK_SIZE = 1 << 20
USER_AGENT = "CineBlend/1.0 (+https://github.com/; python-requests)"

IMDB_SETTING = "CINEBLEND_IMDB_BASE_URL"
MOVIELENS_SETTING = "CINEBLEND_MOVIELENS_URL"
MOVIELENS_MEMBERS = ("ratings.csv", "links.csv")
FETCH_LOCK = ".fetch.lock"  # in the data folder: one download at a time

Kind = Literal["gzip", "zip"]


@dataclass(frozen=True)
class Source:
    """One file to fetch: where from, what it must be, and whether it may be missing."""

    name: str  # file name in raw_dir
    location: str  # http(s) URL or local file path
    kind: Kind
    required: bool
    setting: str  # the setting to blame in messages
    max_bytes: int = int(config.DEFAULT_MAX_UNCOMPRESSED_GB * 1e9)  # uncompressed cap

    @property
    def shown(self) -> str:
        """The location as messages and logs show it (no credentials or signed query)."""
        return mask_url(self.location)

    @property
    def is_http(self) -> bool:
        return self.location.startswith(("http://", "https://"))


class _NotFound(Exception):
    """The source does not have the file (HTTP 404 or a missing local file)."""


class _Dropped(Exception):
    """The connection ended before the whole body arrived (worth a resumed retry)."""


class _Restart(Exception):
    """The partial file cannot be resumed; start again from zero."""


def sources(settings: Settings, include_people: bool | None = None) -> list[Source]:
    """The files ``fetch`` would get for these settings, in download order."""
    people = settings.with_people if include_people is None else include_people
    cap = settings.max_uncompressed_bytes
    out = [
        Source(name, _join(settings.imdb_base_url, name), "gzip", True, IMDB_SETTING, cap) for name in config.IMDB_FILES
    ]
    out.append(
        Source(
            config.MOVIELENS_FILE,
            _movielens_location(settings.movielens_url),
            "zip",
            True,
            MOVIELENS_SETTING,
            cap,
        )
    )
    if people:
        out.extend(
            Source(name, _join(settings.imdb_base_url, name), "gzip", False, IMDB_SETTING, cap)
            for name in config.IMDB_OPTIONAL_FILES
        )
    if settings.with_akas:
        name = config.IMDB_AKAS_FILE
        out.append(Source(name, _join(settings.imdb_base_url, name), "gzip", False, IMDB_SETTING, cap))
    return out


def fetch(
    settings: Settings,
    progress: Progress | None = None,
    include_people: bool | None = None,
    *,
    force: bool = False,
    timeout: tuple[float, float] | None = None,
) -> list[Path]:
    """Download the IMDb files and MovieLens into ``settings.raw_dir``; return the files there.

    ``include_people`` defaults to ``settings.with_people``. ``force`` re-downloads files that
    are already present and up to date. ``timeout`` is ``(connect, read)`` seconds (default
    ``(CONNECT_TIMEOUT, READ_TIMEOUT)``). ``progress(file name, bytes done, total or None)``
    while downloading, then ``progress("<file name> (checking)", bytes checked, file size)``
    while a gzip is verified.
    Raises :class:`FetchError` on the first required file that cannot be fetched; files
    fetched before it stay in place.
    """
    report = progress or null_progress
    raw = settings.raw_dir
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"Cannot create {raw}: {exc.strerror}; check CINEBLEND_DATA_DIR.") from exc
    limits = timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)
    fetched: list[Path] = []
    with (
        exclusive(settings.data_dir / FETCH_LOCK, "download", FetchError, store_url=settings.store_url),
        requests.Session() as session,
    ):
        session.headers["User-Agent"] = USER_AGENT
        for source in sources(settings, include_people):
            target = raw / source.name
            try:
                if source.is_http:
                    _fetch_http(session, source, target, report, limits, force)
                else:
                    _fetch_local(source, target, report, force)
            except _NotFound as exc:
                if source.required:
                    raise FetchError(str(exc)) from None
                logger.warning(
                    "%s is not available from the source (%s); continuing without %s.",
                    source.name,
                    exc,
                    "title languages from akas" if source.name == config.IMDB_AKAS_FILE else "cast data",
                )
                continue
            fetched.append(target)
    return fetched


# --------------------------------------------------------------------------- locations


def _local_path(location: str) -> Path:
    if location.startswith("file:"):
        return Path(url2pathname(urlparse(location).path))
    return Path(location).expanduser()


def _join(base: str, name: str) -> str:
    if base.startswith(("http://", "https://")):
        return urljoin(base if base.endswith("/") else base + "/", name)
    return str(_local_path(base) / name)


def _movielens_location(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return urljoin(url, config.MOVIELENS_FILE) if url.endswith("/") else url
    path = _local_path(url)
    return str(path / config.MOVIELENS_FILE if path.is_dir() else path)


def _part(target: Path) -> Path:
    return target.with_name(target.name + ".part")


# --------------------------------------------------------------------------- HTTP


def _fetch_http(
    session: requests.Session,
    source: Source,
    target: Path,
    report: Progress,
    timeout: tuple[float, float],
    force: bool,
) -> None:
    url = source.location
    if not force and target.is_file():
        size = _remote_size(session, source, timeout)
        if size is not None and size == target.stat().st_size and _is_valid(source, target):
            logger.info("%s is up to date (%d bytes); skipping.", source.name, size)
            report(source.name, size, size)
            return
    part = _part(target)
    restarted = False
    restarts = 0
    attempt = 0
    while True:
        attempt += 1
        resumed_from = part.stat().st_size if part.is_file() else 0
        try:
            _download_attempt(session, source, part, report, timeout)
        except _Restart:
            part.unlink(missing_ok=True)
            restarts += 1
            if restarts > 2:
                raise FetchError(f"{source.shown} answers range requests inconsistently; try again later.") from None
            attempt -= 1
            continue
        except _Dropped as exc:
            if attempt >= MAX_ATTEMPTS:
                host = urlparse(url).hostname
                raise FetchError(
                    f"The connection to {host} dropped while downloading {source.name} ({exc});"
                    " run fetch again to resume."
                ) from None
            logger.warning("%s: connection dropped (%s); retrying.", source.name, exc)
            time.sleep(RETRY_BACKOFF * attempt)
            continue
        try:
            _verify(source, part, report)
        except FetchError:
            part.unlink(missing_ok=True)
            if resumed_from > 0 and not restarted:
                # the server's file may have changed since the partial download: once more
                # from zero before calling the file corrupt
                logger.warning("%s: resumed file failed its check; downloading again.", source.name)
                restarted = True
                attempt = 0
                continue
            raise
        os.replace(part, target)
        logger.info("Downloaded %s (%d bytes).", source.name, target.stat().st_size)
        return


def _remote_size(session: requests.Session, source: Source, timeout: tuple[float, float]) -> int | None:
    """The server's Content-Length for the file, or None when it does not say."""
    try:
        resp = session.head(
            source.location,
            headers={"Accept-Encoding": "identity"},
            timeout=timeout,
            allow_redirects=True,
        )
    except requests.RequestException as exc:
        raise _request_error(source, exc) from None
    with resp:
        if resp.status_code == 404:
            raise _NotFound(f"{source.shown} was not found (HTTP 404); check {source.setting}.")
        length = resp.headers.get("Content-Length")
        if resp.status_code != 200 or length is None or not length.isdigit():
            return None
        return int(length)


def _download_attempt(
    session: requests.Session,
    source: Source,
    part: Path,
    report: Progress,
    timeout: tuple[float, float],
) -> None:
    """One GET into ``part``, resuming it when it exists. Returns when the body is complete."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        resp = session.get(source.location, headers=headers, stream=True, timeout=timeout, allow_redirects=True)
    except requests.RequestException as exc:
        raise _request_error(source, exc) from None
    with resp:
        status = resp.status_code
        if status == 404:
            raise _NotFound(f"{source.shown} was not found (HTTP 404); check {source.setting}.")
        if status == 416 and offset:
            total = _content_range_total(resp.headers.get("Content-Range"))
            if total == offset:
                return  # the partial file was already complete
            raise _Restart
        if status >= 400:
            raise FetchError(
                f"{source.shown} answered HTTP {status} {resp.reason}; try again later or check {source.setting}."
            )
        content_type = resp.headers.get("Content-Type", "").lower()
        if content_type.startswith(("text/html", "application/xhtml")):
            raise FetchError(f"{source.shown} returned an HTML page instead of {source.name}; check {source.setting}.")
        if status == 206:
            start = _content_range_start(resp.headers.get("Content-Range"))
            if start != offset:
                raise _Restart
            mode = "ab"
            total = _content_range_total(resp.headers.get("Content-Range"))
            if total is None:
                length = _content_length(resp)
                total = offset + length if length is not None else None
            done = offset
        else:
            if offset:
                logger.info("%s: the server ignored the Range request; restarting.", source.name)
            mode = "wb"
            total = _content_length(resp)
            done = 0
        if total is not None:
            require_free(part.parent, total - done, f"download {source.name}", FetchError)
        report(source.name, done, total)
        try:
            out = part.open(mode)
        except OSError as exc:
            raise FetchError(f"Cannot write {part}: {exc.strerror}.") from exc
        reported = done
        with out:
            for chunk in _body(resp, source):
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise FetchError(f"Cannot write {part}: {exc.strerror}.") from exc
                done += len(chunk)
                if done - reported >= CHUNK_SIZE or done == total:
                    report(source.name, done, total)
                    reported = done
        if done != reported:
            report(source.name, done, total)
        if total is not None and done < total:
            raise _Dropped(f"{done:,} of {total:,} bytes")


def _body(resp: requests.Response, source: Source) -> Iterator[bytes]:
    """The raw (not content-decoded) body chunks, with network failures classified."""
    while True:
        try:
            # read1: whatever has arrived (up to CHUNK_SIZE), so a stall loses no bytes
            chunk = resp.raw.read1(CHUNK_SIZE, decode_content=False)
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            if _is_timeout(exc):
                raise _stalled(source) from None
            raise _Dropped(type(exc).__name__) from None
        if not chunk:
            return
        yield chunk


def _is_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # read timeouts only: urllib3's NewConnectionError subclasses ConnectTimeoutError
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            return False
        if isinstance(
            current,
            (TimeoutError, urllib3.exceptions.ReadTimeoutError, requests.ReadTimeout),
        ):
            return True
        current = current.__cause__ or current.__context__ or _first_arg_exc(current)
    return False


def _first_arg_exc(exc: BaseException) -> BaseException | None:
    for arg in exc.args:
        if isinstance(arg, BaseException):
            return arg
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, BaseException) else None


def _stalled(source: Source) -> FetchError:
    host = urlparse(source.location).hostname
    return FetchError(
        f"{host} stopped sending data while downloading {source.name} (read timeout); run fetch again to resume."
    )


def _request_error(source: Source, exc: requests.RequestException) -> FetchError:
    """A one-line FetchError for a request that failed before a response arrived."""
    host = urlparse(source.location).hostname
    invalid = (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    )
    if isinstance(exc, invalid):
        return FetchError(f"{source.shown} is not a valid URL; check {source.setting}.")
    if isinstance(exc, requests.ConnectTimeout):
        why = "connection timed out"
    elif isinstance(exc, requests.ReadTimeout):
        return _stalled(source)
    elif isinstance(exc, requests.exceptions.SSLError):
        why = "TLS/SSL error"
    elif isinstance(exc, requests.ConnectionError):
        if _is_timeout(exc):
            return _stalled(source)
        text = str(exc).lower()
        if "refused" in text:
            why = "connection refused"
        elif "name or service" in text or "resolve" in text or "nodename" in text:
            why = "host name not found"
        elif "reset" in text or "aborted" in text:
            why = "connection reset"
        else:
            why = "network unreachable"
    else:
        why = type(exc).__name__
    return FetchError(f"Cannot connect to {host} ({why}); check your network connection or {source.setting}.")


def _content_length(resp: requests.Response) -> int | None:
    value = resp.headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.startswith("bytes "):
        return None
    span = value[6:].split("/", 1)[0]
    start = span.split("-", 1)[0].strip()
    return int(start) if start.isdigit() else None


def _content_range_total(value: str | None) -> int | None:
    # "bytes 100-199/200" or "bytes */200"
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


# --------------------------------------------------------------------------- local


def _fetch_local(source: Source, target: Path, report: Progress, force: bool) -> None:
    src = Path(source.location)
    if not src.is_file():
        raise _NotFound(f"{src} does not exist; check {source.setting}.")
    size = src.stat().st_size
    if not force and target.is_file() and target.stat().st_size == size and _is_valid(source, target):
        logger.info("%s is up to date (%d bytes); skipping.", source.name, size)
        report(source.name, size, size)
        return
    part = _part(target)
    done = 0
    require_free(part.parent, size, f"copy {source.name}", FetchError)
    report(source.name, 0, size)
    try:
        with src.open("rb") as fin, part.open("wb") as fout:
            while chunk := fin.read(CHUNK_SIZE):
                fout.write(chunk)
                done += len(chunk)
                report(source.name, done, size)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"Cannot copy {src} to {part}: {exc.strerror}.") from exc
    try:
        _verify(source, part, report)
    except FetchError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    logger.info("Copied %s from %s.", source.name, src)


# --------------------------------------------------------------------------- verification


def _is_valid(source: Source, path: Path) -> bool:
    try:
        _verify(source, path, null_progress)
    except FetchError as exc:
        logger.info("%s: the existing file is not valid (%s); fetching it again.", path.name, exc)
        return False
    return True


def _verify(source: Source, path: Path, report: Progress) -> None:
    advice = f"check {source.setting} and run fetch again."
    if source.kind == "gzip":
        verify_gzip(path, name=source.name, progress=report, max_bytes=source.max_bytes, advice=advice)
    else:
        verify_zip(path, name=source.name, max_bytes=source.max_bytes)


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<")  # <!DOCTYPE html>, <html>, <?xml ...>: markup, not data


def verify_gzip(
    path: Path,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    advice: str | None = None,
) -> int:
    """Decompress ``path`` to its end; raise FetchError if it is not a complete gzip TSV or if
    it expands past the bounds of :mod:`recsys.catalog.limits` (``max_bytes``: the cap, default
    ``CINEBLEND_MAX_UNCOMPRESSED_GB``'s; checked while decompressing). Returns the
    uncompressed size."""
    label = name or path.name
    report = progress or null_progress
    total = path.stat().st_size
    stage = f"{label} (checking)"
    bounds = Expansion(label, total, **_bounds(max_bytes, advice))
    try:
        with path.open("rb") as raw:
            head = raw.read(512)
            if not head.startswith(b"\x1f\x8b"):
                if _looks_like_html(head):
                    raise FetchError(
                        f"{label} is an HTML page, not data (the server sent an error page);"
                        " check the download URL and run fetch again."
                    )
                raise FetchError(f"{label} is not a gzip file; check the URL and run fetch again.")
            raw.seek(0)
            return _check_gzip_stream(raw, label, total, stage, report, bounds)
    except OSError as exc:
        raise FetchError(f"Cannot read {path}: {exc.strerror}.") from exc


def _bounds(max_bytes: int | None, advice: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if max_bytes is not None:
        out["max_bytes"] = max_bytes
    if advice is not None:
        out["advice"] = advice
    return out


def _check_gzip_stream(raw: BinaryIO, label: str, total: int, stage: str, report: Progress, bounds: Expansion) -> int:
    expanded = 0
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            first = gz.read(CHUNK_SIZE)
            line = first.split(b"\n", 1)[0]
            if b"\t" not in line:
                if _looks_like_html(first):
                    raise FetchError(f"{label} holds an HTML page, not IMDb data; check the URL and run fetch again.")
                raise FetchError(f"{label} does not look like an IMDb TSV file; check the URL and run fetch again.")
            expanded = len(first)
            bounds.check(expanded)
            report(stage, raw.tell(), total)
            while chunk := gz.read(CHUNK_SIZE):  # bounded reads: stops as soon as a bound is passed
                expanded += len(chunk)
                bounds.check(expanded)
                report(stage, raw.tell(), total)
    except EOFError:
        raise FetchError(f"{label} is truncated (the gzip stream ends early); run fetch again.") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise FetchError(f"{label} is corrupt ({exc}); run fetch again.") from None
    report(stage, total, total)
    return expanded


def verify_zip(path: Path, *, name: str | None = None, max_bytes: int | None = None) -> None:
    """Check a MovieLens zip: readable, within the expansion bounds (declared member sizes, which
    :mod:`zipfile` enforces), CRCs right, ``ratings.csv`` and ``links.csv`` inside."""
    label = name or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise FetchError(f"Cannot read {path}: {exc.strerror}.") from exc
    if not head.startswith(b"PK"):
        if _looks_like_html(head):
            raise FetchError(
                f"{label} is an HTML page, not a zip (the server sent an error page); check {MOVIELENS_SETTING}."
            )
        raise FetchError(f"{label} is not a zip file; check {MOVIELENS_SETTING}.")
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_expansion(zf, label, path.stat().st_size, max_bytes)
            bad = zf.testzip()
            if bad is not None:
                raise FetchError(f"{label} is corrupt ({bad} fails its CRC check); run fetch again.")
            movielens_members(zf, label)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise FetchError(f"{label} is truncated or corrupt ({exc}); run fetch again.") from None


def check_zip_expansion(zf: zipfile.ZipFile, label: str, compressed: int, max_bytes: int | None = None) -> None:
    """Refuse a zip whose members declare more than the bounds allow (each member, and all)."""
    advice = f"check {MOVIELENS_SETTING} and run fetch again."
    whole = Expansion(label, compressed, **_bounds(max_bytes, advice))
    for info in zf.infolist():
        Expansion(f"{label}: {info.filename}", info.compress_size, **_bounds(max_bytes, advice)).check(
            info.file_size, declared=True
        )
    whole.check(sum(info.file_size for info in zf.infolist()), declared=True)


def movielens_members(zf: zipfile.ZipFile, label: str) -> dict[str, str]:
    """Map ``ratings.csv`` / ``links.csv`` to their member names (e.g. ``ml-latest-small/...``).

    Accepts the files at the root or in one top folder, so ml-latest-small and larger
    MovieLens zips (ml-32m) both work.
    """
    found: dict[str, str] = {}
    for member in zf.namelist():
        parts = member.split("/")
        if len(parts) <= 2 and parts[-1] in MOVIELENS_MEMBERS:
            found.setdefault(parts[-1], member)
    missing = [m for m in MOVIELENS_MEMBERS if m not in found]
    if missing:
        raise FetchError(
            f"{label} has no {' or '.join(missing)}; it is not a MovieLens zip (check {MOVIELENS_SETTING})."
        )
    return found


def remove_partial_files(raw_dir: Path) -> None:
    """Delete every ``*.part`` left in ``raw_dir`` (the next fetch starts from zero)."""
    for part in raw_dir.glob("*.part"):
        part.unlink(missing_ok=True)


__all__ = [
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "Source",
    "check_zip_expansion",
    "fetch",
    "movielens_members",
    "remove_partial_files",
    "sources",
    "verify_gzip",
    "verify_zip",
]
