"""Session-state keys in one place, so pages and helpers never disagree on a spelling."""

import uuid
from collections.abc import MutableMapping
from typing import Any

AUTHENTICATOR = "cb_authenticator"
LOGOUT_REQUESTED = "cb_logout_requested"
FLASH = "cb_flash"  # (kind, message) shown once on the next run
AUTH_STATUS = "authentication_status"  # owned by streamlit-authenticator
USERNAME = "username"  # owned by streamlit-authenticator
UNDO = "cb_undo"  # list of actions.LastAction, newest last: the "Last action" slot shows the top
TOAST = "cb_toast"  # text of a toast to show once on the next run
CLICK_ERROR = "cb_click_error"  # why the last rating click was not saved (the action bar shows it)
RERUN_PAGE = "cb_rerun_page"  # a click inside a dialog (a fragment) asks for a full page run
DETAILS = "cb_details"  # tconst whose details dialog is open
DEMO = "cb_demo"  # recsys.app.demo.DemoStore of a demo session (signed in as a persona)
FEED_SESSION = "cb_feed_session"  # id of this tab's feed session (experiments: exposures, interleaving)

#: What belongs to the signed-in user and must not outlive a logout (the next person to sign in
#: on this tab must not see, or undo, the previous one's last click).
USER_SCOPED = (UNDO, TOAST, DETAILS, CLICK_ERROR, RERUN_PAGE, FEED_SESSION)


def feed_session(session_state: MutableMapping[Any, Any]) -> str:
    """This tab's feed session id (made on first use; a new one after logout): the exposure log
    groups a tester's renders by it, and interleaving seeds its coin flips with it."""
    value = session_state.get(FEED_SESSION)
    if not isinstance(value, str):
        value = session_state[FEED_SESSION] = uuid.uuid4().hex
    return value


def forget_user_scoped(session_state: MutableMapping[Any, Any]) -> None:
    """Drop :data:`USER_SCOPED` keys from ``st.session_state`` (at logout)."""
    for key in USER_SCOPED:
        session_state.pop(key, None)


SESSION_UID = "cb_session_uid"  # id of the signed-in account (what the cookie carries)
SESSION_VERSION = "cb_session_version"  # its session version when this session signed in
COOKIE_SEEN = "cb_cookie_seen"  # the browser cookie already checked (or deleted) this session
SESSION_REVOKED = "cb_session_revoked"  # a click was refused because the session was revoked
SESSION_ROLE = "cb_session_role"  # the account's role when this session signed in
SESSION_PASSWORD = "cb_session_password"  # a digest of its password hash then (a later change ends it)
SIGNED_OUT_NOTE = "cb_signed_out_note"  # (kind, message): why this tab was signed out, until the next sign-in
