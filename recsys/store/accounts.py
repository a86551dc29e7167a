"""Sign-up rules, password hashing (bcrypt, long passphrases pre-hashed) and registration.

Pure Python, no streamlit. Usernames are lower-cased and stripped (as streamlit-authenticator
0.4.2 does at login). Passwords:

- 8 to 128 characters, any printable text (spaces and accents too: a passphrase such as
  "correct horse battery staple" is welcome), not starting or ending with a space;
- shorter than 16 characters: a lower-case and an upper-case letter, a digit and a special
  character (a 16+ character passphrase is strong by its length);
- not one of the common passwords in ``common_passwords.txt`` (hand-written, compared
  case-insensitively), not the username.

Hashing: bcrypt uses at most 72 bytes of its input. A password of at most 72 UTF-8 bytes is
hashed as it is, exactly as before (and as streamlit-authenticator's ``Hasher``), so every
existing hash keeps working; a longer one is first reduced to the base64 of its SHA-256 (44
ASCII bytes, no NUL), then bcrypt-hashed. Which rule applies follows from the password's length
alone, so no marker is stored and no old hash changes meaning (no password over 72 bytes could
be stored before). Text is NFC-normalised first (an accent typed composed or decomposed is the
same password).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import bcrypt

from recsys.errors import RegistrationError

if TYPE_CHECKING:
    from recsys.store.repository import Store, User

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]+")  # all patterns are used with fullmatch
USERNAME_LEN = (3, 32)
NAME_LEN = (1, 80)
EMAIL_MAX = 254
# streamlit-authenticator's Validator.validate_email pattern
EMAIL_RE = re.compile(r"[a-zA-Z0-9._%+-]{1,254}@[a-zA-Z0-9.-]{1,253}\.[a-zA-Z]{2,63}")
#: Password length in characters (min, max).
PASSWORD_LEN = (8, 128)
#: From this length on a password is a passphrase: no character-class rule.
PASSPHRASE_LEN = 16
PASSWORD_SPECIALS = "!@#$%^&*()_+-=[]{};':\"\\|,.<>/?`~"
#: bcrypt reads at most this many bytes; longer passwords are pre-hashed (module docstring).
BCRYPT_MAX_BYTES = 72
#: bcrypt cost factor for new hashes (2^12 rounds, about a quarter second).
BCRYPT_ROUNDS = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The hand-written list of passwords too common to accept (lower-case)."""
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def validate_registration(username: str, name: str, email: str, password: str) -> list[str]:
    """Every problem with these sign-up details, as sentences for the form; empty if all good.

    Leading/trailing spaces around username, name and email are ignored (they are stripped when
    stored); the password is taken exactly as typed.
    """
    problems: list[str] = []
    username = username.strip()
    lo, hi = USERNAME_LEN
    if not lo <= len(username) <= hi:
        problems.append(f"Username must be {lo} to {hi} characters long.")
    if username and not USERNAME_RE.fullmatch(username):
        problems.append("Username may only contain letters, digits, '_', '.' and '-'.")

    name = name.strip()
    lo, hi = NAME_LEN
    if not name:
        problems.append("Name must not be empty.")
    elif len(name) > hi:
        problems.append(f"Name must be at most {hi} characters long.")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        problems.append("Name must be a single line without control characters.")

    email = email.strip()
    if len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email):
        problems.append("Email must be a valid address such as name@example.com.")

    problems += password_problems(password, username=username)
    return problems


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Every way ``password`` breaks the password rule (module docstring); empty if acceptable."""
    problems: list[str] = []
    lo, hi = PASSWORD_LEN
    if not lo <= len(password) <= hi:
        problems.append(f"Password must be {lo} to {hi} characters long.")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):
        problems.append("Password must not contain control characters or invalid text (one line, printable).")
    if password != password.strip():
        problems.append("Password must not start or end with a space.")
    if len(password) < PASSPHRASE_LEN:
        short = f" (or use a passphrase of {PASSPHRASE_LEN}+ characters)"
        if not re.search(r"[a-z]", password):
            problems.append(f"Password must contain a lower-case letter{short}.")
        if not re.search(r"[A-Z]", password):
            problems.append(f"Password must contain an upper-case letter{short}.")
        if not re.search(r"[0-9]", password):
            problems.append(f"Password must contain a digit{short}.")
        if not any(not ch.isalnum() and not ch.isspace() for ch in password):
            problems.append(f"Password must contain a special character such as {PASSWORD_SPECIALS[:12]}{short}.")
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append("Password is one of the most common passwords; choose another.")
    elif username and lowered == username.strip().lower():
        problems.append("Password must not be the username.")
    return problems


def _secret(password: str) -> bytes:
    """What bcrypt hashes for ``password`` (module docstring): its NFC UTF-8 bytes, or for more
    than 72 of them the base64 of their SHA-256."""
    data = unicodedata.normalize("NFC", password).encode("utf-8", "surrogatepass")
    if len(data) > BCRYPT_MAX_BYTES:
        data = base64.b64encode(hashlib.sha256(data).digest())
    return data


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash of ``password`` (``$2b$...``); passwords over 72 bytes are pre-hashed.

    ``rounds`` is the bcrypt cost (default :data:`BCRYPT_ROUNDS`).
    """
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt(rounds=rounds or BCRYPT_ROUNDS)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    """True if ``password`` matches the bcrypt ``password_hash``; False for a wrong password or a
    malformed hash."""
    try:
        return bcrypt.checkpw(_secret(password), password_hash.encode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        return False


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(rounds=rounds)).decode("ascii")


def dummy_check(password: str) -> bool:
    """A password check against a hash nobody has, at the cost of a real one: a sign-in for an
    unknown or inactive username takes as long as one for an existing account. Always False."""
    check_password(password, _dummy_hash(BCRYPT_ROUNDS))
    return False


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The active user ``username`` if ``password`` is theirs, else None, always after exactly
    one bcrypt check (:func:`dummy_check` when there is no such active account)."""
    user = store.get_user(username) if username.strip() else None
    if user is None or not user.is_active:
        dummy_check(password)
        return None
    return user if check_password(password, user.password_hash) else None


def register(store: Store, username: str, name: str, email: str, password: str) -> User:
    """Validate, hash and store a new user.

    Raises RegistrationError (a ValueError; ``.problems`` lists every rule broken) or
    DuplicateUserError (``.field`` is "username"; emails may repeat, so a sign-up never reveals
    that an email has an account).
    """
    problems = validate_registration(username, name, email, password)
    if problems:
        raise RegistrationError(problems)
    return store.create_user(username, name.strip(), email, hash_password(password))


def change_password(store: Store, user: User, current: str, new: str) -> None:
    """Replace ``user``'s password after checking the current one.

    Raises RegistrationError listing the problems (wrong current password, weak new one).
    """
    if not check_password(current, user.password_hash):
        raise RegistrationError(["The current password is wrong."])
    problems = password_problems(new, username=user.username)
    if problems:
        raise RegistrationError(problems)
    store.set_password_hash(user.username, hash_password(new))  # ends the user's other sessions
