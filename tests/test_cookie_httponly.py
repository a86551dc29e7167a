"""Why the login cookie is not HttpOnly (issue 21, low: "the login cookie is readable by page
JavaScript"), pinned so the answer is revisited when a library changes.

streamlit-authenticator 0.4.2 writes its cookie from the page: ``CookieController.set_cookie``
calls ``extra_streamlit_components.CookieManager.set``, a component that runs
``document.cookie = ...`` in the browser. A browser never stores HttpOnly for a cookie written by
script, and the manager has no such option; only a ``Set-Cookie`` response header can make one,
and Streamlit 1.67 gives an app no hook on its HTTP responses. What limits the exposure instead:
the cookie is ``SameSite=Strict`` (the manager's default), it is a signed JWT naming an account
and its session version, so logging out, "log out everywhere", a password or role change end it
on the server (:func:`recsys.ui.auth.session_user`), and every text from data is inserted as
plain text (no script of ours or of data runs in the page). When this test fails, the libraries
changed: set the cookie HttpOnly and replace this test with one that checks the header.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import extra_streamlit_components as stx
from streamlit_authenticator.models.cookie_model import CookieModel


def test_the_cookie_is_written_by_page_script_which_cannot_set_httponly() -> None:
    assert version("streamlit-authenticator") == "0.4.2"  # an upgrade: check for a server-side cookie
    setter = inspect.signature(stx.CookieManager.set).parameters
    assert "httponly" not in {p.lower().replace("_", "") for p in setter}  # no way to ask for it
    assert setter["same_site"].default == "strict"  # what it does offer, and the app relies on
    source = inspect.getsource(CookieModel.set_cookie)
    assert "self.cookie_manager.set(" in source  # the page component, not a response header
