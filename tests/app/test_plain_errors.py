"""Errors shown in the app are plain text (issue 21, N7): a download server's HTTP reason phrase
in a failed job's error is shown on the data page as the characters it is, not as Markdown (a
signed-out visitor got a clickable link and the browser fetched a tracking image)."""

from __future__ import annotations

from recsys.config import Settings
from recsys.jobs import runner as jobs
from recsys.store import Store
from recsys.store import jobs as rows
from tests.badinput.support import make_user, signed_in
from tests.support.ws_session import unescape_markdown

REASON = "HTTP 503 [Verify your account](http://evil.example/v) ![](http://evil.example/t.png) **now**"


def test_a_failed_jobs_http_reason_is_shown_as_plain_text(app_settings: Settings) -> None:
    with Store.open(app_settings.store_url) as store:
        job = rows.enqueue(store, jobs.FETCH_BUILD, requested_by="ada", server="web-1:1:abc")
        rows.start(store, job.id)
        rows.finish(store, job.id, error=f"title.basics.tsv.gz: {REASON}")
    make_user(app_settings, "ada")  # the admin: only admins see why a job failed (issue 20, item 6)
    at = signed_in("ada")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    (shown,) = [str(e.value) for e in at.error if "failed at" in str(e.value)]  # the Markdown sent
    assert "](" not in shown and "**" not in shown  # nothing Markdown would turn into a link / image / bold
    assert unescape_markdown(shown).endswith(f"title.basics.tsv.gz: {REASON}")
