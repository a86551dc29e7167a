"""Scheduled retraining (issue 22 item 5) on both stores, with tiny thresholds.

A "model version" is a real version folder written by :func:`recsys.models.artifacts.write_version`;
the training kind is replaced by one that publishes such a folder and calls the runner's
post-training hooks, as the real one does (:func:`recsys.jobs.runner._train`), so the worker loop, the
schedule's lock, the job rows and the unseen count are the production ones.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from recsys.config import Settings
from recsys.errors import ConfigError
from recsys.jobs import retrain
from recsys.jobs import runner as jobs
from recsys.models.artifacts import latest_version, write_version
from recsys.progress import OverallProgress, Phase
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.schema import utcnow
from recsys.timefmt import parse_time
from recsys.ui.retrain_panel import summary

TITLES = [f"tt01000{i:02d}" for i in range(1, 30)]


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=store_url)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(retrain.AFTER_RATINGS_ENV, raising=False)
    monkeypatch.delenv(retrain.EVERY_ENV, raising=False)


def publish(settings: Settings) -> str:
    return write_version(settings.models_dir, lambda tmp: {}, keep=10).name


def fake_train(settings: Settings, progress: OverallProgress) -> None:
    """The real training's contract: publish a version, then call the hooks with its start."""
    started = utcnow()
    progress.phase("train")("training", 1, 1)
    version = publish(settings)
    for hook in jobs.TRAINED:
        hook(settings, version, started)


