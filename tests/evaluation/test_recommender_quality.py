"""The recommender's quality targets on the real mirror data (the recommender v2 issue), skipped
without ``../shared``: the catalogue built from the IMDb mirror, MovieLens ml-latest-small, K = 10,
the strict temporal protocol, weights chosen on validation.

Measured when written (2-core machine): hybrid with the default (tuned) weights NDCG@10 0.1364 on
test, ALS alone 0.1260, content alone 0.0834, popularity 0.0738; a new user after onboarding
(5 likes + 5 genres, left out of training) 0.0895 against popularity 0.0760; TV top 10s of five genre
fans 8 to 10 in their genre, all well known, overlapping at most 0.05; More like this 9-10 of 10 in
the film's main genre.
"""

from __future__ import annotations

import polars as pl
import pytest

from recsys.app.feed import recommend_profile
from recsys.catalog.build import build
from recsys.catalog.download import fetch
from recsys.catalog.queries import Catalog
from recsys.config import MOVIELENS_FILE, Settings
from recsys.evaluation import runner
from recsys.evaluation.newuser import NewUserConfig, cold_start_table
from recsys.evaluation.runner import EvaluationConfig, evaluation_ratings, run_evaluation
from recsys.evaluation.tastecheck import FANS, fan_lists, max_overlap, similar_checks
from recsys.models import Recommender, TrainingData, registry
from tests.support.mirror import mirror_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.mirror]


@pytest.fixture(scope="module")
def mirror_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    mirror = mirror_or_skip()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("quality") / "data",
        imdb_base_url=str(mirror / "imdb") + "/",
        movielens_url=str(mirror / "movielens" / MOVIELENS_FILE),
    )
    fetch(settings)
    build(settings)
    return settings


@pytest.fixture(scope="module")
def catalog(mirror_catalogue: Settings) -> Catalog:
    return Catalog(mirror_catalogue.parquet_dir)


@pytest.fixture(scope="module")
def data(catalog: Catalog) -> tuple[pl.DataFrame, pl.DataFrame]:
    titles = catalog.all_titles()
    ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True), None, titles["tconst"].to_list())
    return titles, ratings


@pytest.fixture(scope="module")
def recommender(catalog: Catalog) -> Recommender:
    return Recommender.fit(TrainingData(titles=catalog.all_titles(), ratings=catalog.movielens_ratings()))


