"""The app frame: which pages this user may see, and the shared sidebar."""

from __future__ import annotations

from typing import Literal

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from recsys.access.roles import ADMIN, ANALYST, may_apply_weights
from recsys.enrich import TMDB_ATTRIBUTION
from recsys.store import User
from recsys.ui import auth, cards, demo, resources

ATTRIBUTION = (
    "Information courtesy of IMDb (https://www.imdb.com). Used with permission.  \n"
    "MovieLens data: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: "
    "History and Context. ACM TiiS 5, 4: 19:1-19:19."
)


# name -> (script, title, icon, URL path). A URL path must differ from its script's file name:
# with a pages/ folder present, Streamlit's legacy multipage mode also registers every script
# under its file name and would run a matching one directly, skipping app.py's auth gate.
PAGES = {
    "login": ("pages/login.py", "Sign in", ":material/login:", "sign-in"),
    "onboarding": ("pages/onboarding.py", "Get started", ":material/checklist:", "get-started"),
    "feed": ("pages/feed.py", "Your feed", ":material/home:", "for-you"),
    "search": ("pages/search.py", "Search", ":material/search:", "find"),
    "history": ("pages/history.py", "Your ratings", ":material/history:", "my-ratings"),
    "account": ("pages/account.py", "Account", ":material/person:", "my-account"),
    "evaluation": ("pages/evaluation.py", "Evaluation lab", ":material/science:", "evaluation-lab"),
    "experiments": ("pages/experiments.py", "Experiments", ":material/experiment:", "experiments-lab"),
    "data": ("pages/data.py", "Data & model", ":material/database:", "data-and-model"),
}


#: The URL path argument of the landing page (shown at "/"; its named path is an alias).
HOME_URL = "home"


def page_names(user: User | None, *, has_catalog: bool) -> list[str]:
    """Pages this user may see in this run, the default (landing) page first.

    Signed out: sign in / register, and data (on a fresh install the first account, which becomes
    the admin, is made there, then the admin downloads the data). Signed in without a catalogue:
    the data page (its download buttons are the admin's) and the account. Signed in but not
    onboarded: onboarding first, and the account right away (change the password or delete the
    account before rating anything); an admin or analyst also reaches the lab without
    onboarding, which is offered to them, not forced (issue 20, item 4). Otherwise the feed and
    the rest. Example: a new analyst sees ``["onboarding", "account", "evaluation", "data"]``.
    """
    if user is None:
        return ["login", "data"]
    if not has_catalog:
        return ["data", "account"]
    if user.onboarding_step != "done":
        if user.role in (ADMIN, ANALYST):
            return ["onboarding", "account", "evaluation", "experiments", "data"]
        return ["onboarding", "account", "data"]
    pages = ["feed", "search", "history", "account", "evaluation", "data"]
    if may_apply_weights(user.role):  # analysts and admins run experiments (a demo persona is a tester)
        pages.insert(5, "experiments")
    return pages


def navigation(user: User | None, *, has_catalog: bool) -> StreamlitPage:
    """Build ``st.navigation`` for this run.

    A signed-in user keeps the sign-in page registered but hidden: the run right after signing
    in still asks for it, and it sends the user on to their landing page with ``st.switch_page``.
    Every other URL of :data:`PAGES` stays known too (hidden, showing the landing page), so no
    link opens "Page not found".
    """
    names = page_names(user, has_catalog=has_catalog)
    landing = PAGES[names[0]]
    # The landing page is served at "/" (Streamlit drops a default page's own URL path), so its
    # named URL and the URL of every page this user cannot see yet are hidden aliases of it:
    # /for-you, a bookmark of the data page or a link from an e-mail open the landing page
    # instead of "Page not found" over it (issue 20). Aliases come last: st.switch_page to a
    # script picks its first page.
    pages = [
        st.Page(landing[0], title=landing[1], icon=landing[2], url_path=HOME_URL, default=True),
        *(_page(name) for name in names[1:]),
    ]
    for name, (_, title, icon, url_path) in PAGES.items():
        if name in names[1:]:
            continue
        script = PAGES[name][0] if name == "login" else landing[0]
        pages.append(st.Page(script, title=title, icon=icon, url_path=url_path, visibility="hidden"))
    return st.navigation(pages)


def _page(name: str, *, default: bool = False, visibility: Literal["visible", "hidden"] = "visible") -> StreamlitPage:
    script, title, icon, url_path = PAGES[name]
    return st.Page(script, title=title, icon=icon, url_path=url_path, default=default, visibility=visibility)


def home_script(user: User | None, *, has_catalog: bool) -> str:
    """The script of this user's landing page (for ``st.switch_page``)."""
    return PAGES[page_names(user, has_catalog=has_catalog)[0]][0]


#: On a narrow screen the sidebar covers the page; Streamlit leaves it open after a page is
#: chosen there (seen at 390 px, issue 20), so a click on a navigation link closes it. A constant
#: script: no data goes in. Installed once per browser tab.
CLOSE_SIDEBAR_ON_NAV = """<script>
if (!window.cbCloseSidebarOnNav) {
  window.cbCloseSidebarOnNav = true;
  window.parent.document.addEventListener("click", (event) => {
    if (!window.parent.matchMedia("(max-width: 640px)").matches) return;
    if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
    setTimeout(() => {
      const close = window.parent.document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }, 0);
  }, true);
}
</script>"""


def sidebar(user: User | None) -> None:
    cards.inject_styles()
    with st.sidebar:
        if user is not None and demo.active() is not None:
            st.caption(f"Demo profile **{cards.md_escape(user.name)}**: read-only, your clicks stay in this tab.")
            st.button("Leave demo", key="logout-button", icon=":material/logout:", on_click=auth.request_logout)
        elif user is not None:
            st.caption(f"Signed in as **{cards.md_escape(user.name)}** ({cards.md_escape(user.username)})")
            st.button("Log out", key="logout-button", icon=":material/logout:", on_click=auth.request_logout)
        st.divider()
        st.caption(ATTRIBUTION)
        if resources.settings().tmdb_api_key:
            st.caption(TMDB_ATTRIBUTION)
        st.html(CLOSE_SIDEBAR_ON_NAV, unsafe_allow_javascript=True)
    cards.flash()
