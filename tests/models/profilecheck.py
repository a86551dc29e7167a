"""Random profiles for the property tests of :class:`~recsys.models.Recommender` (issue 18: "no
exception from any profile of 1-50 likes drawn from the catalogue"), shared by the tiny-fixture
test and its mirror variant: the strategy of a request and the checks every answer must pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from hypothesis import strategies as st

from recsys.columns import DISLIKE, KINDS, LIKE, SUPERLIKE
from recsys.models import Recommender, registry
from recsys.models.rerank import registry as stages_registry

#: tconsts no catalogue holds (well-formed and not): a stale profile or a CLI typo.
UNKNOWN = ("tt9999999", "tt0000000", "tt12345678", "nm0000001", "")


@dataclass(frozen=True)
class Request:
    profile: list[tuple[str, int]]  # [(tconst, value)], in rating order, duplicates allowed
    favourites: tuple[str, ...]
    weights: dict[str, float] | None  # None: the model's own
    stages: dict[str, float] | None  # None: the model's own
    n: int
    similar_of: str  # a tconst whose "More like this" is asked
    similar_kind: str | None

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.profile, schema={"tconst": pl.String, "value": pl.Int64}, orient="row")

    @property
    def rated(self) -> set[str]:
        return {t for t, _ in self.profile}


def requests(catalogue: Sequence[str], genres: Sequence[str], max_n: int = 30) -> st.SearchStrategy[Request]:
    """Profiles of 1-50 ratings (like / superlike / dislike) of ``catalogue`` titles and unknown
    tconsts, favourite genres (some unknown), weights and stage strengths in [0, 1] (not all
    weights 0), ``n`` in 1..max_n."""
    tconst = st.one_of(st.sampled_from(list(catalogue)), st.sampled_from(UNKNOWN))
    rating = st.tuples(tconst, st.sampled_from((LIKE, SUPERLIKE, DISLIKE)))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    weights = st.fixed_dictionaries(dict.fromkeys(registry.names(), unit)).filter(
        lambda w: any(v > 0 for v in w.values())
    )
    stages = st.fixed_dictionaries(dict.fromkeys(stages_registry.names(), unit))
    return st.builds(
        Request,
        profile=st.lists(rating, min_size=1, max_size=50),
        favourites=st.lists(st.sampled_from([*genres, "Western", "No Such Genre"]), max_size=5, unique=True).map(tuple),
        weights=st.one_of(st.none(), weights),
        stages=st.one_of(st.none(), stages),
        n=st.integers(1, max_n),
        similar_of=tconst,
        similar_kind=st.sampled_from((None, *KINDS)),
    )


def check_frame(frame: pl.DataFrame, n: int, rated: set[str], kind: str, kinds: dict[str, str]) -> None:
    """At most ``n`` distinct titles of ``kind``, none rated, each with a non-empty reason."""
    tconsts = frame["tconst"].to_list()
    assert len(tconsts) <= n
    assert len(set(tconsts)) == len(tconsts), tconsts
    assert not set(tconsts) & rated, set(tconsts) & rated
    assert all(kinds.get(t) == kind for t in tconsts), tconsts
    reasons = frame["reason"].to_list()
    assert all(isinstance(r, str) and r.strip() for r in reasons), reasons


def check_request(rec: Recommender, req: Request, kinds: dict[str, str]) -> None:
    """Every entry point the app and the CLI call answers ``req`` without raising, within the
    contract of :func:`check_frame`; ``recommend`` gives the feed's own rows."""
    profile = req.frame()
    feed = rec.recommend_feed(profile, req.n, req.weights, req.favourites, stages=req.stages)
    assert set(feed) == set(KINDS)
    for kind, frame in feed.items():
        check_frame(frame, req.n, req.rated, kind, kinds)
        alone = rec.recommend(profile, kind, req.n, req.weights, req.favourites, stages=req.stages)
        check_frame(alone, req.n, req.rated, kind, kinds)
        assert alone["tconst"].to_list() == frame["tconst"].to_list(), kind
    similar = rec.similar_explained(req.similar_of, req.n, req.similar_kind)
    home = kinds.get(req.similar_of)
    if home is None:
        assert similar.height == 0  # a title the model does not know has no neighbours
    else:
        check_frame(similar, req.n, {req.similar_of}, req.similar_kind or home, kinds)