def test_offline_targets(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    titles, ratings = data
    result = run_evaluation(titles, ratings, EvaluationConfig(sweep=(0.0, 1.0, 0.1)))
    ndcg = {row["model"]: row["ndcg"] for row in result.models.iter_rows(named=True)}
    singles = [registry.SCORERS[n].model for n in registry.names()]
    assert result.chosen_on == "validation" and result.counts["dropped"] > 10_000  # strict protocol
    # the hybrid with the default (tuned on validation) weights
    assert ndcg[runner.HYBRID] >= 0.135
    assert ndcg[runner.HYBRID] >= max(ndcg[m] for m in singles)
    # content alone is useful: at least the popularity baseline
    assert ndcg[runner.CONTENT] >= ndcg[runner.POPULARITY]
    # the step chosen on validation holds up on test
    assert ndcg[runner.BEST] >= ndcg[runner.POPULARITY] + 0.05


def test_new_users(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    titles, ratings = data
    rows = cold_start_table(titles, ratings, (2, 5), NewUserConfig(users=150, draws=3))
    at = {row["likes"]: row["lists"] for row in rows}
    onboarded = at[5]["served"]["ndcg"]
    # a tester after onboarding (5 likes + 5 genres, not in training) is served clearly better than
    # the global list. Over 10 seeded draws of 100 users (`evaluate --new-user-draws 10`, issue 18):
    # served (ranking stages included) 0.0979 +- 0.0117 against popularity 0.0795 +- 0.0091
    # (1.23x), the blend alone 0.1012 +- 0.0138 (1.27x): the taste stages cost new users ~0.003.
    # These 3 draws of 150 users measured 0.0847 against 0.0755 (1.12x).
    assert onboarded >= 1.10 * at[5]["popularity"]["ndcg"]
    assert onboarded >= 0.082
    # what the feed serves at 2 likes (the cold-start blend) beats the global list and the genre
    # fallback (measured 0.0833, popularity 0.0748, popular in genres 0.0550)
    assert at[2]["served"]["ndcg"] >= 0.07
    assert at[2]["served"]["ndcg"] > at[2]["popularity"]["ndcg"]
    assert at[2]["served"]["ndcg"] > at[2]["popular in genres"]["ndcg"]


def test_tv_follows_the_taste_of_genre_fans(catalog: Catalog, recommender: Recommender) -> None:
    def recommend(profile: pl.DataFrame, n: int) -> dict[str, pl.DataFrame]:
        return recommend_profile(profile, n, catalog=catalog, recommender=recommender)

    checks = fan_lists(recommend, catalog, kind="tv", n=10, min_votes=5000)
    assert len(checks) == 5
    for check in checks:
        assert check.in_genre >= 5, (check.fan, check.titles)
        assert check.well_known >= 6, (check.fan, check.titles)
        liked = set(catalog.titles(list(FANS[check.fan][1]))["primary_title"].to_list())
        for reason in check.reasons:  # a taste, or liked films: never a title the fan did not like
            if reason.startswith("Because you liked "):
                assert set(reason.removeprefix("Because you liked ").split(", ")) <= liked, reason
            else:
                assert reason.startswith("Because you like ") and reason.endswith(" shows"), reason
        assert f"Because you like {check.genre.lower()} shows" in check.reasons  # the taste is named
    assert max_overlap(checks) <= 0.2


def test_more_like_this_of_famous_films(catalog: Catalog, recommender: Recommender) -> None:
    rows = similar_checks(lambda t, n: recommender.similar(t, n), catalog, catalog.all_titles(), n=10)
    assert len(rows) == 5
    for row in rows:
        assert row["n"] == 10
        assert row["same_genre"] >= 6, row
        assert row["well_known"] >= 8, row
    godfather = next(r for r in rows if r["tconst"] == "tt0068646")
    assert "Godfather (2022)" not in godfather["shown"] and godfather["shown"][0] == "The Godfather: Part II"


def test_demo_personas_match_their_names(catalog: Catalog, recommender: Recommender) -> None:
    from recsys.app.demo import MIN_CARDS, TOP, cards_carrying, pick_personas
    from recsys.app.feed import feed_genres

    personas = pick_personas(
        catalog.movielens_ratings(in_catalog_only=True),
        catalog.all_titles(),
        recommend=feed_genres(recommender, catalog),
    )
    assert 3 <= len(personas) <= 4  # a user whose feed does not show its name is skipped
    for persona in personas:
        named = persona.name.removesuffix(" fan").split(" and ")
        feed = recommend_profile(
            persona.ratings.rename({"at": "updated_at"}),
            TOP,
            catalog=catalog,
            recommender=recommender,
            favourite_genres=persona.favourite_genres,
        )
        shown = {kind: [list(g or []) for g in frame["genres"].to_list()] for kind, frame in feed.items()}
        for kind, covered in cards_carrying(named, shown).items():
            assert covered >= MIN_CARDS, (persona.name, kind, feed[kind]["primary_title"].to_list())


def test_readme_example_is_personal(recommender: Recommender, catalog: Catalog) -> None:
    """The README's `recommend --like tt0111161 tt0068646` is personalised, not the top list."""
    profile = pl.DataFrame({"tconst": ["tt0111161", "tt0068646"], "value": [1, 1]})
    out = recommend_profile(profile, 10, catalog=catalog, recommender=recommender, kinds=("movie",))["movie"]
    assert not any(r == "Popular on IMDb" for r in out["reason"].to_list())
