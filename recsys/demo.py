"""Demo personas: read-only profiles built from MovieLens users with long, distinct histories, so
a product team can show a mature feed in one click.

:func:`pick_personas` chooses them from the catalogue's MovieLens ratings: users with at least
``min_ratings`` ratings of catalogue titles, longest history first, each named after two genres
and no genre naming two personas. The candidate genres are those the user likes *more than
everyone else does* (lift: the genre's share of the user's likes over its share of all likes).
Given a ``recommend`` function (the app passes the trained recommender), the name comes from what
the persona's feed actually shows: the pair of candidate genres covering the most of its top
:data:`SHOWN` movies and top :data:`SHOWN` shows, and a user whose feed does not put at least
:data:`MIN_COVER` of each list in the named genres is skipped. Without one (no trained model),
the two genres of highest lift name it. A persona's ratings become app
values with :func:`recsys.columns.click_values`, as the evaluation reads MovieLens users,
except that 4.5 stars already count as a superlike (4.5-5 superlike, 4 like, 0.5-2 dislike, the
rest left out); MovieLens times are kept.

:func:`open_demo` gives a demo session its own :class:`DemoStore`: the persona's profile in a
private in-memory database (so every page works unchanged), while settings and the other
users' data come from the shared store. Clicks change only the private copy, which is gone when
the session ends; what would change shared state (live weights, password, account) is refused
with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from recsys.columns import Columns, click_values
from recsys.errors import StoreError
from recsys.roles import TESTER
from recsys.store import Store, User

#: Personas offered on the sign-in page.
PERSONAS = 4
#: Ratings of catalogue titles a MovieLens user needs to be a persona ("a long history").
MIN_RATINGS = 200
#: A genre must hold at least this share of a user's likes to name the persona.
MIN_SHARE = 0.15
FAVOURITES = 5
#: Titles per section of a persona's feed that its name must describe.
SHOWN = 12
#: Share of each section's top titles that must carry one of the named genres.
MIN_COVER = 0.5
#: Stars from which a persona's rating is a superlike (the evaluation uses 5).
SUPERLIKE_STARS = 4.5

ML_USER = Columns.ML_USER_ID

READ_ONLY = "Demo profiles are read-only: register an account to keep ratings and change settings."


@dataclass(frozen=True, eq=False)
class Persona:
    """One demo profile: ``ratings`` is ``[tconst, value, at]`` in time order."""

    slug: str
    name: str
    blurb: str
    ml_user_id: int
    favourite_genres: tuple[str, ...]
    ratings: pl.DataFrame

    @property
    def username(self) -> str:
        return f"demo-{self.slug}"


def rating_value(rating: float) -> int | None:
    """The app value of a MovieLens star rating, or None for the lukewarm middle (2.5-3.5)."""
    value = int(click_values(np.array([rating]), superlike_rating=SUPERLIKE_STARS)[0])
    return value or None


#: ``recommend(profile [tconst, value, at], favourite genres)`` -> the genres of each section's
#: top titles, ``{kind: [genres of title 1, genres of title 2, ...]}``.
FeedGenres = Callable[[pl.DataFrame, Sequence[str]], dict[str, list[list[str]]]]


def name_from_feed(
    candidates: Sequence[str], feed: dict[str, list[list[str]]], min_cover: float = MIN_COVER
) -> tuple[str, str] | None:
    """The pair of ``candidates`` (best first) whose genres cover the most of the feed's weakest
    section (share of titles carrying either genre); None when no pair covers ``min_cover`` of
    every non-empty section. Ties keep the candidates' order. Example: candidates (Crime,
    Thriller, Drama) with movies all Crime and shows half Crime, half Drama -> (Crime, Drama)."""
    lists = [shown for shown in feed.values() if shown]
    if not lists:
        return None
    best: tuple[float, tuple[str, str]] | None = None
    for a, b in combinations(candidates, 2):
        cover = min(sum(1 for gs in shown if a in gs or b in gs) / len(shown) for shown in lists)
        if best is None or cover > best[0] + 1e-12:
            best = (cover, (a, b))
    if best is None or best[0] < min_cover:
        return None
    return best[1]


def pick_personas(
    ratings: pl.DataFrame,
    titles: pl.DataFrame,
    count: int = PERSONAS,
    min_ratings: int = MIN_RATINGS,
    recommend: FeedGenres | None = None,
) -> list[Persona]:
    """Up to ``count`` personas from MovieLens ``ratings`` ``[ml_user_id, tconst, rating,
    timestamp]`` over the catalogue ``titles`` ``[tconst, genres]``; deterministic. With
    ``recommend``, names come from the persona's own feed (see the module docstring)."""
    rated = ratings.select(ML_USER, "tconst", "rating", "timestamp").join(
        titles.select("tconst", "genres"), on="tconst", how="inner"
    )
    if rated.is_empty():
        return []
    sizes = (
        rated.group_by(ML_USER)
        .agg(pl.len().alias("n"), (pl.col("rating") >= 4.0).sum().alias("likes"))
        .filter(pl.col("n") >= min_ratings, pl.col("likes") > 0)
        .sort(["n", ML_USER], descending=[True, False])
    )
    liked = rated.filter(pl.col("rating") >= 4.0).explode("genres").drop_nulls("genres")
    overall = liked.group_by("genres").agg((pl.len() / liked.height).alias("overall"))
    per_user = (
        liked.group_by(ML_USER, "genres")
        .agg(pl.len().alias("count"))
        .join(sizes.select(ML_USER, "likes"), on=ML_USER)
        .with_columns((pl.col("count") / pl.col("likes")).alias("share"))
        .join(overall, on="genres")
        .with_columns((pl.col("share") / pl.col("overall")).alias("lift"))
    )
    genres_of = per_user.partition_by(ML_USER, as_dict=True)
    ratings_of = rated.partition_by(ML_USER, as_dict=True)
    chosen: list[Persona] = []
    leading: set[str] = set()  # genres already naming a persona
    for user_id, n, likes in sizes.iter_rows():
        genres = genres_of[(user_id,)]
        ranked = (
            genres.filter(pl.col("share") >= MIN_SHARE)
            .sort(["lift", "genres"], descending=[True, False])["genres"]
            .to_list()
        )
        ranked = [g for g in ranked if g not in leading]
        if len(ranked) < 2:
            continue
        most_liked = genres.sort(["count", "genres"], descending=[True, False])["genres"].to_list()
        profile = _profile(ratings_of[(user_id,)])
        if recommend is None:
            signature = ranked[:2]
        else:
            favourites = tuple(dict.fromkeys(ranked[:2] + most_liked))[:FAVOURITES]
            pair = name_from_feed(ranked, recommend(profile, favourites))
            if pair is None:
                continue  # its feed does not show what a name could promise
            signature = list(pair)
        leading.update(signature)
        favourites = tuple(dict.fromkeys(signature + most_liked))[:FAVOURITES]
        chosen.append(
            Persona(
                slug="-".join(g.lower() for g in signature).replace(" ", "-"),
                name=f"{signature[0]} and {signature[1]} fan",
                blurb=(
                    f"MovieLens user {user_id}: {n:,} ratings, {likes:,} liked, "
                    f"likes {signature[0]} and {signature[1]} more than most"
                ),
                ml_user_id=int(user_id),
                favourite_genres=favourites,
                ratings=profile,
            )
        )
        if len(chosen) == count:
            break
    return chosen


