"""Data & model page: a job running on another app server is shown with one overall bar and its
stage as text, and a second request of that kind is refused with a line saying what runs."""

from __future__ import annotations

from recsys import jobs
from recsys.config import Settings
from recsys.locks import exclusive
from recsys.store import Store
from recsys.store import jobs as rows
from tests.app.helpers import alerts, texts
from tests.badinput.support import make_user, signed_in


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
