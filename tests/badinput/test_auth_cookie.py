"""A tampered, forged or expired auth cookie: signed out, no crash.

AppTest cannot send cookies (``st.context.cookies`` comes from the browser's request, and
``AppTest.context`` cannot seed it), so these tests put the cookie where Streamlit reads it:
``ContextProxy.cookies`` is patched to return it, and the real ``app.py`` runs its real auth gate
(streamlit-authenticator's cookie check). A valid cookie signing the user in is the control that
shows the patch reaches the gate. ``test_browser_badinput.py`` repeats the worst cases in Chromium.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
from streamlit.runtime.context import ContextProxy, StreamlitCookies
from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.store import Store
from recsys.ui.auth import COOKIE_NAME
from tests.app.helpers import PASSWORD, alerts, login, start
from tests.badinput.support import (
    HOUR,
    alg_none,
    b64,
    make_user,
    stored_rows,
    tampered_payload,
    tampered_signature,
    token,
)
from tests.support.narrow import present

Forge = Callable[[str], str]
SIGNED_OUT: dict[str, Forge] = {
    "tampered signature": tampered_signature,
    "tampered payload": tampered_payload,
    "signed with another key": lambda key: token("another-key-" + "z" * 40),
    "expired": lambda key: token(key, expires_in=-60),
    "unknown user": lambda key: token(key, username="mallory"),
    "alice's name, bob's id": lambda key: token(key, username="alice", uid=2),
    "an older session version": lambda key: token(key, sv=-1),
    "no id (a cookie from before revocable sessions)": lambda key: jwt.encode(
        {"username": "alice", "exp_date": time.time() + HOUR}, key, algorithm="HS256"
    ),
    "deactivated user": lambda key: token(key, username="bob"),
    "not a JWT": lambda key: "not-a-jwt",
    "empty": lambda key: "",
    "three dots": lambda key: "a.b.c",
    "binary junk": lambda key: b64(bytes(range(256)) * 16),
    "quotes and SQL": lambda key: "' OR 1=1 --\"; DROP TABLE users;",
}
# Cookies whose decoding raises something other than DecodeError / InvalidSignatureError, which
# is all streamlit-authenticator 0.4.2's CookieModel._token_decode catches.
CRASHING: dict[str, Forge] = {
    "alg none": alg_none,
    "alg HS512": lambda key: jwt.encode(
        {"username": "alice", "uid": 1, "sv": 0, "exp_date": time.time() + HOUR}, key, algorithm="HS512"
    ),
    "no exp_date (signed)": lambda key: jwt.encode({"username": "alice", "uid": 1, "sv": 0}, key, algorithm="HS256"),
}


@pytest.fixture
def cookie_jar(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The cookies the next AppTest run sends (what ``st.context.cookies`` returns)."""
    jar: dict[str, str] = {}
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: StreamlitCookies(dict(jar))))
    return jar


@pytest.fixture
def accounts(app_settings: Settings) -> Settings:
    make_user(app_settings, "alice")
    make_user(app_settings, "bob")
    with Store.open(app_settings.store_url) as store:
        store.set_active(present(store.get_user("bob")).id, False)
    return app_settings


def assert_signed_out(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.session_state["authentication_status"]
    assert at.title[0].value == "CineBlend"  # the sign-in page
    assert not [c for c in at.sidebar.caption if str(c.value).startswith("Signed in as")]


def test_a_valid_cookie_signs_in(accounts: Settings, cookie_jar: dict[str, str]) -> None:
    cookie_jar[COOKIE_NAME] = token(accounts.cookie_key())
    at = start()
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert at.title[0].value == "Your feed"


@pytest.mark.parametrize("forge", SIGNED_OUT)
def test_bad_cookie_leaves_the_visitor_signed_out(accounts: Settings, cookie_jar: dict[str, str], forge: str) -> None:
    before = stored_rows(accounts)
    cookie_jar[COOKIE_NAME] = SIGNED_OUT[forge](accounts.cookie_key())
    at = start()
    assert_signed_out(at)
    at.run()  # and on the next run (the browser's cookie component reruns the app)
    assert_signed_out(at)
    assert stored_rows(accounts) == before


def test_after_a_bad_cookie_the_login_form_still_works(accounts: Settings, cookie_jar: dict[str, str]) -> None:
    cookie_jar[COOKIE_NAME] = tampered_payload(accounts.cookie_key())
    at = start()
    login(at, "alice", PASSWORD)
    assert not at.exception and not alerts(at, "error")
    assert at.session_state["authentication_status"] is True
    assert at.session_state["username"] == "alice"  # not bob, whose claims were forged


@pytest.mark.filterwarnings("ignore:The HMAC key is .* bytes long:UserWarning")  # the HS512 forgery
@pytest.mark.parametrize("forge", CRASHING)
def test_cookie_that_breaks_the_decoder_leaves_the_visitor_signed_out(
    accounts: Settings, cookie_jar: dict[str, str], forge: str
) -> None:
    cookie_jar[COOKIE_NAME] = CRASHING[forge](accounts.cookie_key())
    assert_signed_out(start())
