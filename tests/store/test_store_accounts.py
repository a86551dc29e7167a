"""Accounts: each sign-up rule, bcrypt hashing compatible with streamlit-authenticator (and long
passphrases pre-hashed), register."""

from __future__ import annotations

import pytest
from streamlit_authenticator import Hasher
from streamlit_authenticator.utilities.validator import Validator

from recsys.errors import DuplicateUserError, RegistrationError
from recsys.store import Store, accounts, check_password, hash_password, register
from recsys.store.accounts import validate_registration

GOOD = {"username": "ada_l.90", "name": "Ada Lovelace", "email": "ada@example.com", "password": "Analyt1cal!"}


def _problems(**changes: str) -> list[str]:
    return validate_registration(**{**GOOD, **changes})


def test_good_details_have_no_problems() -> None:
    assert _problems() == []
    assert _problems(name="<script>alert('x')</script>") == []  # any text; the UI escapes it
    assert _problems(name="Zoë 日本") == []
    assert _problems(username="  Ada-L  ", email=" Ada@Example.COM ") == []
    assert _problems(username="abc", password="Aa1!aaaa") == []  # minimum lengths
    assert _problems(username="a" * 32, password="Aa1!" + "a" * 124) == []  # maximum lengths
    assert _problems(password="correct horse battery staple") == []  # a passphrase: no class rules
    assert _problems(password="Anälyt1cal!") == []  # accents welcome
    assert _problems(password="ünïcödé pässphrase wïth äccents") == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"username": "ab"}, "Username must be 3 to 32 characters long."),
        ({"username": "a" * 33}, "Username must be 3 to 32 characters long."),
        ({"username": "ada lovelace"}, "Username may only contain letters, digits"),
        ({"username": "ada!"}, "Username may only contain letters, digits"),
        ({"username": "adé"}, "Username may only contain letters, digits"),
        ({"name": "   "}, "Name must not be empty."),
        ({"name": "x" * 81}, "Name must be at most 80 characters long."),
        ({"name": "Ada\nLovelace"}, "Name must be a single line"),
        ({"email": "ada@"}, "Email must be a valid address"),
        ({"email": "ada@example"}, "Email must be a valid address"),
        ({"email": "ada example.com"}, "Email must be a valid address"),
        ({"email": "ada@example.com\n"}, None),  # trailing newline is stripped: fine
        ({"email": "a@b.co\nx@y.org"}, "Email must be a valid address"),
        ({"password": "Sh0rt!"}, "Password must be 8 to 128 characters long."),
        ({"password": "Aa1!" + "a" * 125}, "Password must be 8 to 128 characters long."),
        ({"password": "analyt1cal!"}, "Password must contain an upper-case letter"),
        ({"password": "ANALYT1CAL!"}, "Password must contain a lower-case letter"),
        ({"password": "Analytical!"}, "Password must contain a digit"),
        ({"password": "Analyt1cal"}, "Password must contain a special character"),
        ({"password": "Analyt1cal! "}, "Password must not start or end with a space."),
        ({"password": "Analyt1cal!\x07"}, "Password must not contain control characters"),
        ({"password": "Password1!"}, "Password is one of the most common passwords"),
        ({"password": "P@ssw0rd"}, "Password is one of the most common passwords"),
        ({"password": "Ada_L.90"}, "Password must not be the username."),  # GOOD's username
    ],
)
def test_each_rule(changes: dict[str, str], expected: str | None) -> None:
    problems = _problems(**changes)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problems[0].startswith(expected)


def test_every_problem_is_listed_at_once() -> None:
    problems = validate_registration("a", "", "nope", "x")
    assert len(problems) == 7  # username length, name, email, password: length/upper/digit/special
    assert all(p.endswith(".") or p.endswith(")") for p in problems)


