"""Authentication with streamlit-authenticator over users kept in the app store.

The authenticator object lives in the session (one cookie manager per session, see PITFALLS);
its credentials dict is rebuilt from the store on every signed-out run, so an account
registered in another session can log in here. Registration is ours (validated, bcrypt-hashed,
written to the store), then the new user is signed in with the same cookie the login sets.
"""

from __future__ import annotations

import logging

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from recsys.config import Settings
from recsys.store import Store, User
from recsys.store.accounts import register
from recsys.ui import demo, state

log = logging.getLogger(__name__)

COOKIE_NAME = "cineblend_auth"
COOKIE_DAYS = 30.0


def _credentials(store: Store) -> dict:
    creds = store.credentials()
    return {"usernames": {name.lower(): dict(v) for name, v in creds["usernames"].items()}}


def authenticator(store: Store, cfg: Settings) -> stauth.Authenticate:
    """This session's authenticator, with credentials fresh from the store."""
    auth = st.session_state.get(state.AUTHENTICATOR)
    if auth is None:
        auth = stauth.Authenticate(
            {"usernames": {}},
            cookie_name=COOKIE_NAME,
            cookie_key=cfg.cookie_key(),
            cookie_expiry_days=COOKIE_DAYS,
            auto_hash=False,
            # the cookie is read server-side from st.context.cookies: no need to wait for it
            login_sleep_time=0,
        )
        _tolerate_bad_cookies(auth)
        st.session_state[state.AUTHENTICATOR] = auth
    if not st.session_state.get(state.AUTH_STATUS):
        auth.authentication_controller.authentication_model.credentials = _credentials(store)
    return auth


def _tolerate_bad_cookies(auth: stauth.Authenticate) -> None:
    """A forged or malformed cookie (unsigned, another algorithm, missing fields) reads as no
    cookie: the visitor stays signed out instead of every page crashing in the decoder."""
    read = auth.cookie_controller.get_cookie

    def safe_read() -> dict | None:
        try:
            return read()
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            log.info("ignoring an unusable auth cookie: %s", type(exc).__name__)
            return None

    auth.cookie_controller.get_cookie = safe_read


def gate(store: Store, cfg: Settings) -> User | None:
    """Run every time before the page list is built: handles logout requests and the cookie.

    Returns the signed-in, active user (or a demo session's persona) or None.
    """
    # The cookie manager's components render only on some runs (first run of a session, logout).
    # A keyed holder created on every run keeps them from shifting the page's own elements,
    # which Streamlit would otherwise re-create (tabs reset, typed text lost).
    with st.container(key="cb-auth-holder", border=False):
        demo_store = demo.active()
        if demo_store is not None:  # a demo session: no cookie, no account
            if st.session_state.pop(state.LOGOUT_REQUESTED, False):
                demo.end()
                st.session_state.setdefault(state.FLASH, ("info", "You left the demo profile."))
                return None
            return demo_store.current_user()
        auth = authenticator(store, cfg)
        if st.session_state.pop(state.LOGOUT_REQUESTED, False) and st.session_state.get(state.AUTH_STATUS):
            auth.logout(location="unrendered")
            state.forget_user_scoped(st.session_state)
            st.session_state.setdefault(state.FLASH, ("info", "You are signed out."))
            return None
        if not st.session_state.get(state.AUTH_STATUS):
            try:
                auth.login(location="unrendered")
            except LoginError:
                # a valid cookie for an account that no longer exists: stay signed out
                log.info("auth cookie names an unknown user; ignoring it")
    return current_user(store)


def current_user(store: Store) -> User | None:
    demo_store = demo.active()
    if demo_store is not None:
        return demo_store.current_user()
    if not st.session_state.get(state.AUTH_STATUS):
        return None
    username = st.session_state.get(state.USERNAME)
    user = store.get_user(username) if username else None
    if user is None or not user.is_active:
        for key in (state.AUTH_STATUS, state.USERNAME, "name", "email"):
            st.session_state[key] = None
        return None
    return user


def require_user(store: Store) -> User:
    """The signed-in user, or stop this page with a way to sign in (e.g. a stale deep link)."""
    user = current_user(store)
    if user is None:
        st.info("Please sign in to see this page: open the app's start page.")
        st.stop()
    return user


def request_logout() -> None:
    """on_click callback for every logout button; the gate does the work on the next run."""
    st.session_state[state.LOGOUT_REQUESTED] = True


def login_form(store: Store, cfg: Settings) -> None:
    auth = authenticator(store, cfg)
    try:
        auth.login(
            location="main",
            key="login-form",
            fields={"Form name": "Log in", "Login": "Log in"},
        )
    except LoginError as exc:
        st.error(str(exc))
    status = st.session_state.get(state.AUTH_STATUS)
    if status is False:
        st.error("Username or password is incorrect. Try again or register a new account.")
    elif status:
        # No st.rerun() here: it would drop the component that is setting the auth cookie.
        # That component triggers the next run itself, which opens the user's landing page.
        st.success("Signed in. Opening your page…")


def register_and_sign_in(store: Store, cfg: Settings, username: str, name: str, email: str, password: str) -> User:
    """Create the account (raises RegistrationError / DuplicateUserError) and sign it in."""
    user = register(store, username, name, email, password)
    auth = authenticator(store, cfg)
    st.session_state["name"] = user.name
    st.session_state["email"] = user.email
    st.session_state[state.USERNAME] = user.username
    st.session_state[state.AUTH_STATUS] = True
    auth.cookie_controller.set_cookie()
    return user
