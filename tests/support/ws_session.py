"""A Streamlit session over the real websocket, without a browser: what a page would receive.

Chromium cannot host 20 busy pages on a 2-core machine (each page spends about half a second of
CPU re-rendering the feed after every click, and the browser starves the server), so the load
and crash tests talk to ``streamlit run`` the way the browser's JavaScript does: protobuf
``BackMsg`` frames (``rerun_script`` with the widget states, e.g. a button's trigger) to
``/_stcore/stream``, protobuf ``ForwardMsg`` frames (``delta`` elements, ``script_finished``)
back. Every script run the server performs is collected into a :class:`Run`: the elements and
blocks it sent, in order, with their delta paths and fragment ids.

What a browser does and this client does too: the first run on connect, re-running the current
page (``page_script_hash``) on every interaction, a fragment's button re-running only that
fragment (``fragment_id``), form widgets' values sent with the submit button's trigger. What it
does not do: render anything, answer custom components (the auth cookie manager), cache
messages.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.typing import Subprotocol

#: script_finished statuses that end a run the client asked for (EARLY_FOR_RERUN is followed
#: by another run: ``st.rerun`` / ``st.switch_page``).
_DONE = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
_MD_ESCAPE = re.compile(r"\\(.)")
_TAG = re.compile(r"<[^>]*>")
_CARD_TITLE = re.compile(r'<strong class="cb-title"[^>]*>(.*?)</strong>', re.S)


def unescape_markdown(text: str) -> str:
    """Undo ``recsys.ui.cards.md_escape`` (a backslash before a markdown character)."""
    return _MD_ESCAPE.sub(r"\1", text)


def html_text(body: str) -> str:
    """The text a browser shows for an ``st.html`` body (tags dropped, entities decoded; block
    elements separated by a space)."""
    return html.unescape(" ".join(_TAG.sub(" ", body).split()))


def card_title(body: str) -> str:
    """The title of a card's ``st.html`` body (its ``<strong class="cb-title">``)."""
    match = _CARD_TITLE.search(body)
    if match is None:
        raise AssertionError(f"no card title in {body[:200]!r}")
    return html.unescape(match.group(1))


def widget_key(widget_id: str) -> str:
    """The user key at the end of a Streamlit widget / block id (``$$ID-<hash>-<key>``)."""
    match = re.match(r"\$\$ID-[0-9a-f]+-(.*)", widget_id)
    return match.group(1) if match else widget_id


@dataclass(frozen=True)
class Item:
    """One delta of a run: an element or a block at ``path``."""

    path: tuple[int, ...]
    kind: str  # element type ("button", "markdown", ...) or "block"
    proto: Any  # the element's own message (e.g. Button), or the Block
    fragment_id: str

    @property
    def id(self) -> str:
        return str(getattr(self.proto, "id", ""))

    @property
    def key(self) -> str:
        return widget_key(self.id)

    def within(self, block: Item) -> bool:
        return self.path[: len(block.path)] == block.path and self.path != block.path


@dataclass
class Run:
    """Everything the server sent during one script run (or fragment run)."""

    items: list[Item] = field(default_factory=list)
    status: int | None = None
    page_hash: str = ""
    started: float = 0.0
    finished: float = 0.0

    def elements(self, kind: str | None = None) -> Iterator[Item]:
        return (i for i in self.items if i.kind != "block" and (kind is None or i.kind == kind))

    def blocks_with_key_prefix(self, prefix: str) -> list[Item]:
        return [i for i in self.items if i.kind == "block" and i.key.startswith(prefix)]

    def widget(
        self,
        kind: str,
        *,
        key: str | None = None,
        label: str | None = None,
        form: str | None = None,
        within: Item | None = None,
    ) -> Item:
        """The one widget of ``kind`` with this user key / label / form (inside the block
        ``within``); AssertionError when there is not exactly one."""
        found = [
            i
            for i in self.elements(kind)
            if (key is None or i.key == key)
            and (label is None or i.proto.label == label)
            and (form is None or i.proto.form_id == form)
            and (within is None or i.within(within))
        ]
        if len(found) != 1:
            raise AssertionError(f"expected one {kind} (key={key} label={label} form={form}), found {len(found)}")
        return found[0]

    def texts(self) -> list[str]:
        """Markdown / heading / caption bodies, unescaped; ``st.html`` bodies as their text."""
        out = []
        for item in self.elements():
            body = getattr(item.proto, "body", None)
            if isinstance(body, str) and body:
                out.append(html_text(body) if item.kind == "html" else unescape_markdown(body))
        return out

    def errors(self) -> list[str]:
        """What a person would see as an error: exception boxes and error alerts."""
        out = []
        for item in self.elements():
            if item.kind == "exception":
                out.append(f"exception: {item.proto.type}: {item.proto.message}"[:300])
            elif item.kind == "alert" and item.proto.format == Alert.ERROR:
                out.append(f"error alert: {unescape_markdown(item.proto.body)}"[:300])
        if self.status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
            out.append("script compile error")
        return out


class SessionClosed(ConnectionError):
    """The server closed the websocket (or died) while a run was awaited."""


