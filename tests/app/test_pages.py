"""AppTest for the everyday pages: search, history with undo, details, account."""

from __future__ import annotations

import re

from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.store import Store
from recsys.store.accounts import check_password
from recsys.store.accounts import register as register_account
from tests.app.helpers import (
    PASSWORD,
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


def current_ratings(settings: Settings) -> dict[str, int]:
    store, alice = user(settings)
    try:
        frame = store.interactions(alice.id)
        return dict(zip(frame["tconst"], frame["value"], strict=True))
    finally:
        store.close()


def test_undo_restores_what_the_last_click_replaced(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    before = current_ratings(app_settings)
    first = feed_tconsts(at, "movie")[0]
    at.button(key=f"rate-feed-movie-{first}--1").click().run()
    assert current_ratings(app_settings)[first] == -1
    assert any("Disliked" in c.value for c in at.caption)
    at.button(key="undo-feed").click().run()
    assert not at.exception
    assert current_ratings(app_settings) == before
    assert first in feed_tconsts(at, "movie")


def test_the_next_person_on_the_tab_cannot_undo_the_last_ones_click(app_settings: Settings) -> None:
    at = onboarded(app_settings)  # alice
    first = feed_tconsts(at, "movie")[0]
    at.button(key=f"rate-feed-movie-{first}-2").click().run()
    assert at.button(key="undo-feed") is not None
    at.button(key="logout-button").click().run()
    register(at, username="bob", email="bob@example.com", name="Bob")
    pick_genres(at, list(at.button_group(key="onb-genres").options)[:5])
    pick_titles(at, "movie", 5)
    at.button(key="onb-next-movie").click().run()
    pick_titles(at, "tv", 5)
    at.button(key="onb-next-tv").click().run()
    assert not at.exception and at.title[0].value == "Your feed"
    assert "Last action" not in texts(at)
    assert all(b.disabled for b in at.button if str(b.key).startswith("undo-"))  # nothing to undo
    assert current_ratings(app_settings)[first] == 2  # alice's click stands


def test_search_is_accent_and_case_insensitive_and_odd_text_is_safe(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    at.switch_page("pages/search.py").run()
    assert at.title[0].value == "Search"
    catalog = Catalog(app_settings.parquet_dir)
    accented = catalog.all_titles().filter(catalog.all_titles()["primary_title"].str.contains("é"))
    target = accented["primary_title"][0]
    plain = target.replace("é", "e").upper()
    at.text_input(key="search-text").input(plain[:8]).run()
    assert not at.exception
    found = [str(b.key) for b in at.button if str(b.key).startswith("rate-search-")]
    assert any(accented["tconst"][0] in k for k in found)
    for odd in ("%", "_", "' OR 1=1 --", "🎬", "x" * 10_000):
        # set_value, not input(): input() drops text past max_chars as the browser would, and a
        # crafted request can still send it
        at.text_input(key="search-text").set_value(odd).run()
        assert not at.exception, odd[:20]
        shown = [
            str(b.key)[len("rate-search-") : -len("-1")]
            for b in at.button
            if str(b.key).startswith("rate-search-") and str(b.key).endswith("-1") and not str(b.key).endswith("--1")
        ]
        expected = catalog.search(odd, limit=20)["tconst"].to_list()  # taken literally
        assert shown == expected, odd[:20]
        assert bool(expected) != any("No titles match" in m for m in alerts(at, "info")), odd[:20]
    at.text_input(key="search-text").input("zzzzqqq").run()
    assert any("No titles match" in m for m in alerts(at, "info"))


def test_history_change_remove_and_export(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    at.switch_page("pages/history.py").run()
    assert at.title[0].value == "Your ratings"
    ratings = current_ratings(app_settings)
    assert len(ratings) == 10
    tconst = next(iter(ratings))
    at.button(key=f"hist-rate-{tconst}-2").click().run()
    assert current_ratings(app_settings)[tconst] == 2
    at.button(key=f"hist-remove-{tconst}").click().run()
    assert tconst not in current_ratings(app_settings)
    csv_button = at.get("download_button")[0]
    assert not at.exception and csv_button is not None
    # filter: only superliked -> nothing left after the removal
    at.radio(key="history-value").set_value("Superliked").run()
    assert any("Nothing rated here" in m for m in alerts(at, "info"))


def test_details_dialog_rates_the_title(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    first = feed_tconsts(at, "tv")[0]
    at.button(key=f"details-feed-tv-{first}").click().run()
    assert not at.exception
    assert any("Open on IMDb" in str(b.proto) for b in at.get("link_button"))
    at.button(key=f"dlg-rate-{first}-1").click().run()
    assert current_ratings(app_settings)[first] == 1


def test_account_genres_password_and_delete(app_settings: Settings) -> None:
    with Store.open(app_settings.store_url) as store:  # the install's admin, so alice is a tester
        register_account(store, "root", "Root", "root@example.com", PASSWORD)
    at = onboarded(app_settings)
    at.switch_page("pages/account.py").run()
    assert at.title[0].value == "Your account"
    chosen = list(at.multiselect(key="acct-genres").value)
    at.multiselect(key="acct-genres").set_value(chosen[:4]).run()
    at.button(key="acct-genres-save").click().run()
    assert any("exactly 5" in e for e in alerts(at, "error"))

    at.text_input(key="acct-pw-current").input("Wrong#pass1")
    at.text_input(key="acct-pw-new").input("Newer#pass2")
    at.text_input(key="acct-pw-repeat").input("Newer#pass2")
    at.button(key="FormSubmitter:password-form-Change password").click().run()
    assert any("current password is wrong" in e for e in alerts(at, "error"))
    at.text_input(key="acct-pw-current").input(PASSWORD)
    at.text_input(key="acct-pw-new").input("Newer#pass2")
    at.text_input(key="acct-pw-repeat").input("Newer#pass2")
    at.button(key="FormSubmitter:password-form-Change password").click().run()
    store, alice = user(app_settings)
    assert check_password("Newer#pass2", alice.password_hash)
    store.close()

    at.text_input(key="acct-delete-password").input("Wrong#pass1")
    at.button(key="acct-delete").click().run()
    assert any("Account not deleted: The password is wrong." in e for e in alerts(at, "error"))
    assert user(app_settings)[1] is not None
    at.text_input(key="acct-delete-password").input("Newer#pass2")
    at.button(key="acct-delete").click().run()
    assert not at.exception
    store, alice = user(app_settings)
    assert alice is None
    store.close()
    fresh = start()
    login(fresh, "alice", "Newer#pass2")
    assert any("incorrect" in e for e in alerts(fresh, "error"))


def test_posters_appear_without_blocking_the_feed(app_settings: Settings, monkeypatch) -> None:
    from recsys.ui import resources
    from tests.enrich.fake_tmdb import API_KEY, FakeTmdb, Reply, find_body

    with FakeTmdb() as tmdb:
        monkeypatch.setenv("TMDB_API_KEY", API_KEY)
        monkeypatch.setenv("TMDB_BASE_URL", tmdb.url)
        catalog = Catalog(app_settings.parquet_dir)
        for tconst in catalog.all_titles()["tconst"]:
            tmdb.script(
                tconst,
                Reply(
                    body=find_body(
                        movie=[
                            {
                                "id": 1,
                                "title": "x",
                                "poster_path": f"/{tconst}.jpg",
                                "overview": "An overview.",
                            }
                        ]
                    )
                ),
            )
        at = onboarded(app_settings)
        # the first render never waits for TMDb: placeholders, fetches queued in the background
        assert resources.enricher().wait_idle(10)
        at.run()
        assert not at.exception
        images = [url for h in at.html for url in re.findall(r'<img [^>]*src="([^"]+)"', h.value)]
        assert images and all(u.startswith("https://image.tmdb.org/t/p/") for u in images), images[:2]
        assert any("The Movie Database" in c.value or "TMDB" in c.value for c in at.sidebar.caption)


def test_search_says_why_nothing_matched(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    at.switch_page("pages/search.py").run()
    catalog = Catalog(app_settings.parquet_dir)
    movie = catalog.search("", kind="movie", limit=1).row(0, named=True)
    word = movie["primary_title"].split()[-1]
    at.text_input(key="search-text").input(word).run()
    assert any(str(b.key).startswith(f"rate-search-{movie['tconst']}-") for b in at.button)
    at.radio(key="search-kind").set_value("TV shows").run()  # the filter excludes the match
    shown = [m for m in alerts(at, "info") if "No titles match" in m]
    if catalog.search(word, kind="tv", limit=1, fuzzy=True).height == 0:
        assert shown and "with the filters (type TV shows)" in shown[0] and "without them" in shown[0], shown
    at.radio(key="search-kind").set_value("All").run()
    at.text_input(key="search-text").input("qqqqzzzzxxxx").run()
    shown = [m for m in alerts(at, "info") if "No titles match" in m]
    assert shown and "none is close to it" in shown[0], shown


def test_undo_names_and_reverts_the_dialog_rating_after_a_card_rating(app_settings: Settings) -> None:
    """Issue 20: a rating in the Details dialog used to leave the "Last action" slot on the card's
    rating while Undo reverted the dialog's. Now the slot shows the dialog's rating, and Undo
    reverts exactly that one, then the card's."""
    at = onboarded(app_settings)
    first, second = feed_tconsts(at, "tv")[:2]
    picks = current_ratings(app_settings)  # the onboarding likes
    at.button(key=f"rate-feed-tv-{first}-1").click().run()
    at.button(key=f"details-feed-tv-{second}").click().run()
    at.button(key=f"dlg-rate-{second}-2").click().run()
    at.run()  # the page run the dialog asks for
    slot = [c.value for c in at.caption if str(c.value).startswith("Last action:")]
    assert len(slot) == 1 and slot[0].startswith("Last action: Superliked"), slot
    assert current_ratings(app_settings) == {**picks, first: 1, second: 2}
    at.button(key="undo-feed").click().run()
    assert current_ratings(app_settings) == {**picks, first: 1}
    slot = [c.value for c in at.caption if str(c.value).startswith("Last action:")]
    assert len(slot) == 1 and slot[0].startswith("Last action: Liked"), slot
    at.button(key="undo-feed").click().run()
    assert current_ratings(app_settings) == picks
