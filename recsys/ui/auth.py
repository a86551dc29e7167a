"""Sign-in, sign-up and revocable sessions over users kept in the app store.

streamlit-authenticator 0.4.2 provides the cookie plumbing (its cookie manager component sets
and deletes the browser cookie; the authenticator object lives in the session, see PITFALLS).
Everything that decides *who* is signed in is ours:

- **The cookie** is an HS256 JWT of ``{username, uid, sv, exp_date}``: the account's id and its
  session version (:attr:`recsys.store.User.session_version`). It signs a visitor in only while
  the account with that id still exists under that name, is active and has that version. Logout,
  a password change, a role change and deletion raise or remove the version, so every earlier
  cookie (and every open session of the account, checked on each run) stops working. A cookie
  that fails the check is deleted and the sign-in form shown.
- **Sign-in** is our own form (same labels and keys as the library's): :class:`recsys.access.throttle.
  Throttle` refuses throttled attempts, checks the password with exactly one bcrypt check for
  known and unknown usernames alike, and counts failures per account and per client.
- **Registration** is validated, bcrypt-hashed and written to the store, limited per client.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from recsys.access import invites
from recsys.access.clientip import client_address
from recsys.access.roles import ROLE_LABELS
from recsys.access.throttle import Limits, Refusal, Throttle
from recsys.config import Settings
from recsys.errors import CineBlendError, DuplicateUserError, UnknownUserError
from recsys.store import Store, User
from recsys.store.accounts import check_password, register
from recsys.ui import demo, plain, resources, state

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Set while a checked callback runs on this thread (a script thread runs one session's run): the
#: checked callbacks it calls (a card click -> rate -> set_rating) act under the same check.
_inside_checked = threading.local()

COOKIE_NAME = "cineblend_auth"
COOKIE_DAYS = 30.0
LOGIN_FORM = "login-form"
INCORRECT = "Username or password is incorrect. Try again or register a new account."
SESSION_ENDED = (
    "Your session ended (signed out elsewhere, password or role changed, or account removed); sign in again."
)
#: Why an open session was signed out, when the store tells (issue 20, item 5); shown on the
#: sign-in page until the next sign-in. {role}: the new role's label.
ROLE_CHANGED = "Your role changed to {role}; please sign in again."
PASSWORD_CHANGED = "Your password was changed (in another window, or by an admin); sign in with the new password."
ACCOUNT_DELETED = "Your account and its ratings were deleted."
DEACTIVATED = "Your account was deactivated; ask an admin to reactivate it."

PASSWORD_HELP = (
    "Password: 8-128 characters. Under 16 characters it needs a lower-case and an upper-case "
    "letter, a digit and a special character; a passphrase of 16 or more characters (spaces "
    "welcome) needs none of these. Very common passwords are refused."
)
FIRST_ACCOUNT_HELP = (
    "The first account created on a fresh install becomes the admin (data downloads, training, "
    "accounts); every later account is a tester until an admin grants it a role."
)


class RateLimitedError(CineBlendError):
    """Too many attempts from this client or for this account; the message says when to retry."""


def authenticator(cfg: Settings) -> stauth.Authenticate:
    """This session's authenticator (its cookie manager), created once per session."""
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
        model = auth.cookie_controller.cookie_model
        model._token_encode = lambda: _encode(model.cookie_key, model.exp_date)
        st.session_state[state.AUTHENTICATOR] = auth
    return auth


def _encode(key: str, exp_date: float) -> str:
    """The cookie of this session's user: who (name and id) and which session version."""
    payload = {
        "username": st.session_state[state.USERNAME],
        "uid": st.session_state[state.SESSION_UID],
        "sv": st.session_state[state.SESSION_VERSION],
        "exp_date": exp_date,
    }
    return jwt.encode(payload, key, algorithm="HS256")


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


def token_user(store: Store, token: Any) -> User | None:
    """The account a decoded cookie stands for, or None when it names no current session: the
    id, the name, the active flag and the session version must all still match."""
    if not isinstance(token, dict):
        return None
    uid, version, username = token.get("uid"), token.get("sv"), token.get("username")
    if not isinstance(uid, int) or isinstance(uid, bool) or not isinstance(version, int):
        return None  # a cookie from before revocable sessions, or a forged one
    user = store.get_user_by_id(uid)
    if user is None or not user.is_active or user.username != username or user.session_version != version:
        return None
    return user


