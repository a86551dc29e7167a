"""fetch(): downloads over loopback HTTP and from local folders, and how it fails."""

from __future__ import annotations

import gzip
import logging
import socket
import zipfile
from pathlib import Path
from typing import Any

import pytest

from recsys.catalog import download
from recsys.catalog.download import fetch
from recsys.config import Settings
from recsys.errors import FetchError
from tests.fixtures.httpserver import FileServer
from tests.fixtures.make_data import write_imdb_fixture, write_movielens_fixture

IMDB = ("title.basics.tsv.gz", "title.ratings.tsv.gz", "title.crew.tsv.gz")
PEOPLE = ("title.principals.tsv.gz", "name.basics.tsv.gz")
ML = "ml-latest-small.zip"
ALL = (*IMDB, ML, *PEOPLE)
BASICS_URL_PATH = "/imdb/title.basics.tsv.gz"
RATINGS_URL_PATH = "/imdb/title.ratings.tsv.gz"


def _source_file(root: Path, name: str) -> Path:
    return root / ("movielens" if name == ML else "imdb") / name


def _fetch_error(settings: Settings, **kwargs: Any) -> str:
    with pytest.raises(FetchError) as info:
        fetch(settings, **kwargs)
    message = str(info.value)
    assert "\n" not in message, "FetchError messages are one line"
    return message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------- success


def test_fetch_over_http_downloads_every_file_intact(http_settings: Settings, source_root: Path) -> None:
    seen: list[tuple[str, float, float | None]] = []
    paths = fetch(http_settings, progress=lambda stage, done, total: seen.append((stage, done, total)))

    assert [p.name for p in paths] == list(ALL)
    for path in paths:
        assert path.parent == http_settings.raw_dir
        assert path.read_bytes() == _source_file(source_root, path.name).read_bytes()
    assert not list(http_settings.raw_dir.glob("*.part"))
    for name in ALL:
        size = _source_file(source_root, name).stat().st_size
        last = [(d, t) for s, d, t in seen if s == name][-1]
        assert last == (size, size)


def test_second_fetch_skips_up_to_date_files_and_force_downloads_again(
    http_settings: Settings, server: FileServer
) -> None:
    fetch(http_settings)
    assert server.gets(BASICS_URL_PATH) == [None]

    fetch(http_settings)
    assert server.gets(BASICS_URL_PATH) == [None], "an up-to-date file is not downloaded again"
    assert ("HEAD", BASICS_URL_PATH, None) in server.requests_seen

    fetch(http_settings, force=True)
    assert server.gets(BASICS_URL_PATH) == [None, None]


def test_a_damaged_local_copy_is_replaced_even_when_sizes_match(http_settings: Settings, source_root: Path) -> None:
    fetch(http_settings)
    target = http_settings.raw_dir / "title.crew.tsv.gz"
    good = target.read_bytes()
    target.write_bytes(b"\x00" * len(good))  # same size, garbage

    fetch(http_settings)

    assert target.read_bytes() == good


def test_dropped_connection_is_resumed_with_a_range_request(
    http_settings: Settings, server: FileServer, source_root: Path
) -> None:
    size = _source_file(source_root, "title.basics.tsv.gz").stat().st_size
    server.set_mode(BASICS_URL_PATH, "drop", times=1)

    fetch(http_settings)

    assert server.gets(BASICS_URL_PATH) == [None, f"bytes={size // 2}-"]
    target = http_settings.raw_dir / "title.basics.tsv.gz"
    assert target.read_bytes() == _source_file(source_root, target.name).read_bytes()


