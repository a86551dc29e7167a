"""Fixtures for the two-server tests: the PostgreSQL server fixture."""

from tests.support.postgres import postgres_admin_url  # noqa: F401 - session fixture
