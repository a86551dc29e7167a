"""Fixtures for the bad-input suite: every input a user controls, fed the worst we can think of.

Hypothesis runs derandomized (the same examples on every run, no example database) with small,
fixed example counts, so the suite stays fast and a failure reproduces exactly. bcrypt runs at
its cheapest cost here (hash compatibility is the store tests' business).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.store import Store


@pytest.fixture(scope="session")
def catalog(built_data: Path) -> Iterator[Catalog]:
    """The fixture catalogue (read-only: 22 movies, 16 TV titles), shared by the module's tests."""
    cat = Catalog(built_data / "parquet")
    try:
        yield cat
    finally:
        cat.close()


@pytest.fixture
def store(app_settings: Settings) -> Iterator[Store]:
    """The app's own store (SQLite in the test's data folder), empty."""
    with Store.open(app_settings.store_url) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _drop_cached_resources() -> Iterator[None]:
    """Drop the app's cached store / catalogue / model after each test: they belong to the
    test's own data folder, and a DuckDB connection still alive when Python exits makes its
    bindings print a page of "leaked instance" warnings."""
    yield
    import streamlit as st

    st.cache_resource.clear()
