"""Nothing private for anonymous visitors (issue 20, item 6): the data page shown signed out (or
to a tester) names no server path, download mirror, host name, pid or account; an admin still
sees them. And the next step after the data job is a button (item 4)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from recsys.config import Settings
from recsys.jobs import runner as jobs
from recsys.store import Store
from recsys.store import jobs as rows
from tests.app.helpers import alerts, start, texts
from tests.badinput.support import make_user, signed_in

SECRET_ERROR = "cannot write /srv/cineblend/secret/raw/title.basics.tsv.gz (disk full)"


def jobs_of_another_server(settings: Settings) -> None:
    with Store.open(settings.store_url) as store:
        build = rows.enqueue(store, jobs.FETCH_BUILD, requested_by="root_admin", server="web-7:4242:abcdef")
        rows.start(store, build.id)
        rows.finish(store, build.id, SECRET_ERROR)
        train = rows.enqueue(store, jobs.TRAIN, requested_by="root_admin", server="web-7:4242:abcdef")
        rows.start(store, train.id)
        rows.finish(store, train.id)


def page_text(at: AppTest) -> str:
    return "\n".join([texts(at), *alerts(at, "error"), *alerts(at, "info"), *alerts(at, "success")])


def test_the_data_page_shows_no_paths_hosts_pids_or_accounts_to_visitors(app_settings: Settings) -> None:
    make_user(app_settings, "root_admin")  # the first account: the admin
    make_user(app_settings, "tess")
    jobs_of_another_server(app_settings)
    private = [str(app_settings.data_dir), app_settings.imdb_base_url.rstrip("/"), "web-7", "4242", "pid",
               "root_admin", "/srv/cineblend"]  # fmt: skip

    for who in (None, "tess"):
        at = start() if who is None else signed_in(who)
        at.switch_page("pages/data.py").run()
        assert not at.exception
        shown = page_text(at)
        assert "Data & model" in shown and "a configured mirror" in shown
        assert [p for p in private if p in shown] == [], who
        assert "Download and build failed at " in shown and "an admin sees the reason here." in shown

    at = signed_in("root_admin")
    at.switch_page("pages/data.py").run()
    shown = page_text(at)
    assert [p for p in private if p not in shown] == [], shown  # the admin sees all of it


def test_after_the_download_and_build_the_admin_gets_a_button_to_go_on(app_settings: Settings) -> None:
    make_user(app_settings, "root_admin", onboarded=False)
    at = signed_in("root_admin")
    at.switch_page("pages/data.py").run()
    with Store.open(app_settings.store_url) as store:
        job = rows.enqueue(store, jobs.FETCH_BUILD, requested_by="root_admin", server="web-1:1:a")
        rows.start(store, job.id)
        rows.finish(store, job.id)
    at.session_state["cb_jobs_mine"] = {job.id}
    at.run()
    assert not at.exception
    assert alerts(at, "success") == ["Catalogue and recommender ready."]
    links = [(link.proto.label, link.proto.page) for link in at.get("page_link")]
    assert [label for label, _ in links] == ["Next: pick your genres and titles"], links
