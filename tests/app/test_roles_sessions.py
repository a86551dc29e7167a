"""Roles, revocable sessions and sign-in limits, driven through the real app in AppTest.

Cookies: AppTest runs no components, so the cookie the app sends is captured where it hands it
to the cookie manager (``CookieManager.set``), and a "browser" presents one by patching what
Streamlit reads (``ContextProxy.cookies``), as ``tests/badinput/test_auth_cookie.py`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import bcrypt
import extra_streamlit_components as stx
import pytest
from sqlalchemy import update
from streamlit.runtime.context import ContextProxy, StreamlitCookies
from streamlit.testing.v1 import AppTest

from recsys.access import throttle
from recsys.app import users
from recsys.config import Settings
from recsys.models.artifacts import versions
from recsys.store import Store, accounts
from recsys.store.schema import users as users_table
from recsys.ui.auth import COOKIE_NAME
from tests.app.helpers import PASSWORD, alerts, login, onboarded, register, start, texts
from tests.support.narrow import present

PASSPHRASE = "the quick brown fox jumps over the lazy dog while the cat sleeps by the warm fire tonight!!"


@pytest.fixture
def cookie_jar(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The cookies the next AppTest session presents (what ``st.context.cookies`` returns)."""
    jar: dict[str, str] = {}
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: StreamlitCookies(dict(jar))))
    return jar


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every auth cookie value the app sends to a browser, in order."""
    sent: list[str] = []
    original = stx.CookieManager.set

    def record(self: stx.CookieManager, cookie: str, val: str, *args: object, **kwargs: object) -> None:
        if cookie == COOKIE_NAME:
            sent.append(val)
        original(self, cookie, val, *args, **kwargs)

    monkeypatch.setattr(stx.CookieManager, "set", record)
    return sent


@pytest.fixture
def admin_first(app_settings: Settings) -> Settings:
    """The install's admin ("root") already exists: accounts registered in the test are testers."""
    with Store.open(app_settings.store_url) as store:
        root = accounts.register(store, "root", "Root", "root@example.com", PASSWORD)
        store.set_onboarding_step(root.id, "done")
    return app_settings


def browser_with(cookie_jar: dict[str, str], cookie: str) -> AppTest:
    """A new browser session presenting ``cookie``."""
    cookie_jar[COOKIE_NAME] = cookie
    return start()


def assert_sign_in_form(at: AppTest) -> None:
    """Signed out, on the sign-in page with its form (not "User not authorized")."""
    assert not at.exception, at.exception
    assert not at.session_state["authentication_status"]
    assert at.title[0].value == "CineBlend"
    assert at.button(key="FormSubmitter:login-form-Log in") is not None
    assert not [e for e in alerts(at, "error") if "not authorized" in e.lower()]


def assert_signed_in(at: AppTest, username: str) -> None:
    assert not at.exception, at.exception
    assert at.session_state["authentication_status"] is True
    assert at.session_state["username"] == username


# --------------------------------------------------------------------------- revocable sessions


def test_a_cookie_captured_before_logout_no_longer_signs_in(
    app_settings: Settings, cookie_jar: dict[str, str], issued: list[str]
) -> None:
    at = onboarded(app_settings)
    captured = issued[-1]
    other = browser_with(cookie_jar, captured)  # control: the cookie works while the session lives
    assert_signed_in(other, "alice")
    assert other.title[0].value == "Your feed"

    at.sidebar.button(key="logout-button").click().run()
    assert_sign_in_form(browser_with(cookie_jar, captured))
    other.run()  # an open session of the account ends on its next run, too
    assert not other.session_state["authentication_status"]
    assert any("session ended" in m for m in alerts(other, "info"))


def test_a_cookie_captured_before_a_password_change_no_longer_signs_in(
    app_settings: Settings, cookie_jar: dict[str, str], issued: list[str]
) -> None:
    at = onboarded(app_settings)
    captured = issued[-1]
    at.switch_page("pages/account.py").run()
    at.text_input(key="acct-pw-current").input(PASSWORD)
    at.text_input(key="acct-pw-new").input("Newer#pass2")
    at.text_input(key="acct-pw-repeat").input("Newer#pass2")
    at.button(key="FormSubmitter:password-form-Change password").click().run()
    assert not alerts(at, "error")
    fresh_cookie = issued[-1]
    assert fresh_cookie != captured

    assert_sign_in_form(browser_with(cookie_jar, captured))
    assert_signed_in(browser_with(cookie_jar, fresh_cookie), "alice")  # the changing session's new one
    at.run()
    assert_signed_in(at, "alice")  # and the session that changed it stays signed in


