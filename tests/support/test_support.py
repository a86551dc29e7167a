"""The test harness itself: finding PostgreSQL, skip-or-fail, the app server's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import postgres
from tests.support.app_server import TEST_COOKIE_KEY, AppServer
from tests.support.ci import unavailable


def test_missing_postgres_binaries_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.PG_BIN_ENV, str(tmp_path))
    with pytest.raises(postgres.PostgresUnavailable) as info:
        postgres.find_bindir()
    assert str(tmp_path) in str(info.value)
    assert "postgresql package" in str(info.value)


def test_postgres_binaries_found_in_the_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("initdb", "pg_ctl", "postgres"):
        (tmp_path / tool).write_text("#!/bin/sh\n")
    monkeypatch.setenv(postgres.PG_BIN_ENV, str(tmp_path))
    assert postgres.find_bindir() == tmp_path


@pytest.mark.parametrize("ci", ["", "false"])
def test_unavailable_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no server"):
        unavailable("PostgreSQL", "no server")


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_unavailable_fails_under_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    expected = "CI=true and Browser is unavailable: no chromium"
    with pytest.raises(pytest.fail.Exception, match=expected):
        unavailable("Browser", "no chromium")


def test_app_server_environment_is_isolated_from_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@db/prod")
    monkeypatch.setenv("CINEBLEND_MIN_VOTES", "5")
    monkeypatch.setenv("STREAMLIT_SERVER_PORT", "80")
    server = AppServer(tmp_path / "data", log_path=tmp_path / "app.log", env={"CINEBLEND_MIN_VOTES": "7"})
    env = server.environment()
    assert "DATABASE_URL" not in env and "STREAMLIT_SERVER_PORT" not in env
    assert env["CINEBLEND_DATA_DIR"] == str(tmp_path / "data")
    assert env["CINEBLEND_COOKIE_KEY"] == TEST_COOKIE_KEY
    assert env["CINEBLEND_MIN_VOTES"] == "7"  # what the test passes wins
    assert server.url == f"http://127.0.0.1:{server.port}"
    cmd = server.command()
    assert cmd[cmd.index("--server.port") + 1] == str(server.port)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"  # loopback only


def test_widget_keys_become_css_classes() -> None:
    pytest.importorskip("playwright")
    from tests.support.streamlit_page import key_class

    assert key_class("rate-feed-movie-tt0100001--1") == "st-key-rate-feed-movie-tt0100001--1"
    assert key_class(" card feed/tt1 ") == "st-key-card-feed-tt1"
