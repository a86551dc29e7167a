"""Data & model page: a job running on another app server is shown with one overall bar and its
stage as text, and a second request of that kind is refused with a line saying what runs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.jobs import retrain
from recsys.jobs import runner as jobs
from recsys.jobs.locks import exclusive
from recsys.store import Store
from recsys.store import jobs as rows
from tests.app.helpers import alerts, texts
from tests.badinput.support import make_user, signed_in
from tests.support.ws_session import unescape_markdown


def test_a_job_of_another_server_is_shown_and_a_second_one_refused(model_settings: Settings) -> None:
    make_user(model_settings, "ada")  # the first account: the admin
    with Store.open(model_settings.store_url) as store:
        other = rows.enqueue(store, jobs.TRAIN, requested_by="bob", server="web-2:77:abcdef")
        rows.start(store, other.id)
        rows.report(store, other.id, "Training the recommender: als: iterations (6 of 15)", 0.4)
    # the other server holds the job's lock while it runs
    with exclusive(jobs.job_lock(model_settings, jobs.TRAIN), "training", store_url=model_settings.store_url):
        at = signed_in("ada")
        at.switch_page("pages/data.py").run()
        assert not at.exception
        bars = [p.proto.text for p in at.get("progress")]
        assert bars == ["Retrain: Training the recommender: collaborative model: training rounds (6 of 15) (40%)"]
        assert "on web-2 (pid 77)" in texts(at) and "by bob" in texts(at)

        at.button(key="data-train").click().run()
        assert not at.exception
        refused = alerts(at, "warning")
        assert len(refused) == 1 and refused[0].startswith("A training started by bob at ")
        assert "is running on web-2 (pid 77) (Training the recommender" in refused[0]
        assert refused[0].endswith("Wait for it to finish.")
        with Store.open(model_settings.store_url) as store:
            assert [j.id for j in rows.recent(store, (jobs.TRAIN,))] == [other.id]  # nothing queued

    # that server died (its lock is gone): the next request takes over, the old row says why
    at.button(key="data-train").click().run()
    assert jobs.wait_all(180)
    at.run()
    assert not at.exception
    with Store.open(model_settings.store_url) as store:
        old, new = rows.get(store, other.id), rows.latest(store, jobs.TRAIN)
    assert old is not None and old.state == "failed" and old.error == rows.INTERRUPTED
    assert new is not None and new.id != other.id and (new.state, new.requested_by) == ("done", "ada")
    assert any("every feed uses it" in s for s in alerts(at, "success"))


def captions(at: AppTest) -> list[str]:
    """The captions as a person reads them (plain text is shown as escaped Markdown)."""
    return [unescape_markdown(str(c.value)) for c in at.caption]


def test_the_retraining_schedule_is_shown_to_everyone_and_set_by_an_admin(
    model_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 item 5: when the next retraining is due and what the live model has not seen."""
    monkeypatch.delenv(retrain.AFTER_RATINGS_ENV, raising=False)
    monkeypatch.delenv(retrain.EVERY_ENV, raising=False)
    admin = make_user(model_settings, "ada")  # the first account: the admin
    tester = make_user(model_settings, "tess")
    with Store.open(model_settings.store_url) as store:
        for tconst in ("tt0100001", "tt0100003"):
            store.rate(tester.id, tconst, 1)
    at = signed_in("ada")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    shown = captions(at)
    assert "Scheduled retraining is off (server settings)." in shown
    assert "The live model has not seen 2 ratings." in shown
    at.number_input(key="data-retrain-after").set_value(5)
    at.text_input(key="data-retrain-every").set_value("1d")
    at.button(key="data-retrain-save").click().run()
    assert not at.exception
    with Store.open(model_settings.store_url) as store:
        saved = retrain.current_schedule(store)
        assert (saved.after_ratings, saved.every_s) == (5, 86400.0)
        assert saved.source.startswith(f"set by {admin.username} on ")
    shown = captions(at)
    assert any(t.startswith("Scheduled retraining: after 5 new ratings, or every 1 d (set by ada on ") for t in shown)
    assert any(t.startswith("Next: when 3 more ratings arrive, at the latest ") for t in shown), shown

    viewer = signed_in("tess")  # a tester reads it, without the form
    viewer.switch_page("pages/data.py").run()
    assert "The live model has not seen 2 ratings." in captions(viewer)
    assert not [w for w in viewer.text_input if w.key == "data-retrain-every"]
