"""Download and build limits (issue 10): a decompression bomb is refused with one line while it
is being decompressed, a file past CINEBLEND_MAX_UNCOMPRESSED_GB too, a job without the disk
space it needs does not start, and in every case the previous catalogue stays in use. DuckDB
builds with a memory limit."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from recsys.__main__ import main
from recsys.catalog import limits
from recsys.catalog.build import build, read_manifest
from recsys.catalog.download import fetch, verify_gzip, verify_zip
from recsys.catalog.limits import MAX_RATIO, RATIO_FLOOR, Expansion, human
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.errors import BuildError, FetchError
from tests.fixtures.bombs import write_gzip_bomb
from tests.fixtures.httpserver import FileServer
from tests.fixtures.make_data import write_raw_fixture
from tests.support.narrow import present

BASICS = "title.basics.tsv.gz"
FIXTURE_TITLES = 38
_SIZE = re.compile(r"expands to over ([0-9.]+) (MB|GB) from ([0-9.]+) (kB|MB)")


def _mb(value: str, unit: str) -> float:
    return float(value) * {"kB": 1e-3, "MB": 1.0, "GB": 1e3}[unit]


# ---------------------------------------------------------------------------- the bounds


def test_ratio_is_judged_past_the_floor_and_the_cap_always() -> None:
    tiny = Expansion("f.gz", compressed=100, max_bytes=10**9)
    tiny.check(RATIO_FLOOR)  # 10,000:1 but tiny: harmless
    with pytest.raises(FetchError, match=r"more than 100:1"):
        tiny.check(RATIO_FLOOR + 1)
    real = Expansion("f.gz", compressed=200_000_000, max_bytes=16 * 10**9)
    real.check(1_000_000_000)  # the real title.basics: about 5:1
    with pytest.raises(FetchError, match=r"past the cap CINEBLEND_MAX_UNCOMPRESSED_GB=16; raise"):
        real.check(16 * 10**9 + 1)
    assert real.bound == 16 * 10**9 and tiny.bound == RATIO_FLOOR
    assert human(1_300_000_000) == "1.3 GB" and human(999) == "999 B"


@pytest.mark.parametrize("forge_trailer", [False, True])
def test_a_gzip_bomb_is_refused_while_decompressing(tmp_path: Path, forge_trailer: bool) -> None:
    path = tmp_path / BASICS
    compressed, expanded = write_gzip_bomb(path, 64, forge_trailer=forge_trailer)  # ~190:1

    with pytest.raises(FetchError) as info:
        verify_gzip(path, name=BASICS)

    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{BASICS} expands to over ") and "more than 100:1" in message
    assert "decompression bomb" in message
    seen = _SIZE.search(message)
    assert seen is not None
    stopped_at = _mb(seen.group(1), seen.group(2))
    # it stopped one chunk past 100:1, long before the end (and the forged trailer did not matter)
    assert MAX_RATIO * compressed / 1e6 <= stopped_at <= MAX_RATIO * compressed / 1e6 + 1.1
    assert stopped_at < expanded / 1e6 / 1.5


def test_a_file_past_the_cap_is_refused_naming_the_setting(tmp_path: Path) -> None:
    path = tmp_path / BASICS
    write_gzip_bomb(path, 4, random_share=1.0)  # invented rows: a real-looking ratio (~3:1)
    assert verify_gzip(path, name=BASICS) > 4 * 2**20  # within the default bounds

    with pytest.raises(FetchError, match=r"past the cap CINEBLEND_MAX_UNCOMPRESSED_GB=0.002"):
        verify_gzip(path, name=BASICS, max_bytes=2_000_000)


def test_a_zip_bomb_member_is_refused_from_its_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "ml-latest-small.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-latest-small/links.csv", "movieId,imdbId,tmdbId\n")
        zf.writestr("ml-latest-small/ratings.csv", b"1,1,4.0,1\n" * 3_000_000)  # 30 MB, ~1000:1

    with pytest.raises(FetchError, match=r"ml-latest-small\.zip: ml-latest-small/ratings\.csv declares 30\.0 MB"):
        verify_zip(path)


# ---------------------------------------------------------------------------- fetch and build


@pytest.fixture()
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A data folder with a catalogue built from the hand-written fixtures, whose settings
    (also in the environment, for the CLI) point at a local source folder."""
    source = tmp_path / "source"
    write_raw_fixture(source)
    data = tmp_path / "data"
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(data))
    monkeypatch.setenv("CINEBLEND_IMDB_BASE_URL", str(source))
    monkeypatch.setenv("CINEBLEND_MOVIELENS_URL", str(source / "ml-latest-small.zip"))
    monkeypatch.setenv("CINEBLEND_WITH_PEOPLE", "0")
    assert main(["fetch"]) == 0 and main(["build"]) == 0
    return Settings(data_dir=data, imdb_base_url=str(source), movielens_url=str(source), with_people=False)


