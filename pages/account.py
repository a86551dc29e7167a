"""Your account: password, favourite genres, sign out, delete the account."""

import streamlit as st

from recsys.access.roles import ROLE_LABELS
from recsys.app.demo import READ_ONLY
from recsys.app.onboarding import GENRE_COUNT, genre_options
from recsys.errors import CineBlendError, RegistrationError
from recsys.store.accounts import change_password
from recsys.ui import admin, auth, cards, demo, resources, state

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)

st.title("Your account")
if demo.active() is not None:
    st.info(READ_ONLY + " Leave the demo with the button in the sidebar.", icon=":material/lock:")
    st.stop()
st.write(f"**{cards.md_escape(user.name)}** · {cards.md_escape(user.username)} · {cards.md_escape(user.email)}")
st.caption(f"Role: {ROLE_LABELS.get(user.role, user.role)}")

st.subheader("Favourite genres", anchor=False)
try:
    all_genres = genre_options(resources.catalog(cfg), show_adult=cfg.show_adult)
except CineBlendError:
    all_genres = list(user.favourite_genres)


@auth.checked
def save_genres() -> None:
    chosen = st.session_state.get("acct-genres") or []
    if len(chosen) != GENRE_COUNT:
        st.session_state[state.FLASH] = ("error", f"Pick exactly {GENRE_COUNT} genres (you picked {len(chosen)}).")
        return
    store.set_favourite_genres(user.id, chosen)
    st.session_state[state.FLASH] = ("success", "Favourite genres saved; your feed uses them now.")


st.multiselect(
    "Favourite genres",
    all_genres,
    default=[g for g in user.favourite_genres if g in all_genres],
    max_selections=GENRE_COUNT,
    key="acct-genres",
)
st.button("Save genres", key="acct-genres-save", on_click=save_genres)

st.subheader("Change password", anchor=False)
with st.form("password-form", clear_on_submit=True):
    current = st.text_input("Current password", type="password", key="acct-pw-current")
    new = st.text_input("New password", type="password", key="acct-pw-new", max_chars=128)
    repeat = st.text_input("Repeat new password", type="password", key="acct-pw-repeat", max_chars=128)
    st.caption(auth.PASSWORD_HELP)
    outcome = st.empty()  # right above the button that caused it (the cookie component stays outside)
    changed = st.form_submit_button("Change password")
if changed:
    if new != repeat:
        outcome.error("The two new passwords differ; type the same password twice.")
    else:
        problem = auth.verify_own_password(user, current, "The current password")
        try:
            if problem is not None:
                raise RegistrationError([problem])
            change_password(store, user, current, new)
        except RegistrationError as exc:
            outcome.error(cards.problem_list(exc.problems))
        else:
            auth.issue_cookie(cfg, store.get_user_by_id(user.id) or user)  # this session stays signed in
            outcome.success("Password changed: your other sessions are signed out. Use the new one next time.")

st.subheader("Sign out", anchor=False)
st.button("Log out", key="acct-logout", icon=":material/logout:", on_click=auth.request_logout)

admin.section()

st.subheader("Delete account", anchor=False)
st.write("This removes your account, every rating you made and your rows in the saved models. It cannot be undone.")
st.text_input("Your password, to confirm", type="password", key="acct-delete-password", max_chars=128)
st.button(
    "Delete my account",
    key="acct-delete",
    type="secondary",
    icon=":material/delete_forever:",
    on_click=auth.delete_own_account,
    args=("acct-delete-password",),
)
