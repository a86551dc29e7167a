"""Onboarding, once per user: 5 favourite genres, then at least 5 movies and 5 TV shows liked.

The step and every pick are stored at once, so a user who leaves half-way resumes here.
"""

import streamlit as st

from recsys.app import onboarding
from recsys.ui import actions, auth, card_element, cards, plain, resources

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)

step = user.onboarding_step
st.title("Get started")
st.progress(onboarding.progress_fraction(step), text=onboarding.STEP_TITLES.get(step, ""))


@auth.checked
def genres_changed() -> None:
    """Keep at most GENRE_COUNT pills ticked, and store the choice at once so a reload keeps it."""
    chosen = list(st.session_state.get("onb-genres") or [])
    if len(chosen) > onboarding.GENRE_COUNT:
        st.session_state["onb-genres"] = [g for g in user.favourite_genres if g in options]
        st.session_state["onb-error"] = f"At most {onboarding.GENRE_COUNT} genres: untick one to choose another."
        return
    store.set_favourite_genres(user.id, chosen)


@auth.checked
def save_genres() -> None:
    chosen = st.session_state.get("onb-genres") or []
    try:
        onboarding.save_genres(store, user, chosen)
    except ValueError as exc:
        st.session_state["onb-error"] = str(exc)


STEP_CHANGED = "onb-step-changed"  # a fragment's Back / Continue: the whole page moves on


@auth.checked
def advance(kind: str) -> None:
    try:
        onboarding.finish_kind(store, catalog, user, kind)
    except ValueError as exc:
        st.session_state["onb-error"] = str(exc)
        return
    st.session_state[STEP_CHANGED] = True


@auth.checked
def back() -> None:
    onboarding.go_back(store, user)
    st.session_state[STEP_CHANGED] = True


def popular_picks(kind: str) -> list[dict]:
    """``onboarding.candidates`` once per session, catalogue and genres: its two catalogue
    queries take ~120 ms on the mirror, and every pick used to run them again (a pick's run
    took 5x a bare button's; the list does not change while the person picks)."""
    memo = st.session_state.setdefault("onb-candidates", {})
    key = (id(catalog), kind, tuple(user.favourite_genres), cfg.show_adult)
    if key not in memo:
        memo.clear()
        memo[key] = onboarding.candidates(catalog, kind, user.favourite_genres, show_adult=cfg.show_adult)
    rows: list[dict] = memo[key]
    return rows


@auth.fragment
def picks(step: str) -> None:
    """The movie / TV picks step; a pick reruns only this fragment, whose cards are one element
    (``recsys.ui.card_element``): the card's button flips at once in the browser, the run that
    follows sends that element, the counter and the two button rows back (10 elements; the
    intro above the fragment is not re-sent). Back / Continue rerun the whole page."""
    if st.session_state.pop(STEP_CHANGED, False):
        st.rerun(scope="app")
    error = st.session_state.pop("onb-error", None)
    kind = "movie" if step == "movies" else "tv"
    noun = "movies" if kind == "movie" else "TV shows"
    # the kinds of the titles shown (and of the likes looked up once): no catalogue query per pick
    kinds = st.session_state.setdefault("onb-kinds", {})
    kinds.update((r["tconst"], r["kind"]) for r in popular_picks(kind) if r.get("kind"))
    liked = onboarding.liked_of_kind(store, catalog, user, kind, kinds)
    st.caption(onboarding.picked_text(len(liked)))
    if error:
        plain.alert("error", error)

    def navigation(suffix: str = "") -> None:
        # one row block and its two buttons (3 elements a pick's run re-sends; columns took 6)
        with st.container(horizontal=True, gap="small"):
            st.button("Back", key=f"onb-back-{kind}{suffix}", on_click=back)
            st.button(
                "Continue",
                key=f"onb-next-{kind}{suffix}",
                type="primary",
                on_click=advance,
                args=(kind,),
                disabled=len(liked) < onboarding.TITLE_COUNT,
            )

    navigation()
    query = st.text_input(f"Search {noun}", key=f"onb-search-{kind}", max_chars=200)
    if query.strip():
        rows = catalog.search(query, kind=kind, limit=12, fuzzy=True).to_dicts()
        if not rows:
            st.info(f"No {noun} match “{cards.md_escape(query)}”. Try fewer or shorter words.")
    else:
        rows = popular_picks(kind)

    kinds.update((r["tconst"], r["kind"]) for r in rows if r.get("kind"))  # a pick of a search result is known next run
    picked = set(liked)

    card_element.cards(
        rows,
        key=f"onb-{kind}",
        on_click=lambda click: actions.set_pick(user.id, click.tconst, bool(click.value)),
        buttons=card_element.PICK_BUTTONS,
        picked=picked,
        label=f"Popular {noun}",
    )
    navigation("-bottom")


if step == "genres":
    error = st.session_state.pop("onb-error", None)
    options = onboarding.genre_options(catalog, show_adult=cfg.show_adult)
    st.write(f"Pick exactly {onboarding.GENRE_COUNT} genres you enjoy most.")
    st.pills(
        "Favourite genres",
        options,
        selection_mode="multi",
        # no default once the callback has set the value (Streamlit warns, with a stack trace
        # in the server log, about a widget given both)
        default=None
        if "onb-genres" in st.session_state
        else [g for g in user.favourite_genres if g in options][: onboarding.GENRE_COUNT],
        key="onb-genres",
        on_change=genres_changed,
    )
    n = len(st.session_state.get("onb-genres") or [])
    st.caption(f"{n} of {onboarding.GENRE_COUNT} chosen")
    if error:
        plain.alert("error", error)
    st.button("Continue", key="onb-genres-next", type="primary", on_click=save_genres)
else:
    # outside the fragment: it does not change on a pick, so a pick's run does not re-send it
    noun = "movies" if step == "movies" else "TV shows"
    st.write(
        f"Pick at least {onboarding.TITLE_COUNT} {noun} you liked. These are popular {noun} of "
        "your genres mixed with what is trending; search for anything else."
    )
    picks(step)
