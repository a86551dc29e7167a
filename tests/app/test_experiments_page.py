"""The Experiments page and a tester's feed under an experiment, in AppTest (issue 23): an admin
creates an interleaving experiment from the page, the start is refused while there are too few
testers, then runs; a tester's feed shows the interleaved arms and is logged card by card; the
tester's likes reach the results (per-arm table, verdict); the admin ships the winner as an
audited live-weight change linked to the experiment. Testers never see the page."""

from __future__ import annotations

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from recsys.columns import LIKE
from recsys.config import Settings
from recsys.experiments import exposure, records
from recsys.models import weights
from recsys.store import Store, register
from tests.app.helpers import PASSWORD, alerts, feed_tconsts, login, onboarded, start
from tests.support.narrow import present

LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020")


def add_testers(settings: Settings, names: list[str]) -> None:
    with Store.open(settings.store_url) as store:
        for name in names:
            u = register(store, name, name.title(), f"{name}@example.com", PASSWORD)
            store.set_favourite_genres(u.id, ["Drama", "Comedy"])
            store.set_onboarding_step(u.id, "done")
            for t in LIKES:
                store.rate(u.id, t, LIKE)


def page(at: AppTest) -> AppTest:
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    return at


def test_admin_runs_an_interleaving_experiment_a_tester_feeds_it_and_the_winner_ships(model_settings: Settings) -> None:
    admin = page(onboarded(model_settings))  # alice, the first account: admin
    assert [t.value for t in admin.title] == ["Experiments"]
    admin.text_input(key="exp-new-title").input("Blend vs popularity")
    admin.radio(key="exp-new-method").set_value("interleave")
    admin.button(key="FormSubmitter:exp-new-Create").click().run()
    assert not admin.exception, admin.exception
    with Store.open(model_settings.store_url) as store:
        (exp,) = records.list_all(store)
    assert (exp.name, exp.method, exp.section, exp.status) == ("Blend vs popularity", "interleave", "movie", "draft")
    assert [a.name for a in exp.arms] == ["A", "B"]
    assert exp.arms[1].weights == {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 1.0}

    admin.button(key=f"exp-start-{exp.id}").click().run()
    assert alerts(admin, "error") == [
        "Too few testers for this experiment: 0 onboarded tester(s), at least 2 needed (two for interleaving); "
        "invite more first."
    ]
    add_testers(model_settings, ["bob", "cara"])
    admin.button(key=f"exp-start-{exp.id}").click().run()
    with Store.open(model_settings.store_url) as store:
        assert present(records.get(store, exp.id)).status == "running"

    tester = start()
    login(tester, "bob", PASSWORD)
    tester.switch_page("pages/feed.py").run()
    assert not tester.exception, tester.exception
    shown = feed_tconsts(tester, "movie")
    assert len(shown) == 8
    exposure.flush_all()
    with Store.open(model_settings.store_url) as store:
        logged = records.exposure_frame(store, exp.id)
        bob = store.get_user("bob")
    assert bob is not None
    last = logged.filter(pl.col("render") == logged["render"][-1])
    assert last["tconst"].to_list() == shown and set(last["setting"]) <= {"A", "B"}
    assert set(last["user_id"]) == {bob.id}
    # bob likes the first two cards popularity placed: his session prefers B
    popular = last.filter(pl.col("setting") == "B")["tconst"].to_list()[:2]
    for t in popular:
        tester.button(key=f"rate-feed-movie-{t}-1").click().run()
        assert not tester.exception
    exposure.flush_all()

    admin.run()
    assert not admin.exception
    info = " ".join(alerts(admin, "info"))
    assert info.startswith("Not enough data yet: about ") and "0 of 1 sessions" not in info
    assert "1 of 1 sessions so far" in info
    arms, table = (d.value for d in admin.dataframe)  # the arms' settings, then the results
    assert list(arms["arm"]) == ["A", "B"]
    assert list(table["arm"]) == ["A", "B"]
    assert list(table["sessions preferring"]) == [0, 1]
    like_a, like_b = table["like rate"]
    assert like_a == 0.0 and like_b > 0

    admin.selectbox(key=f"exp-ship-arm-{exp.id}").set_value("B")
    admin.button(key=f"exp-ship-button-{exp.id}").click().run()
    assert not admin.exception
    assert any(s.startswith("Arm B shipped: live weights now content 0.00, als 0.00") for s in alerts(admin, "success"))
    with Store.open(model_settings.store_url) as store:
        assert weights.current(store) == {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 1.0}
        change = weights.history(store)[0]
        assert change.experiment_id == exp.id and change.changed_by == "alice"
        assert change.reason.startswith(f"Experiment #{exp.id} Blend vs popularity: shipped arm B")
        after = records.get(store, exp.id)
        assert after is not None and (after.status, after.shipped_arm) == ("stopped", "B")
        assert records.exposure_frame(store, exp.id).height > logged.height  # stopping kept every log


def test_testers_do_not_see_the_experiments_page(model_settings: Settings) -> None:
    onboarded(model_settings)  # the admin exists
    add_testers(model_settings, ["bob"])
    at = start()
    login(at, "bob", PASSWORD)
    at.switch_page("pages/feed.py").run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page") as refused:
        at.switch_page("pages/experiments.py")  # not in a tester's navigation at all
    assert "pages/evaluation.py" in str(refused.value)
