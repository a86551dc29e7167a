"""A tester's feed under an experiment (issue 23), through the feed controller the page calls
(``recommend_for_user(..., session=...)``) on the fixture catalogue and its trained model: the live
feed unchanged outside experiments, the A/B arm's ranking, interleaved arms credited card by card
and stable within a session, exposures in the store, demo sessions never logged; and the
experiment's life: identical arms refused, too few testers, one per section, stop keeps logs,
ship the winner as an audited change linked to the experiment, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl
import pytest

from recsys.app.demo import DemoStore
from recsys.app.feed import recommend_for_user, recommend_profile
from recsys.catalog.queries import Catalog
from recsys.columns import LIKE
from recsys.config import Settings
from recsys.experiments import analysis, manage, records
from recsys.experiments.arms import ExperimentError, assign
from recsys.experiments.exposure import log_for
from recsys.models import weights
from recsys.models.service import Recommender
from recsys.store import Store, User
from tests.support.narrow import as_store, present

LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020")
A = {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}
B = {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 1.0}
ARMS = [{"name": "blend", "weights": A}, {"name": "popular", "weights": B}]


Setup = tuple[Store, Catalog, Recommender, list[User]]


@pytest.fixture
def setup(model_settings: Settings) -> Iterator[Setup]:
    store = Store.open(model_settings.store_url)
    store.create_user("root", "Root", "root@example.com", "h")  # admin
    ann = store.create_user("ann", "Ann", "ann@example.com", "h")
    store.set_role(ann.id, "analyst")
    testers = []
    for name in ("tess", "tom", "tia"):
        u = store.create_user(name, name.title(), f"{name}@example.com", "h")
        store.set_favourite_genres(u.id, ["Drama", "Comedy"])
        store.set_onboarding_step(u.id, "done")
        for t in LIKES:
            store.rate(u.id, t, LIKE)
        testers.append(store.get_user(name))
    recommender = Recommender.load_latest(model_settings.models_dir)
    with Catalog(model_settings.parquet_dir) as catalog:
        yield store, catalog, recommender, [t for t in testers if t is not None]
    store.close()


def feed(store: Store, catalog: Catalog, rec: Recommender, user: User, session: str | None, n: int = 8) -> pl.DataFrame:
    return recommend_for_user(
        user, n, catalog=catalog, store=store, recommender=rec, kinds=("movie",), session=session
    )["movie"]


def test_a_tester_in_no_experiment_sees_the_live_feed_exactly_and_it_is_logged(setup: Setup) -> None:
    store, catalog, rec, (tess, *_) = setup
    weights.apply(store, {"content": 0.7, "popularity": 0.3}, by="ann")
    before = feed(store, catalog, rec, tess, None)
    now = feed(store, catalog, rec, tess, "s1")
    assert now["tconst"].to_list() == before["tconst"].to_list()
    assert set(now["setting"]) == {"live"}
    assert log_for(store).flush() == 8
    shown = records.exposure_frame(store, user_id=tess.id)
    assert shown["tconst"].to_list() == before["tconst"].to_list()
    assert shown["position"].to_list() == list(range(1, 9))
    assert set(shown["setting"]) == {"live"} and shown["experiment_id"].null_count() == 8
    assert set(shown["model_version"]) == {rec.version}


def test_ab_tester_gets_the_arm_her_hash_picks_on_every_server(setup: Setup, model_settings: Settings) -> None:
    store, catalog, rec, testers = setup
    exp = manage.create(store, by="ann", name="blend vs popular", section="movie", method="ab", arms=ARMS)
    manage.start(store, exp.id, by="ann")
    arms = {"blend": A, "popular": B}
    for user in testers:
        arm = assign(exp.id, user.id, ["blend", "popular"])
        shown = feed(store, catalog, rec, user, f"s-{user.id}")
        expected = recommend_profile(
            store.interactions(user.id).select("tconst", "value", "updated_at"),
            8,
            catalog=catalog,
            recommender=rec,
            weights=arms[arm],
            favourite_genres=user.favourite_genres,
            kinds=("movie",),
        )["movie"]
        assert shown["tconst"].to_list() == expected["tconst"].to_list()
        assert set(shown["setting"]) == {arm}
    log_for(store).flush()
    recorded = records.assignments(store, exp.id)
    assert recorded == {u.id: assign(exp.id, u.id, ["blend", "popular"]) for u in testers}
    # a second server: its own store object and log; the same arms
    with Store.open(model_settings.store_url) as other:
        for user in testers:
            assert set(feed(other, catalog, rec, user, "another-session")["setting"]) == {recorded[user.id]}
    # the TV section is in no experiment
    tv = recommend_for_user(testers[0], 8, catalog=catalog, store=store, recommender=rec, kinds=("tv",), session="s")
    assert set(tv["tv"]["setting"]) == {"live"}


def test_interleaved_feed_credits_each_card_to_its_arm_and_is_stable_in_a_session(setup: Setup) -> None:
    store, catalog, rec, (tess, *_) = setup
    exp = manage.create(store, by="ann", name="interleaved", section="movie", method="interleave", arms=ARMS)
    manage.start(store, exp.id, by="ann")
    first = feed(store, catalog, rec, tess, "sess-1")
    assert first.height == 8
    assert first["rank"].to_list() == list(range(1, 9))
    own = {
        name: recommend_profile(
            store.interactions(tess.id).select("tconst", "value", "updated_at"),
            8,
            catalog=catalog,
            recommender=rec,
            weights=w,
            favourite_genres=tess.favourite_genres,
            kinds=("movie",),
        )["movie"]["tconst"].to_list()
        for name, w in (("blend", A), ("popular", B))
    }
    for tconst, arm in zip(first["tconst"].to_list(), first["setting"].to_list(), strict=True):
        assert tconst in own[arm]
    counts = first["setting"].value_counts()
    assert dict(counts.rows()) == {"blend": 4, "popular": 4}  # team draft: 4 picks each in 8
    for _ in range(3):  # reruns in the same session: the same feed
        again = feed(store, catalog, rec, tess, "sess-1")
        assert again.select("tconst", "setting").rows() == first.select("tconst", "setting").rows()
    # the tester likes two of popular's cards: this session prefers popular
    popular_cards = first.filter(pl.col("setting") == "popular")["tconst"].to_list()
    log_for(store).flush()
    for t in popular_cards[:2]:
        store.rate(tess.id, t, LIKE)
    result = analysis.analyse(store, present(records.get(store, exp.id)))
    assert result.preference is not None and result.preference.wins == {"blend": 0, "popular": 1}
    assert not result.verdict.decided


def test_a_demo_session_is_never_logged(setup: Setup) -> None:
    store, catalog, rec, (tess, *_) = setup
    exp = manage.create(store, by="ann", name="ab", section="movie", method="ab", arms=ARMS)
    manage.start(store, exp.id, by="ann")
    private = Store.in_memory()
    persona = private.create_user("demo", "Demo", "demo@demo.invalid", "!")
    private.set_onboarding_step(persona.id, "done")
    for t in LIKES:
        private.rate(persona.id, t, LIKE)
    demo = DemoStore(private, store, present(private.get_user("demo")))
    shown = recommend_for_user(
        demo.current_user(),
        8,
        catalog=catalog,
        store=as_store(demo),
        recommender=rec,
        kinds=("movie",),
        session="demo-s",
    )["movie"]
    assert shown.height == 8 and "setting" not in shown.columns
    log_for(store).flush()
    assert records.exposure_frame(store).height == 0
    assert records.assignments(store, exp.id) == {}


def test_analysts_see_the_live_feed_during_an_experiment(setup: Setup) -> None:
    store, catalog, rec, _ = setup
    exp = manage.create(store, by="ann", name="ab", section="movie", method="ab", arms=ARMS)
    manage.start(store, exp.id, by="ann")
    ann = store.get_user("ann")
    assert ann is not None
    assert set(feed(store, catalog, rec, ann, "s")["setting"]) == {"live"}


def test_experiment_rules_and_ship_the_winner(setup: Setup) -> None:
    store, catalog, rec, (tess, *_) = setup
    with pytest.raises(
        ExperimentError,
        match=r"^Arms A and B have identical settings \(content 0.50, .*\): an experiment needs settings that differ\.$",
    ):
        manage.create(
            store,
            by="ann",
            name="same",
            section="movie",
            method="ab",
            arms=[{"name": "A", "weights": A}, {"name": "B", "weights": dict(A)}],
        )
    with pytest.raises(ExperimentError, match="only analysts and admins run experiments"):
        manage.create(store, by="tess", name="x", section="movie", method="ab", arms=ARMS)
    three = [*ARMS, {"name": "content", "weights": {"content": 1.0}}, {"name": "als", "weights": {"als": 1.0}}]
    big = manage.create(store, by="ann", name="four arms", section="tv", method="ab", arms=three)
    with pytest.raises(
        ExperimentError, match=r"Too few testers for this experiment: 3 onboarded tester\(s\), at least 4 needed"
    ):
        manage.start(store, big.id, by="ann")
    first = manage.create(store, by="ann", name="first", section="movie", method="ab", arms=ARMS)
    second = manage.create(store, by="ann", name="second", section="movie", method="interleave", arms=ARMS)
    manage.start(store, first.id, by="ann")
    with pytest.raises(
        ExperimentError, match=f"Experiment #{first.id} first is already on this section; stop it first"
    ):
        manage.start(store, second.id, by="ann")
    feed(store, catalog, rec, tess, "s")
    log_for(store).flush()
    stopped = manage.stop(store, first.id, by="ann")
    assert stopped.status == "stopped" and stopped.stopped_at is not None
    assert records.exposure_frame(store, first.id).height == 8  # stopping keeps the logs
    assert set(feed(store, catalog, rec, tess, "s")["setting"]) == {"live"}
    change = manage.ship(store, first.id, "popular", by="ann", reason="clear winner")
    assert change.experiment_id == first.id and change.new == weights.current(store)
    assert change.reason == f"Experiment #{first.id} first: shipped arm popular. clear winner"
    assert weights.history(store)[0].experiment_id == first.id
    assert present(records.get(store, first.id)).shipped_arm == "popular"


def test_cli_list_show_stop(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    from recsys.__main__ import main

    store, catalog, rec, (tess, *_) = setup
    assert main(["experiments", "create", "--name", "cli run", "--section", "movie", "--method", "interleave",
                 "--arm", "A=content=0.5,als=0.2,taste=0.2,popularity=0.1", "--arm", "B=popularity=1;calibration=0.7", "--as", "ann"]) == 0  # fmt: skip
    exp = records.list_all(store)[0]
    assert exp.arms[1].stages == {"calibration": 0.7}
    assert main(["experiments", "start", str(exp.id), "--as", "ann"]) == 0
    feed(store, catalog, rec, tess, "s")
    log_for(store).flush()
    capsys.readouterr()
    assert main(["experiments", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"#{exp.id} cli run (Team-draft interleaving, Movies, running)  arms A, B  by ann")
    assert main(["experiments", "show", str(exp.id), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sum(a["cards"] for a in doc["arms"]) == 8
    assert main(["experiments", "show", str(exp.id), "--csv"]) == 0
    assert capsys.readouterr().out.startswith("arm,setting,exposures,cards")
    assert main(["experiments", "stop", str(exp.id), "--as", "tess"]) == 1
    assert "only analysts and admins" in capsys.readouterr().err
    assert main(["experiments", "stop", str(exp.id), "--as", "ann"]) == 0
    assert present(records.get(store, exp.id)).status == "stopped"
    assert main(["experiments", "create", "--name", "x", "--section", "movie", "--method", "ab",
                 "--arm", "A=content=1", "--arm", "B=content=1", "--as", "ann"]) == 1  # fmt: skip
    assert capsys.readouterr().err.startswith("error: Arms A and B have identical settings")


def test_a_deleted_tester_leaves_no_exposure_and_does_not_block_the_log(setup: Setup) -> None:
    store, catalog, rec, (tess, tom, _) = setup
    exp = manage.create(store, by="ann", name="ab", section="movie", method="ab", arms=ARMS)
    manage.start(store, exp.id, by="ann")
    feed(store, catalog, rec, tess, "s1")
    log_for(store).flush()
    feed(store, catalog, rec, tess, "s1")  # queued, not yet written...
    feed(store, catalog, rec, tom, "s2")
    store.delete_user(tess.id)  # ...when tess deletes her account
    assert log_for(store).flush() == 8  # the batch still goes in, without her rows
    assert records.exposure_frame(store, user_id=tess.id).height == 0
    assert set(records.exposure_frame(store)["user_id"]) == {tom.id}
    assert set(records.assignments(store, exp.id)) == {tom.id}
