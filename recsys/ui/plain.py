"""Text from data and from errors shown as plain text: never Markdown, never a link or an image.

Streamlit's alerts, captions and toasts render Markdown; a download server's reason phrase like
``[Verify](http://x) ![](http://x/t.png)`` became a clickable link and a fetched image on the
data page (issue 21, N7). Everything interpolated goes through :func:`md_escape`, and every
alert whose text is not a literal goes through :func:`alert` / :func:`toast`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import streamlit as st

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")

Kind = Literal["error", "warning", "info", "success"]


def md_escape(text: object) -> str:
    """Escape Markdown so any text shows as the literal characters (no link: ``:`` and ``.``
    are escaped too, so ``http://x.y`` is not auto-linked). ``md_escape("[a](b)")`` ->
    ``\\[a\\]\\(b\\)``."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def alert(kind: Kind, text: object, **kwargs: Any) -> None:
    """``st.error`` / ``st.warning`` / ``st.info`` / ``st.success`` of ``text`` as plain text."""
    {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(md_escape(text), **kwargs)


def toast(text: object, **kwargs: Any) -> None:
    """``st.toast`` of ``text`` as plain text."""
    st.toast(md_escape(text), **kwargs)
