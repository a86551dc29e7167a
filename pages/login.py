"""Sign in or create an account."""

import streamlit as st

from recsys.access import invites
from recsys.access.roles import ROLE_LABELS
from recsys.errors import CineBlendError, DuplicateUserError, RegistrationError
from recsys.ui import auth, cards, demo, plain, resources, shell, state

cfg = resources.settings()
store = resources.store(cfg)
user = auth.current_user(store)
if user is not None:  # just signed in (or a stale /login link): go to the landing page
    st.switch_page(shell.home_script(user, has_catalog=resources.has_catalog(cfg)))

st.title("CineBlend")
st.write("Movie and TV recommendations that learn from every like. Sign in or create an account.")
note = st.session_state.get(state.SIGNED_OUT_NOTE)
if note:  # why this tab was signed out (role or password changed, account deleted ...)
    plain.alert(note[0], note[1], icon=":material/logout:")
fresh = not store.has_users()
invite_token = str(st.query_params.get(invites.QUERY_PARAM) or "").strip()
if invite_token:
    try:
        invite = invites.check(store, invite_token)
    except invites.InviteError as exc:
        plain.alert("error", exc, icon=":material/link_off:")
    else:
        plain.alert(
            "info",
            f"You are invited as {ROLE_LABELS.get(invite.role, invite.role).lower()}: create your account under "
            f"Register. The link works once, until {invite.expires_at:%Y-%m-%d %H:%M} UTC.",
            icon=":material/mail:",
        )
if fresh:
    st.info(
        "Welcome! This is a fresh install: create the first account under **Register**. It becomes "
        "the admin, who downloads the data, trains the model and manages accounts.",
        icon=":material/shield_person:",
    )

login_tab, register_tab = st.tabs(
    ["Log in", "Register"],
    default="Register" if fresh or invite_token else "Log in",
    key="login-tabs",
    on_change="rerun",
)
with login_tab:
    auth.login_form(store, cfg)

with register_tab:
    with st.form("register-form", clear_on_submit=False):
        st.subheader("Create an account")
        name = st.text_input("Name", key="reg-name", max_chars=80)
        username = st.text_input("Username", key="reg-username", max_chars=32)
        email = st.text_input("Email", key="reg-email", max_chars=254)
        password = st.text_input("Password", type="password", key="reg-password", max_chars=128)
        repeat = st.text_input("Repeat password", type="password", key="reg-repeat", max_chars=128)
        st.caption(auth.PASSWORD_HELP)
        if not invite_token:
            st.caption(auth.FIRST_ACCOUNT_HELP)
        # the outcome shows right above the button that caused it (not below the fold)
        outcome = st.empty()
        submitted = st.form_submit_button("Register", type="primary")
    if submitted:
        # the account is made (and its cookie component rendered) outside the form: a component
        # inside a form never reruns the app; only the outcome's text goes in the form
        if password != repeat:
            outcome.error("The two passwords differ; type the same password twice.")
        else:
            try:
                auth.register_and_sign_in(store, cfg, username, name, email, password, invite=invite_token or None)
            except RegistrationError as exc:
                outcome.error(cards.problem_list(exc.problems))
            except (DuplicateUserError, auth.RateLimitedError, invites.InviteError) as exc:
                outcome.error(plain.md_escape(exc))
            else:
                # the cookie component reruns the app once the cookie is set (no st.rerun here,
                # nor a change of the query string); the switch to the landing page drops ?invite=
                outcome.success("Account created and signed in. Opening your page…")

st.divider()
st.subheader("Try a demo profile", anchor=False)
unavailable: CineBlendError | None = None
try:
    personas = resources.personas(cfg)
except CineBlendError as exc:
    personas, unavailable = [], exc
if unavailable is not None:  # one line, not two (issue 20)
    st.caption(f"Demo profiles are unavailable: {plain.md_escape(unavailable)}")
elif personas:
    st.caption(
        "See a mature feed in one click: each profile is a MovieLens user with a long history. "
        "Demo profiles are read-only; your clicks there stay in this browser tab."
    )
    with st.container(horizontal=True, gap="small"):
        for persona in personas:
            st.button(
                persona.name,
                key=f"demo-{persona.slug}",
                icon=":material/theater_comedy:",
                help=cards.md_escape(persona.blurb),
                on_click=auth.checked(demo.start),
                args=(persona.slug,),
            )
else:
    st.caption("Demo profiles need the MovieLens ratings: build the data on the Data & model page.")

resources.warm_up(cfg)  # the model loads in the background while the visitor signs in
