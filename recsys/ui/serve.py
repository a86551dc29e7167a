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

Example::

    python -m recsys.ui.serve run app.py --server.port 8600
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web.cli import main as streamlit_main


def use_navigation_pages() -> None:
    """Tell Streamlit, before its first session, that ``app.py``'s ``st.navigation`` decides the
    pages (what its first ``st.navigation`` call would set anyway)."""
    PagesManager.uses_pages_directory = False


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``streamlit`` with ``argv`` (default: this process's arguments) in this process."""
    use_navigation_pages()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