def test_deleted_then_re_registered_username_with_the_old_cookie_shows_the_sign_in_form(
    admin_first: Settings, cookie_jar: dict[str, str], issued: list[str]
) -> None:
    dave = start()
    register(dave, username="dave", email="dave@example.com", name="Dave")
    old_cookie = issued[-1]
    with Store.open(admin_first.store_url) as store:  # onboarded, so the account page is open
        store.set_onboarding_step(present(store.get_user("dave")).id, "done")
    dave.run()
    dave.switch_page("pages/account.py").run()
    dave.text_input(key="acct-delete-password").input(PASSWORD)
    dave.button(key="acct-delete").click().run()
    assert not dave.exception
    with Store.open(admin_first.store_url) as store:
        assert store.get_user("dave") is None

    someone = start()
    register(someone, username="dave", email="new-dave@example.com", name="Another Dave")
    assert_signed_in(someone, "dave")

    stale = browser_with(cookie_jar, old_cookie)
    assert_sign_in_form(stale)
    stale.run()  # the browser's rerun after the cookie was deleted: still the form
    assert_sign_in_form(stale)


def test_a_role_change_ends_the_accounts_sessions_and_cookies(
    admin_first: Settings, cookie_jar: dict[str, str], issued: list[str]
) -> None:
    at = onboarded(admin_first)
    captured = issued[-1]
    with Store.open(admin_first.store_url) as store:
        users.grant(store, "alice", "analyst")
    at.run()
    assert not at.session_state["authentication_status"]
    assert_sign_in_form(browser_with(cookie_jar, captured))
    login(at, "alice", PASSWORD)
    assert_signed_in(at, "alice")


# --------------------------------------------------------------------------------------- roles


def test_the_account_page_shows_the_role_and_only_admins_get_the_admin_section(admin_first: Settings) -> None:
    at = onboarded(admin_first)  # alice, a tester
    at.switch_page("pages/account.py").run()
    assert "Role: Tester" in texts(at)
    assert not [b for b in at.button if str(b.key).startswith("admin-")]

    admin = start()
    login(admin, "root", PASSWORD)
    admin.switch_page("pages/account.py").run()
    assert "Role: Admin" in texts(admin)
    admin.selectbox(key="admin-user").set_value("alice")
    admin.selectbox(key="admin-role").set_value("analyst")
    admin.button(key="admin-grant").click().run()
    assert any("alice is now analyst" in m for m in alerts(admin, "success"))
    admin.button(key="admin-revoke").click().run()
    assert any("alice is now tester" in m for m in alerts(admin, "success"))


def demote_behind_the_sessions_back(settings: Settings, username: str) -> None:
    """Make ``username`` a tester without ending their sessions (as if the role changed between
    the page being drawn and the click): only a server-side check at the action stops them."""
    with Store.open(settings.store_url) as store, store.engine.begin() as conn:
        conn.execute(update(users_table).where(users_table.c.username == username).values(role="tester"))


def test_a_tester_cannot_grant_roles_even_with_the_admin_buttons_on_screen(app_settings: Settings) -> None:
    at = onboarded(app_settings)  # alice, the first account: admin
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "bob", "Bob", "bob@example.com", PASSWORD)
    at.switch_page("pages/account.py").run()
    at.selectbox(key="admin-user").set_value("bob")
    at.selectbox(key="admin-role").set_value("admin")
    demote_behind_the_sessions_back(app_settings, "alice")
    at.button(key="admin-grant").click().run()
    assert "Only an admin can manage accounts." in alerts(at, "error")
    with Store.open(app_settings.store_url) as store:
        assert present(store.get_user("bob")).role == "tester"
    assert not [b for b in at.button if str(b.key).startswith("admin-")]  # and the section is gone


def test_a_tester_cannot_start_a_job_even_with_the_button_on_screen(model_settings: Settings) -> None:
    at = onboarded(model_settings)  # alice, the first account: admin
    at.switch_page("pages/data.py").run()
    assert at.button(key="data-train") is not None
    before = [p.name for p in versions(model_settings.models_dir)]
    demote_behind_the_sessions_back(model_settings, "alice")
    at.button(key="data-train").click().run()
    assert not at.exception
    assert any("Only a signed-in admin" in e for e in alerts(at, "error"))
    assert [p.name for p in versions(model_settings.models_dir)] == before  # nothing trained
    assert not [b for b in at.button if str(b.key).startswith("data-")]


