"""Heavy jobs off the web servers, with real processes (issue 22 item 4).

1. Two real app servers (``streamlit run``, ``CINEBLEND_JOBS=worker``) and one real
   ``python -m recsys worker`` on one store: SQLite (one data folder for all three) and
   PostgreSQL (a data folder each, one artifact folder). An admin's Retrain requested on A runs
   in the worker process (the job row names the worker's pid, neither server's), both data pages
   show its bar and where it runs, A is killed (SIGKILL) and restarted meanwhile and the job goes
   on and ends done with a new model version; a Retrain requested on B runs on the same worker.
   No server started a worker of its own (one worker heartbeat in the store). The worker runs
   through :mod:`tests.multiserver.hooked_worker`, which holds each training at a gate until the
   test opens it, so "mid-job" is a fact, not a timing guess.
2. With no worker running, one app server starts a local worker process (``python -m recsys
   worker --parent PID``, not a thread in the server) for the job it queues, and the job runs
   there; the worker stops by itself once the server has stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from recsys.jobs import runner as jobs
from recsys.jobs.fence import fresh_holders
from recsys.models.artifacts import latest_version
from recsys.store import Store
from recsys.store import jobs as job_rows
from tests.support.app_server import REPO, AppServer
from tests.support.multiserver import button, open_gate, signed_in, unblock, wait_for
from tests.support.narrow import present
from tests.support.postgres import throwaway_database
from tests.support.testers import Account, create_testers, run_async

pytestmark = [pytest.mark.slow, pytest.mark.server]

ARTIFACTS = REPO / "test-artifacts" / "worker"
DATA_PAGE = "data-and-model"
WORKER_MODE = {"CINEBLEND_JOBS": "worker"}


@dataclass
class Deployment:
    """Where the processes keep things: the store URL, the shared model folder, and each
    process's environment (data folder plus what they share)."""

    store_url: str
    models_dir: Path
    data_dirs: dict[str, Path]
    common: dict[str, str]


def sqlite_deployment(built_data: Path, trained_models: Path, tmp_path: Path) -> Deployment:
    """One machine: one data folder (catalogue, models, SQLite store) for every process."""
    data = tmp_path / "data"
    shutil.copytree(built_data / "parquet", data / "parquet")
    shutil.copytree(trained_models, data / "models")
    url = f"sqlite:///{(data / 'app.db').resolve()}"
    return Deployment(url, data / "models", {"a": data, "b": data, "worker": data}, {})


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, built_data: Path, trained_models: Path, tmp_path: Path
) -> Iterator[Deployment]:
    if request.param == "sqlite":
        yield sqlite_deployment(built_data, trained_models, tmp_path)
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    shared = tmp_path / "shared"
    shutil.copytree(built_data / "parquet", shared / "parquet")
    shutil.copytree(trained_models, shared / "models")
    with throwaway_database(admin_url, "cineblend_worker") as url:
        database = url.render_as_string(hide_password=False)
        dirs = {name: tmp_path / name for name in ("a", "b", "worker")}
        yield Deployment(
            database, shared / "models", dirs, {"DATABASE_URL": database, "CINEBLEND_ARTIFACT_DIR": str(shared)}
        )