def _profile(rows: pl.DataFrame) -> pl.DataFrame:
    values = click_values(rows["rating"].to_numpy(), superlike_rating=SUPERLIKE_STARS).astype(np.int64)
    return (
        rows.with_columns(
            pl.Series("value", values),
            pl.from_epoch("timestamp", time_unit="s").dt.replace_time_zone("UTC").alias("at"),
        )
        .filter(pl.col("value") != 0)
        .sort("at", "tconst")
        .select("tconst", "value", "at")
    )


class DemoStore:
    """The store a demo session sees: the persona's profile in a private in-memory database,
    settings and everyone else's data from the shared store, and no way to change shared state.

    Any method not listed below is the private store's (users, ratings, hidden titles,
    history), so pages need no demo-specific code for them.
    """

    #: Read from the shared store: the live weights and the evaluation's app data.
    SHARED = frozenset({"get_setting", "setting_info", "all_interactions", "credentials"})
    #: Would change shared state or the account: refused with :data:`READ_ONLY`.
    REFUSED = frozenset(
        {
            "set_setting",
            "set_password_hash",
            "delete_user",
            "set_active",
            "create_user",
            "set_role",
            "bump_session_version",
        }
    )

    def __init__(self, private: Store, shared: Store, user: User) -> None:
        self.private = private
        self.shared = shared
        self.user = user

    def __getattr__(self, name: str) -> Any:
        if name in self.REFUSED:
            return _refuse
        if name in self.SHARED:
            return getattr(self.shared, name)
        return getattr(self.private, name)

    def current_user(self) -> User:
        """The persona as it is now (favourite genres may change in the session); always a
        tester, though it is the first (admin) account of its private store."""
        return replace(self.private.get_user_by_id(self.user.id) or self.user, role=TESTER)

    def close(self) -> None:
        self.private.close()


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise StoreError(READ_ONLY)


def open_demo(persona: Persona, shared: Store) -> DemoStore:
    """A fresh demo session for ``persona`` (its own in-memory copy of the profile)."""
    private = Store.in_memory()  # no Alembic run per session (its state is per process)
    try:
        user = private.create_user(persona.username, persona.name, f"{persona.slug}@demo.invalid", "!demo-profile")
        private.set_favourite_genres(user.id, persona.favourite_genres)
        private.set_onboarding_step(user.id, "done")
        private.seed_interactions(user.id, persona.ratings.select("tconst", "value", "at").rows())
        user = private.get_user_by_id(user.id) or user
    except BaseException:
        private.close()
        raise
    return DemoStore(private, shared, user)


def persona_at(personas: list[Persona], slug: str) -> Persona:
    for persona in personas:
        if persona.slug == slug:
            return persona
    raise StoreError(f"No demo profile {slug!r}; pick one of the profiles shown.")


__all__ = ["READ_ONLY", "DemoStore", "Persona", "open_demo", "persona_at", "pick_personas", "rating_value"]
