"""The app store: users, interactions (current value + history) and saved settings.

SQLAlchemy Core over SQLite (default, ``Settings.store_url``) or PostgreSQL (``DATABASE_URL``),
with Alembic migrations applied by :meth:`Store.open`::

    store = Store.open(get_settings().store_url)
    user = register(store, "ada", "Ada", "ada@example.com", "Secret#123")
    store.rate(user.id, "tt0111161", LIKE)
"""

from recsys.store.accounts import check_password, hash_password, register, validate_registration
from recsys.store.repository import (
    HISTORY_SCHEMA,
    INTERACTIONS_SCHEMA,
    Store,
    User,
    check_tconst,
    check_value,
)
from recsys.store.schema import ONBOARDING_STEPS

__all__ = [
    "HISTORY_SCHEMA",
    "INTERACTIONS_SCHEMA",
    "ONBOARDING_STEPS",
    "Store",
    "User",
    "check_password",
    "check_tconst",
    "check_value",
    "hash_password",
    "register",
    "validate_registration",
]
