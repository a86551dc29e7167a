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
CANDIDATES = 40
MIN_RATING = 5.0
"""Titles rated under this on IMDb are not offered as things to "like"."""
EXCLUDED_GENRES = frozenset({"Adult"})
"""Left out of the pills and the candidates unless ``CINEBLEND_SHOW_ADULT`` is set."""
NOT_TASTES = frozenset({"Short", "Game-Show", "Talk-Show", "News", "Reality-TV"})
"""Formats rather than tastes (issue 20): never offered as favourite genres (the catalogue keeps
their titles; a liked talk show still counts)."""
GENRE_SHARE = 3
"""Of every GENRE_SHARE + 1 candidates, GENRE_SHARE come from the chosen genres, one from trending."""
STEP_TITLES = {
    "genres": "Step 1 of 3: favourite genres",
    "movies": "Step 2 of 3: movies you liked",
    "tv": "Step 3 of 3: TV shows you liked",
    "done": "All set",
}


def progress_fraction(step: str) -> float:
    return STEPS.index(step) / (len(STEPS) - 1) if step in STEPS else 0.0


def excluded_genres(show_adult: bool = False) -> frozenset[str]:
    """The genres never offered: :data:`EXCLUDED_GENRES`, none with ``show_adult``."""
    return frozenset() if show_adult else EXCLUDED_GENRES


def genre_options(catalog: Catalog, *, show_adult: bool = False) -> list[str]:
    """The genres offered as pills (and on the Account page): Adult left out unless
    ``show_adult``, formats such as Talk-Show or News (:data:`NOT_TASTES`) always."""
    excluded = excluded_genres(show_adult) | NOT_TASTES
    return [g for g in catalog.genres() if g not in excluded]


def picked_text(n: int) -> str:
    """The onboarding counter: ``"3 of 5 picked"`` while short, then ``"6 picked (at least 5
    needed)"`` -- never "6 of 5"."""
    if n < TITLE_COUNT:
        return f"{n} of {TITLE_COUNT} picked"
    return f"{n} picked (at least {TITLE_COUNT} needed)"


def _offerable(row: dict, excluded: frozenset[str]) -> bool:
    rating = row.get("average_rating")
    return (rating is None or rating >= MIN_RATING) and not excluded & set(row.get("genres") or ())


def candidates(
    catalog: Catalog, kind: str, genres: Sequence[str], limit: int = CANDIDATES, *, show_adult: bool = False
) -> list[dict]:
    """Titles to pick from: the most popular of the chosen ``genres`` mixed with overall
    trending (GENRE_SHARE to 1), so the list follows the genres and is never thin; titles rated
    under MIN_RATING and Adult titles (unless ``show_adult``) left out; no repeats."""
    excluded = excluded_genres(show_adult)
    wanted = [g for g in genres if g not in excluded]
    by_genre = catalog.by_genres(wanted, kind, limit=limit * 2).to_dicts() if wanted else []
    trending = catalog.trending(kind, years=TRENDING_YEARS, limit=limit * 2).to_dicts()
    if len(trending) < limit:  # a thin window: fall back on all-time popularity
        trending += catalog.by_genres([], kind, limit=limit * 2).to_dicts()
    pools = [[r for r in by_genre if _offerable(r, excluded)], [r for r in trending if _offerable(r, excluded)]]
    out: dict[str, dict] = {}
    turn = 0
    while len(out) < limit and any(pools):
        pool = pools[0] if (turn % (GENRE_SHARE + 1) < GENRE_SHARE and pools[0]) or not pools[1] else pools[1]
        row = pool.pop(0)
        out.setdefault(row["tconst"], row)
        turn += 1
    return list(out.values())


def save_genres(store: Store, user: User, genres: Sequence[str]) -> None:
    """Store exactly GENRE_COUNT distinct genres and move on to the movie step."""
    chosen = list(dict.fromkeys(genres))
    if len(chosen) != GENRE_COUNT:
        raise ValueError(f"Pick exactly {GENRE_COUNT} genres (you picked {len(chosen)}).")
    store.set_favourite_genres(user.id, chosen)
    store.set_onboarding_step(user.id, "movies")


def liked_of_kind(
    store: Store, catalog: Catalog, user: User, kind: str, kinds: dict[str, str] | None = None
) -> list[str]:
    """The user's liked or superliked titles of ``kind`` ("movie" / "tv").

    ``kinds`` (tconst -> kind, e.g. of the titles the page showed) saves the catalogue query
    for the titles it knows; the kinds of the others are looked up and added to it. The picks
    page keeps one per session: the query was a third of a pick's run (~7 ms of ~20).
    """
    frame = store.interactions(user.id)
    liked = [t for t, v in zip(frame["tconst"], frame["value"], strict=True) if v > 0]
    if not liked:
        return []
    known = kinds if kinds is not None else {}
    missing = [t for t in liked if t not in known]
    if missing:
        titles = catalog.titles(missing)
        known.update(zip(titles["tconst"], titles["kind"], strict=True))
    return [t for t in liked if known.get(t) == kind]


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
