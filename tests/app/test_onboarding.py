"""Onboarding offers titles of the chosen genres (mixed with trending), no Adult pill, at most
five genres, ticked genres kept across a reload, Continue above and below the list."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest

from recsys.app import onboarding
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from tests.app.helpers import alerts, login, pick_genres, register, start, user
from tests.support.narrow import present

CHOSEN = ["Documentary", "History", "Horror", "Mystery", "Western"]


def candidates(at, kind: str = "movie") -> list[str]:
    prefix = f"rate-onb-{kind}-"
    return [
        str(b.key)[len(prefix) : -2] for b in at.button if str(b.key).startswith(prefix) and str(b.key).endswith("-1")
    ]


def test_candidates_follow_the_chosen_genres(app_settings: Settings) -> None:
    at = start()
    register(at)
    pick_genres(at, CHOSEN)
    assert not at.exception
    shown = candidates(at)
    catalog = Catalog(app_settings.parquet_dir)
    genres = {r["tconst"]: set(r["genres"] or ()) for r in catalog.titles(shown).to_dicts()}
    # three of every four come from the chosen genres while they last, then trending fills in
    assert all(genres[t] & set(CHOSEN) for t in shown[:3]), shown[:3]
    assert any(not genres[t] & set(CHOSEN) for t in shown)  # mixed with trending: never thin
    assert len(shown) == len(set(shown)) >= onboarding.TITLE_COUNT
    # both navigation rows carry Continue
    assert at.button(key="onb-next-movie").disabled and at.button(key="onb-next-movie-bottom").disabled
    expected = [r["tconst"] for r in onboarding.candidates(catalog, "movie", CHOSEN)]
    assert shown == expected


def test_candidates_leave_out_low_rated_and_adult_titles(app_settings: Settings, monkeypatch) -> None:
    catalog = Catalog(app_settings.parquet_dir)
    rows = catalog.by_genres([], "movie", limit=100).to_dicts()
    low, adult = rows[0]["tconst"], rows[1]["tconst"]
    real = Catalog.by_genres

    def doctored(self, *args, **kwargs):
        frame = real(self, *args, **kwargs)
        import polars as pl

        return frame.with_columns(
            pl.when(pl.col("tconst") == low).then(1.6).otherwise(pl.col("average_rating")).alias("average_rating"),
            pl.when(pl.col("tconst") == adult).then(pl.lit(["Adult"])).otherwise(pl.col("genres")).alias("genres"),
        )

    monkeypatch.setattr(Catalog, "by_genres", doctored)
    monkeypatch.setattr(Catalog, "trending", lambda self, kind, **kw: doctored(self, [], kind))
    found = [r["tconst"] for r in onboarding.candidates(catalog, "movie", ["Drama"])]
    assert found and low not in found and adult not in found


def test_no_adult_pill_and_at_most_five_genres_kept_across_a_reload(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Catalog.genres
    monkeypatch.setattr(Catalog, "genres", lambda self: sorted([*real(self), "Adult"]))
    at = start()
    register(at)
    pills = at.button_group(key="onb-genres")
    assert "Adult" not in pills.options and "Drama" in pills.options
    # formats are not tastes (issue 20): the fixture catalogue has Reality-TV titles
    assert "Reality-TV" in real(Catalog(app_settings.parquet_dir))
    assert "Reality-TV" not in pills.options
    pills.set_value(CHOSEN[:3]).run()
    assert not at.exception
    at.button_group(key="onb-genres").set_value([*CHOSEN, "Drama"]).run()  # a sixth
    assert list(present(at.button_group(key="onb-genres").value)) == CHOSEN[:3]
    assert any("At most 5" in e for e in alerts(at, "error"))
    store, alice = user(app_settings)
    assert list(alice.favourite_genres) == CHOSEN[:3]
    store.close()
    # a reload (a new session, signed in again) shows the same pills ticked
    fresh = start()
    login(fresh, "alice", "Secret#123")
    assert not fresh.exception
    assert sorted(present(fresh.button_group(key="onb-genres").value)) == CHOSEN[:3]


def test_show_adult_setting_offers_the_adult_genre_again(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_genres = Catalog.genres
    monkeypatch.setattr(Catalog, "genres", lambda self: sorted([*real_genres(self), "Adult"]))
    catalog = Catalog(app_settings.parquet_dir)
    adult = catalog.by_genres([], "movie", limit=100)["tconst"][0]
    real = Catalog.by_genres

    def doctored(self, *args, **kwargs):
        import polars as pl

        frame = real(self, *args, **kwargs)
        return frame.with_columns(
            pl.when(pl.col("tconst") == adult).then(pl.lit(["Adult"])).otherwise(pl.col("genres")).alias("genres")
        )

    monkeypatch.setattr(Catalog, "by_genres", doctored)
    assert adult not in [r["tconst"] for r in onboarding.candidates(catalog, "movie", ["Drama"])]
    assert adult in [r["tconst"] for r in onboarding.candidates(catalog, "movie", ["Drama"], show_adult=True)]

    monkeypatch.setenv("CINEBLEND_SHOW_ADULT", "1")
    at = start()
    register(at)
    assert "Adult" in at.button_group(key="onb-genres").options


def test_the_pick_counter_never_says_six_of_five() -> None:
    assert [onboarding.picked_text(n) for n in (0, 4, 5, 6)] == [
        "0 of 5 picked",
        "4 of 5 picked",
        "5 picked (at least 5 needed)",
        "6 picked (at least 5 needed)",
    ]


def test_liked_of_kind_uses_the_known_kinds_and_looks_up_only_the_others(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picks page passes the kinds of the titles it showed: a pick asks the catalogue
    nothing; a like it does not know (a movie liked before the TV step) is looked up once."""
    at = start()
    register(at)
    pick_genres(at, CHOSEN)
    store, alice = user(app_settings)
    catalog = Catalog(app_settings.parquet_dir)
    try:
        movies = onboarding.candidates(catalog, "movie", CHOSEN)[:2]
        shows = onboarding.candidates(catalog, "tv", CHOSEN)[:1]
        for row in movies + shows:
            store.rate(alice.id, row["tconst"], 1)
        kinds = {r["tconst"]: r["kind"] for r in shows}
        asked: list[list[str]] = []
        real = catalog.titles

        def titles(tconsts: Sequence[str]) -> pl.DataFrame:
            asked.append(list(tconsts))
            return real(tconsts)

        monkeypatch.setattr(catalog, "titles", titles)
        assert onboarding.liked_of_kind(store, catalog, alice, "tv", kinds) == [shows[0]["tconst"]]
        assert sorted(asked[0]) == sorted(r["tconst"] for r in movies)  # only the unknown likes
        assert sorted(onboarding.liked_of_kind(store, catalog, alice, "movie", kinds)) == sorted(
            r["tconst"] for r in movies
        )
        assert len(asked) == 1  # the looked-up kinds were kept
        assert sorted(onboarding.liked_of_kind(store, catalog, alice, "movie")) == sorted(r["tconst"] for r in movies)
    finally:
        store.close()
