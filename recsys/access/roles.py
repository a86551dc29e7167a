"""Who may do what: the three roles and the privileges they carry (pure Python, no streamlit).

``admin`` runs the data jobs (fetch / build / train) and manages accounts; ``analyst`` may apply
and reset the live hybrid weights; ``tester`` (every new account after the first) rates titles.
An admin may do everything an analyst may. The first account created on a fresh install becomes
the admin (:meth:`recsys.store.repository.Store.create_user`).
"""

from __future__ import annotations

ADMIN = "admin"
ANALYST = "analyst"
TESTER = "tester"
#: Every role, most privileged first.
ROLES: tuple[str, ...] = (ADMIN, ANALYST, TESTER)
#: The role of a new account (except the very first one).
DEFAULT_ROLE = TESTER

ROLE_LABELS: dict[str, str] = {
    ADMIN: "Admin (data jobs, accounts)",
    ANALYST: "Analyst (live weights)",
    TESTER: "Tester",
}


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else ValueError with the valid choices."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return role


def may_run_jobs(role: str | None) -> bool:
    """Fetch, build and train (and user management): admins only. ``None`` = signed out."""
    return role == ADMIN


def may_manage_users(role: str | None) -> bool:
    """Add, grant, revoke, remove and reset accounts: admins only."""
    return role == ADMIN


def may_apply_weights(role: str | None) -> bool:
    """Apply or reset the live hybrid weights everyone's feed uses: analysts and admins."""
    return role in (ADMIN, ANALYST)
