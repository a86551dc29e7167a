"""Sign-up rules, bcrypt password hashing and registration (pure Python, no streamlit).

The rules match what streamlit-authenticator 0.4.2 accepts at login: it lower-cases and strips
the username, strips the password, and checks passwords with ``bcrypt.checkpw`` (its
``Hasher.check_pw``), so hashes made here work there and vice versa. The password rule is its
default: 8-20 characters with a lower-case letter, an upper-case letter, a digit and a special
character, from ASCII letters, digits and ``!@#$%^&*()_+-=[]{};':"\\|,.<>/?`~``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
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
PASSWORD_LEN = (8, 20)
PASSWORD_SPECIALS = "!@#$%^&*()_+-=[]{};':\"\\|,.<>/?`~"
_PASSWORD_ALLOWED = re.compile(r"[A-Za-z0-9" + re.escape(PASSWORD_SPECIALS) + r"]*")
#: bcrypt cost factor for new hashes (2^12 rounds, about a quarter second).
BCRYPT_ROUNDS = 12


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

    problems += password_problems(password)
    return problems


def password_problems(password: str) -> list[str]:
    """Every way ``password`` breaks the password rule; empty if it is acceptable."""
    problems: list[str] = []
    lo, hi = PASSWORD_LEN
    if not lo <= len(password) <= hi:
        problems.append(f"Password must be {lo} to {hi} characters long.")
    if not re.search(r"[a-z]", password):
        problems.append("Password must contain a lower-case letter.")
    if not re.search(r"[A-Z]", password):
        problems.append("Password must contain an upper-case letter.")
    if not re.search(r"[0-9]", password):
        problems.append("Password must contain a digit.")
    if not any(ch in PASSWORD_SPECIALS for ch in password):
        problems.append(f"Password must contain a special character ({PASSWORD_SPECIALS}).")
    if not _PASSWORD_ALLOWED.fullmatch(password):
        problems.append(
            "Password may only contain letters A-Z and a-z, digits and the special characters "
            f"{PASSWORD_SPECIALS} (no spaces or accents)."
        )
    return problems


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash of ``password`` (``$2b$...``), as streamlit-authenticator's ``Hasher.hash``.

    ``rounds`` is the bcrypt cost (default :data:`BCRYPT_ROUNDS`).
    """
    data = password.encode("utf-8")
    if len(data) > 72:
        raise ValueError("A password must be at most 72 bytes for bcrypt; choose a shorter one.")
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds=rounds or BCRYPT_ROUNDS)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    """True if ``password`` matches the bcrypt ``password_hash``; False for a wrong password or a
    malformed hash."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("utf-8"))
    except (ValueError, TypeError):
        return False


def register(store: Store, username: str, name: str, email: str, password: str) -> User:
    """Validate, hash and store a new user.

    Raises RegistrationError (a ValueError; ``.problems`` lists every rule broken) or
    DuplicateUserError (``.field`` is "username" or "email").
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
    problems = password_problems(new)
    if problems:
        raise RegistrationError(problems)
    store.set_password_hash(user.username, hash_password(new))
