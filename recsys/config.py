"""Settings from the environment or ``.streamlit/secrets.toml``, with defaults.

Precedence: environment variable, then a top-level key of the same name in
``.streamlit/secrets.toml`` (next to the working directory), then the default.
"""

from __future__ import annotations

import os
import re
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
#: Largest uncompressed size of one downloaded file (GB = 10^9 bytes). The real dumps' largest,
#: ``title.principals``, expands to about 4 GB (2025); 16 leaves room for years of growth.
DEFAULT_MAX_UNCOMPRESSED_GB = 16.0
#: DuckDB's memory limit during ``build`` (it spills to the data folder beyond it): the smaller of
#: this and half the machine's memory, unless ``CINEBLEND_DUCKDB_MEMORY`` says otherwise.
DEFAULT_DUCKDB_MEMORY_GB = 4.0
_DUCKDB_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


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
    cookie_key_override: str | None = field(default=None, repr=False)
    max_uncompressed_gb: float = DEFAULT_MAX_UNCOMPRESSED_GB
    duckdb_memory: str | None = None  # None: default_duckdb_memory()

    @property
    def max_uncompressed_bytes(self) -> int:
        """``max_uncompressed_gb`` in bytes."""
        return int(self.max_uncompressed_gb * 1e9)

    @property
    def duckdb_memory_limit(self) -> str:
        """DuckDB's ``memory_limit`` for the build, e.g. ``"4GB"``."""
        return self.duckdb_memory or default_duckdb_memory()

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


def default_duckdb_memory() -> str:
    """:data:`DEFAULT_DUCKDB_MEMORY_GB` or half the physical memory, whichever is smaller."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 0
    gb = DEFAULT_DUCKDB_MEMORY_GB if total <= 0 else min(DEFAULT_DUCKDB_MEMORY_GB, total / 2 / 1e9)
    return f"{max(gb, 0.5):.1f}GB"


def parse_duckdb_memory(value: str) -> str:
    """A DuckDB size such as ``2GB`` / ``512MB`` / ``1.5GiB``, normalised; ConfigError otherwise."""
    match = _DUCKDB_SIZE.fullmatch(value)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"CINEBLEND_DUCKDB_MEMORY must be a size such as 2GB or 512MB, got {value!r}.")
    return f"{match.group(1)}{match.group(2).upper().replace('I', 'i')}"


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
    cap_raw = _get("CINEBLEND_MAX_UNCOMPRESSED_GB", None, values)
    try:
        max_uncompressed = float(cap_raw) if cap_raw is not None else DEFAULT_MAX_UNCOMPRESSED_GB
        if not max_uncompressed > 0 or max_uncompressed == float("inf"):
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"CINEBLEND_MAX_UNCOMPRESSED_GB must be a positive number of GB, got {cap_raw!r}.") from exc
    memory_raw = _get("CINEBLEND_DUCKDB_MEMORY", None, values)
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
        max_uncompressed_gb=max_uncompressed,
        duckdb_memory=parse_duckdb_memory(memory_raw) if memory_raw is not None else None,
    )
