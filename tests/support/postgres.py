"""A throwaway PostgreSQL server for the tests: one cluster per test session, on loopback.

It uses the server binaries of Debian's ``postgresql`` package (``/usr/lib/postgresql/<v>/bin``,
installed by ``scripts/test.sh``), or the folder named by ``CINEBLEND_PG_BIN``. ``initdb`` and
``postgres`` refuse to run as root, so as root the cluster lives in a temp folder owned by the
``postgres`` user and every server command runs through ``runuser -u postgres --``.

The server trusts local connections from the role ``cine`` and runs with ``fsync=off`` (it is
never crashed by the tests; only clients are). Connect with :attr:`PostgresCluster.admin_url`.

Fixture (import it into a ``conftest.py``, or list ``tests.support.postgres`` in the root
conftest's ``pytest_plugins``):

* ``postgres_admin_url`` (session): an admin URL such as
  ``postgresql+psycopg://cine@127.0.0.1:PORT/postgres``. ``CINEBLEND_TEST_POSTGRES_URL`` set in the
  environment means "use that server instead". Without PostgreSQL binaries or psycopg the
  fixture skips, or fails when ``CI`` is ``true`` (CI must prove both backends).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.ci import unavailable
from tests.support.net import free_port

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

#: An external admin URL to use instead of starting a server.
POSTGRES_URL_ENV = "CINEBLEND_TEST_POSTGRES_URL"
#: The folder holding ``initdb``, ``pg_ctl`` and ``postgres``; when set, the only one searched.
PG_BIN_ENV = "CINEBLEND_PG_BIN"
PG_ROOT = Path("/usr/lib/postgresql")  # Debian's layout: PG_ROOT/<major>/bin
PREFERRED_MAJOR = "15"
ROLE = "cine"
SERVICE_USER = "postgres"
START_TIMEOUT_S = 60
# Settings for a fast, disposable, loopback-only test server.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
)
INSTALL_HINT = (
    "install Debian's postgresql package (scripts/test.sh does so when run as root or with "
    "sudo) or set CINEBLEND_TEST_POSTGRES_URL to an admin URL of a running server"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be used on this machine (binaries or driver missing)."""


def find_bindir() -> Path:
    """The folder with ``initdb`` / ``pg_ctl``; PostgreSQL 15 first, else the newest present."""
    override = os.environ.get(PG_BIN_ENV)
    candidates: list[Path] = []
    if override:  # only there: also how to test the "not installed" path
        candidates.append(Path(override))
    else:
        candidates.extend(_default_bindirs())
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        f"PostgreSQL server binaries not found (looked in {', '.join(map(str, candidates))}); " + INSTALL_HINT
    )


def _default_bindirs() -> list[Path]:
    candidates: list[Path] = []
    root = PG_ROOT
    candidates.append(root / PREFERRED_MAJOR / "bin")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True)
        candidates.extend(p / "bin" for p in versions)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    return list(dict.fromkeys(candidates))


class PostgresCluster:
    """A PostgreSQL cluster in a temp folder, listening on 127.0.0.1 only.

    ``with PostgresCluster() as pg: pg.admin_url`` starts it (initdb + pg_ctl start) and stops
    and deletes it on exit.
    """

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None
        self.port: int | None = None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "cluster not started"
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        assert self.root is not None, "cluster not started"
        return self.root / "server.log"

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database as the superuser role ``cine``."""
        assert self.port is not None, "cluster not started"
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        assert self.root is not None
        return subprocess.run(
            cmd,
            cwd=self.root,  # the service user may not be able to enter the caller's folder
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            check=False,
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode == 0:
            return
        tail = ""
        if self.root is not None and self.log_file.exists():
            tail = "\n--- server log ---\n" + "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(
            f"PostgreSQL {what} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}{tail}"
        )

    def start(self) -> str:
        """initdb a new cluster and start it; returns :attr:`admin_url`."""
        # /tmp rather than pytest's tmp_path: the service user must be able to reach the folder
        self.root = Path(tempfile.mkdtemp(prefix="cineblend-pg-"))
        if self.as_root:
            try:
                shutil.chown(self.root, user=SERVICE_USER, group=SERVICE_USER)
            except LookupError as exc:
                raise PostgresUnavailable(
                    f"No '{SERVICE_USER}' system user to run PostgreSQL as (we are root); " + INSTALL_HINT
                ) from exc
        started = time.monotonic()
        self._check(
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                ROLE,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ),
            "initdb",
        )
        last: Exception | None = None
        for _attempt in range(3):  # a port taken between free_port() and the bind: try another
            self.port = free_port()
            result = self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 {SERVER_OPTIONS}",
                "start",
                timeout=START_TIMEOUT_S + 10,
            )
            try:
                self._check(result, "start")
            except RuntimeError as exc:
                last = exc
                continue
            log.info(
                "PostgreSQL test server on port %s (%s) up in %.1f s",
                self.port,
                self.bindir,
                time.monotonic() - started,
            )
            return self.admin_url
        assert last is not None
        raise last

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self.root is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                result = self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                )
                if result.returncode != 0:
                    log.warning("pg_ctl stop failed: %s", result.stderr.strip())
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """Admin URL of a PostgreSQL server for this test session (started here unless given)."""
    external = os.environ.get(POSTGRES_URL_ENV)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("PostgreSQL", "the psycopg driver is not installed; run scripts/test.sh")
    if external:
        yield external
        return
    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        unavailable("PostgreSQL", str(exc))
    with cluster:
        yield cluster.admin_url


@contextmanager
def throwaway_database(admin_url: str, prefix: str) -> Iterator[URL]:
    """A new, uniquely named database on the server at ``admin_url``, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin.set(database=name)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
