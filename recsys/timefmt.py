"""Times as people read them: "1 Dec 2026, 22:11 UTC" instead of raw stamps.

Accepts what the project stores: aware or naive (taken as UTC) datetimes, ISO 8601 strings
(``2026-12-01T22:11:05+00:00``) and model version stamps (``20261201T221105883995Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_VERSION_RE = re.compile(r"(\d{8}T\d{6})(\d{0,6})Z")


def parse_time(value: datetime | str) -> datetime | None:
    """``value`` as an aware UTC datetime, or None when it is not a time this module knows."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value).strip()
    match = _VERSION_RE.fullmatch(text)
    if match:
        stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return stamp.replace(microsecond=int(match.group(2).ljust(6, "0")))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def readable_time(value: datetime | str | None) -> str:
    """ "1 Dec 2026, 22:11 UTC"; text that is not a known time is returned as it is."""
    if value is None:
        return "unknown"
    parsed = parse_time(value)
    if parsed is None:
        return str(value)
    return f"{parsed.day} {parsed:%b %Y, %H:%M} UTC"
