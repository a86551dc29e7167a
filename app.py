"""CineBlend entry point: page config, auth gate, navigation, shared sidebar. No logic here."""

import streamlit as st

from recsys.errors import CineBlendError
from recsys.ui import auth, plain, resources, shell

st.set_page_config(page_title="CineBlend", page_icon=":material/movie:", layout="wide")

try:
    cfg = resources.settings()
    store = resources.store(cfg)
    user = auth.gate(store, cfg)
    page = shell.navigation(user, has_catalog=resources.has_catalog(cfg))
except CineBlendError as exc:
    plain.alert("error", exc)
    st.stop()

shell.sidebar(user)
page.run()
