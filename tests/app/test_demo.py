"""Demo personas in the app, over the real catalogue and model built from the shared mirror
(skipped without it): one click shows a mature feed, clicks stay in the session, leaving the
demo signs out, and nothing reaches the shared store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NoReturn

import pytest
from streamlit.testing.v1 import AppTest

from recsys.app.demo import pick_personas
from recsys.app.feed import feed_genres
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.errors import EvaluationError
from recsys.evaluation import runner
from recsys.evaluation.config import EvaluationConfig
from recsys.jobs import runner as jobs
from recsys.models import Recommender
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.ui import resources, state
from tests.app.helpers import alerts, card_texts, feed_tconsts, start
from tests.conftest import use_data_dir
from tests.support.narrow import present


@pytest.fixture
def mirror_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror_data: Path, fixture_sources: tuple[Path, Path]
) -> Settings:
    data_dir = tmp_path / "data"
    for folder in ("parquet", "models"):
        shutil.copytree(mirror_data / folder, data_dir / folder)
    return use_data_dir(monkeypatch, data_dir, fixture_sources)


def test_demo_profile_shows_a_mature_feed_and_keeps_clicks_in_the_session(
    mirror_settings: Settings,
) -> None:
    # named after their own feeds, by the trained model, as the sign-in page does
    with Catalog(mirror_settings.parquet_dir) as catalog:
        model = Recommender.load_latest(mirror_settings.models_dir)
        personas = pick_personas(
            catalog.movielens_ratings(in_catalog_only=True), catalog.all_titles(), recommend=feed_genres(model, catalog)
        )
    # up to four: a user whose feed does not show its name is skipped (3 on the mirror today)
    assert 3 <= len(personas) <= 4 and len({p.slug for p in personas}) == len(personas)
    persona = personas[0]
    rated = set(persona.ratings["tconst"].to_list())
    assert len(rated) >= 200

    at = start()
    shown = [str(b.key) for b in at.button if str(b.key).startswith("demo-")]
    assert shown == [f"demo-{p.slug}" for p in personas]
    at.button(key=f"demo-{persona.slug}").click().run()
    assert not at.exception
    assert at.title[0].value == "Your feed"
    assert any(f"Demo profile **{persona.name}**" in c.value for c in at.sidebar.caption)

    movies = feed_tconsts(at, "movie")
    assert len(movies) == 8 and not set(movies) & rated  # the history is already rated
    assert any("Because you liked" in text for text in card_texts(at))
    at.button(key=f"rate-feed-movie-{movies[0]}-1").click().run()
    assert not at.exception and movies[0] not in feed_tconsts(at, "movie")
    demo = at.session_state[state.DEMO]
    assert demo.interactions(demo.current_user().id).height == persona.ratings.height + 1

    at.switch_page("pages/account.py").run()  # read-only: no password or delete forms
    assert any("read-only" in m for m in alerts(at, "info"))
    assert not [b for b in at.button if str(b.key).startswith("acct-")]

    at.button(key="logout-button").click().run()  # "Leave demo"
    assert not at.exception
    assert any("left the demo" in m for m in alerts(at, "info"))
    assert at.title[0].value == "CineBlend" and state.DEMO not in at.session_state

    with Store.open(mirror_settings.store_url) as shared:  # nothing reached the shared store
        assert shared.all_interactions().is_empty()
        assert shared.get_user(persona.username) is None

    at.button(key=f"demo-{persona.slug}").click().run()  # a new demo starts from the persona
    demo = at.session_state[state.DEMO]
    assert demo.interactions(demo.current_user().id).height == persona.ratings.height


def test_demo_visitors_get_bounded_runs_counted_per_browser_session(
    mirror_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, N8: a demo visitor's costly settings are bounded (a 200-user sample, no grid, no
    segments, default ALS size), the run is theirs, not the persona's, and a session's third run
    in 10 minutes is refused."""

    def stopped(*args: object, **kwargs: object) -> NoReturn:
        raise EvaluationError("stopped by the test")  # the job row is what this test reads

    monkeypatch.setattr(runner, "evaluate_catalogue", stopped)
    personas = resources.personas(mirror_settings)
    sessions = [start(), start()]
    for at in sessions:
        at.button(key=f"demo-{personas[0].slug}").click().run()
        at.switch_page("pages/evaluation.py").run()
        assert not at.exception, at.exception

    def submit(at: AppTest) -> None:
        at.number_input(key="eval-factors").set_value(256)
        at.number_input(key="eval-iterations").set_value(50)
        at.checkbox(key="eval-grid-on").set_value(True)
        at.select_slider(key="eval-grid-step").set_value(0.1)
        at.button(key="FormSubmitter:eval-form-Run evaluation").click().run()
        assert not at.exception, at.exception
        assert jobs.wait_all(60)
        if "cb_eval_job" in at.session_state:  # a refused run queued nothing
            del at.session_state["cb_eval_job"]  # else the failed job's panel reruns the page over the message

    submit(sessions[0])
    submit(sessions[1])
    with Store.open(mirror_settings.store_url) as store:
        queued = rows.recent(store, ("evaluate",))
    assert len(queued) == 2
    assert len({j.requested_by for j in queued}) == 2  # one per browser session, not per persona
    for job in queued:
        config = EvaluationConfig.from_dict(present(job.params)["config"])
        assert (config.sample_users, config.grid, config.segments, config.factors, config.iterations) == (
            200,
            None,
            False,
            32,
            15,
        )
        assert set(present(job.params)["visitor"]) == {"session", "client"}
    submit(sessions[0])
    submit(sessions[0])
    assert any(
        a.startswith("At most 2 demo evaluations per 10 minutes per browser session; try again in")
        for a in alerts(sessions[0], "error")
    )
    with Store.open(mirror_settings.store_url) as store:
        assert len(rows.recent(store, ("evaluate",))) == 3  # the refused one queued nothing
