"""URLs as they may be shown: without credentials or signed query strings.

A source URL can carry secrets: user info (``http://user:password@host/...``) or a signed query
string (``?X-Amz-Signature=...``, ``?token=...``). :func:`mask_url` keeps what says where the
file is (scheme, host, port, path) and drops the rest; :func:`mask_urls_in` does that to every
URL inside a message. The data page, the CLI's progress and error lines and the download errors
and logs show URLs only through them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


def mask_url(url: str) -> str:
    """``url`` without user info, query string or fragment; anything that is not a URL
    (e.g. a local path) unchanged.

    >>> mask_url("http://user:pass@host:8080/x/file.gz?X-Amz-Signature=abc#top")
    'http://host:8080/x/file.gz'
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: keep only what precedes any secret
        scheme, _, rest = url.partition("://")
        rest = rest.rpartition("@")[2] if "@" in rest.split("/", 1)[0] else rest
        return f"{scheme}://{re.split(r'[?#]', rest, maxsplit=1)[0]}"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def mask_urls_in(text: str) -> str:
    """``text`` with every URL in it masked by :func:`mask_url`."""
    return _URL.sub(lambda m: mask_url(m.group(0)), text)


def public_source(url: str, default: str) -> str:
    """How a download source is named to someone who is not an admin: the public default as a
    code span, anything else (a mirror's path, a private host) only as "a configured mirror".

    >>> public_source("/srv/mirror/imdb", "https://datasets.imdbws.com/")
    'a configured mirror'
    """
    return f"`{mask_url(default)}`" if url.rstrip("/") == default.rstrip("/") else "a configured mirror"


__all__ = ["mask_url", "mask_urls_in", "public_source"]
