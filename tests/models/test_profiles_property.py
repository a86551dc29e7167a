"""Property test of issue 18's target "no exception from any profile of 1-50 likes drawn from the
catalogue", on the tiny hand-written recommender (tests/models/conftest.py): random profiles of
1-50 ratings (like, superlike, dislike) of its 24 titles and of unknown tconsts, random favourite
genres, scorer weights and ranking-stage strengths in [0, 1]. ``recommend_feed``, ``recommend``
(both kinds) and ``similar_explained`` never raise, return at most n titles of the right kind,
never a rated one, each with a non-empty reason (checks in tests/models/profilecheck.py).
Derandomized, so every run draws the same examples (~3 s)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from recsys.models import Recommender
from tests.models.conftest import make_titles
from tests.models.profilecheck import Request, check_frame, check_request, requests

TITLES = make_titles()
KINDS_OF = dict(zip(TITLES["tconst"].to_list(), TITLES["kind"].to_list(), strict=True))
GENRES = sorted({g for gs in TITLES["genres"].to_list() for g in gs})


@settings(
    derandomize=True, max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(req=requests(TITLES["tconst"].to_list(), GENRES))
def test_any_profile_gets_a_feed_without_error(recommender: Recommender, req: Request) -> None:
    check_request(recommender, req, KINDS_OF)


def test_the_property_check_catches_a_rated_title(recommender: Recommender) -> None:
    """The check can fail: a frame holding a rated title, or an empty reason, is caught."""
    frame = pl.DataFrame({"tconst": ["tt0000001"], "reason": ["Because you liked Night Harbour"]})
    with pytest.raises(AssertionError):
        check_frame(frame, 5, {"tt0000001"}, "movie", KINDS_OF)
    with pytest.raises(AssertionError):
        check_frame(frame.with_columns(pl.lit(" ").alias("reason")), 5, set(), "movie", KINDS_OF)
    check_frame(frame, 5, set(), "movie", KINDS_OF)
