"""The real app, started as ``scripts/start.sh`` does (``python -m recsys.ui.serve run app.py``) on a loopback port, for end-to-end tests.

``AppServer(data_dir)`` runs the app from the repository root (so ``.streamlit/config.toml``
applies) with ``CINEBLEND_DATA_DIR=data_dir``, a fixed test cookie key, no secrets file and no
other ``CINEBLEND_*`` / ``DATABASE_URL`` from the caller's shell unless passed in ``env``.
:meth:`start` returns once ``/_stcore/health`` answers; :meth:`stop` ends it (SIGTERM, then
SIGKILL); :meth:`kill` is the crash of a crash test (SIGKILL, no clean-up), after which
:meth:`start` starts it again on the same port.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from tests.support.net import free_port

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TEST_COOKIE_KEY = "e2e-test-cookie-key-" + "k" * 44
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_DROPPED_ENV_PREFIXES = ("CINEBLEND_", "STREAMLIT_")
_DROPPED_ENV = ("DATABASE_URL", "TMDB_API_KEY")


class AppServerError(RuntimeError):
    """The app did not start (the message ends with the tail of its log)."""


class AppServer:
    """One ``python -m recsys.ui.serve run app.py`` process on 127.0.0.1."""

    def __init__(
        self,
        data_dir: Path,
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:8765``."""
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV_PREFIXES) and k not in _DROPPED_ENV}
        env.update(
            CINEBLEND_DATA_DIR=str(self.data_dir),
            CINEBLEND_COOKIE_KEY=TEST_COOKIE_KEY,
            CINEBLEND_SECRETS_FILE=str(self.data_dir / "no-secrets.toml"),
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            PYTHONUNBUFFERED="1",
            CINEBLEND_JOBS=os.environ.get("CINEBLEND_JOBS", "thread"),
        )
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "recsys.ui.serve", "run", "app.py",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--server.fileWatcherType", "none",
            "--server.runOnSave", "false",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start the app and wait until its health endpoint answers."""
        if self.running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches any children
            )
        self.wait_healthy(deadline=started + timeout)
        log.info("app up on %s in %.1f s", self.url, time.monotonic() - started)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, deadline: float) -> None:
        """Poll ``/_stcore/health`` until it answers ``ok`` (or the process dies / time is up)."""
        with requests.Session() as http:
            while True:
                if not self.running():
                    raise AppServerError(f"streamlit exited with {self._returncode()}{self.log_tail()}")
                try:
                    reply = http.get(f"{self.url}/_stcore/health", timeout=2)
                    if reply.ok:
                        return
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise AppServerError(f"streamlit did not answer on {self.url}{self.log_tail()}")
                time.sleep(0.1)  # readiness poll of another process, bounded by the deadline

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the app process has used so far (Linux ``/proc``)."""
        assert self.process is not None, "the app is not running"
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def _returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n--- app log ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """End the app (SIGTERM to its process group, SIGKILL if it lingers)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None

    def kill(self) -> None:
        """Crash the app: SIGKILL, no chance to clean up."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
