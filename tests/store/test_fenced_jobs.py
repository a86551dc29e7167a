"""Fenced jobs (issue 21, N5) and the lab's jobs on the store-backed runner (issue 19, item 5).

Two runners on one store stand for two servers (each its own id and its own lock connection).
The job body "trains" by publishing a model version through the real
:func:`recsys.models.artifacts.write_version` with an ALS user list holding the app users it
read, so the publish guard and the deletion scrub are the production ones.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from recsys.app.users import remove
from recsys.config import Settings
from recsys.evaluation import jobs as lab_jobs
from recsys.jobs import fence
from recsys.jobs import runner as jobs
from recsys.jobs.locks import uses_advisory_locks
from recsys.models.artifacts import versions, write_version
from recsys.models.scrub import ALS_DIR, scrub_deleted
from recsys.progress import OverallProgress, Phase
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.engine import parse_url
from tests.support.narrow import present

KIND = "fake_train"


class Trainer:
    """Reads the app users, waits for the test, then publishes a version holding their rows."""

    def __init__(self, store: Store, models_dir: Path) -> None:
        self.store, self.models_dir = store, models_dir
        self.started: dict[str, threading.Event] = {}
        self.release: dict[str, threading.Event] = {}
        self.published: list[str] = []

    def gate(self, server: str) -> tuple[threading.Event, threading.Event]:
        self.started[server], self.release[server] = threading.Event(), threading.Event()
        return self.started[server], self.release[server]

    def __call__(self, settings: Settings, progress: OverallProgress) -> None:
        report = progress.phase("work")
        users = [f"app:{u.id}" for u in self.store.list_users()]
        report("reading", 1, 2)
        job = jobs.current()
        assert job is not None
        self.started[job.server].set()
        assert self.release[job.server].wait(60), "the test never released the job"

        def write(tmp: Path) -> dict[str, dict[str, object]]:
            als = tmp / ALS_DIR
            als.mkdir(parents=True)
            (als / "users.json").write_text(json.dumps(users))
            np.savez(als / "als.npz", user_factors=np.arange(len(users) * 2, dtype=np.float32).reshape(-1, 2))
            return {}

        self.published.append(write_version(self.models_dir, write, keep=10, scrub=scrub_deleted).name)


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=store_url)


@pytest.fixture
def trainer(store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Trainer:
    monkeypatch.setattr(jobs, "REPORT_INTERVAL_S", 0.0)
    monkeypatch.setattr(fence, "HEARTBEAT_S", 0.2)
    body = Trainer(store, settings.models_dir)
    monkeypatch.setitem(
        jobs.KINDS,
        KIND,
        jobs.JobKind(KIND, "Fake training", "fake training", phases=lambda s: [Phase("work", "Working")], run=body),
    )
    return body


@pytest.fixture
def servers(settings: Settings, store: Store) -> Iterator[tuple[jobs.JobRunner, jobs.JobRunner]]:
    a = jobs.JobRunner(settings, store, server="web-a:101:aaaaaa")
    b = jobs.JobRunner(settings, store, server="web-b:202:bbbbbb")
    yield a, b
    for each in (a, b):
        assert each.wait_idle(60)


def users_in(version: Path) -> list[str]:
    return json.loads((version / ALS_DIR / "users.json").read_text())


def terminate_lock_connections(store_url: str) -> int:
    """What a PostgreSQL restart or a network drop does to the advisory locks' connections."""
    engine = create_engine(parse_url(store_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_a_superseded_job_neither_publishes_nor_overwrites_its_row(
    store: Store, trainer: Trainer, servers: tuple[jobs.JobRunner, jobs.JobRunner]
) -> None:
    a, _ = servers
    started, release = trainer.gate("web-a:101:aaaaaa")
    job = a.submit(KIND, "ada")
    assert started.wait(60)
    # a newer job takes the lease (what a server that got the lost lock does) and closes A's row
    fence.take(store, KIND, "web-b:202:bbbbbb", None)
    rows.abandon(store, [job.id], "Closed by the newer job.")
    release.set()
    assert a.wait_idle(60)
    assert trainer.published == [] and versions(trainer.models_dir) == []
    row = rows.get(store, job.id)
    assert row is not None and (row.state, row.error) == ("failed", "Closed by the newer job.")


def test_lost_locks_on_two_servers_one_publish_and_no_deleted_user_in_any_version(
    store: Store,
    store_url: str,
    settings: Settings,
    trainer: Trainer,
    servers: tuple[jobs.JobRunner, jobs.JobRunner],
) -> None:
    if not uses_advisory_locks(store_url):
        pytest.skip("file locks are not lost while their process lives")
    kept = store.create_user("kept", "Kept", "kept@example.org", "x")
    gone = store.create_user("gone", "Gone", "gone@example.org", "x")
    a, b = servers
    a_started, a_release = trainer.gate("web-a:101:aaaaaa")
    b_started, b_release = trainer.gate("web-b:202:bbbbbb")
    first = a.submit(KIND, "ada")
    assert a_started.wait(60)

    assert terminate_lock_connections(store_url) >= 1  # A's lock is gone; A still trains
    second = b.submit(KIND, "bob")  # B sees no lock held: a second training starts
    assert b_started.wait(60)
    remove(store, "gone", settings.models_dir, settings.data_dir, store_url)  # deleted during B's training

    a_release.set()  # A tries to publish with its lost lock
    assert a.wait_idle(60)
    b_release.set()
    assert b.wait_idle(60)

    published = versions(trainer.models_dir)
    assert len(published) == 1 and trainer.published == [published[0].name]  # B's only
    assert users_in(published[0]) == [f"app:{kept.id}"]  # the deleted user left out at publish
    assert f"app:{gone.id}" not in users_in(published[0])
    states = {j.id: j for j in rows.recent(store, (KIND,))}
    assert states[second.id].state == "done"
    assert states[first.id].state == "failed" and states[first.id].error == rows.INTERRUPTED


def test_a_lab_job_is_seen_and_cancelled_from_the_other_server(
    store: Store, settings: Settings, servers: tuple[jobs.JobRunner, jobs.JobRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = servers
    monkeypatch.setattr(jobs, "REPORT_INTERVAL_S", 0.0)
    started, stop = threading.Event(), threading.Event()

    def held(settings: Settings, progress: OverallProgress) -> None:
        report = progress.phase("run")
        report(lab_jobs.plain_stage("evaluate: scoring", 0, 603), 0, 603)
        started.set()
        while not stop.wait(0.05):
            report(lab_jobs.plain_stage("evaluate: scoring", 10, 603), 10, 603)  # the cancel stops it here

    spec = jobs.KINDS[lab_jobs.EVALUATE]
    monkeypatch.setitem(jobs.KINDS, lab_jobs.EVALUATE, jobs.JobKind(**{**spec.__dict__, "run": held}))
    job = a.submit(lab_jobs.EVALUATE, "ann", params={"config": {}}, estimate_s=60.0)
    assert started.wait(60)
    shown = lab_jobs.status(store, job.id)  # what B's lab reads
    assert shown is not None and shown.text.startswith("Scoring 603 test users: about ")
    assert " left (" in shown.text
    assert b.cancel(job.id, "bob") is None  # not bob's
    assert b.cancel(job.id, "ann") is not None
    assert a.wait_idle(60)
    stop.set()
    ended = lab_jobs.status(store, job.id)
    assert ended is not None and ended.job.cancelled and ended.text == "Cancelled; nothing of it was stored."


def test_tune_is_for_analysts_and_rechecked_when_it_starts(
    store: Store, settings: Settings, servers: tuple[jobs.JobRunner, jobs.JobRunner]
) -> None:
    a, _ = servers
    store.create_user("root", "Root", "root@example.org", "x")  # the first account is the admin
    store.create_user("tess", "Tess", "tess@example.org", "x")
    with pytest.raises(jobs.JobRefused, match="Only analysts and admins may run tune"):
        a.submit(lab_jobs.TUNE, "tess", params={"quick": True})
    ana = store.create_user("ana", "Ana", "ana@example.org", "x")
    store._update_user(ana.id, role="analyst")
    # queued behind a lab job of another user, then demoted before it starts
    lock = jobs.job_lock(settings, lab_jobs.TUNE)
    from recsys.jobs.locks import exclusive

    with exclusive(lock, "tuning", store_url=settings.store_url):
        job = a.submit(lab_jobs.TUNE, "ana", params={"quick": True})
        store._update_user(ana.id, role="tester")
    assert a.wait_idle(60)
    row = rows.get(store, job.id)
    assert row is not None and row.state == "failed"
    assert row.error == f"Not started: {lab_jobs.TUNE_NOT_ALLOWED}"


def test_plain_words_and_time_left() -> None:
    assert lab_jobs.plain_stage("evaluate: scoring", 5, 603) == "Scoring 603 test users"
    assert lab_jobs.plain_stage("evaluation: models (validation)", 1, 9) == "Ranking with each model (validation split)"
    assert lab_jobs.plain_stage("tune: weight grid", 0, 125) == "Trying weight combinations (1 of 125)"
    assert lab_jobs.plain_stage("new users (draw 2 of 5)", 3, 100) == "Simulating new users (draw 2 of 5)"
    assert lab_jobs.time_left(60.0, 20.0, 0.3) == pytest.approx(46.7, abs=0.1)
    assert lab_jobs.time_left(60.0, 80.0, 0.8) == pytest.approx(20.0)
    assert lab_jobs.time_left(60.0, 80.0, 0.0) == pytest.approx(8.0)


def test_jobs_requested_on_either_server_run_on_the_worker_and_survive_a_web_restart(
    store: Store, settings: Settings, trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web servers in worker mode queue only; one worker (its own id) runs what either asked
    for; a web server restarted meanwhile (same host, new pid) leaves the queued job alone."""
    spawned: list[str] = []
    monkeypatch.setattr(jobs.JobRunner, "ensure_worker", lambda self: spawned.append(self.server))
    web_a = jobs.JobRunner(settings, store, server="web:101:aaaaaa", mode="worker")
    web_b = jobs.JobRunner(settings, store, server="web-b:202:bbbbbb", mode="worker")
    job_a = web_a.submit(KIND, "ada")
    assert spawned == ["web:101:aaaaaa"]  # no worker alive yet: the app starts a local one
    with pytest.raises(jobs.JobRefused, match="is queued on web"):
        web_b.submit(KIND, "bob")  # one queued, seen from the other server
    jobs.JobRunner(settings, store, server="web:303:cccccc", mode="worker")  # A restarted
    assert present(rows.get(store, job_a.id)).state == "queued"

    worker = jobs.JobRunner(settings, store, server="worker:404:dddddd", mode="worker")
    started, release = trainer.gate("worker:404:dddddd")
    stop = threading.Event()
    serving = threading.Thread(target=worker.serve, args=(stop,))
    serving.start()
    try:
        assert started.wait(60)
        running = rows.get(store, job_a.id)
        assert running is not None and (running.state, running.server) == ("running", "worker:404:dddddd")
        beat = threading.Event()
        for _ in range(200):  # the worker's heartbeat: what keeps the apps from starting their own
            if jobs.workers_alive(store):
                break
            beat.wait(0.05)
        assert jobs.workers_alive(store)
        release.set()
        assert worker.wait_idle(60)
        deadline = threading.Event()
        for _ in range(600):
            done = rows.get(store, job_a.id)
            if done is not None and done.state == "done":
                break
            deadline.wait(0.05)
        assert done is not None and done.state == "done"
        started, release = trainer.gate("worker:404:dddddd")
        release.set()
        job_b = web_b.submit(KIND, "bob")  # requested on the other server: the same worker runs it
        for _ in range(600):
            ran = rows.get(store, job_b.id)
            if ran is not None and ran.state == "done":
                break
            deadline.wait(0.05)
        assert ran is not None and (ran.state, ran.server) == ("done", "worker:404:dddddd")
        assert len(versions(trainer.models_dir)) == 2
    finally:
        stop.set()
        serving.join(30)