def _still_served(settings: Settings, manifest: dict[str, object] | None) -> None:
    assert read_manifest(settings.parquet_dir) == manifest
    with Catalog(settings.parquet_dir) as catalog:
        assert catalog.stats()["titles"] == FIXTURE_TITLES
        assert catalog.search("Lighthouse Keeper").height >= 1


def _refusal(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one error line of a CLI command that must fail (progress lines come before it)."""
    capsys.readouterr()
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    return errors[0]


def test_a_gzip_bomb_from_the_source_is_refused_and_the_old_catalogue_kept(
    served: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = present(read_manifest(served.parquet_dir))
    good = (served.raw_dir / BASICS).read_bytes()
    write_gzip_bomb(Path(served.imdb_base_url) / BASICS, 300)

    line = _refusal(capsys, ["fetch", "--force"])

    assert line.startswith(f"error: {BASICS} expands to over ")
    assert "more than 100:1" in line and "check CINEBLEND_IMDB_BASE_URL and run fetch again" in line
    assert (served.raw_dir / BASICS).read_bytes() == good  # the previous download stays
    assert not list(served.raw_dir.glob("*.part"))
    assert main(["build"]) == 0  # and still builds
    _still_served(served, read_manifest(served.parquet_dir))
    assert present(read_manifest(served.parquet_dir))["row_counts"] == manifest["row_counts"]


def test_a_gzip_bomb_in_the_raw_folder_is_refused_by_build(
    served: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = read_manifest(served.parquet_dir)
    write_gzip_bomb(served.raw_dir / BASICS, 300, forge_trailer=True)

    line = _refusal(capsys, ["build"])

    assert line.startswith(f"error: {BASICS} expands to over ")
    assert line.endswith("run `python -m recsys fetch` again.")
    _still_served(served, manifest)
    assert sorted(p.name for p in served.data_dir.iterdir() if p.name.startswith("parquet.")) == []


def test_a_bomb_over_http_is_refused_and_not_kept(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_raw_fixture(root)
    write_gzip_bomb(root / BASICS, 200)
    with FileServer(root) as server:
        settings = Settings(
            data_dir=tmp_path / "data",
            imdb_base_url=server.url(""),
            movielens_url=server.url("ml-latest-small.zip"),
            with_people=False,
        )
        with pytest.raises(FetchError, match=r"more than 100:1.*check CINEBLEND_IMDB_BASE_URL"):
            fetch(settings)
    assert not (settings.raw_dir / BASICS).exists()
    assert not list(settings.raw_dir.glob("*.part"))


def test_a_smaller_cap_setting_refuses_the_real_looking_file(
    served: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CINEBLEND_MAX_UNCOMPRESSED_GB", "0.000001")  # 1 kB

    line = _refusal(capsys, ["fetch", "--force"])

    assert "past the cap CINEBLEND_MAX_UNCOMPRESSED_GB=1e-06" in line
    monkeypatch.setenv("CINEBLEND_MAX_UNCOMPRESSED_GB", "lots")
    assert "CINEBLEND_MAX_UNCOMPRESSED_GB must be a positive number of GB, got 'lots'" in _refusal(capsys, ["build"])


# ---------------------------------------------------------------------------- disk space


def test_fetch_without_the_disk_space_refuses_before_writing(
    served: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {p.name: p.read_bytes() for p in served.raw_dir.iterdir()}
    monkeypatch.setattr(limits, "free_bytes", lambda _folder: 100 * 2**20)  # 100 MiB free

    line = _refusal(capsys, ["fetch", "--force"])

    assert re.fullmatch(
        rf"error: Not enough disk space to copy title\.basics\.tsv\.gz in {re.escape(str(served.raw_dir))}: "
        r"needs [0-9.]+ kB plus 268\.4 MB kept free, 104\.9 MB free; free some space or point "
        r"CINEBLEND_DATA_DIR at a larger disk\.",
        line,
    ), line
    assert {p.name: p.read_bytes() for p in served.raw_dir.iterdir()} == good


def test_build_without_the_disk_space_refuses_and_keeps_the_catalogue(
    served: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = read_manifest(served.parquet_dir)
    monkeypatch.setattr(limits, "free_bytes", lambda _folder: 10 * 2**20)

    line = _refusal(capsys, ["build"])

    assert line.startswith(f"error: Not enough disk space to build the catalogue in {served.data_dir}: needs ")
    assert "10.5 MB free" in line
    _still_served(served, manifest)


# ---------------------------------------------------------------------------- DuckDB memory


def test_build_runs_duckdb_with_the_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    seen: list[dict[str, object]] = []
    real_connect = duckdb.connect

    def recording_connect(database: str = ":memory:", **kwargs: Any) -> duckdb.DuckDBPyConnection:
        con = real_connect(database, **kwargs)
        seen.append(dict(con.execute("SELECT name, value FROM duckdb_settings()").fetchall()))
        return con

    monkeypatch.setattr(duckdb, "connect", recording_connect)
    write_raw_fixture(tmp_path / "raw")
    build(Settings(data_dir=tmp_path, duckdb_memory="300MB"))

    assert seen and all(s["memory_limit"] == "286.1 MiB" for s in seen)  # 300 MB in DuckDB's units
    assert all(str(s["temp_directory"]).startswith(str(tmp_path / "parquet.work-")) for s in seen)
    assert all(s["max_temp_directory_size"] not in ("", "0 bytes") for s in seen)


def test_a_bad_duckdb_memory_setting_is_one_line(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw")
    with pytest.raises(BuildError, match=r"^DuckDB refused its limits .*check CINEBLEND_DUCKDB_MEMORY\.$"):
        build(Settings(data_dir=tmp_path, duckdb_memory="1 parsec"))
    assert not (tmp_path / "parquet").exists()


def test_limit_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from recsys.config import ConfigError, get_settings

    defaults = get_settings()
    assert defaults.max_uncompressed_gb == 16 and defaults.max_uncompressed_bytes == 16 * 10**9
    assert re.fullmatch(r"[0-9.]+GB", defaults.duckdb_memory_limit)
    monkeypatch.setenv("CINEBLEND_MAX_UNCOMPRESSED_GB", "2.5")
    monkeypatch.setenv("CINEBLEND_DUCKDB_MEMORY", " 1.5 gib ")
    configured = get_settings()
    assert configured.max_uncompressed_bytes == 2_500_000_000 and configured.duckdb_memory_limit == "1.5GiB"
    for bad in ("0", "-1", "nan", "inf"):
        monkeypatch.setenv("CINEBLEND_MAX_UNCOMPRESSED_GB", bad)
        with pytest.raises(ConfigError, match="CINEBLEND_MAX_UNCOMPRESSED_GB must be a positive number of GB"):
            get_settings()
    monkeypatch.setenv("CINEBLEND_MAX_UNCOMPRESSED_GB", "16")
    monkeypatch.setenv("CINEBLEND_DUCKDB_MEMORY", "lots")
    with pytest.raises(ConfigError, match=r"CINEBLEND_DUCKDB_MEMORY must be a size such as 2GB or 512MB, got 'lots'"):
        get_settings()
