"""Settings: environment first, then .streamlit/secrets.toml, then defaults; the cookie key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from recsys.config import DEFAULT_IMDB_BASE_URL, get_settings
from recsys.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = get_settings()
    assert cfg.data_dir == Path("data")
    assert cfg.imdb_base_url == DEFAULT_IMDB_BASE_URL
    assert cfg.min_votes == 100
    assert cfg.store_url.startswith("sqlite:///") and cfg.store_url.endswith("data/app.db")


def test_environment_beats_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('CINEBLEND_MIN_VOTES = 7\nCINEBLEND_DATA_DIR = "from-file"\n')
    monkeypatch.setenv("CINEBLEND_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "from-env"))
    cfg = get_settings()
    assert cfg.min_votes == 7
    assert cfg.data_dir == tmp_path / "from-env"
    assert cfg.raw_dir == tmp_path / "from-env" / "raw"


def test_bad_values_give_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEBLEND_MIN_VOTES", "lots")
    with pytest.raises(ConfigError, match="CINEBLEND_MIN_VOTES must be a non-negative integer"):
        get_settings()
    monkeypatch.delenv("CINEBLEND_MIN_VOTES")
    broken = tmp_path / "secrets.toml"
    broken.write_text("this is = = not toml")
    monkeypatch.setenv("CINEBLEND_SECRETS_FILE", str(broken))
    with pytest.raises(ConfigError, match="Fix or delete the file"):
        get_settings()


def test_cookie_key_generated_once_kept_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "d"))
    first = get_settings().cookie_key()
    again = get_settings().cookie_key()
    assert first == again and len(first) >= 32
    key_file = tmp_path / "d" / ".cookie_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # another data folder gets its own random key: nothing is hard-coded
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "e"))
    assert get_settings().cookie_key() != first
    # a configured key wins
    monkeypatch.setenv("CINEBLEND_COOKIE_KEY", "Xq3v9LmT2pR8wZ1kN6yB4cH7jD0fG5sA")
    assert get_settings().cookie_key() == "Xq3v9LmT2pR8wZ1kN6yB4cH7jD0fG5sA"


def test_artifact_dir_holds_what_every_server_shares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "local"))
    cfg = get_settings()
    assert cfg.parquet_dir == tmp_path / "local" / "parquet"  # default: the data folder, as before
    assert cfg.models_dir == tmp_path / "local" / "models"

    monkeypatch.setenv("CINEBLEND_ARTIFACT_DIR", str(tmp_path / "shared"))
    a = get_settings()
    assert a.parquet_dir == tmp_path / "shared" / "parquet"
    assert a.models_dir == tmp_path / "shared" / "models"
    assert a.raw_dir == tmp_path / "local" / "raw"  # downloads stay local scratch
    # a second server with another data folder signs cookies with the same generated key
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "other-local"))
    b = get_settings()
    assert a.cookie_key() == b.cookie_key()
    assert (tmp_path / "shared" / ".cookie_key").is_file()
    assert not (tmp_path / "local" / ".cookie_key").exists()
