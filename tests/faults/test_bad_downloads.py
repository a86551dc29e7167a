"""``python -m recsys fetch`` end to end against a download server that misbehaves.

``tests/catalog/test_download.py`` covers ``fetch()`` itself; here the whole command runs as a
subprocess against the loopback file server of ``tests/fixtures/httpserver.py`` (plus two
connection-reset modes added below), over a data folder that already holds a good download and
a built catalogue (the synthetic catalogue of ``tests.support.synthetic``: its files are a few
KiB, so a stall or a reset can come mid-body). For each failure (a stall before or during the
body, a connection reset or drop mid-body, a reset before any answer, a truncated gzip, an HTML
page instead of data):

- exit code 1, exactly one ``error: ...`` line on stderr and it is the last line, no traceback;
- every raw file is byte-identical to before, and the catalogue is untouched (same manifest,
  it opens).

``fetch --force`` is used so the command really downloads again (the server's files are the
same as the ones already on disk); ``title.ratings`` is the file that fails, so
``title.basics`` (fetched before it) is re-downloaded fine first. The stall cases run through
``tests.faults.cli_hooks`` to cut the read timeout from 30 s to 1 s; the rest are plain
``python -m recsys``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from recsys.catalog.build import read_manifest
from recsys.catalog.queries import Catalog
from tests.faults.procs import HOOKS
from tests.fixtures.httpserver import FileServer, _Handler
from tests.support.cli import cli_env, error_lines, run_cli

pytestmark = pytest.mark.slow

RATINGS_PATH = "/imdb/title.ratings.tsv.gz"
TITLES = 280  # in the synthetic catalogue


class _ResetHandler(_Handler):
    """Adds ``reset`` (headers and half the body, then a TCP RST) and ``reset-early`` (a TCP RST
    as soon as the request has been read) to the file server's modes."""

    def _serve(self, head: bool) -> None:
        path = unquote(urlparse(self.path).path)
        owner = self.server.owner
        with owner._lock:
            mode = owner._modes.get(path, ("ok", None))[0]
        if head or mode not in ("reset", "reset-early"):
            super()._serve(head)
            return
        owner.take_mode(path, "GET")
        owner.record("GET", path, self.headers.get("Range"))
        if mode == "reset":
            data = (owner.root / path.lstrip("/")).read_bytes()
            self._send(
                200,
                {"Content-Type": "application/gzip", "Content-Length": str(len(data))},
                data[: len(data) // 2],
            )
            self.wfile.flush()
        self._reset()

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.wfile.close()
        self.connection.close()  # the last reference: the socket really closes now
        # http.server flushes / closes these after the handler returns
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()


class FaultServer(FileServer):
    """:class:`FileServer` with the ``reset`` / ``reset-early`` modes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.set_handler(_ResetHandler)


@pytest.fixture
def server(synthetic_data: Path) -> Iterator[FaultServer]:
    """Serves the synthetic catalogue's sources: ``/imdb/*.tsv.gz``, ``/ml-latest-small.zip``
    (files of a few KiB, so a stall or reset can come mid-body)."""
    with FaultServer(synthetic_data.parent / "sources") as srv:
        yield srv


@pytest.fixture
def data_dir(tmp_path: Path, synthetic_data: Path) -> Path:
    """A good earlier download (the same files the server has) and the catalogue built from it."""
    target = tmp_path / "data"
    shutil.copytree(synthetic_data / "raw", target / "raw")
    shutil.copytree(synthetic_data / "parquet", target / "parquet")
    return target


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(".part")
    }


CASES = [
    pytest.param("stall", "stopped sending data", True, id="stall-mid-body"),
    pytest.param("stall-headers", "stopped sending data", True, id="stall-before-headers"),
    pytest.param("reset", "dropped", False, id="reset-mid-body"),
    pytest.param("reset-early", "connection reset", False, id="reset-before-answer"),
    pytest.param("drop", "dropped", False, id="drop-mid-body"),
    pytest.param("truncate", "truncated", False, id="truncated-gzip"),
    pytest.param("html", "HTML page", False, id="html-page"),
    pytest.param("html-binary", "title.ratings.tsv.gz", False, id="html-as-binary"),
]


@pytest.mark.parametrize(("mode", "expected", "needs_short_timeout"), CASES)
def test_fetch_fails_in_one_line_and_keeps_earlier_data(
    server: FaultServer,
    data_dir: Path,
    mode: str,
    expected: str,
    needs_short_timeout: bool,
) -> None:
    raw_before = fingerprint(data_dir / "raw")
    manifest_before = read_manifest(data_dir / "parquet")
    env = cli_env(
        data_dir,
        CINEBLEND_IMDB_BASE_URL=server.url("/imdb/"),
        CINEBLEND_MOVIELENS_URL=server.url("/ml-latest-small.zip"),
    )
    if needs_short_timeout:
        env["CINEBLEND_TEST_READ_TIMEOUT"] = "1"
    server.set_mode(RATINGS_PATH, mode)

    result = run_cli("fetch", "--force", env=env, module=HOOKS if needs_short_timeout else "recsys")

    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(error_lines(result)) == 1, result.stderr
    assert lines[-1] == error_lines(result)[0], "the error is not the last line"
    assert expected in lines[-1], lines[-1]
    print(f"\n{mode}: {lines[-1]}")
    assert server.gets(RATINGS_PATH), "the failing file was never requested"
    assert server.gets("/imdb/title.basics.tsv.gz"), "the file before it was not re-fetched"

    assert fingerprint(data_dir / "raw") == raw_before
    assert read_manifest(data_dir / "parquet") == manifest_before
    with Catalog(data_dir / "parquet") as catalog:
        assert catalog.stats()["titles"] == TITLES
