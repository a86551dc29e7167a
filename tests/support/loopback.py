"""A loopback HTTP server for fake upstreams, once for the suite (the file server of the
download tests, the fake TMDb of the enrichment tests).

Subclass :class:`LoopbackServer` with a request handler class; the handler reaches the fake (its
state, its scripted answers) as ``self.server.owner``. The server listens on ``127.0.0.1`` on a
free port and serves from a daemon thread between ``start()`` and ``stop()`` (or ``with``).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Generic, Self, TypeVar

Owner = TypeVar("Owner", bound="LoopbackServer")


class LoopbackHTTPServer(ThreadingHTTPServer, Generic[Owner]):
    """The HTTP server; ``owner`` is the fake whose handler answers."""

    daemon_threads = True
    owner: Owner


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test output clean (no access log on stderr)."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass


class LoopbackServer:
    """Serves ``handler`` on ``127.0.0.1`` (a free port) from a thread; use as a context manager."""

    #: How often the serving thread looks for a shutdown request (seconds).
    poll_interval = 0.05

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server: LoopbackHTTPServer[LoopbackServer] = LoopbackHTTPServer(("127.0.0.1", 0), handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": self.poll_interval}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_handler(self, handler: type[BaseHTTPRequestHandler]) -> None:
        """Answer later requests with ``handler`` (a fake with extra failure modes)."""
        self._server.RequestHandlerClass = handler

    def start(self) -> Self:
        self._thread.start()
        return self

    def unblock(self) -> None:
        """Let requests the fake holds (a stall, a scripted hold) answer, before the server stops."""

    def stop(self) -> None:
        self.unblock()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