def test_signed_out_and_tester_visitors_see_the_data_state_but_no_job_buttons(admin_first: Settings) -> None:
    at = start()
    at.switch_page("pages/data.py").run()
    assert "Current catalogue" in texts(at)
    assert not [b for b in at.button if str(b.key).startswith("data-")]
    tester = onboarded(admin_first)
    tester.switch_page("pages/data.py").run()
    assert "Current catalogue" in texts(tester)
    assert not [b for b in tester.button if str(b.key).startswith("data-")]


# ------------------------------------------------------------------------------- sign-in limits


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """The limits' clock, frozen; call it with seconds to move it on."""
    now = [datetime(2030, 1, 1, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(throttle, "now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    return advance


def test_sign_in_is_throttled_per_account_with_a_message_saying_when(
    app_settings: Settings, clock: Callable[[float], None]
) -> None:
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "alice", "Alice", "alice@example.com", PASSWORD)
    at = start()
    for _ in range(4):  # three free failures, the fourth blocks for 15 s
        login(at, "alice", "Wrong#pass1")
        assert alerts(at, "error") == ["Username or password is incorrect. Try again or register a new account."]
    login(at, "alice", PASSWORD)  # even the right password waits
    assert alerts(at, "error") == ["Too many failed sign-ins for this account. Try again in 15 s (at 12:00:15 UTC)."]
    assert not at.session_state["authentication_status"]
    clock(16)
    login(at, "alice", PASSWORD)
    assert_signed_in(at, "alice")


def test_sign_in_is_throttled_per_client_across_accounts(
    app_settings: Settings, clock: Callable[[float], None]
) -> None:
    at = start()
    for i in range(11):  # guessing at eleven different accounts from one address
        login(at, f"user{i}", "Wrong#pass1")
    login(at, "someone-else", "Wrong#pass1")
    assert alerts(at, "error") == ["Too many failed sign-ins from your address. Try again in 15 s (at 12:00:15 UTC)."]


def test_an_unknown_username_costs_one_bcrypt_check_like_a_known_one(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "alice", "Alice", "alice@example.com", PASSWORD)
    checks: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    at = start()
    login(at, "nobody-here", "Wrong#pass1")
    assert len(checks) == 1  # the dummy check ran ...
    cost = f"$2b${accounts.BCRYPT_ROUNDS:02d}$".encode()
    assert checks[0].startswith(cost)  # ... at the cost of a real account's hash
    login(at, "alice", "Wrong#pass1")
    assert len(checks) == 2 and checks[1].startswith(cost)
    assert alerts(at, "error") == ["Username or password is incorrect. Try again or register a new account."]


def test_a_100_character_passphrase_registers_and_signs_in(app_settings: Settings) -> None:
    assert len(PASSPHRASE) >= 90
    at = start()
    register(at, password=PASSPHRASE + "x" * (100 - len(PASSPHRASE)))
    assert_signed_in(at, "alice")
    at.sidebar.button(key="logout-button").click().run()
    at = start()
    login(at, "alice", PASSPHRASE + "x" * (100 - len(PASSPHRASE)))
    assert_signed_in(at, "alice")
    at = start()
    login(at, "alice", PASSPHRASE + "x" * (99 - len(PASSPHRASE)))  # one character short
    assert not at.session_state["authentication_status"]


def test_registrations_from_one_client_are_limited(app_settings: Settings, clock: Callable[[float], None]) -> None:
    for i in range(4):
        at = start()
        register(at, username=f"user{i}", email=f"user{i}@example.com")
        assert_signed_in(at, f"user{i}")
    at = start()
    register(at, username="user0", email="other@example.com")  # probing a taken name counts too
    assert any("username is already registered" in e for e in alerts(at, "error"))
    at = start()
    register(at, username="user5", email="user5@example.com")
    assert alerts(at, "error") == ["Too many new accounts from your address. Try again in 60 min (at 13:00:00 UTC)."]
    with Store.open(app_settings.store_url) as store:
        assert store.get_user("user5") is None
    clock(3601)
    register(at, username="user5", email="user5@example.com")
    assert_signed_in(at, "user5")
