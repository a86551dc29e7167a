"""The account page's admin section: every account, grant / revoke roles, reset a password,
remove an account. Shown to admins only, and every action checks the role again on the server
(a click forged by another session changes nothing)."""

from __future__ import annotations

import streamlit as st

from recsys import users
from recsys.errors import CineBlendError, RegistrationError
from recsys.roles import ROLE_LABELS, ROLES, may_manage_users
from recsys.ui import auth, resources, state

NOT_ALLOWED = "Only an admin can manage accounts."


def _allowed() -> bool:
    """Whether this session's user is an admin now (read from the store on every action)."""
    return may_manage_users(auth.role(auth.current_user(resources.store())))


@auth.checked
def _act(action: str) -> None:
    """on_click of every admin button: check the role, then do ``action`` on the chosen account."""
    if not _allowed():
        st.session_state[state.FLASH] = ("error", NOT_ALLOWED)
        return
    cfg = resources.settings()
    store = resources.shared_store(cfg)
    username = str(st.session_state.get("admin-user") or "")
    role = str(st.session_state.get("admin-role") or "")
    try:
        if action == "grant":
            user = users.grant(store, username, role)
            message = f"{user.username} is now {user.role}."
        elif action == "revoke":
            user = users.revoke(store, username, role)
            message = f"{user.username} is now {user.role}."
        elif action == "reset":
            password = str(st.session_state.get("admin-new-password") or "")
            users.reset_password(store, username, password)
            st.session_state["admin-new-password"] = ""
            message = f"Password of {username} reset; their sessions must sign in again."
        elif action == "remove":
            if str(st.session_state.get("admin-remove-confirm") or "").strip().lower() != username:
                raise users.AccountError(f"Type {username} in the confirmation field to remove the account.")
            removal = users.remove(store, username, cfg.models_dir, cfg.data_dir, cfg.store_url)
            st.session_state["admin-remove-confirm"] = ""
            message = f"Removed {removal.username} with their ratings and model rows."
        else:  # pragma: no cover - the buttons below pass known actions
            raise users.AccountError(f"Unknown action {action!r}.")
    except RegistrationError as exc:
        st.session_state[state.FLASH] = ("error", " ".join(exc.problems))
        return
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state[state.FLASH] = ("success", message)


def section() -> None:
    """Render the admin section (nothing at all for anyone but an admin)."""
    if not _allowed():
        return
    store = resources.shared_store()
    st.subheader("Accounts (admin)", anchor=False)
    rows = users.table(store)
    st.dataframe(
        rows, hide_index=True, key="admin-table", column_order=("username", "name", "email", "role", "created")
    )
    names = [r["username"] for r in rows]
    st.selectbox("Account", names, key="admin-user")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.selectbox("Role", ROLES, key="admin-role", format_func=lambda r: ROLE_LABELS[r])
        st.button("Grant role", key="admin-grant", on_click=_act, args=("grant",))
        st.button("Revoke role", key="admin-revoke", on_click=_act, args=("revoke",))
    st.caption("A role change ends that account's open sessions; they sign in again with the new role.")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input("New password for the account", type="password", key="admin-new-password", max_chars=128)
        st.button("Reset password", key="admin-reset", on_click=_act, args=("reset",))
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input("Type the account's username to remove it", key="admin-remove-confirm", max_chars=32)
        st.button(
            "Remove account", key="admin-remove", icon=":material/person_remove:", on_click=_act, args=("remove",)
        )
