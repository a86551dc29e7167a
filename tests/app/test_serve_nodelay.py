"""Every connection of the app server sends without Nagle's delay (``recsys.ui.serve``).

With Nagle on, each small websocket frame after the first of a script run waited for the
browser's delayed ACK (about 40 ms on Linux) on every click; ``bench/click_latency.py``'s
one-button floor went from 44-52 ms to 3-9 ms when it was turned off. Here: the listening socket
Streamlit binds through the launcher hands asyncio connections that have ``TCP_NODELAY`` set,
where Streamlit's own socket hands it connections that do not.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web.server.starlette import starlette_server

from recsys.ui import serve


async def accepted_nodelay(sock: socket.socket) -> int:
    """TCP_NODELAY of the connection an asyncio server accepts on ``sock``."""
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        host, port = sock.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        value = await asyncio.wait_for(seen, 10)
        writer.close()
    return value


@pytest.fixture
def original_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    # whatever the test installs is undone afterwards
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)


@pytest.mark.usefixtures("original_bind")
def test_streamlit_alone_leaves_nagle_on() -> None:
    """The reason for the launcher's change: if this starts failing, Streamlit fixed it."""
    sock = starlette_server._bind_socket("127.0.0.1", 0, 8)
    assert asyncio.run(accepted_nodelay(sock)) == 0


@pytest.mark.usefixtures("original_bind")
def test_the_launcher_turns_nagle_off_for_every_connection() -> None:
    serve.send_without_delay()
    serve.send_without_delay()  # installed once, not wrapped twice
    sock = starlette_server._bind_socket("127.0.0.1", 0, 8)
    assert sock.proto == socket.IPPROTO_TCP
    assert not sock.getblocking() and sock.get_inheritable()  # as Streamlit left it
    assert asyncio.run(accepted_nodelay(sock)) == 1


@pytest.mark.usefixtures("original_bind")
def test_the_launcher_installs_it_before_streamlit_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m recsys.ui.serve ...`` (scripts/start.sh, the Dockerfile, the tests' servers)
    installs the socket change itself: a command that exits at once leaves it in place."""
    monkeypatch.setattr(PagesManager, "uses_pages_directory", PagesManager.uses_pages_directory)
    with pytest.raises(SystemExit):
        serve.main(["version"])
    sock = starlette_server._bind_socket("127.0.0.1", 0, 8)
    assert asyncio.run(accepted_nodelay(sock)) == 1
