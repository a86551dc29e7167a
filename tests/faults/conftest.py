"""Fixtures for the crash and fault tests.

``built_data`` / ``trained_models`` (the hand-written fixture catalogue and its model) come from
``tests/conftest.py``; ``synthetic_data`` is the larger invented catalogue with a trained model
that the server crash test rates in (``tests.support.synthetic``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.synthetic import build_synthetic_data


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (catalogue + trained model, no store) to copy per test; built once per
    session (the load and fault folders share it)."""
    return build_synthetic_data(tmp_path_factory.getbasetemp() / "synthetic")