@pytest.mark.parametrize(
    "password",
    [
        "Analyt1cal!",
        "Aa1!aaaa",
        "aa1!aaaa",
        "AA1!AAAA",
        "Aaa!aaaa",
        "Aa1aaaaa",
        "Aa1!aaa",
        "Aa1!" + "a" * 16,
        "Aa1! aaaa",
        "Aa1!ääää",
        "Pass[word]1",
        "Pass\\word1",
        "1234567!Aa",
    ],
)
def test_every_password_streamlit_authenticator_accepts_is_accepted(password: str) -> None:
    """Our rule is a superset of its default (8-20 ASCII characters with every class): whatever
    it accepted still registers; we also take longer passwords and passphrases."""
    ours = not any(p.startswith("Password") for p in _problems(password=password))
    if Validator().validate_password(password):
        assert ours


def test_hash_round_trip() -> None:
    hashed = hash_password("Analyt1cal!")
    assert hashed.startswith("$2b$04$")  # the test fixture's cheap cost
    assert check_password("Analyt1cal!", hashed)
    assert not check_password("analyt1cal!", hashed)
    assert not check_password("Analyt1cal!", "not a bcrypt hash")
    assert not check_password("Analyt1cal!", "")
    assert hash_password("Analyt1cal!") != hashed  # salted


def test_hashes_are_compatible_with_streamlit_authenticator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(accounts, "BCRYPT_ROUNDS", 12)  # the real default cost
    ours = hash_password("Analyt1cal!")
    assert ours.startswith("$2b$12$")
    assert Hasher.check_pw("Analyt1cal!", ours)
    assert not Hasher.check_pw("Analyt1cal?", ours)
    theirs = Hasher.hash("Analyt1cal!")
    assert check_password("Analyt1cal!", theirs)


@pytest.mark.parametrize(
    "password",
    ["x" * 100 + "Aa1!", "correct horse battery staple " * 4, "🔑" * 30, "é" * 40, "a" * 72 + "b", "a" * 73 + "c"],
    ids=["104 ascii", "116 passphrase", "120 bytes of emoji", "80 bytes of accents", "73 bytes", "74 bytes"],
)
def test_passwords_over_72_bytes_hash_and_check_whole(password: str) -> None:
    """bcrypt reads 72 bytes: longer passwords are pre-hashed, so every character counts."""
    hashed = hash_password(password)
    assert check_password(password, hashed)
    assert not check_password(password[:-1], hashed)  # the last character matters
    assert not check_password(password[:-1] + "Z", hashed)


def test_short_passwords_keep_the_old_hashes_and_library_compatibility() -> None:
    """Up to 72 bytes a password is hashed as it is: hashes made before (and by the library's
    Hasher) still check, and ours check there."""
    theirs = Hasher.hash("Analyt1cal!")
    assert check_password("Analyt1cal!", theirs)
    assert Hasher.check_pw("a" * 72, hash_password("a" * 72))
    decomposed = "Ane\u0301lyt1cal!"  # é typed as e + combining accent is the same password
    assert check_password(decomposed, hash_password("Anélyt1cal!"))


def test_register_creates_a_user_who_can_log_in(store: Store) -> None:
    user = register(store, " Ada_L ", " Ada <i>L</i> ", "Ada@Example.com", "Analyt1cal!")
    assert (user.username, user.name, user.email) == ("ada_l", "Ada <i>L</i>", "ada@example.com")
    assert store.get_user("ada_l") == user
    stored = store.credentials()["usernames"]["ada_l"]["password"]
    assert check_password("Analyt1cal!", stored)
    assert Hasher.check_pw("Analyt1cal!", stored)


def test_register_refuses_bad_details_and_stores_nothing(store: Store) -> None:
    with pytest.raises(RegistrationError) as info:
        register(store, "ab", "Ada", "ada@example.com", "weak")
    assert isinstance(info.value, ValueError)
    assert info.value.problems[0] == "Username must be 3 to 32 characters long."
    assert len(info.value.problems) == 5  # username + password: length, upper, digit, special
    assert "\n" not in str(info.value)
    assert store.credentials() == {"usernames": {}}


def test_register_duplicate(store: Store) -> None:
    register(store, "ada", "Ada", "ada@example.com", "Analyt1cal!")
    assert register(store, "bob", "Bob", "ADA@example.com", "Analyt1cal!").email == "ada@example.com"
    with pytest.raises(DuplicateUserError) as info:
        register(store, "Ada", "Ada 2", "ada2@example.com", "Analyt1cal!")
    assert info.value.field == "username"
