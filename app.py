"""CineBlend entry point: page config, auth gate, navigation, shared sidebar. No logic here."""

import streamlit as st

from recsys.errors import CineBlendError
from recsys.ui import auth, resources, shell

st.set_page_config(page_title="CineBlend", page_icon=":material/movie:", layout="wide")

# name (also the URL path) -> (script, title, icon)
PAGES = {
    "login": ("pages/login.py", "Sign in", ":material/login:"),
    "onboarding": ("pages/onboarding.py", "Get started", ":material/checklist:"),
    "feed": ("pages/feed.py", "Your feed", ":material/home:"),
    "data": ("pages/data.py", "Data & model", ":material/database:"),
}

try:
    cfg = resources.settings()
    store = resources.store(cfg)
    user = auth.gate(store, cfg)
    names = shell.page_names(user, has_catalog=resources.has_catalog(cfg))
except CineBlendError as exc:
    st.error(str(exc))
    st.stop()

page = st.navigation(
    [
        st.Page(PAGES[name][0], title=PAGES[name][1], icon=PAGES[name][2], url_path=name, default=i == 0)
        for i, name in enumerate(names)
    ]
)
shell.sidebar(user)
page.run()
