"""Registration fields: invalid emails, weak passwords, HTML / script / markdown in the name.

Every bad form is refused with every problem named and nothing stored; a name full of HTML or
markdown is kept exactly as typed and shows as text (the markdown the sidebar renders is escaped).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.errors import DuplicateUserError, RegistrationError
from recsys.store import Store
from recsys.store.accounts import register, validate_registration
from recsys.ui.cards import md_escape
from tests.app.helpers import PASSWORD, alerts, start
from tests.badinput.support import ANY_CHAR, bounded, shown_text, stored_rows
from tests.support.ws_session import unescape_markdown

GOOD = {"username": "alice", "name": "Alice", "email": "alice@example.com", "password": PASSWORD}

INVALID_EMAILS = [
    "",
    "alice",
    "alice@",
    "@example.com",
    "alice@example",
    "alice@example.c",
    "alice@@example.com",
    "alice@exa mple.com",
    "alice example@example.com",
    "<script>@example.com",
    "alice@example.com<script>",
    "alice'--@example.com",
    "älice@example.com",
    "alice@example.com\nBcc: bob@example.com",
    "a" * 250 + "@example.com",
]
WEAK_PASSWORDS = {
    "": "8 to 128",
    "Sh#1": "8 to 128",
    "alllowercase#1": "upper-case",
    "ALLUPPERCASE#1": "lower-case",
    "NoDigitsHere#": "digit",
    "NoSpecial123": "special",
    " Leading#123": "start or end with a space",
    "ümlaut#1234": "upper-case",
    "Secret#123" + "x" * 119: "8 to 128",
    "Secret#123\x00": "control characters",
    "Password1!": "most common",
    "correct horse\nbattery staple": "control characters",
}
HOSTILE_NAMES = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "**Bold** _it_ `code` ~~gone~~",
    ":red[Red] :material/home: :smile:",
    "$x^2$ $$y$$",
    "[click](javascript:alert(1))",
    "# Heading | table |",
    "Robert'); DROP TABLE users;--",
    "Zoë 🎬 O'Brien-Smith \\ back",
    "\u202eevil\u202c",
]


def users_in(settings: Settings) -> int:
    return stored_rows(settings)["users"]


# ----------------------------------------------------------------------- the rules


@pytest.mark.parametrize("email", INVALID_EMAILS)
def test_invalid_email_is_refused_and_nothing_stored(store: Store, email: str) -> None:
    with pytest.raises(RegistrationError) as info:
        register(store, **{**GOOD, "email": email})
    assert info.value.problems == ["Email must be a valid address such as name@example.com."]
    assert store.credentials() == {"usernames": {}}


@pytest.mark.parametrize(("password", "says"), WEAK_PASSWORDS.items())
def test_weak_password_is_refused_with_the_rule_it_breaks(store: Store, password: str, says: str) -> None:
    with pytest.raises(RegistrationError) as info:
        register(store, **{**GOOD, "password": password})
    assert any(says in p for p in info.value.problems), info.value.problems
    assert all(p.startswith("Password") for p in info.value.problems)
    assert store.credentials() == {"usernames": {}}


_usernames = st.from_regex(r"[A-Za-z0-9_.-]{3,12}", fullmatch=True)
_names = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(ANY_CHAR, min_size=1, max_size=90))
_emails = st.from_regex(r"[a-z0-9.+_-]{1,10}@[a-z]{1,8}\.(com|org|museum)", fullmatch=True)
_passwords = st.sampled_from([PASSWORD, "Zz9!Zz9!", "Aa1" + "~" * 17])
_anything = st.text(ANY_CHAR, max_size=40)
#: (username, name, email, password): plausible details with any name, or anything at all
details = st.one_of(
    st.tuples(_usernames, _names, _emails, _passwords),
    st.tuples(
        st.one_of(_usernames, _anything),
        _names,
        st.one_of(_emails, st.sampled_from(INVALID_EMAILS), st.emails(), _anything),
        st.one_of(_passwords, st.sampled_from(list(WEAK_PASSWORDS)), _anything),
    ),
)


@given(details=details)
@bounded(150)
def test_any_details_are_refused_or_stored_exactly(store: Store, details: tuple[str, str, str, str]) -> None:
    """Either every problem is named in one sentence each and nothing is stored, or the account
    is stored with exactly the (stripped, lower-cased where documented) details and logs in."""
    username, name, email, password = details
    # one store for every example: usernames may collide, so counts are relative
    before = len(store.credentials()["usernames"])
    try:
        problems = validate_registration(username, name, email, password)
        user = register(store, username, name, email, password)
    except RegistrationError as exc:
        assert exc.problems == problems and problems
        assert all(p.endswith(".") and "\n" not in p for p in problems)
        assert len(store.credentials()["usernames"]) == before
        event("refused")
        return
    except DuplicateUserError as exc:
        assert str(exc).endswith("choose another or log in.")
        assert len(store.credentials()["usernames"]) == before
        event("duplicate")
        return
    assert problems == []
    stored = store.get_user(username)
    assert stored is not None and stored.id == user.id
    assert stored.name == name.strip()
    assert stored.username == username.strip().lower()
    assert stored.email == email.strip().lower()
    assert len(store.credentials()["usernames"]) == before + 1
    event("registered")


# -------------------------------------------------------------------------- the form


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("email", "not-an-email", "Email must be a valid address"),
        ("email", "<script>@example.com", "Email must be a valid address"),
        ("password", "password", "upper-case"),
        ("username", "al'; DROP TABLE users;--", "Username may only contain"),
        ("username", "", "Username must be 3 to 32"),
        ("name", "   ", "Name must not be empty"),
    ],
)
def test_form_refuses_bad_details_stores_nothing_and_stays_signed_out(
    app_settings: Settings, field: str, value: str, says: str
) -> None:
    at = start()
    details = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, "name": "Alice"}
    details[field] = value
    fill_and_submit(at, **details)
    assert not at.exception
    errors = alerts(at, "error")
    assert len(errors) == 1 and errors[0].startswith("Please fix:\n- ") and says in unescape_markdown(errors[0]), errors
    assert users_in(app_settings) == 0
    assert not at.session_state["authentication_status"]
    assert at.title[0].value == "CineBlend"  # still the sign-in page


def test_form_refuses_different_repeat_password(app_settings: Settings) -> None:
    at = start()
    fill_and_submit(at, repeat=PASSWORD + "x")
    assert alerts(at, "error") == ["The two passwords differ; type the same password twice."]
    assert users_in(app_settings) == 0


def test_overlong_fields_are_cut_to_the_field_length_as_in_a_browser(app_settings: Settings) -> None:
    """A browser stops typing at ``max_chars``; a crafted client sending more gets it cut there
    by Streamlit (never stored longer, never a crash)."""
    at = start()
    fill_and_submit(at, name="N" * 10_000, username="u" * 5_000, email="e" * 300 + "@example.com")
    assert not at.exception
    assert users_in(app_settings) == 0  # the cut email ("eee...") is not an address
    assert any("Email must be a valid address" in e for e in alerts(at, "error"))
    at = start()
    fill_and_submit(at, name="N" * 10_000, username="u" * 5_000)
    assert not at.exception
    with Store.open(app_settings.store_url) as store:
        stored = store.get_user("u" * 32)
    assert stored is not None and stored.name == "N" * 80


def fill_and_submit(at: AppTest, *, repeat: str | None = None, **fields: str) -> None:
    """Fill the register form as a client would send it (``set_value``: AppTest's ``input``
    silently drops text longer than the field's ``max_chars``) and submit it."""
    details = {**GOOD, **fields}
    for key in ("name", "username", "email", "password"):
        at.text_input(key=f"reg-{key}").set_value(details[key])
    at.text_input(key="reg-repeat").set_value(details["password"] if repeat is None else repeat)
    at.button(key="FormSubmitter:register-form-Register").click().run()


def sidebar_name(at: AppTest) -> str:
    """The name as the sidebar's "Signed in as **name** (username)" caption shows it."""
    caption = next(c.value for c in at.sidebar.caption if str(c.value).startswith("Signed in as"))
    match = re.fullmatch(r"Signed in as \*\*(.*)\*\* \((.*)\)", caption, flags=re.S)
    assert match, caption
    return shown_text(match.group(1))


@given(name=st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(ANY_CHAR, min_size=1, max_size=80)))
@bounded(300)
def test_escaped_markdown_shows_any_name_as_typed(name: str) -> None:
    """``cards.md_escape`` (what the sidebar and cards use) turns any name into markdown that
    shows exactly that text. Entity references (``&amp;``) are the known exception: see
    ``test_entity_in_the_name_shows_as_typed``."""
    assume(not re.search(r"&[#A-Za-z0-9]+;", name))
    assert shown_text(md_escape(name)) == name


