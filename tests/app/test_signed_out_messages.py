"""Say what happened (issue 20, item 5): an open session signed out by a role change, a password
change elsewhere, a deactivation or its own deletion lands on the sign-in page with a line saying
why, kept there (not a one-run flash) until the next sign-in."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from recsys.app import users
from recsys.config import Settings
from recsys.store import Store
from recsys.store.accounts import hash_password
from tests.app.helpers import PASSWORD, alerts
from tests.badinput.support import make_user, signed_in


def sign_in_page_says(at: AppTest, line: str) -> None:
    assert not at.exception
    assert any(t.key == "login-username" for t in at.text_input)
    assert line in alerts(at, "info") + alerts(at, "success")
    at.run()  # the cookie component's own rerun in a browser: the line stays
    assert line in alerts(at, "info") + alerts(at, "success")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ("role", "Your role changed to Analyst (live weights); please sign in again."),
        ("password", "Your password was changed (in another window, or by an admin); sign in with the new password."),
        ("deactivate", "Your account was deactivated; ask an admin to reactivate it."),
        ("logout elsewhere", "Your session ended (signed out elsewhere, password or role changed, or account removed); sign in again."),
    ],
)  # fmt: skip
def test_a_forced_sign_out_says_why(app_settings: Settings, change: str, line: str) -> None:
    make_user(app_settings, "root")
    tess = make_user(app_settings, "tess")
    at = signed_in("tess")
    at.switch_page("pages/account.py").run()
    assert not at.exception
    with Store.open(app_settings.store_url) as store:
        if change == "role":
            users.grant(store, "tess", "analyst")
        elif change == "password":
            store.set_password_hash("tess", hash_password("Another#pass9", rounds=4))
        elif change == "deactivate":
            store.set_active(tess.id, False)
        else:
            store.bump_session_version(tess.id)
    at.run()
    sign_in_page_says(at, line)


def test_deleting_ones_account_says_so_on_the_sign_in_page(app_settings: Settings) -> None:
    make_user(app_settings, "root")
    make_user(app_settings, "tess")
    at = signed_in("tess")
    at.switch_page("pages/account.py").run()
    at.text_input(key="acct-delete-password").input(PASSWORD)
    at.button(key="acct-delete").click().run()
    sign_in_page_says(at, "Your account, your ratings and your rows in the saved models were deleted.")
    with Store.open(app_settings.store_url) as store:
        assert store.get_user("tess") is None
