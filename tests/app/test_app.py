"""AppTest: every page, driven the way a tester uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.config import Settings
from tests.app.helpers import (
    PASSWORD,
    after_jobs,
    alerts,
    feed_tconsts,
    login,
    onboarded,
    pick_genres,
    pick_titles,
    register,
    start,
    texts,
    user,
)
from tests.conftest import use_data_dir


def test_first_start_without_data_leads_through_first_account_then_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixture_sources: tuple[Path, Path]
) -> None:
    """Fresh install: the sign-in page says the first account becomes the admin, opens on
    Register; that admin lands on the data page and downloads; a visitor sees no buttons."""
    use_data_dir(monkeypatch, tmp_path / "data", fixture_sources)
    at = start()
    assert at.title[0].value == "CineBlend"
    assert any("first account" in m and "admin" in m for m in alerts(at, "info"))
    assert "becomes the admin" in texts(at)  # the registration form says so too
    at.switch_page("pages/data.py").run()  # a signed-out visitor on the data page: state, no buttons
    assert at.title[0].value == "Data & model"
    assert "title.basics.tsv.gz" in texts(at) and "non-commercial" in texts(at)
    assert any("only an admin can download" in m for m in alerts(at, "info"))
    assert not [b for b in at.button if str(b.key).startswith("data-")]

    at = start()
    register(at, username="root", email="root@example.com", name="Root")
    assert at.title[0].value == "Data & model"
    assert any("needs its catalogue" in m for m in alerts(at, "info"))
    at.button(key="data-fetch-build").click().run()
    assert not at.exception
    assert any(p.proto.text.startswith("Download and build:") for p in at.get("progress"))  # one bar
    at = after_jobs(at)
    assert not at.exception
    # catalogue built: the sign-in page is now offered and the success message shows
    assert (tmp_path / "data" / "parquet" / "titles.parquet").is_file()
    at = start()
    assert at.title[0].value == "CineBlend"
    assert not any("first account" in m for m in alerts(at, "info"))  # not a fresh install anymore


def test_register_then_duplicate_username_refused_and_a_taken_email_not_revealed(app_settings: Settings) -> None:
    at = start()
    assert at.title[0].value == "CineBlend"
    register(at)
    assert not at.exception
    store, alice = user(app_settings)
    assert alice is not None and alice.onboarding_step == "genres"
    assert alice.password_hash != PASSWORD
    store.close()

    other = start()
    register(other, username="alice", email="new@example.com")
    assert any("username is already registered" in e for e in alerts(other, "error"))
    # a taken email is answered like any other (issue 21): the account is created
    third = start()
    register(third, username="bob", email="ALICE@example.com")
    assert not alerts(third, "error")
    store, bob = user(app_settings, "bob")
    assert bob is not None and bob.email == "alice@example.com"
    store.close()


def test_registration_rejects_weak_password_and_shows_html_name_as_text(app_settings: Settings) -> None:
    at = start()
    register(at, password="short")
    assert any("Password" in e or "password" in e for e in alerts(at, "error"))
    store, alice = user(app_settings)
    assert alice is None
    store.close()


def test_login_wrong_password_then_right_one(app_settings: Settings) -> None:
    at = start()
    register(at)
    at.sidebar.button(key="logout-button").click().run()
    at = start()
    login(at, "alice", "Wrong#pass1")
    assert any("incorrect" in e for e in alerts(at, "error"))
    login(at, "alice", PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Get started"


def test_onboarding_needs_five_of_each_and_resumes(app_settings: Settings) -> None:
    at = start()
    register(at)
    genres = list(at.button_group(key="onb-genres").options)
    assert len(genres) >= 6
    pick_genres(at, [g for g in genres[:4]])
    assert any("exactly 5" in e for e in alerts(at, "error"))
    pick_genres(at, genres[:5])
    assert "movies you liked" in at.get("progress")[0].proto.text if at.get("progress") else True
    store, alice = user(app_settings)
    assert alice.onboarding_step == "movies" and len(alice.favourite_genres) == 5
    store.close()

    pick_titles(at, "movie", 4)
    assert at.button(key="onb-next-movie").disabled
    # leave half-way: a new session resumes on the movie step with the 4 picks kept
    at = start()
    login(at, "alice", PASSWORD)
    assert any("4 of 5 picked" in c.value for c in at.caption)
    pick_titles(at, "movie", 1)
    at.button(key="onb-next-movie").click().run()
    pick_titles(at, "tv", 5)
    at.button(key="onb-next-tv").click().run()
    store, alice = user(app_settings)
    assert alice.onboarding_step == "done"
    likes = store.interactions(alice.id)
    assert likes.height == 10 and set(likes["value"]) == {1}
    store.close()


def test_feed_sections_show_right_types_and_a_like_is_stored(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    assert at.title[0].value == "Your feed"
    movies, shows = feed_tconsts(at, "movie"), feed_tconsts(at, "tv")
    assert movies and shows
    from recsys.catalog.queries import Catalog

    catalog = Catalog(app_settings.parquet_dir)
    assert set(catalog.titles(movies)["kind"]) == {"movie"}
    assert set(catalog.titles(shows)["kind"]) == {"tv"}

    first = feed_tconsts(at, "movie")[0]  # back to the Movies tab (only the open one renders)
    assert first == movies[0]
    at.button(key=f"rate-feed-movie-{first}-2").click().run()
    assert not at.exception
    assert first not in feed_tconsts(at, "movie")
    store, alice = user(app_settings)
    current = store.interactions(alice.id)
    assert current.filter(current["tconst"] == first)["value"].to_list() == [2]
    store.close()
