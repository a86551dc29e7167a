"""The account page's admin section: every account, create an account, one-time invite links,
grant / revoke roles, reset a password, remove an account. Shown to admins only, and every action
checks the role again on the server (a click forged by another session changes nothing).

Each action's outcome is shown right under the controls that caused it (not at the top of the
page, out of sight of an admin scrolled down to the roles; issue 20, item 7)."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from recsys.access import invites
from recsys.access.roles import ROLE_LABELS, ROLES, TESTER, may_manage_users
from recsys.app import users
from recsys.errors import CineBlendError, RegistrationError
from recsys.ui import auth, plain, resources, state

NOT_ALLOWED = "Only an admin can manage accounts."
#: session key of the last admin action's outcome: (group, kind, message); shown under the group
FEEDBACK = "admin-feedback"
#: session key of the link just made (shown once, under the invite controls)
NEW_LINK = "admin-new-invite-link"
#: how long a new invite link works: label -> hours
VALIDITY = {"1 day": 24, "3 days": invites.DEFAULT_HOURS, "7 days": 24 * 7}
_GROUP = {"create": "create", "invite": "invite", "withdraw": "invite", "grant": "role", "revoke": "role"}


def _allowed() -> bool:
    """Whether this session's user is an admin now (read from the store on every action)."""
    return may_manage_users(auth.role(auth.current_user(resources.store())))


def app_url() -> str:
    """The app's address as the admin's browser reaches it (for invite links), e.g.
    ``https://cineblend.example.org``; the configured ``CINEBLEND_PUBLIC_URL`` without a browser."""
    url = st.context.url
    base_path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    if not url:
        return resources.settings().public_url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" + (f"/{base_path}" if base_path else "")


@auth.checked
def _act(action: str) -> None:
    """on_click of every admin button: check the role, then do ``action`` on the chosen account."""
    group = _GROUP.get(action, action)
    if not _allowed():  # the section is gone on the next run: say it at the top of the page
        st.session_state[state.FLASH] = ("error", NOT_ALLOWED)
        return
    cfg = resources.settings()
    store = resources.shared_store(cfg)
    username = str(st.session_state.get("admin-user") or "")
    role = str(st.session_state.get("admin-role") or "")
    me = auth.current_user(resources.store())
    st.session_state.pop(NEW_LINK, None)
    try:
        if action == "create":
            new_role = str(st.session_state.get("admin-create-role") or TESTER)
            user = users.add(
                store,
                str(st.session_state.get("admin-create-username") or ""),
                str(st.session_state.get("admin-create-name") or ""),
                str(st.session_state.get("admin-create-email") or ""),
                str(st.session_state.get("admin-create-password") or ""),
                role=new_role,
            )
            for key in ("admin-create-username", "admin-create-name", "admin-create-email"):
                st.session_state[key] = ""
            message = f"Created {user.username} ({user.role}); give them the password you chose."
        elif action == "invite":
            hours = VALIDITY.get(str(st.session_state.get("admin-invite-validity")), invites.DEFAULT_HOURS)
            new = invites.create(
                store,
                str(st.session_state.get("admin-invite-role") or TESTER),
                created_by=me.username if me is not None else None,
                hours=hours,
            )
            st.session_state[NEW_LINK] = new.link(app_url())
            message = (
                f"Invite link for a {new.invite.role} made; it works once, until "
                f"{new.invite.expires_at:%Y-%m-%d %H:%M} UTC. Copy it now: it is shown only once."
            )
        elif action == "withdraw":
            raw = str(st.session_state.get("admin-invite-withdraw") or "").split(" ", 1)[0]
            invites.withdraw(store, int(raw) if raw.isdigit() else -1)
            message = f"Invite {raw} withdrawn; its link no longer works."
        elif action == "grant":
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
        st.session_state[FEEDBACK] = (group, "error", " ".join(exc.problems))
        return
    except CineBlendError as exc:
        st.session_state[FEEDBACK] = (group, "error", str(exc))
        return
    finally:
        st.session_state["admin-create-password"] = ""
    st.session_state[FEEDBACK] = (group, "success", message)


def _feedback(group: str) -> None:
    """The outcome of the last action of ``group``, right under its controls (shown once)."""
    item = st.session_state.get(FEEDBACK)
    if item and item[0] == group:
        st.session_state.pop(FEEDBACK, None)
        plain.alert(item[1], item[2])


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

    st.markdown("**Invite people**")
    st.caption(
        "A one-time link: whoever opens it registers with the role chosen here, even when many "
        "colleagues register from one office address. It works once and expires."
    )
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.selectbox("Role for the invited person", ROLES, index=ROLES.index(TESTER), key="admin-invite-role",
                     format_func=lambda r: ROLE_LABELS[r])  # fmt: skip
        st.selectbox("Link works for", list(VALIDITY), index=1, key="admin-invite-validity")
        st.button("Create invite link", key="admin-invite", icon=":material/link:", on_click=_act, args=("invite",))
    _feedback("invite")
    link = st.session_state.get(NEW_LINK)
    if link:
        st.code(link, language=None, wrap_lines=True)
    listing = invites.listing(store)
    if listing:
        st.dataframe(
            listing,
            hide_index=True,
            key="admin-invites",
            column_order=("id", "role", "status", "created", "created by", "expires", "used by"),
        )
        open_ids = [f"{r['id']} ({r['role']}, until {r['expires']})" for r in listing if r["status"] == "open"]
        if open_ids:
            with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
                st.selectbox("Open invite", open_ids, key="admin-invite-withdraw")
                st.button("Withdraw invite", key="admin-invite-withdraw-button", on_click=_act, args=("withdraw",))

    with st.expander("Create an account yourself", icon=":material/person_add:"):
        with st.container(horizontal=True, gap="small"):
            st.text_input("Username", key="admin-create-username", max_chars=32)
            st.text_input("Name", key="admin-create-name", max_chars=80)
            st.text_input("Email", key="admin-create-email", max_chars=254)
        with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
            st.text_input("Password", type="password", key="admin-create-password", max_chars=128)
            st.selectbox("Role", ROLES, index=ROLES.index(TESTER), key="admin-create-role",
                         format_func=lambda r: ROLE_LABELS[r])  # fmt: skip
            st.button("Create account", key="admin-create", icon=":material/person_add:", on_click=_act,
                      args=("create",))  # fmt: skip
        st.caption(auth.PASSWORD_HELP)
    _feedback("create")

    st.markdown("**Roles, passwords, removal**")
    names = [r["username"] for r in rows]
    st.selectbox("Account", names, key="admin-user")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.selectbox("Role", ROLES, key="admin-role", format_func=lambda r: ROLE_LABELS[r])
        st.button("Grant role", key="admin-grant", on_click=_act, args=("grant",))
        st.button("Revoke role", key="admin-revoke", on_click=_act, args=("revoke",))
    st.caption("A role change ends that account's open sessions; they sign in again with the new role.")
    _feedback("role")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input("New password for the account", type="password", key="admin-new-password", max_chars=128)
        st.button("Reset password", key="admin-reset", on_click=_act, args=("reset",))
    _feedback("reset")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input("Type the account's username to remove it", key="admin-remove-confirm", max_chars=32)
        st.button(
            "Remove account", key="admin-remove", icon=":material/person_remove:", on_click=_act, args=("remove",)
        )
    _feedback("remove")
