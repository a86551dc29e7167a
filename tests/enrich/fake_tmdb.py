"""A fake TMDb ``/3/find`` endpoint on loopback, scripted per title, for the enrichment tests.

``FakeTmdb()`` (a context manager) serves ``GET /3/find/{tconst}`` on ``127.0.0.1`` (port 0)
from a thread. Requests must carry the right credential (``api_key=KEY`` or
``Authorization: Bearer TOKEN``), else the answer is TMDb's 401 body. By default a title in
:data:`TITLES` is a hit and any other title an empty result (a miss); ``script(tconst, *replies)``
queues :class:`Reply` objects to answer the next requests for that title (the last one repeats).

A reply can ``hold`` the request (wait on an event before answering, at most ``HOLD_SECONDS``):
used for timeouts and to keep a fetch "in flight" while a test looks at the app. ``arrived(t)``
is an event set when a request for ``t`` reaches the server; ``seen`` lists every request.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.loopback import LoopbackHTTPServer, LoopbackServer, QuietHandler

HOLD_SECONDS = 10.0
API_KEY = "0123456789abcdef0123456789abcdef"  # the shape of a v3 key; not a real one
TOKEN = (  # the shape of a v4 read access token (a JWT); not a real one
    "eyJhbGciOiJIUzI1NiJ9."
    "eyJhdWQiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsInNjb3BlcyI6WyJhcGlfcmVhZCJdfQ."
    "c2lnbmF0dXJlLW5vdC1yZWFsLWF0LWFsbC0wMTIzNDU2Nzg5"
)
UNAUTHORISED = {
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
    "success": False,
}

# Hand-written answers (the shape of TMDb's /find results, trimmed).
SHAWSHANK = {
    "id": 278,
    "title": "The Shawshank Redemption",
    "poster_path": "/9cqNxx0GxF0bflZmeSMuL5tnGzr.jpg",
    "overview": "Imprisoned in the 1940s for a double murder, banker Andy Dufresne ...",
    "media_type": "movie",
}
BREAKING_BAD = {
    "id": 1396,
    "name": "Breaking Bad",
    "poster_path": "/ztkUQFLlC19CCMYHW9o1zWhJRNq.jpg",
    "overview": "A chemistry teacher diagnosed with terminal lung cancer ...",
    "media_type": "tv",
}
NO_POSTER = {"id": 424242, "title": "Obscure Short", "poster_path": None, "overview": "  "}


def find_body(movie: list[Any] | None = None, tv: list[Any] | None = None) -> dict[str, Any]:
    """A ``/3/find`` answer with the given movie and TV results (the other lists empty)."""
    return {
        "movie_results": movie or [],
        "person_results": [],
        "tv_results": tv or [],
        "tv_episode_results": [],
        "tv_season_results": [],
    }


TITLES: dict[str, dict[str, Any]] = {
    "tt0111161": find_body(movie=[SHAWSHANK]),
    "tt0903747": find_body(tv=[BREAKING_BAD]),
    "tt7777777": find_body(movie=[NO_POSTER]),
}


@dataclass
class Reply:
    """One scripted answer: status, body (a dict/list is sent as JSON), headers, optional hold."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    tconst: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class _Handler(QuietHandler):
    server: LoopbackHTTPServer[FakeTmdb]

    def do_GET(self) -> None:
        owner = self.server.owner
        url = urlparse(self.path)
        prefix = "/3/find/"
        if not url.path.startswith(prefix):
            self._send(Reply(404, {"status_code": 34, "success": False}))
            return
        tconst = url.path[len(prefix) :]
        query = parse_qs(url.query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner.record(Seen(tconst, query, headers))
        if not owner.authorised(query, headers):
            self._send(Reply(401, UNAUTHORISED))
            return
        reply = owner.next_reply(tconst)
        if reply.hold is not None:
            reply.hold.wait(HOLD_SECONDS)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


class FakeTmdb(LoopbackServer):
    """The fake server; use as a context manager. ``url`` is its base URL."""

    poll_interval = 0.02

    def __init__(self, api_key: str = API_KEY, token: str = TOKEN) -> None:
        self.api_key = api_key
        self.token = token
        self.seen: list[Seen] = []
        self._scripts: dict[str, list[Reply]] = defaultdict(list)
        self._arrived: dict[str, threading.Event] = defaultdict(threading.Event)
        self._holds: list[threading.Event] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return self.base_url

    def unblock(self) -> None:
        self.release()

    # -- scripting --------------------------------------------------------------------------

    def script(self, tconst: str, *replies: Reply) -> None:
        """Answer the next requests for ``tconst`` with ``replies`` in order (the last repeats)."""
        with self._lock:
            self._scripts[tconst].extend(replies)

    def hold(self, tconst: str, then: Reply | None = None) -> threading.Event:
        """Hold requests for ``tconst`` until the returned event is set, then answer normally."""
        event = threading.Event()
        reply = then or self._default(tconst)
        self.script(tconst, Reply(reply.status, reply.body, reply.headers, hold=event))
        with self._lock:
            self._holds.append(event)
        return event

    def release(self) -> None:
        """Let every held request answer."""
        with self._lock:
            holds = list(self._holds)
        for event in holds:
            event.set()

    def arrived(self, tconst: str) -> threading.Event:
        """Set once a request for ``tconst`` has reached the server."""
        with self._lock:
            return self._arrived[tconst]

    def count(self, tconst: str) -> int:
        """How many requests for ``tconst`` the server received."""
        with self._lock:
            return sum(1 for s in self.seen if s.tconst == tconst)

    # -- called by the handler --------------------------------------------------------------

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)
            event = self._arrived[seen.tconst]
        event.set()

    def authorised(self, query: dict[str, list[str]], headers: dict[str, str]) -> bool:
        if query.get("api_key") == [self.api_key]:
            return True
        return headers.get("authorization") == f"Bearer {self.token}"

    def next_reply(self, tconst: str) -> Reply:
        with self._lock:
            queued = self._scripts.get(tconst)
            if queued:
                return queued.pop(0) if len(queued) > 1 else queued[0]
        return self._default(tconst)

    @staticmethod
    def _default(tconst: str) -> Reply:
        return Reply(200, TITLES.get(tconst, find_body()))
