"""Readable times: the data page and the CLI show "1 Dec 2026, 22:11 UTC", not raw stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from recsys.timefmt import readable_time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20261201T221105883995Z", "1 Dec 2026, 22:11 UTC"),  # a model version
        ("2026-12-04T15:06:27+00:00", "4 Dec 2026, 15:06 UTC"),  # catalogue built_at
        (datetime(2026, 12, 4, 16, 6, tzinfo=timezone(timedelta(hours=1))), "4 Dec 2026, 15:06 UTC"),
        (datetime(2026, 1, 9, 8, 5), "9 Jan 2026, 08:05 UTC"),  # naive = UTC
        (datetime(2026, 1, 9, 8, 5, tzinfo=UTC), "9 Jan 2026, 08:05 UTC"),
        ("not a time", "not a time"),
        (None, "unknown"),
    ],
)
def test_readable_time(value: datetime | str | None, expected: str) -> None:
    assert readable_time(value) == expected
