"""Skip on a developer machine, fail under CI: for tests whose system dependency is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True under CI (``CI=true``), where a missing browser or database is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(what: str, reason: str) -> NoReturn:
    """Skip the test (developer machine) or fail it (CI) because ``what`` cannot be used."""
    if in_ci():
        pytest.fail(f"CI=true and {what} is unavailable: {reason}", pytrace=False)
    pytest.skip(f"{what} tests skipped: {reason}")
