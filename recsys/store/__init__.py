"""The app store: users, interactions (current value + history) and saved settings.

SQLAlchemy Core over SQLite (default, ``Settings.store_url``) or PostgreSQL (``DATABASE_URL``),
with Alembic migrations applied by :meth:`Store.open`::

    store = Store.open(get_settings().store_url)
    user = register(store, "ada", "Ada", "ada@example.com", "Secret#123")
    store.rate(user.id, "tt0111161", LIKE)
"""

from typing import TYPE_CHECKING

from recsys.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (recsys.lazy: no import cycle with the submodules)
    from recsys.store.accounts import check_password, hash_password, register, validate_registration
    from recsys.store.repository import HISTORY_SCHEMA, INTERACTIONS_SCHEMA, Store, User, check_tconst, check_value
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

__getattr__ = lazy_exports(
    __name__,
    {
        "check_password": "accounts",
        "hash_password": "accounts",
        "register": "accounts",
        "validate_registration": "accounts",
        "HISTORY_SCHEMA": "repository",
        "INTERACTIONS_SCHEMA": "repository",
        "Store": "repository",
        "User": "repository",
        "check_tconst": "repository",
        "check_value": "repository",
        "ONBOARDING_STEPS": "schema",
    },
)
