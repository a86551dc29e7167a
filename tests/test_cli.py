"""The CLI as scripts use it: help, exit codes, one-line errors, progress lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CINEBLEND_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "recsys", *args],
        cwd=REPO, env=full_env, capture_output=True, text=True, timeout=120,
    )


def test_help_lists_commands() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("fetch", "build", "stats"):
        assert command in out.stdout
    assert run_cli("fetch", "--help").returncode == 0


def test_fetch_and_build_from_local_sources(tmp_path: Path, fixture_sources: tuple[Path, Path]) -> None:
    env = {
        "CINEBLEND_DATA_DIR": str(tmp_path / "data"),
        "CINEBLEND_IMDB_BASE_URL": str(fixture_sources[0]),
        "CINEBLEND_MOVIELENS_URL": str(fixture_sources[1]),
    }
    fetched = run_cli("fetch", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "title.basics.tsv.gz" in fetched.stderr  # progress lines
    built = run_cli("build", env=env)
    assert built.returncode == 0, built.stderr
    assert "Built catalogue" in built.stdout
    stats = run_cli("stats", "--json", env=env)
    assert stats.returncode == 0 and '"titles"' in stats.stdout


def test_failures_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    env = {
        "CINEBLEND_DATA_DIR": str(tmp_path / "data"),
        "CINEBLEND_IMDB_BASE_URL": str(tmp_path / "nowhere"),
        "CINEBLEND_MOVIELENS_URL": str(tmp_path / "nowhere" / "ml.zip"),
    }
    fetched = run_cli("fetch", env=env)
    assert fetched.returncode == 1
    errors = [line for line in fetched.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in fetched.stderr
    built = run_cli("build", env=env)
    assert built.returncode == 1 and "recsys fetch" in built.stderr
    assert not (tmp_path / "data" / "parquet").exists()


@pytest.mark.parametrize("value", ["-3", "many"])
def test_bad_setting_is_reported(tmp_path: Path, value: str) -> None:
    out = run_cli("stats", env={"CINEBLEND_DATA_DIR": str(tmp_path), "CINEBLEND_MIN_VOTES": value})
    assert out.returncode == 1 and "CINEBLEND_MIN_VOTES" in out.stderr