@pytest.fixture
def quick_training(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = jobs.KINDS[jobs.TRAIN]
    monkeypatch.setitem(
        jobs.KINDS,
        jobs.TRAIN,
        jobs.JobKind(spec.kind, spec.label, spec.what, phases=lambda s: [Phase("train", "Training")], run=fake_train),
    )


def rater(store: Store) -> int:
    return store.create_user("rita", "Rita", "rita@example.com", "x").id


def queued_runner(settings: Settings, store: Store, server: str, monkeypatch: pytest.MonkeyPatch) -> jobs.JobRunner:
    """A web-server-like runner that only queues (no worker process is started)."""
    monkeypatch.setattr(jobs.JobRunner, "ensure_worker", lambda self: None)
    return jobs.JobRunner(settings, store, server=server, mode="worker")


def test_schedule_values_from_the_environment_and_the_data_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert retrain.current_schedule(store).off
    monkeypatch.setenv(retrain.AFTER_RATINGS_ENV, "25")
    monkeypatch.setenv(retrain.EVERY_ENV, "6h")
    assert retrain.current_schedule(store) == retrain.Schedule(25, 21600.0, "server settings")
    saved = retrain.save_schedule(store, 3, None, by="ada")
    assert (saved.after_ratings, saved.every_s) == (3, None)
    assert saved.source.startswith("set by ada on ")
    assert retrain.current_schedule(store) == saved  # the admin's choice wins over the environment
    monkeypatch.setenv(retrain.EVERY_ENV, "soon")
    retrain.save_schedule(store, None, None, by="ada")
    assert retrain.current_schedule(store).off  # off on the data page is off
    with pytest.raises(ConfigError, match="CINEBLEND_RETRAIN_EVERY must be a duration"):
        retrain.env_schedule()
    with pytest.raises(ConfigError, match="whole number"):
        retrain.parse_after("ten")


def test_due_after_enough_new_ratings_and_the_count_the_page_shows(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(retrain.AFTER_RATINGS_ENV, "3")
    user = rater(store)
    store.rate(user, TITLES[0], 1)  # before the model: seen
    publish(settings)
    state = retrain.status(settings, store)
    assert (state.unseen, state.due) == (0, False)
    assert summary(state) == [
        "Scheduled retraining: after 3 new ratings (server settings).",
        "The live model has not seen 0 ratings.",
        "Next: when 3 more ratings arrive.",
    ]
    store.rate(user, TITLES[1], 1)
    store.rate(user, TITLES[1], -1)  # a change counts
    assert summary(retrain.status(settings, store))[1:] == [
        "The live model has not seen 2 ratings.",
        "Next: when 1 more rating arrives.",
    ]
    store.rate(user, TITLES[2], 2)
    state = retrain.status(settings, store)
    assert (state.unseen, state.due) == (3, True)
    assert state.reason == "3 ratings not seen by the live model (threshold 3)."


def test_due_by_age_with_the_next_time_shown(store: Store, settings: Settings) -> None:
    version = publish(settings)
    made = parse_time(version)
    assert made is not None
    retrain.save_schedule(store, None, 3600.0, by="ada")
    state = retrain.status(settings, store, now=made + timedelta(minutes=59))
    assert state.next_due == made + timedelta(hours=1) and not state.due
    assert summary(state)[2] == f"Next: at {jobs.when(made + timedelta(hours=1))}."
    assert retrain.status(settings, store, now=made + timedelta(minutes=61)).due


def test_two_workers_checking_at_once_queue_one_training(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(retrain.AFTER_RATINGS_ENV, "1")
    publish(settings)
    store.rate(rater(store), TITLES[0], 1)
    runners = [queued_runner(settings, store, f"worker-{i}:{100 + i}:abcdef", monkeypatch) for i in range(4)]
    barrier = threading.Barrier(len(runners))
    queued: list[rows.Job | None] = []

    def check(runner: jobs.JobRunner) -> None:
        barrier.wait()
        for _ in range(5):
            queued.append(retrain.check(settings, store, runner))

    threads = [threading.Thread(target=check, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [j for j in queued if j is not None]
    assert len(made) == 1
    trains = rows.recent(store, (jobs.TRAIN,))
    assert [(j.state, j.requested_by, (j.params or {}).get("scheduled")) for j in trains] == [("queued", None, True)]


def test_the_worker_retrains_when_enough_ratings_arrived_and_then_waits_again(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch, quick_training: None
) -> None:
    monkeypatch.setenv(retrain.AFTER_RATINGS_ENV, "2")
    monkeypatch.setenv(retrain.CHECK_ENV, "0.1")
    monkeypatch.setattr(jobs, "WORKER_POLL_S", 0.05)
    first = publish(settings)
    user = rater(store)
    store.rate(user, TITLES[0], 1)
    worker = jobs.JobRunner(settings, store, server="worker:300:abcdef", mode="worker")
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        store.rate(user, TITLES[1], 1)  # the second unseen rating: due
        deadline = utcnow() + timedelta(seconds=60)
        while latest_version(settings.models_dir) == first:
            assert utcnow() < deadline, "no scheduled retraining"
            stop.wait(0.05)
        deadline = utcnow() + timedelta(seconds=60)
        while any(j.active for j in rows.recent(store, (jobs.TRAIN,))):
            assert utcnow() < deadline, "the scheduled training did not end"
            stop.wait(0.05)
        state = retrain.status(settings, store)
        assert (state.unseen, state.due) == (0, False)  # the new model has seen both
        store.rate(user, TITLES[2], 1)
        for _ in range(10):  # ten checks with one unseen rating: nothing more
            stop.wait(0.1)
        trains = rows.recent(store, (jobs.TRAIN,))
        assert [(j.state, (j.params or {}).get("scheduled")) for j in trains] == [("done", True)]
        assert trains[0].server == "worker:300:abcdef"
    finally:
        stop.set()
        thread.join(30)


def test_a_failed_scheduled_training_is_not_retried_at_once(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(retrain.AFTER_RATINGS_ENV, "1")
    publish(settings)
    store.rate(rater(store), TITLES[0], 1)
    runner = queued_runner(settings, store, "worker:400:abcdef", monkeypatch)
    job = retrain.check(settings, store, runner)
    assert job is not None
    rows.start(store, job.id)
    rows.finish(store, job.id, error="disk full")
    assert retrain.check(settings, store, runner) is None
    assert (
        retrain.status(settings, store).reason == "The last scheduled training failed (disk full); trying again later."
    )
    later = utcnow() + timedelta(seconds=retrain.RETRY_S + 1)
    assert retrain.status(settings, store, now=later).due
