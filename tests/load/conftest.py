"""Fixtures for the load test: a synthetic catalogue (280 invented titles) with a trained model,
and the PostgreSQL server fixture for the PostgreSQL run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.postgres import postgres_admin_url  # noqa: F401 - session fixture
from tests.support.synthetic import build_synthetic_data


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (catalogue + trained model, no store) to copy per test; built once per
    session (the load and fault folders share it)."""
    return build_synthetic_data(tmp_path_factory.getbasetemp() / "synthetic")