def test_partial_file_of_an_interrupted_run_is_resumed_by_the_next_run(
    http_settings: Settings,
    server: FileServer,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(download, "MAX_ATTEMPTS", 1)
    size = _source_file(source_root, "title.basics.tsv.gz").stat().st_size
    server.set_mode(BASICS_URL_PATH, "drop", times=1)

    message = _fetch_error(http_settings)

    assert "dropped" in message and "title.basics.tsv.gz" in message and "again" in message
    part = http_settings.raw_dir / "title.basics.tsv.gz.part"
    assert part.stat().st_size == size // 2
    assert not (http_settings.raw_dir / "title.basics.tsv.gz").exists()

    fetch(http_settings)

    assert server.gets(BASICS_URL_PATH)[-1] == f"bytes={size // 2}-"
    assert not part.exists()
    assert (http_settings.raw_dir / "title.basics.tsv.gz").read_bytes() == _source_file(
        source_root, "title.basics.tsv.gz"
    ).read_bytes()


def test_server_answering_200_to_a_range_request_restarts_from_zero(
    http_settings: Settings, server: FileServer, source_root: Path
) -> None:
    http_settings.raw_dir.mkdir(parents=True)
    (http_settings.raw_dir / "title.basics.tsv.gz.part").write_bytes(b"stale bytes " * 10)
    server.set_mode(BASICS_URL_PATH, "norange")

    fetch(http_settings)

    assert server.gets(BASICS_URL_PATH) == ["bytes=120-"]
    assert (http_settings.raw_dir / "title.basics.tsv.gz").read_bytes() == _source_file(
        source_root, "title.basics.tsv.gz"
    ).read_bytes()


def test_resumed_file_that_fails_its_check_is_downloaded_again_from_zero(
    http_settings: Settings, server: FileServer, source_root: Path
) -> None:
    http_settings.raw_dir.mkdir(parents=True)
    (http_settings.raw_dir / "title.basics.tsv.gz.part").write_bytes(b"x" * 100)

    fetch(http_settings)

    assert server.gets(BASICS_URL_PATH) == ["bytes=100-", None]
    assert (http_settings.raw_dir / "title.basics.tsv.gz").read_bytes() == _source_file(
        source_root, "title.basics.tsv.gz"
    ).read_bytes()


def test_local_directory_sources(tmp_path: Path, source_root: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        imdb_base_url=str(source_root / "imdb"),
        movielens_url=str(source_root / "movielens"),  # a folder holding ml-latest-small.zip
    )
    paths = fetch(settings)

    assert [p.name for p in paths] == list(ALL)
    for path in paths:
        assert path.read_bytes() == _source_file(source_root, path.name).read_bytes()


def test_file_urls_as_sources(tmp_path: Path, source_root: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        imdb_base_url=(source_root / "imdb").as_uri() + "/",
        movielens_url=(source_root / "movielens" / ML).as_uri(),
    )
    paths = fetch(settings, include_people=False)

    assert [p.name for p in paths] == [*IMDB, ML]


def test_optional_people_files_missing_on_the_server_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "source"
    write_imdb_fixture(root / "imdb", people=False)
    write_movielens_fixture(root / "movielens" / ML)
    with FileServer(root) as server:
        settings = Settings(
            data_dir=tmp_path / "data",
            imdb_base_url=server.url("imdb/"),
            movielens_url=server.url("movielens/" + ML),
        )
        with caplog.at_level(logging.WARNING, logger="recsys.catalog.download"):
            paths = fetch(settings)

    assert [p.name for p in paths] == [*IMDB, ML]
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "title.principals.tsv.gz" in warned and "name.basics.tsv.gz" in warned


def test_without_people_the_people_files_are_never_requested(http_settings: Settings, server: FileServer) -> None:
    paths = fetch(http_settings, include_people=False)

    assert [p.name for p in paths] == [*IMDB, ML]
    assert not [r for r in server.requests_seen if "principals" in r[1] or "name.basics" in r[1]]


# ---------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("truncate", "truncated"),
        ("html", "HTML"),
        ("html-binary", "HTML"),
        ("404", "404"),
        ("drop", "dropped"),
    ],
)
def test_a_failed_download_leaves_the_existing_good_file_untouched(
    http_settings: Settings, server: FileServer, mode: str, expected: str
) -> None:
    fetch(http_settings)
    target = http_settings.raw_dir / "title.ratings.tsv.gz"
    good = target.read_bytes()
    server.set_mode(RATINGS_URL_PATH, mode)

    message = _fetch_error(http_settings, force=True)

    assert expected in message
    assert target.read_bytes() == good
    if mode != "drop":  # a dropped download keeps its .part to resume; a bad one is deleted
        assert not list(http_settings.raw_dir.glob("*.part"))


def test_truncated_gzip_is_reported_and_not_kept(http_settings: Settings, server: FileServer) -> None:
    server.set_mode(RATINGS_URL_PATH, "truncate")

    message = _fetch_error(http_settings)

    assert message == ("title.ratings.tsv.gz is truncated (the gzip stream ends early); run fetch again.")
    assert not (http_settings.raw_dir / "title.ratings.tsv.gz").exists()
    assert not (http_settings.raw_dir / "title.ratings.tsv.gz.part").exists()


