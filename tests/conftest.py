"""Fixtures shared across the suite: a catalogue built from the hand-written fixture files, and
an isolated data folder + environment per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recsys.config import Settings, get_settings

# The session's one Chromium, shared by every folder that drives a browser.
pytest_plugins = ["tests.support.browser"]

REPO = Path(__file__).resolve().parents[1]

# Settings that must not leak in from the developer's shell or secrets file.
_ENV_VARS = (
    "CINEBLEND_DATA_DIR",
    "CINEBLEND_ARTIFACT_DIR",
    "CINEBLEND_IMDB_BASE_URL",
    "CINEBLEND_MOVIELENS_URL",
    "CINEBLEND_MIN_VOTES",
    "CINEBLEND_COOKIE_KEY",
    "CINEBLEND_WITH_PEOPLE",
    "CINEBLEND_MAX_UNCOMPRESSED_GB",
    "CINEBLEND_DUCKDB_MEMORY",
    "DATABASE_URL",
    "TMDB_API_KEY",
    "TMDB_BASE_URL",
)


# Markers (pyproject.toml) that follow from the fixtures a test uses; modules that start servers
# or read the mirror without such a fixture set ``pytestmark`` themselves. ``scripts/test.sh
# --fast`` deselects every one of them.
_FIXTURE_MARKS = {
    "browser": {"browser", "page", "chromium_path", "playwright", "shots"},
    "server": {"app_server"},
    "postgres": {"postgres_admin_url", "postgres_tests_url", "postgres_enrich_url"},
    "mirror": {"mirror_data", "app_data_dir"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for mark, fixtures in _FIXTURE_MARKS.items():
            if names & fixtures:
                item.add_marker(mark)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in {str(v) for v in callspec.params.values()}:
            item.add_marker("postgres")  # a backend parameter (store_url, enrich stores ...)


@pytest.fixture(autouse=True, scope="session")
def _scan_streamlit_components_once() -> Iterator[None]:
    """Every AppTest run scans all installed distributions for Streamlit v2 component manifests
    (about 0.5 s each, an eighth of an AppTest test's time); what is installed does not change
    during a session, so scan once."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # another Streamlit: nothing to speed up
        yield
        return
    original = manifest_scanner.scan_component_manifests
    found: list[Any] | None = None

    def scan_once(max_workers: int | None = None) -> list[Any]:
        nonlocal found
        if found is None:
            found = original(max_workers)
        return list(found)

    manifest_scanner.scan_component_manifests = scan_once
    yield
    manifest_scanner.scan_component_manifests = original


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CINEBLEND_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("CINEBLEND_JOBS", "thread")  # jobs in the server's threads unless a test asks for a worker


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap bcrypt hashes and checks (cost 4) in every test run in this process: the tests make
    and sign in accounts but do not test the cost (a sign-up or sign-in at the real cost 12 takes
    about 0.25 s of CPU, and the AppTest journeys do dozens); the compatibility tests hash at the
    default cost explicitly. App servers started as subprocesses keep the real cost."""
    from recsys.store import accounts

    monkeypatch.setattr(accounts, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="session")
def fixture_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(IMDb folder, MovieLens zip) written from the hand-written fixture tables."""
    from tests.fixtures.make_data import write_imdb_fixture, write_movielens_fixture

    root = tmp_path_factory.mktemp("sources")
    imdb = root / "imdb"
    imdb.mkdir()
    write_imdb_fixture(imdb)
    zip_path = root / "ml-latest-small.zip"
    write_movielens_fixture(zip_path)
    return imdb, zip_path


def use_data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path, sources: tuple[Path, Path]) -> Settings:
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CINEBLEND_IMDB_BASE_URL", str(sources[0]))
    monkeypatch.setenv("CINEBLEND_MOVIELENS_URL", str(sources[1]))
    monkeypatch.setenv("CINEBLEND_COOKIE_KEY", "test-cookie-key-" + "x" * 40)
    return get_settings()


@pytest.fixture(scope="session")
def built_data(tmp_path_factory: pytest.TempPathFactory, fixture_sources: tuple[Path, Path]) -> Iterator[Path]:
    """A data folder with the fixture catalogue fetched and built once per session."""
    from recsys.catalog.build import build
    from recsys.catalog.download import fetch

    data_dir = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as mp:
        cfg = use_data_dir(mp, data_dir, fixture_sources)
        fetch(cfg)
        build(cfg)
    yield data_dir


@pytest.fixture
def app_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_data: Path, fixture_sources: tuple[Path, Path]
) -> Settings:
    """A fresh data folder holding a copy of the built catalogue and no store yet."""
    data_dir = tmp_path / "data"
    shutil.copytree(built_data / "parquet", data_dir / "parquet")
    return use_data_dir(monkeypatch, data_dir, fixture_sources)


@pytest.fixture(scope="session")
def trained_models(built_data: Path, fixture_sources: tuple[Path, Path]) -> Path:
    """The recommender trained once on the fixture catalogue (its models folder)."""
    from recsys.app.pipeline import train_model

    with pytest.MonkeyPatch.context() as mp:
        cfg = use_data_dir(mp, built_data, fixture_sources)
        train_model(cfg)
    return built_data / "models"


@pytest.fixture(scope="session")
def mirror_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the real catalogue: the shared mirror downloaded over loopback HTTP
    (the app's own download path), built, and the recommender trained on it. Once per session;
    skips when the mirror is absent. Copy what you need: it is shared."""
    from recsys.app.pipeline import train_model
    from recsys.catalog.build import build
    from recsys.catalog.download import fetch
    from recsys.config import MOVIELENS_FILE
    from tests.fixtures.httpserver import FileServer
    from tests.support.mirror import mirror_or_skip

    mirror = mirror_or_skip()
    data_dir = tmp_path_factory.mktemp("mirror") / "data"
    with FileServer(mirror) as server:
        settings = Settings(
            data_dir=data_dir,
            imdb_base_url=server.url("imdb/"),
            movielens_url=server.url(f"movielens/{MOVIELENS_FILE}"),
        )
        fetch(settings)
    build(settings)
    train_model(settings)
    return data_dir


@pytest.fixture
def model_settings(app_settings: Settings, trained_models: Path) -> Settings:
    """Like ``app_settings``, with the trained recommender in place."""
    shutil.copytree(trained_models, app_settings.models_dir)
    return app_settings