@pytest.mark.parametrize("name", HOSTILE_NAMES[:4])
def test_html_or_markdown_in_the_name_shows_as_text(app_settings: Settings, name: str) -> None:
    at = start()
    fill_and_submit(at, name=name)
    at.run()  # the rerun the browser's cookie component triggers after sign-up
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    with Store.open(app_settings.store_url) as store:
        stored = store.get_user("alice")
    assert stored is not None and stored.name == name  # kept exactly as typed
    assert sidebar_name(at) == name  # escaped: shows as the literal text


def test_entity_in_the_name_shows_as_typed(app_settings: Settings) -> None:
    at = start()
    fill_and_submit(at, name="Tom &amp; Jerry &#60;3")
    at.run()
    assert sidebar_name(at) == "Tom &amp; Jerry &#60;3"


@pytest.mark.parametrize(
    "password",
    ["x" * 100, "🔑" * 30, "' OR '1'='1", "Secret#123\x00"],
    ids=["100 chars", "120 bytes of emoji", "SQL", "NUL"],
)
def test_sign_in_with_an_odd_password_is_just_incorrect(app_settings: Settings, password: str) -> None:
    """Odd passwords (over 72 bytes, SQL, NUL) are simply checked and found wrong."""
    with Store.open(app_settings.store_url) as store:
        register(store, **GOOD)
    at = start()
    username, secret = [t for t in at.text_input if t.key is None or "reg-" not in str(t.key)]
    username.set_value("alice")
    secret.set_value(password)  # the sign-in form's fields have no max_chars
    at.button(key="FormSubmitter:login-form-Log in").click().run()
    assert not at.exception
    assert alerts(at, "error") == ["Username or password is incorrect. Try again or register a new account."]
    assert not at.session_state["authentication_status"]


def test_each_registration_problem_on_its_own_line(app_settings: Settings) -> None:
    at = start()
    fill_and_submit(at, username="x", email="not-an-email", password="short", name="Alice")
    errors = alerts(at, "error")
    assert len(errors) == 1, errors
    lines = errors[0].splitlines()
    assert lines[0] == "Please fix:" and len(lines) >= 3 and all(line.startswith("- ") for line in lines[1:]), lines
