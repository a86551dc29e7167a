"""Onboarding rules, independent of the UI: steps, counts and what each step stores.

Steps: ``genres`` -> ``movies`` -> ``tv`` -> ``done``. Picks are stored as likes the moment they
are made, and the step is stored when the user continues, so leaving half-way loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from recsys.catalog.queries import Catalog
from recsys.store import Store, User

GENRE_COUNT = 5
TITLE_COUNT = 5
TRENDING_YEARS = 3
STEPS = ("genres", "movies", "tv", "done")
STEP_TITLES = {
    "genres": "Step 1 of 3: favourite genres",
    "movies": "Step 2 of 3: movies you liked",
    "tv": "Step 3 of 3: TV shows you liked",
    "done": "All set",
}


def progress_fraction(step: str) -> float:
    return STEPS.index(step) / (len(STEPS) - 1) if step in STEPS else 0.0


def save_genres(store: Store, user: User, genres: Sequence[str]) -> None:
    """Store exactly GENRE_COUNT distinct genres and move on to the movie step."""
    chosen = list(dict.fromkeys(genres))
    if len(chosen) != GENRE_COUNT:
        raise ValueError(f"Pick exactly {GENRE_COUNT} genres (you picked {len(chosen)}).")
    store.set_favourite_genres(user.id, chosen)
    store.set_onboarding_step(user.id, "movies")


def liked_of_kind(store: Store, catalog: Catalog, user: User, kind: str) -> list[str]:
    """The user's liked or superliked titles of ``kind`` ("movie" / "tv")."""
    frame = store.interactions(user.id)
    liked = [t for t, v in zip(frame["tconst"], frame["value"], strict=True) if v > 0]
    if not liked:
        return []
    titles = catalog.titles(liked)
    return [t for t, k in zip(titles["tconst"], titles["kind"], strict=True) if k == kind]


def finish_kind(store: Store, catalog: Catalog, user: User, kind: str) -> None:
    """Continue past the movie / TV step once at least TITLE_COUNT titles of it are liked."""
    liked = liked_of_kind(store, catalog, user, kind)
    noun = "movies" if kind == "movie" else "TV shows"
    if len(liked) < TITLE_COUNT:
        raise ValueError(f"Pick at least {TITLE_COUNT} {noun} (you have {len(liked)}).")
    store.set_onboarding_step(user.id, "tv" if kind == "movie" else "done")


def go_back(store: Store, user: User) -> None:
    index = STEPS.index(user.onboarding_step) if user.onboarding_step in STEPS else 0
    store.set_onboarding_step(user.id, STEPS[max(index - 1, 0)])
