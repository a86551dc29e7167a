"""Start the app server: ``python -m recsys.ui.serve run app.py [streamlit options]``.

The same arguments as ``python -m streamlit`` (``scripts/start.sh``, the Dockerfile through it,
and the tests' ``AppServer`` use it), with one thing settled before the server accepts anyone:
the app's pages are the ``st.navigation`` pages of ``app.py``, never Streamlit's legacy
``pages/`` folder mode.

Why: Streamlit decides per process, in the first session it creates, whether the app is a legacy
``pages/``-folder app (``PagesManager.uses_pages_directory = pages/ exists``), and only the first
run that reaches ``st.navigation`` turns that off. DESIGN.md keeps the page scripts in ``pages/``,
so every session opened before that first run finished was served in the legacy mode: its URL
was looked up among the folder's file names (``/feed``, ``/data``) instead of ``app.py``'s URL
paths, so a deep link (``/for-you``, ``/data-and-model``) showed "Page not found", and a file
name (``/feed``) would have run that page's script without ``app.py``'s sign-in gate. Measured
with ``tests/app/test_cold_start_server.py`` (16 sessions opened together right after a start,
10 restarts, 2 cores): 80 of 160 sessions saw "Page not found" with ``streamlit run``, 0 with this
launcher.

And one thing about its sockets: every connection sends without Nagle's delay
(``TCP_NODELAY``). Streamlit binds its listening socket itself with ``socket.socket(family)``,
whose ``proto`` is 0; asyncio only turns Nagle off on sockets whose ``proto`` is
``IPPROTO_TCP``, so every accepted connection kept it on. A script run writes several small
websocket frames (status, new session, deltas, script finished); with Nagle on, each one after
the first waited for the browser's delayed ACK, about 40 ms on Linux, on every click. Measured
with ``bench/click_latency.py``'s one-button floor app (same launcher, 2 cores): 44-52 ms from
click to finished run with Nagle on, 3-9 ms with it off.

Example::

    python -m recsys.ui.serve run app.py --server.port 8600
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Sequence

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web.cli import main as streamlit_main
from streamlit.web.server.starlette import starlette_server


def use_navigation_pages() -> None:
    """Tell Streamlit, before its first session, that ``app.py``'s ``st.navigation`` decides the
    pages (what its first ``st.navigation`` call would set anyway)."""
    PagesManager.uses_pages_directory = False


def tcp_listener(sock: socket.socket) -> socket.socket:
    """The same listening socket, as a Python socket object whose ``proto`` is ``IPPROTO_TCP``
    (read back from the descriptor), so the connections asyncio accepts on it get
    ``TCP_NODELAY``."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    blocking = sock.getblocking()
    inheritable = sock.get_inheritable()
    tcp = socket.socket(fileno=sock.detach())  # family, type and proto read from the descriptor
    tcp.setblocking(blocking)
    tcp.set_inheritable(inheritable)
    return tcp


def send_without_delay() -> None:
    """Make Streamlit's server bind its listening socket through :func:`tcp_listener`."""
    bind: Callable[[str, int, int], socket.socket] = starlette_server._bind_socket
    if getattr(bind, "tcp_listener", False):
        return

    def bind_tcp(address: str, port: int, backlog: int) -> socket.socket:
        return tcp_listener(bind(address, port, backlog))

    bind_tcp.tcp_listener = True  # type: ignore[attr-defined]  # a marker: installed once
    starlette_server._bind_socket = bind_tcp


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``streamlit`` with ``argv`` (default: this process's arguments) in this process."""
    use_navigation_pages()
    send_without_delay()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