class StreamlitSession:
    """One browser-less Streamlit session on ``ws://host:port/_stcore/stream``.

    ``async with StreamlitSession(url) as s: run = await s.run()`` performs the first run.
    """

    def __init__(self, base_url: str, *, timeout: float = 60.0, headers: dict[str, str] | None = None) -> None:
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.timeout = timeout
        self.page_hash = ""
        #: the URL path the browser was opened at (``/data-and-model`` -> "data-and-model"):
        #: sent with the first run only, as the browser does for a deep link
        self.page_name = ""
        #: set when the server answered a run with "Page not found"
        self.page_not_found = False
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation
        self.runs: list[Run] = []
        self._ws: Any = None
        self.headers = dict(headers or {})  # extra handshake headers (e.g. X-Forwarded-For)

    async def __aenter__(self) -> StreamlitSession:
        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            max_size=None,
            open_timeout=self.timeout,
            additional_headers=self.headers or None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    def errors(self) -> list[str]:
        """Every error any run of this session showed."""
        return [e for run in self.runs for e in run.errors()]

    async def send_rerun(self, widgets: Sequence[WidgetState] = (), fragment_id: str = "") -> float:
        """Ask for a rerun of the current page (as a click or the first visit does); returns
        the time it was sent (epoch seconds)."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_hash
        if self.page_name and not self.page_hash:
            state.page_name = self.page_name
        state.widget_states.widgets.extend(widgets)
        state.widget_states.SetInParent()
        if fragment_id:
            state.fragment_id = fragment_id
        sent = time.time()
        if self._ws is None:
            raise SessionClosed("the session is closed")
        try:
            await self._ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as exc:
            raise SessionClosed(f"websocket closed: {exc}") from exc
        return sent

    async def receive_run(self) -> Run:
        """Collect messages until the server finishes a run (following reruns it starts)."""
        run = Run(started=time.time())
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no script_finished within {self.timeout:g} s")
            try:
                data = await asyncio.wait_for(self._ws.recv(), remaining)
            except websockets.ConnectionClosed as exc:
                raise SessionClosed(f"websocket closed: {exc}") from exc
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                run.items.append(_item(msg))
            elif kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "page_not_found":
                self.page_not_found = True
            elif kind == "script_finished":
                if msg.script_finished in _DONE:
                    run.status = msg.script_finished
                    run.finished = time.time()
                    run.page_hash = self.page_hash
                    self.runs.append(run)
                    return run
                self.runs.append(run)  # interrupted by a rerun the script asked for
                run = Run(started=time.time())

    async def run(self, widgets: Sequence[WidgetState] = (), fragment_id: str = "") -> Run:
        """Send a rerun and wait for its run to finish."""
        await self.send_rerun(widgets, fragment_id)
        return await self.receive_run()

    async def open_page(self, url_path: str) -> Run:
        """Go to the page at ``url_path`` (as a sidebar link does) and wait for its run."""
        if url_path not in self.pages:
            raise AssertionError(f"no page {url_path!r} in the navigation: {sorted(self.pages)}")
        self.page_hash = self.pages[url_path]
        return await self.run()


def _item(msg: ForwardMsg) -> Item:
    delta = msg.delta
    path = tuple(msg.metadata.delta_path)
    which = delta.WhichOneof("type")
    if which == "new_element":
        kind = delta.new_element.WhichOneof("type") or "empty"
        proto = getattr(delta.new_element, kind) if kind != "empty" else delta.new_element
        return Item(path, kind, proto, delta.fragment_id)
    if which == "add_block":
        return Item(path, "block", delta.add_block, delta.fragment_id)
    proto = getattr(delta, which) if which else None
    return Item(path, which or "unknown", proto, delta.fragment_id)


def trigger(item: Item) -> WidgetState:
    """The widget state of a click on the button ``item``."""
    return WidgetState(id=item.id, trigger_value=True)


def component_data(item: Item) -> Any:
    """The ``data`` a components-v2 element (``bidi_component``) was sent, parsed from JSON (a
    JSON string, or JSON bytes)."""
    proto = item.proto
    which = proto.WhichOneof("data")
    if which == "json":
        return json.loads(proto.json)
    if which == "mixed":
        return json.loads(proto.mixed.json)
    if which == "bytes":  # JSON sent as bytes (recsys.ui.card_element.cards)
        return json.loads(proto.bytes)
    raise AssertionError(f"component {item.key} has no JSON data ({which})")


def component_trigger(item: Item, event: str, value: Any) -> WidgetState:
    """What the browser sends when the component's JS calls ``setTriggerValue(event, value)``:
    the element's trigger aggregator widget with a JSON list of ``{event, value}`` payloads."""
    payload = json.dumps([{"event": event, "value": value}])
    return WidgetState(id=_make_trigger_id(item.id, "events"), json_trigger_value=payload)


def text_value(item: Item, value: str) -> WidgetState:
    return WidgetState(id=item.id, string_value=value)


def headings(run: Run) -> list[str]:
    return [unescape_markdown(i.proto.body) for i in run.elements("heading")]


def keys(items: Iterable[Item]) -> list[str]:
    return [i.key for i in items]