def test_http_404_names_the_url(http_settings: Settings, server: FileServer) -> None:
    server.set_mode("/imdb/title.crew.tsv.gz", "404")

    message = _fetch_error(http_settings)

    assert message == (
        f"{server.url('imdb/title.crew.tsv.gz')} was not found (HTTP 404); check CINEBLEND_IMDB_BASE_URL."
    )


def test_html_page_instead_of_data(http_settings: Settings, server: FileServer) -> None:
    server.set_mode(BASICS_URL_PATH, "html")

    message = _fetch_error(http_settings)

    assert "HTML page instead of title.basics.tsv.gz" in message
    assert "CINEBLEND_IMDB_BASE_URL" in message


def test_html_page_labelled_as_binary_is_caught_by_the_check(http_settings: Settings, server: FileServer) -> None:
    server.set_mode(BASICS_URL_PATH, "html-binary")

    message = _fetch_error(http_settings)

    assert message.startswith("title.basics.tsv.gz is an HTML page, not data")
    assert not list(http_settings.raw_dir.iterdir())


def test_connection_refused_names_the_host_and_the_setting(tmp_path: Path) -> None:
    port = _free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        imdb_base_url=f"http://127.0.0.1:{port}/imdb/",
        movielens_url=f"http://127.0.0.1:{port}/ml.zip",
    )

    message = _fetch_error(settings)

    assert message == (
        "Cannot connect to 127.0.0.1 (connection refused); check your network connection or CINEBLEND_IMDB_BASE_URL."
    )


def test_stalled_server_mid_body_times_out_and_keeps_the_part_for_resume(
    http_settings: Settings, server: FileServer, source_root: Path
) -> None:
    server.set_mode(BASICS_URL_PATH, "stall", times=1)

    message = _fetch_error(http_settings, timeout=(2.0, 0.3))

    assert message == (
        "127.0.0.1 stopped sending data while downloading title.basics.tsv.gz (read timeout);"
        " run fetch again to resume."
    )
    assert (http_settings.raw_dir / "title.basics.tsv.gz.part").stat().st_size == 1024

    fetch(http_settings, timeout=(2.0, 2.0))
    assert server.gets(BASICS_URL_PATH)[-1] == "bytes=1024-"


def test_server_that_never_answers_times_out(http_settings: Settings, server: FileServer) -> None:
    server.set_mode(BASICS_URL_PATH, "stall-headers")

    message = _fetch_error(http_settings, timeout=(2.0, 0.3))

    assert "stopped sending data" in message and "title.basics.tsv.gz" in message


def test_optional_file_that_is_corrupt_still_fails(http_settings: Settings, server: FileServer) -> None:
    server.set_mode("/imdb/name.basics.tsv.gz", "truncate")

    message = _fetch_error(http_settings)

    assert message.startswith("name.basics.tsv.gz is truncated")


def test_zip_without_links_csv_is_refused(tmp_path: Path, source_root: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\r\n")
    settings = Settings(data_dir=tmp_path / "data", imdb_base_url=str(source_root / "imdb"), movielens_url=str(bad))

    message = _fetch_error(settings, include_people=False)

    assert "links.csv" in message and "CINEBLEND_MOVIELENS_URL" in message
    assert not (settings.raw_dir / ML).exists()


def test_missing_local_source_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = Settings(data_dir=tmp_path / "data", imdb_base_url=str(empty), movielens_url=str(empty))

    message = _fetch_error(settings)

    assert message == (f"{empty / 'title.basics.tsv.gz'} does not exist; check CINEBLEND_IMDB_BASE_URL.")


def test_corrupt_local_source_is_refused_and_the_good_copy_kept(tmp_path: Path, source_root: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        imdb_base_url=str(source_root / "imdb"),
        movielens_url=str(source_root / "movielens" / ML),
    )
    fetch(settings, include_people=False)
    crew_source = source_root / "imdb" / "title.crew.tsv.gz"
    good = crew_source.read_bytes()
    crew_source.write_bytes(good[: len(good) - 12])

    message = _fetch_error(settings, include_people=False)

    assert message.startswith("title.crew.tsv.gz is truncated")
    assert (settings.raw_dir / "title.crew.tsv.gz").read_bytes() == good


def test_verify_gzip_rejects_a_gzip_that_is_not_a_tsv(tmp_path: Path) -> None:
    path = tmp_path / "title.basics.tsv.gz"
    path.write_bytes(gzip.compress(b"<html><body>Access denied</body></html>\n"))

    with pytest.raises(FetchError, match="HTML page, not IMDb data"):
        download.verify_gzip(path)