class WorkerProcess:
    """``python -m tests.multiserver.hooked_worker worker`` (the real worker plus the gate), with
    the environment an app server of the same deployment gets."""

    def __init__(self, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.env = AppServer(data_dir, log_path=log_path, env=env).environment()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.multiserver.hooked_worker", "worker"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def pid_of(server_id: str) -> int:
    """``"host:4242:a1b2c3"`` -> 4242."""
    return int(server_id.split(":")[1])


async def request_retrain(url: str, admin: Account) -> list[str]:
    tester = await signed_in(url, admin)
    await tester.session.open_page(DATA_PAGE)
    run = await button(tester.session, "data-train")
    await tester.session.close()
    return run.errors()


async def data_page(url: str, admin: Account) -> tuple[list[str], list[str]]:
    """The data page's progress bars and texts as the admin sees them on ``url``."""
    tester = await signed_in(url, admin)
    page = await tester.session.open_page(DATA_PAGE)
    await tester.session.close()
    return [i.proto.text for i in page.elements("progress")], page.texts()


def held(store: Store) -> job_rows.Job | None:
    """The training job while the worker holds it at the gate."""
    job = job_rows.latest(store, jobs.TRAIN)
    return job if job is not None and job.state == "running" and "held by the test" in job.stage else None


def shows_the_job(bars: list[str], texts: list[str], worker_label: str) -> bool:
    return (
        len(bars) == 1
        and bars[0].startswith("Retrain: Training the recommender")
        and any(f"on {worker_label}" in t for t in texts)
    )


def test_jobs_requested_on_either_server_run_on_the_worker_and_survive_a_web_restart(
    deployment: Deployment, tmp_path: Path
) -> None:
    gate = tmp_path / "train-gate"
    os.mkfifo(gate)
    logs = ARTIFACTS / ("sqlite" if deployment.store_url.startswith("sqlite") else "postgresql")
    for old in logs.glob("*.log") if logs.is_dir() else []:
        old.unlink()
    with Store.open(deployment.store_url) as store:
        (admin,) = create_testers(store, 1, prefix="admin")  # the first account: the admin
    first_model = latest_version(deployment.models_dir)
    worker = WorkerProcess(
        deployment.data_dirs["worker"],
        {**deployment.common, "CINEBLEND_TEST_TRAIN_GATE": str(gate)},
        logs / "worker.log",
    )
    env = {**deployment.common, **WORKER_MODE}
    a = AppServer(deployment.data_dirs["a"], log_path=logs / "server-a.log", env=env)
    b = AppServer(deployment.data_dirs["b"], log_path=logs / "server-b.log", env=env)
    worker.start()
    try:
        with Store.open(deployment.store_url) as store:
            wait_for("the worker's heartbeat", lambda: jobs.workers_alive(store))
            a.start()
            b.start()

            # requested on A, runs in the worker process
            assert run_async(lambda: request_retrain(a.url, admin)) == []
            wait_for("the training to run on the worker", lambda: held(store) is not None)
            job = held(store)
            assert job is not None and job.requested_by == admin.username
            assert pid_of(job.server) == worker.pid
            assert a.process is not None and b.process is not None
            assert worker.pid not in (a.process.pid, b.process.pid)
            label = jobs.server_label(job.server)
            for server in (a, b):
                bars, texts = run_async(partial(data_page, server.url, admin))
                assert shows_the_job(bars, texts, label), (server.url, bars, texts)

            # A dies and comes back while the job runs: the job goes on
            a.kill()
            a.start()
            still = held(store)
            assert still is not None and (still.id, still.server) == (job.id, job.server)
            bars, texts = run_async(lambda: data_page(a.url, admin))
            assert shows_the_job(bars, texts, label), (bars, texts)
            open_gate(gate)
            wait_for("the training to end", lambda: not present(job_rows.get(store, job.id)).active, timeout=180)
            done = job_rows.get(store, job.id)
            assert done is not None and (done.state, done.error) == ("done", None), done
            assert pid_of(done.server) == worker.pid
            second_model = latest_version(deployment.models_dir)
            assert second_model is not None and second_model != first_model

            # requested on B, runs on the same worker
            assert run_async(lambda: request_retrain(b.url, admin)) == []
            wait_for("B's training to run on the worker", lambda: (j := held(store)) is not None and j.id != job.id)
            on_b = held(store)
            assert on_b is not None and pid_of(on_b.server) == worker.pid
            open_gate(gate)
            wait_for("B's training to end", lambda: not present(job_rows.get(store, on_b.id)).active, timeout=180)
            assert present(job_rows.get(store, on_b.id)).state == "done"
            assert latest_version(deployment.models_dir) not in (first_model, second_model)
            # neither server started a worker of its own
            assert [pid_of(h) for h in fresh_holders(store, "worker:", jobs.WORKER_STALE_S)] == [worker.pid]
    finally:
        unblock(gate)
        a.stop()
        b.stop()
        worker.stop()


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def test_with_no_worker_one_server_starts_a_local_worker_process(
    built_data: Path, trained_models: Path, tmp_path: Path
) -> None:
    deployment = sqlite_deployment(built_data, trained_models, tmp_path)  # a single-machine install
    with Store.open(deployment.store_url) as store:
        (admin,) = create_testers(store, 1, prefix="admin")
        assert not jobs.workers_alive(store)
    server = AppServer(deployment.data_dirs["a"], log_path=tmp_path / "server.log", env=WORKER_MODE)
    server.start()
    worker_pid = None
    try:
        assert run_async(lambda: request_retrain(server.url, admin)) == []
        with Store.open(deployment.store_url) as store:
            wait_for(
                "the training to end",
                lambda: (j := job_rows.latest(store, jobs.TRAIN)) is not None and not j.active,
                timeout=180,
            )
            job = job_rows.latest(store, jobs.TRAIN)
        assert job is not None and (job.state, job.error) == ("done", None), job
        assert server.process is not None
        worker_pid = pid_of(job.server)
        assert worker_pid != server.process.pid  # not a thread of the server
        cmd = _cmdline(worker_pid)
        assert cmd[1:5] == ["-m", "recsys", "worker", "--parent"] and cmd[5] == str(server.process.pid), cmd
    finally:
        server.stop()
    wait_for("the local worker to stop after its server", lambda: not _cmdline(worker_pid), timeout=30)