def _establish(user: User) -> None:
    """Sign ``user`` in for this session (what the cookie will carry)."""
    st.session_state.update(
        {
            state.AUTH_STATUS: True,
            state.USERNAME: user.username,
            "name": user.name,
            "email": user.email,
            state.SESSION_UID: user.id,
            state.SESSION_VERSION: user.session_version,
            state.SESSION_ROLE: user.role,
            state.SESSION_PASSWORD: _fingerprint(user.password_hash),
            "logout": None,
        }
    )
    st.session_state.pop(state.SIGNED_OUT_NOTE, None)


def _fingerprint(password_hash: str) -> str:
    """A short digest of the account's password hash (to tell later that it changed)."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def ended_because(store: Store) -> str:
    """Why this session's account is no longer current, as one line for the sign-in page:
    deleted, deactivated, role changed, password changed, else :data:`SESSION_ENDED` (signed
    out elsewhere). Reads the account once, compared with what the session signed in with."""
    uid = st.session_state.get(state.SESSION_UID)
    user = store.get_user_by_id(uid) if isinstance(uid, int) else None
    if user is None or user.username != st.session_state.get(state.USERNAME):
        return ACCOUNT_DELETED
    if not user.is_active:
        return DEACTIVATED
    if st.session_state.get(state.SESSION_ROLE) not in (None, user.role):
        return ROLE_CHANGED.format(role=ROLE_LABELS.get(user.role, user.role))
    if st.session_state.get(state.SESSION_PASSWORD) not in (None, _fingerprint(user.password_hash)):
        return PASSWORD_CHANGED
    return SESSION_ENDED


def _sign_out(auth: stauth.Authenticate, flash: str) -> None:
    """End this session's sign-in and delete the browser's cookie; the sign-in page then says
    why (a message a callback left, e.g. the deletion's, else ``flash``) until the next sign-in:
    a one-run flash would vanish on the cookie component's own rerun a moment later."""
    auth.authentication_controller.logout()  # clears name / username / status; no cookie reread
    auth.cookie_controller.delete_cookie()
    # st.context.cookies keeps the connection's cookie for the session: never read it again
    raw = st.context.cookies.get(COOKIE_NAME)
    st.session_state[state.COOKIE_SEEN] = raw if isinstance(raw, str) else None
    for key in (
        state.SESSION_UID,
        state.SESSION_VERSION,
        state.SESSION_REVOKED,
        state.SESSION_ROLE,
        state.SESSION_PASSWORD,
    ):
        st.session_state.pop(key, None)
    state.forget_user_scoped(st.session_state)
    st.session_state[state.SIGNED_OUT_NOTE] = st.session_state.pop(state.FLASH, None) or ("info", flash)


def _cookie_sign_in(store: Store, auth: stauth.Authenticate) -> User | None:
    """Sign in from the browser's cookie if it names a current session; a cookie that does not
    is deleted (once: the connection's cookie stays in ``st.context.cookies``)."""
    raw = st.context.cookies.get(COOKIE_NAME)
    if not isinstance(raw, str) or not raw or st.session_state.get(state.COOKIE_SEEN) == raw:
        return None
    if st.session_state.get("logout"):
        return None
    st.session_state[state.COOKIE_SEEN] = raw
    user = token_user(store, auth.cookie_controller.get_cookie())
    if user is None:
        log.info("auth cookie names no current session; deleting it")
        auth.cookie_controller.delete_cookie()
        return None
    _establish(user)
    return user


def session_user(store: Store) -> User | None:
    """The account signed in on this session if it is still current (checked on every run):
    same id, name and session version, still active. A demo session's persona otherwise."""
    demo_store = demo.active()
    if demo_store is not None:
        return demo_store.current_user()
    if not st.session_state.get(state.AUTH_STATUS):
        return None
    uid = st.session_state.get(state.SESSION_UID)
    user = store.get_user_by_id(uid) if isinstance(uid, int) else None
    if (
        user is None
        or not user.is_active
        or user.username != st.session_state.get(state.USERNAME)
        or user.session_version != st.session_state.get(state.SESSION_VERSION)
    ):
        return None
    return user


def revoked() -> bool:
    """True when this session signed in to an account whose session is no longer current
    (signed out elsewhere, password or role changed, account removed or deactivated).

    The one session check behind :func:`checked` (every click callback that acts) and
    :func:`fragment` (every fragment run): full page runs get it from :func:`gate`, but a click
    inside a fragment reruns only the fragment, and callbacks run before any page code, so
    neither would see a revocation otherwise. One indexed lookup of the account (~0.3 ms on
    SQLite) per script run: a click's callback and the fragment run right after it (the same
    run, a few milliseconds apart) share one passed check for the same session (the same account
    id, name and session version in this session's state: :func:`recsys.ui.resources.run_memo`).
    A failed check is never remembered. Signed-out and demo sessions have nothing to revoke.
    """
    if demo.active() is not None or not st.session_state.get(state.AUTH_STATUS):
        return False
    passed = (
        "session check passed",
        st.session_state.get(state.SESSION_UID),
        st.session_state.get(state.USERNAME),
        st.session_state.get(state.SESSION_VERSION),
    )
    memo = resources.run_memo()
    if passed in memo:
        return False
    if session_user(resources.shared_store()) is None:
        return True
    memo[passed] = True
    return False


def checked(callback: Callable[_P, _R]) -> Callable[_P, _R | None]:
    """Decorate a click callback: it acts only while this session is current (:func:`revoked`).

    A revoked session's click stores nothing; the run that follows (a fragment run through
    :func:`fragment`, or a full run through :func:`gate`) signs out and opens the sign-in page
    with :data:`SESSION_ENDED`. Example: ``st.button("Like", on_click=checked(rate), args=...)``
    or ``@auth.checked`` on the callback's definition. Checked callbacks called by a checked
    callback run under its check (one lookup per click, not one per layer: a feed card click
    went through three).
    """

    @functools.wraps(callback)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
        if getattr(_inside_checked, "active", False):  # the outer checked callback checked
            return callback(*args, **kwargs)
        if revoked():
            log.info("click refused: the session of %s was revoked", st.session_state.get(state.USERNAME))
            st.session_state[state.SESSION_REVOKED] = True
            return None
        _inside_checked.active = True
        try:
            return callback(*args, **kwargs)
        finally:
            _inside_checked.active = False

    return run


def fragment(body: Callable[_P, None] | None = None, *, run_every: float | None = None) -> Any:
    """``st.fragment`` whose every run first passes the session check.

    A fragment run of a revoked session becomes a full run (``st.rerun(scope="app")``), where
    :func:`gate` signs out and the sign-in page says why; the fragment's body (which holds the
    user captured when the page last ran in full) never runs. Use as ``@auth.fragment`` or
    ``auth.fragment(body, run_every=1.0)``.
    """

    def wrap(inner: Callable[_P, None]) -> Any:
        @functools.wraps(inner)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
            if st.session_state.get(state.SESSION_REVOKED) or revoked():
                st.rerun(scope="app")
            inner(*args, **kwargs)

        return st.fragment(run, run_every=run_every)

    return wrap(body) if body is not None else wrap


def gate(store: Store, cfg: Settings) -> User | None:
    """Run every time before the page list is built: logout requests, the session check, the
    cookie. Returns the signed-in, current user (or a demo session's persona) or None."""
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
        auth = authenticator(cfg)
        if st.session_state.pop(state.LOGOUT_REQUESTED, False) and st.session_state.get(state.AUTH_STATUS):
            user = session_user(store)
            if user is not None:
                with contextlib.suppress(UnknownUserError):  # it was just deleted: nothing to revoke
                    store.bump_session_version(user.id)  # every cookie of this account stops working
            _sign_out(auth, "You are signed out.")
            return None
        if st.session_state.get(state.AUTH_STATUS):
            user = session_user(store)
            if user is None:
                _sign_out(auth, ended_because(store))
            return user
        return _cookie_sign_in(store, auth)


def current_user(store: Store) -> User | None:
    """The signed-in user of this run (see :func:`session_user`)."""
    return session_user(store)


def role(user: User | None) -> str | None:
    """The role whose privileges this session has: None when signed out or in a demo session
    (a demo persona is the first account of its private store, which must grant nothing)."""
    if user is None or demo.active() is not None:
        return None
    return user.role


def require_user(store: Store) -> User:
    """The signed-in user, or stop this page with a way to sign in (e.g. a stale deep link)."""
    user = current_user(store)
    if user is None:
        st.info("Please sign in to see this page: open the app's start page.")
        st.stop()
    return user


@checked
def request_logout() -> None:
    """on_click callback for every logout button; the gate does the work on the next run."""
    st.session_state[state.LOGOUT_REQUESTED] = True


def client_id() -> str:
    """Who is asking, for per-client limits: the connection's peer address, or the address a
    trusted proxy (``CINEBLEND_TRUSTED_PROXIES``) reports, parsed as an IP address
    (:func:`recsys.access.clientip.client_address`); ``local`` without a network peer. Read from the
    session's client context (``st.context.ip_address`` hides loopback peers)."""
    try:
        from streamlit.runtime.context import _get_client_context

        ctx = _get_client_context()
        remote = getattr(ctx, "remote_ip", None) if ctx is not None else None
        headers = list(getattr(ctx, "headers", None) or ()) if ctx is not None else []
    except Exception:  # an internal API: no address is better than no sign-in
        remote, headers = None, []
    peer = remote if isinstance(remote, str) and remote else None
    return client_address(peer, headers, resources.settings().trusted_proxies)


def _session_id() -> str:
    """This browser session's id (Streamlit's), for limits that belong to one session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def throttle() -> Throttle:
    """Limits over the app's one store (never a demo session's copy), as configured."""
    cfg = resources.settings()
    limits = Limits.of(
        account_failures=cfg.signin_account_failures,
        client_failures=cfg.signin_client_failures,
        registrations_per_hour=cfg.registrations_per_hour,
    )
    return Throttle(resources.shared_store(cfg), limits=limits)


def issue_cookie(cfg: Settings, user: User) -> None:
    """Sign ``user`` in on this session and send the browser a cookie for its current version
    (after sign-in, sign-up or a password change)."""
    _establish(user)
    authenticator(cfg).cookie_controller.set_cookie()


def sign_in(cfg: Settings, username: str, password: str) -> User | str:
    """Check a sign-in from the form: the user (signed in, cookie sent) or one line saying why not."""
    result = throttle().sign_in(username, password, client_id())
    if isinstance(result, Refusal):
        return result.message
    if result is None:
        return INCORRECT
    issue_cookie(cfg, result)
    return result


def login_form(store: Store, cfg: Settings) -> None:
    """The sign-in form (labels and keys as streamlit-authenticator's, which tests rely on)."""
    with st.form(LOGIN_FORM, clear_on_submit=False):
        st.subheader("Log in", anchor=False)
        username = st.text_input("Username", key="login-username", max_chars=32, autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login-password", max_chars=128, autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    result = sign_in(cfg, username, password)
    if isinstance(result, str):
        st.session_state[state.AUTH_STATUS] = False
        plain.alert("error", result)
    else:
        # No st.rerun() here: it would drop the component that is setting the auth cookie.
        # That component triggers the next run itself, which opens the user's landing page.
        st.success("Signed in. Opening your page…")


def register_and_sign_in(
    store: Store, cfg: Settings, username: str, name: str, email: str, password: str, invite: str | None = None
) -> User:
    """Create the account and sign it in. Raises RateLimitedError (too many sign-ups from this
    client), InviteError, RegistrationError or DuplicateUserError.

    With a valid ``invite`` token (:mod:`recsys.access.invites`) the per-client limit neither refuses
    nor counts the registration (an office behind one address); a used, expired or unknown
    token counts like any registration attempt, so guessing tokens stays limited.
    """
    limits = throttle()
    client = client_id()
    if invite:
        try:
            invites.check(store, invite)
        except invites.InviteError:
            refusal = limits.registration_refusal(client)
            if refusal is not None:
                raise RateLimitedError(refusal.message) from None
            limits.registered(client)
            raise
        user = invites.register(store, invite, username, name, email, password)
        issue_cookie(cfg, user)
        return user
    refusal = limits.registration_refusal(client)
    if refusal is not None:
        raise RateLimitedError(refusal.message)
    try:
        user = register(store, username, name, email, password)
    except DuplicateUserError:  # counts too: the form must not list the accounts for free
        limits.registered(client)
        raise
    limits.registered(client)
    issue_cookie(cfg, user)
    return user


def verify_own_password(user: User, password: str, what: str = "The password") -> str | None:
    """Check a signed-in user's password (to change it or delete the account), throttled like a
    sign-in: None if right, else one line saying why not."""
    result = throttle().checked(
        user.username,
        password,
        client_id(),
        lambda: True if check_password(password, user.password_hash) else None,
        session=_session_id(),
    )
    if isinstance(result, Refusal):
        return result.message
    return f"{what} is wrong." if result is None else None


@checked
def delete_own_account(password_key: str) -> None:
    """on_click of "Delete my account": needs the account's password, then removes the account
    (ratings, history, hidden titles, settings attribution, saved-model rows) and signs out."""
    from recsys.app import users

    cfg = resources.settings()
    user = current_user(resources.store(cfg))
    password = str(st.session_state.get(password_key) or "")
    st.session_state[password_key] = ""
    if user is None or demo.active() is not None:
        st.session_state[state.FLASH] = ("error", "Sign in to your own account to delete it.")
        return
    problem = verify_own_password(user, password)
    if problem is not None:
        st.session_state[state.FLASH] = ("error", f"Account not deleted: {problem}")
        return
    try:
        users.remove(resources.shared_store(cfg), user.username, cfg.models_dir, cfg.data_dir, cfg.store_url)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", f"Account not deleted: {exc}")
        return
    request_logout()
    st.session_state[state.FLASH] = (
        "success",
        "Your account, your ratings and your rows in the saved models were deleted.",
    )
