"""Source URLs are shown without credentials or signed query strings (issue 10, point 7): on the
data page, in the CLI's lines and in download errors and logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from recsys.__main__ import main
from recsys.catalog.download import fetch
from recsys.config import Settings
from recsys.errors import FetchError
from recsys.urls import mask_url, mask_urls_in
from tests.app.helpers import start, texts
from tests.badinput.support import make_user, signed_in
from tests.fixtures.httpserver import FileServer
from tests.fixtures.make_data import write_raw_fixture

SIGNED = "http://user:pass@host/x?X-Amz-Signature=abc123&X-Amz-Credential=AKIA"
SECRETS = ("user:pass", "abc123", "AKIA", "Signature", "token=")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SIGNED, "http://host/x"),
        ("https://u:p@datasets.example.com:8443/imdb/?token=t#frag", "https://datasets.example.com:8443/imdb/"),
        ("https://token@bucket.s3.amazonaws.com/ml.zip?sig=1", "https://bucket.s3.amazonaws.com/ml.zip"),
        ("https://datasets.imdbws.com/", "https://datasets.imdbws.com/"),
        ("file:///srv/mirror/imdb?x=1", "file:///srv/mirror/imdb"),
        ("/work/shared/data/mirror/imdb", "/work/shared/data/mirror/imdb"),
        ("data/raw?odd=name", "data/raw?odd=name"),  # a local path is left as it is
        ("http://u:p@[::1/x?y=1", "http://[::1/x"),  # malformed: still no secret
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_urls_in_a_message() -> None:
    text = f"{SIGNED} was not found (HTTP 404); also tried `https://a:b@h/p?q=1`."
    assert mask_urls_in(text) == "http://host/x was not found (HTTP 404); also tried `https://h/p`."


def test_download_errors_and_logs_mask_the_url(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_raw_fixture(tmp_path / "site")
    with FileServer(tmp_path / "site") as server:
        base = server.url("missing/").replace("http://", "http://xuser7:hunter2@") + "?token=s3cr3t"
        settings = Settings(data_dir=tmp_path / "data", imdb_base_url=base, with_people=False)
        with caplog.at_level(logging.INFO), pytest.raises(FetchError) as info:
            fetch(settings)
    message = str(info.value)
    assert message.startswith(f"{server.url('missing/title.basics.tsv.gz')} was not found (HTTP 404)")
    for secret in ("xuser7", "hunter2", "s3cr3t"):
        assert secret not in message and secret not in caplog.text


def test_cli_error_line_masks_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_raw_fixture(tmp_path / "site")
    with FileServer(tmp_path / "site") as server:
        monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("CINEBLEND_IMDB_BASE_URL", server.url("gone/").replace("http://", "http://me:pw@"))
        assert main(["fetch", "--no-people"]) == 1
    err = capsys.readouterr().err
    assert f"error: {server.url('gone/title.basics.tsv.gz')} was not found" in err
    assert "me:pw" not in err


def test_data_page_shows_masked_source_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CINEBLEND_IMDB_BASE_URL", "https://xuser7:hunter2@mirror.example/imdb/?token=s3cr3t")
    monkeypatch.setenv("CINEBLEND_MOVIELENS_URL", SIGNED)
    monkeypatch.setenv("CINEBLEND_COOKIE_KEY", "test-cookie-key-" + "x" * 40)
    at = start()  # signed out on a fresh install: the sign-in page opens on Register
    at.switch_page("pages/data.py").run()  # the data page is open to everyone (state, no buttons)
    assert not at.exception
    page = texts(at)
    # a visitor is not told where a configured mirror is (issue 20, item 6); the admin is
    assert page.count("a configured mirror") == 2 and "mirror.example" not in page and "host/x" not in page
    make_user(Settings(data_dir=tmp_path / "data"), "root", onboarded=False)
    at = signed_in("root")
    at.switch_page("pages/data.py").run()
    page = texts(at)
    assert "https://mirror.example/imdb/" in page and "http://host/x" in page
    for secret in (*SECRETS, "hunter2", "s3cr3t", "xuser7"):
        assert secret not in page, secret
