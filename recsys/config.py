"""Settings from the environment or ``.streamlit/secrets.toml``, with defaults.

Precedence: environment variable, then a top-level key of the same name in
``.streamlit/secrets.toml`` (next to the working directory), then the default.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from recsys.errors import ConfigError

DEFAULT_IMDB_BASE_URL = "https://datasets.imdbws.com/"
DEFAULT_MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
DEFAULT_TMDB_BASE_URL = "https://api.themoviedb.org"
IMDB_FILES = ("title.basics.tsv.gz", "title.ratings.tsv.gz", "title.crew.tsv.gz")
IMDB_OPTIONAL_FILES = ("title.principals.tsv.gz", "name.basics.tsv.gz")
MOVIELENS_FILE = "ml-latest-small.zip"


def _secrets_file() -> Path:
    return Path(os.environ.get("CINEBLEND_SECRETS_FILE", ".streamlit/secrets.toml"))


def _read_secrets() -> dict[str, object]:
    path = _secrets_file()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. Fix or delete the file.") from exc


def _get(name: str, default: str | None, file_values: dict[str, object]) -> str | None:
    if name in os.environ and os.environ[name] != "":
        return os.environ[name]
    value = file_values.get(name)
    return str(value) if value is not None else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    imdb_base_url: str = DEFAULT_IMDB_BASE_URL
    movielens_url: str = DEFAULT_MOVIELENS_URL
    database_url: str | None = None
    min_votes: int = 100
    with_people: bool = True
    tmdb_api_key: str | None = None
    tmdb_base_url: str = DEFAULT_TMDB_BASE_URL
    show_adult: bool = False  # offer the Adult genre at onboarding (CINEBLEND_SHOW_ADULT)
    cookie_key_override: str | None = field(default=None, repr=False)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def parquet_dir(self) -> Path:
        return self.data_dir / "parquet"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def store_url(self) -> str:
        """SQLAlchemy URL of the app store: ``DATABASE_URL`` or SQLite at ``data/app.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'app.db').resolve()}"

    def cookie_key(self) -> str:
        """The auth cookie signing key: configured, else generated once and kept in the data dir."""
        if self.cookie_key_override:
            return self.cookie_key_override
        path = self.data_dir / ".cookie_key"
        if path.is_file():
            key = path.read_text().strip()
            if len(key) >= 32:
                return key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(key)
        os.chmod(tmp, 0o600)
        try:
            # first writer wins, so concurrent first starts agree on one key
            os.link(tmp, path)
        except FileExistsError:
            key = path.read_text().strip()
        finally:
            tmp.unlink(missing_ok=True)
        return key


def get_settings() -> Settings:
    """Read settings now (environment first, then ``.streamlit/secrets.toml``)."""
    values = _read_secrets()
    min_votes_raw = _get("CINEBLEND_MIN_VOTES", "100", values)
    try:
        min_votes = int(min_votes_raw or "100")
        if min_votes < 0:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"CINEBLEND_MIN_VOTES must be a non-negative integer, got {min_votes_raw!r}.") from exc
    people = (_get("CINEBLEND_WITH_PEOPLE", "1", values) or "1").lower() not in ("0", "false", "no")
    return Settings(
        data_dir=Path(_get("CINEBLEND_DATA_DIR", "data", values) or "data"),
        imdb_base_url=_get("CINEBLEND_IMDB_BASE_URL", DEFAULT_IMDB_BASE_URL, values) or DEFAULT_IMDB_BASE_URL,
        movielens_url=_get("CINEBLEND_MOVIELENS_URL", DEFAULT_MOVIELENS_URL, values) or DEFAULT_MOVIELENS_URL,
        database_url=_get("DATABASE_URL", None, values),
        min_votes=min_votes,
        with_people=people,
        tmdb_api_key=_get("TMDB_API_KEY", None, values),
        tmdb_base_url=_get("TMDB_BASE_URL", DEFAULT_TMDB_BASE_URL, values) or DEFAULT_TMDB_BASE_URL,
        cookie_key_override=_get("CINEBLEND_COOKIE_KEY", None, values),
        show_adult=(_get("CINEBLEND_SHOW_ADULT", "0", values) or "0").lower() in ("1", "true", "yes"),
    )
