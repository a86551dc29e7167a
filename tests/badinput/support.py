"""Shared pieces of the bad-input suite: hostile strings, bounded Hypothesis settings, a signed-in
AppTest, the CLI as a subprocess, and a CommonMark reading of escaped markdown."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import jwt
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.store import Store, User
from recsys.store.accounts import register
from tests.app.helpers import PASSWORD, login, start

REPO = Path(__file__).resolve().parents[2]

#: Search / form text a person could type or paste, each a known troublemaker.
NASTY_TEXT: tuple[str, ...] = (
    "'",
    '"',
    "' OR 1=1 --",
    "'; DROP VIEW titles; --",
    '"; DELETE FROM users; --',
    "%",
    "_",
    "%_%",
    "\\",
    "\\' ?",
    "$1 ?1 :name",
    "🎬🍿",
    "Pizza 🍕",
    "\x00",
    "harbor\x00lights",
    "\ud800 lone surrogate",
    "\u202egnp.exe",  # right-to-left override
    "e\u0301",  # combining accent
    "\u200b\u200d\ufeff",  # zero-width characters
    "<script>alert(1)</script>",
    "**bold** _it_ :red[x] $x$ [a](javascript:alert(1))",
    "   ",
    "\t\n\r",
    "x" * 10_000,
    "harbor " * 1_500,
)

#: Any character at all: control characters, surrogates, emoji, combining marks, RTL.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
hostile_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.sampled_from(NASTY_TEXT[:22]), min_size=1, max_size=4).map(" ".join),
)


def bounded(examples: int) -> settings:
    """Hypothesis settings for this suite: the same ``examples`` examples on every run."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# ------------------------------------------------------------------------------------- users


def make_user(
    settings_: Settings,
    username: str = "alice",
    *,
    name: str = "Alice",
    onboarded: bool = True,
    likes: tuple[str, ...] = (),
) -> User:
    """An account made directly in the app's store, onboarded (genres, likes, step "done")."""
    with Store.open(settings_.store_url) as store:
        user = register(store, username, name, f"{username}@example.com", PASSWORD)
        if onboarded:
            store.set_favourite_genres(user.id, ["Comedy", "Drama", "Crime", "Sci-Fi", "Family"])
            for tconst in likes:
                store.rate(user.id, tconst, 1)
            store.set_onboarding_step(user.id, "done")
        return store.get_user(username) or user


def signed_in(username: str = "alice") -> AppTest:
    """The app in AppTest with ``username`` logged in through the sign-in form."""
    at = start()
    login(at, username, PASSWORD)
    assert not at.exception, at.exception
    return at


def stored_rows(settings_: Settings) -> dict[str, int]:
    """Row counts of every table a user's input can reach."""
    from sqlalchemy import func, select

    from recsys.store.schema import hidden_titles, interaction_history, interactions, users

    with Store.open(settings_.store_url) as store, store.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (users, interactions, interaction_history, hidden_titles)
        }


# ------------------------------------------------------------------------------- auth cookies

# The app's cookie (streamlit-authenticator 0.4.2's plus the account's id and session version):
# an HS256 JWT of {"username", "uid", "sv", "exp_date"} signed with ``Settings.cookie_key()``.
HOUR = 3600.0
#: Account ids of the ``accounts`` fixture's users (made in this order in a fresh store).
UIDS = {"alice": 1, "bob": 2, "mallory": 3}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(key: str, username: str = "alice", expires_in: float = HOUR, **extra: object) -> str:
    """An auth cookie value as the app issues it (signed with ``key``): ``username``'s id (from
    :data:`UIDS`) and session version 0 unless ``uid`` / ``sv`` are given."""
    payload = {"username": username, "uid": UIDS.get(username, 99), "sv": 0, "exp_date": time.time() + expires_in}
    payload.update(extra)
    return jwt.encode(payload, key, algorithm="HS256")


def tampered_signature(key: str) -> str:
    head, body, sig = token(key).split(".")
    return f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"


def tampered_payload(key: str) -> str:
    head, _, sig = token(key, "alice").split(".")
    body = b64(json.dumps({"username": "bob", "uid": 2, "sv": 0, "exp_date": time.time() + HOUR}).encode())
    return f"{head}.{body}.{sig}"  # alice's signature on bob's claims


def alg_none(key: str) -> str:
    head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64(json.dumps({"username": "alice", "uid": 1, "sv": 0, "exp_date": time.time() + HOUR}).encode())
    return f"{head}.{body}."  # unsigned: anyone can make one


# ---------------------------------------------------------------------------------- markdown

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # CommonMark's escapable set
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ACTIVE = re.compile(r"[\\`*_\[\]<>|~$:#]")


def shown_text(markdown: str) -> str:
    """What CommonMark shows for ``markdown`` made only of text and backslash escapes.

    Fails (AssertionError) when the source still holds something markdown would act on: an
    unescaped emphasis / link / HTML / directive character, or an entity reference (``&amp;``
    shows as ``&``).
    """
    shown: list[str] = []
    live: list[str] = []  # the unescaped characters; an escaped one becomes a plain space
    i = 0
    while i < len(markdown):
        ch = markdown[i]
        if ch == "\\" and i + 1 < len(markdown) and markdown[i + 1] in _PUNCTUATION:
            shown.append(markdown[i + 1])
            live.append(" ")
            i += 2
            continue
        shown.append(ch)
        live.append(ch)
        i += 1
    unescaped = "".join(live)
    assert not _ACTIVE.search(unescaped), f"unescaped markdown in {markdown!r}"
    assert not _ENTITY.search(unescaped), f"entity reference shown as a character in {markdown!r}"
    return "".join(shown)
