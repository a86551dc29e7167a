"""Demo personas on hand-written ratings: who is picked, how they are named, what they store,
and that a demo session never writes to the shared store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import pytest

from recsys.app.demo import (
    READ_ONLY,
    FeedGenres,
    cards_carrying,
    name_from_feed,
    name_holds,
    needed,
    open_demo,
    persona_at,
    pick_personas,
    rating_value,
)
from recsys.columns import DISLIKE, LIKE, SUPERLIKE
from recsys.errors import StoreError
from recsys.models import weights
from recsys.store import Store, lab
from tests.support.narrow import as_store
from tests.support.weights import full

GENRES = {
    # tconst: genres
    "tt0000001": ["Horror", "Thriller"],
    "tt0000002": ["Horror"],
    "tt0000003": ["Thriller", "Drama"],
    "tt0000004": ["Animation", "Family"],
    "tt0000005": ["Animation", "Comedy"],
    "tt0000006": ["Family", "Comedy"],
    "tt0000007": ["Drama"],
    "tt0000008": ["Drama", "Romance"],
}
TITLES = pl.DataFrame({"tconst": list(GENRES), "genres": list(GENRES.values())})


def ratings(user: int, rows: list[tuple[str, float]], start: int = 1_500_000_000) -> list[dict]:
    return [
        {"ml_user_id": user, "tconst": t, "rating": r, "timestamp": start + i * 60} for i, (t, r) in enumerate(rows)
    ]


# user 1: long history, loves horror + thriller; user 2: loves animation + family;
# user 3: the longest, but likes horror too (shares a genre with user 1); user 4: too short
RATINGS = pl.DataFrame(
    ratings(
        3,
        [
            ("tt0000001", 5.0),
            ("tt0000002", 4.0),
            ("tt0000007", 4.0),
            ("tt0000008", 2.0),
            ("tt0000003", 3.0),
            ("tt0000004", 1.0),
        ],
    )
    + ratings(1, [("tt0000001", 5.0), ("tt0000002", 4.5), ("tt0000003", 4.0), ("tt0000006", 1.0), ("tt0000007", 3.0)])
    + ratings(2, [("tt0000004", 5.0), ("tt0000005", 4.0), ("tt0000006", 4.0), ("tt0000001", 2.0), ("tt0000008", 3.5)])
    + ratings(4, [("tt0000008", 5.0), ("tt0000007", 5.0)])
)


def test_star_ratings_map_to_app_values() -> None:
    assert [rating_value(r) for r in (5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 0.5)] == [
        SUPERLIKE,
        SUPERLIKE,
        LIKE,
        None,
        None,
        None,
        DISLIKE,
        DISLIKE,
    ]


def test_personas_are_long_histories_with_distinct_tastes() -> None:
    personas = pick_personas(RATINGS, TITLES, count=4, min_ratings=5)
    # user 3 (6 ratings) comes first; user 1 (horror again) is skipped; user 4 is too short
    assert [p.ml_user_id for p in personas] == [3, 2]
    horror, family = personas
    # lift = the genre's share of the user's 3 likes over its share of all 18 liked genre tags:
    # horror (2/3) / (4/18) = 3.0, thriller (1/3) / (3/18) = 2.0, drama (1/3) / (4/18) = 1.5
    assert horror.name == "Horror and Thriller fan" and horror.slug == "horror-thriller"
    assert horror.favourite_genres == ("Horror", "Thriller", "Drama")
    # animation, family and comedy all lift 6.0: ties go by name
    assert family.name == "Animation and Comedy fan" and family.favourite_genres[0] == "Animation"
    assert "MovieLens user 2: 5 ratings, 3 liked" in family.blurb
    # lukewarm ratings (2.5-3.5) are left out; times are kept, oldest first
    assert horror.ratings.rows() == [
        ("tt0000001", SUPERLIKE, datetime.fromtimestamp(1_500_000_000, UTC)),
        ("tt0000002", LIKE, datetime.fromtimestamp(1_500_000_060, UTC)),
        ("tt0000007", LIKE, datetime.fromtimestamp(1_500_000_120, UTC)),
        ("tt0000008", DISLIKE, datetime.fromtimestamp(1_500_000_180, UTC)),
        ("tt0000004", DISLIKE, datetime.fromtimestamp(1_500_000_300, UTC)),
    ]
    again = pick_personas(RATINGS, TITLES, count=4, min_ratings=5)  # deterministic
    assert [(p.slug, p.ratings.rows()) for p in again] == [(p.slug, p.ratings.rows()) for p in personas]
    assert pick_personas(RATINGS.head(0), TITLES) == []


SHARED_WEIGHTS = full(content=0.2, als=0.7, taste=0.0, popularity=0.1)


def test_a_demo_session_reads_the_persona_and_never_writes_the_shared_store() -> None:
    persona = pick_personas(RATINGS, TITLES, count=1, min_ratings=5)[0]
    with Store.open("sqlite://") as shared:
        lab.change_live_weights(shared, SHARED_WEIGHTS, "ds", defaults={})
        demo = open_demo(persona, shared)
        user = demo.current_user()
        assert user.username == "demo-horror-thriller" and user.onboarded
        assert user.role == "tester"  # not the admin its private store's first account would be
        assert list(user.favourite_genres[:2]) == ["Horror", "Thriller"]
        current = demo.interactions(user.id)
        assert dict(current.select("tconst", "value").rows()) == {t: v for t, v, _ in persona.ratings.rows()}
        assert demo.history(user.id)["tconst"].to_list()[0] == "tt0000004"  # newest first

        demo.rate(user.id, "tt0000005", SUPERLIKE)  # a click in the demo
        demo.hide(user.id, "tt0000006")
        assert demo.interactions(user.id).height == 6
        assert weights.current(as_store(demo)) == SHARED_WEIGHTS  # live weights are shared
        for refused in (
            lambda: demo.set_setting("hybrid_weights", [1, 0, 0]),
            lambda: demo.set_password_hash(user.username, "x"),
            lambda: demo.delete_user(user.id),
            lambda: demo.set_role(user.id, "admin"),
        ):
            with pytest.raises(StoreError, match="read-only") as info:
                refused()
            assert str(info.value) == READ_ONLY
        assert shared.all_interactions().is_empty() and shared.get_user(user.username) is None
        # the lab's "app users' ratings" are the shared store's, in the session as in a worker
        # (which never sees a session): the persona's clicks are not among them
        assert demo.all_interactions().is_empty()
        assert weights.current(shared) == SHARED_WEIGHTS

        again = open_demo(persona, shared)  # a new demo session starts from the persona again
        assert again.interactions(again.current_user().id).height == 5
        demo.close()
        again.close()


def test_unknown_persona_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="No demo profile 'nope'"):
        persona_at(pick_personas(RATINGS, TITLES, min_ratings=5), "nope")


# --- the naming rule (issue 18): both rows carry the name in 6 of their first 8 cards --------

H, T, D, C, DOC = ["Horror"], ["Thriller"], ["Drama"], ["Comedy"], ["Documentary"]


def test_a_name_both_rows_carry_in_6_of_8_cards_is_kept() -> None:
    feed = {"movie": [H] * 4 + [T] * 2 + [D, C], "tv": [["Horror", "Drama"]] * 3 + [T] * 3 + [C, C]}
    assert cards_carrying(("Horror", "Thriller"), feed) == {"movie": 6, "tv": 6}
    assert name_from_feed(["Horror", "Thriller", "Drama"], feed) == ("Horror", "Thriller")
    # cards after the 8th are not on the first screen: 5 of the first 8 is not enough
    late = {"movie": [H] * 5 + [C] * 3 + [H] * 4, "tv": [H] * 8}
    assert cards_carrying(("Horror",), late) == {"movie": 5, "tv": 8}
    assert not name_holds(("Horror", "Thriller"), late)


def test_a_feed_that_carries_another_pair_renames_the_persona() -> None:
    # Horror and Thriller: movies 4 + 0, shows 1 + 1; Horror and Drama: 7 and 6 -> renamed
    feed = {"movie": [H] * 4 + [D] * 3 + [C], "tv": [H, T] + [D] * 5 + [C]}
    assert name_from_feed(["Horror", "Thriller", "Drama"], feed) == ("Horror", "Drama")
    # two pairs hold: Horror and Comedy (6 and 6) and Comedy and Drama (7 and 7), the second wins
    feed = {"movie": [C] * 5 + [D] * 2 + [H], "tv": [H] + [C] * 5 + [D] * 2}
    assert name_from_feed(["Horror", "Thriller", "Comedy", "Drama"], feed) == ("Comedy", "Drama")


def test_a_feed_no_pair_describes_skips_the_persona() -> None:
    # the "Comedy and Crime fan" whose shows are three documentaries: 5 of 8
    feed = {"movie": [C, ["Crime"]] * 4, "tv": [C] * 3 + [["Crime"]] * 2 + [DOC] * 3}
    assert name_from_feed(["Comedy", "Crime"], feed) is None
    # each named genre must be on 2 cards: an all-Action feed does not make a Romance fan
    action = {"movie": [["Action"]] * 8, "tv": [["Action", "Adventure"]] * 8}
    assert name_from_feed(["Romance", "Action"], action) is None
    assert name_from_feed(["Romance", "Action", "Adventure"], action) == ("Action", "Adventure")
    assert name_from_feed(["Horror", "Thriller"], {"movie": [], "tv": []}) is None
    assert name_from_feed(["Horror"], {"movie": [H] * 8}) is None


def test_short_and_empty_rows() -> None:
    # a row shorter than 8 needs the same share rounded up (3 of 4); an empty row shows nothing
    assert [needed(k) for k in (8, 12, 5, 4, 1, 0)] == [6, 6, 4, 3, 1, 0]
    assert name_from_feed(["Horror", "Thriller"], {"movie": [H] * 8, "tv": [T, T, T, C]}) == ("Horror", "Thriller")
    assert name_from_feed(["Horror", "Thriller"], {"movie": [H] * 8, "tv": [T, T, C, C]}) is None
    assert name_from_feed(["Horror", "Thriller"], {"movie": [H] * 6 + [T] * 2, "tv": []}) == ("Horror", "Thriller")


def _feeds(by_profile: dict[tuple[str, ...], dict[str, list[list[str]]]], calls: list) -> FeedGenres:
    def recommend(profile: pl.DataFrame, favourites: Sequence[str]) -> dict[str, list[list[str]]]:
        key = tuple(sorted(profile["tconst"].to_list()))
        calls.append((key, tuple(favourites)))
        return by_profile[key]

    return recommend


USER_3 = ("tt0000001", "tt0000002", "tt0000004", "tt0000007", "tt0000008")  # its rated titles
USER_1 = ("tt0000001", "tt0000002", "tt0000003", "tt0000006")
USER_2 = ("tt0000001", "tt0000004", "tt0000005", "tt0000006")
FAMILY_FEED = {"movie": [["Animation", "Comedy"]] * 8, "tv": [["Animation", "Family"]] * 8}


def test_personas_are_renamed_after_their_feed_and_asked_again_with_the_new_favourites() -> None:
    calls: list = []
    feeds = {USER_3: {"movie": [H] * 4 + [D] * 3 + [C], "tv": [H, T] + [D] * 5 + [C]}, USER_2: FAMILY_FEED}
    personas = pick_personas(RATINGS, TITLES, count=4, min_ratings=5, recommend=_feeds(feeds, calls))
    # user 3's feed carries Horror and Drama, not Thriller; user 1 (Thriller left) is skipped
    assert [(p.ml_user_id, p.name) for p in personas] == [(3, "Horror and Drama fan"), (2, "Animation and Comedy fan")]
    assert personas[0].slug == "horror-drama" and personas[0].favourite_genres == ("Horror", "Drama", "Thriller")
    assert "likes Horror and Drama more than most" in personas[0].blurb
    assert calls == [
        (USER_3, ("Horror", "Thriller", "Drama")),  # the lift name's favourites
        (USER_3, ("Horror", "Drama", "Thriller")),  # the renamed persona's own feed, checked again
        (USER_2, ("Animation", "Comedy", "Family")),
    ]


def test_personas_whose_feed_no_name_describes_are_skipped() -> None:
    calls: list = []
    feeds = {
        USER_3: {"movie": [H] * 5 + [DOC] * 3, "tv": [DOC] * 8},  # documentaries: skipped
        USER_1: {"movie": [H] * 8, "tv": [T] * 6 + [C] * 2},  # the next horror fan is asked
        USER_2: FAMILY_FEED,
    }
    personas = pick_personas(RATINGS, TITLES, count=4, min_ratings=5, recommend=_feeds(feeds, calls))
    assert [(p.ml_user_id, p.name) for p in personas] == [
        (1, "Thriller and Horror fan"),
        (2, "Animation and Comedy fan"),
    ]
    assert [key for key, _ in calls] == [USER_3, USER_1, USER_2]  # a kept name needs no second feed

    # renamed, but the feed with the new favourites no longer carries the new name: skipped
    def shifting(profile: pl.DataFrame, favourites: Sequence[str]) -> dict[str, list[list[str]]]:
        if tuple(sorted(profile["tconst"].to_list())) == USER_2:
            return FAMILY_FEED
        good = {"movie": [H] * 4 + [D] * 3 + [C], "tv": [H, T] + [D] * 5 + [C]}
        return good if favourites[1] == "Thriller" else {"movie": [C] * 8, "tv": [C] * 8}

    assert [p.ml_user_id for p in pick_personas(RATINGS, TITLES, count=4, min_ratings=5, recommend=shifting)] == [2]
