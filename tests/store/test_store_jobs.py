"""Job locks and background jobs, on both backends: a file lock on SQLite, a PostgreSQL advisory
lock (every machine on the database) on PostgreSQL; job state and progress in the store.

Two runners on one store stand for two app servers (each has its own server id, as two
processes would); the real two-process case is ``tests/multiserver``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.jobs import runner as jobs
from recsys.jobs.locks import BusyError, exclusive, is_held, uses_advisory_locks
from recsys.progress import OverallProgress, Phase
from recsys.store import Store
from recsys.store import jobs as rows
from tests.support.narrow import present

REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------------- locks


def test_a_second_holder_is_refused_until_the_first_lets_go(store_url: str, tmp_path: Path) -> None:
    lock = tmp_path / "data" / ".train.lock"
    with exclusive(lock, "training", store_url=store_url):
        assert is_held(lock, store_url=store_url)
        with pytest.raises(BusyError, match=r"^Another training is already running; wait for it to finish\.$"):
            with exclusive(lock, "training", store_url=store_url):
                pass  # pragma: no cover
        # another job's lock is free meanwhile
        with exclusive(lock.with_name(".build.lock"), "catalogue build", store_url=store_url):
            pass
    assert not is_held(lock, store_url=store_url)
    with exclusive(lock, "training", store_url=store_url):
        pass
    # PostgreSQL: the lock is in the database, no file is involved
    assert lock.exists() != uses_advisory_locks(store_url)


def test_a_killed_holder_leaves_no_stale_lock(store_url: str, tmp_path: Path) -> None:
    lock = tmp_path / "data" / ".fetch.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from recsys.jobs.locks import exclusive\n"
            "with exclusive(Path(sys.argv[1]), 'download', store_url=sys.argv[2]):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
            str(lock),
            store_url,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert is_held(lock, store_url=store_url)
        with pytest.raises(BusyError):
            with exclusive(lock, "download", store_url=store_url):
                pass  # pragma: no cover
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    # the OS (file lock) or the database server (its client's connection dropped) releases it;
    # PostgreSQL notices the dropped connection a moment later: poll, bounded
    deadline = time.monotonic() + 20
    while is_held(lock, store_url=store_url):
        assert time.monotonic() < deadline, "the dead holder's lock was never released"
        time.sleep(0.05)
    with exclusive(lock, "download", store_url=store_url):
        pass


# ------------------------------------------------------------------------------ progress


def test_overall_progress_is_one_fraction_with_the_stage_as_text() -> None:
    seen: list[tuple[str, float]] = []
    overall = OverallProgress(
        [Phase("fetch", "Downloading", weight=1, parts=2), Phase("build", "Building", weight=1)],
        lambda text, frac: seen.append((text, frac)),
    )
    fetch, build = overall.phase("fetch"), overall.phase("build")
    fetch("a.tsv.gz", 500, 1000)
    assert seen[-1] == ("Downloading: a.tsv.gz (500 of 1.0K)", 0.125)
    fetch("a.tsv.gz", 1000, 1000)
    fetch("b.tsv.gz", 0, 2_000_000)
    assert seen[-1] == ("Downloading: b.tsv.gz (0 of 2.0M)", 0.25)
    overall.enter("build")
    assert seen[-1] == ("Building…", 0.5)
    build("check", 0, 8)
    build("write", 4, 8)
    assert seen[-1] == ("Building: write", 0.75)
    fetch("late report", 0, 10)  # an out-of-order report never moves the bar back
    assert seen[-1][1] == 0.75
    build("swap", 8, 8)
    assert seen[-1][1] == 1.0


# ---------------------------------------------------------------------------------- jobs


class Gate:
    """A job body that reports progress, then waits until the test lets it finish."""

    def __init__(self, fail: str | None = None) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        self.runs = 0

    def __call__(self, settings: Settings, progress: OverallProgress) -> None:
        self.runs += 1
        report = progress.phase("work")
        report("step one", 1, 4)
        self.started.set()
        assert self.release.wait(30), "the test never released the job"
        report("step four", 4, 4)
        if self.fail:
            raise CineBlendError(self.fail)


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> dict[str, Gate]:
    monkeypatch.setattr(jobs, "REPORT_INTERVAL_S", 3600.0)  # only a new stage is written at once
    gates = {"alpha": Gate(), "beta": Gate(), "gamma": Gate(fail="The source is gone; check the URL.")}
    for name, gate in gates.items():
        monkeypatch.setitem(
            jobs.KINDS,
            name,
            jobs.JobKind(
                name, name.title(), f"{name} job", phases=lambda s: [Phase("work", "Working", parts=1)], run=gate
            ),
        )
    return gates


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=store_url)


@pytest.fixture
def servers(settings: Settings, store: Store) -> Iterator[tuple[jobs.JobRunner, jobs.JobRunner]]:
    a = jobs.JobRunner(settings, store, server="web-a:101:aaaaaa")
    b = jobs.JobRunner(settings, store, server="web-b:202:bbbbbb")
    yield a, b
    for gate_runner in (a, b):
        assert gate_runner.wait_idle(30)


def test_a_job_runs_in_the_background_and_every_server_sees_its_progress(
    kinds: dict[str, Gate], servers: tuple[jobs.JobRunner, jobs.JobRunner], store: Store
) -> None:
    a, b = servers
    job = a.submit("alpha", "ada")
    assert kinds["alpha"].started.wait(30)
    running = rows.latest(store, "alpha")
    assert running is not None and running.id == job.id and running.state == "running"
    assert (running.stage, running.fraction, running.requested_by) == ("Working: step one (1 of 4)", 0.25, "ada")
    assert running.server == "web-a:101:aaaaaa" and running.started_at is not None

    # the other server refuses the same kind, saying what runs where
    with pytest.raises(jobs.JobRefused) as refused:
        b.submit("alpha", "bob")
    assert "is running on web-a (pid 101)" in str(refused.value) and "by ada" in str(refused.value)
    assert "\n" not in str(refused.value)
    # and so does the server that runs it
    with pytest.raises(jobs.JobRefused):
        a.submit("alpha", "ada")

    kinds["alpha"].release.set()
    assert a.wait_idle(30)
    done = rows.latest(store, "alpha")
    assert done is not None and (done.state, done.fraction, done.error) == ("done", 1.0, None)
    assert done.finished_at is not None
    assert kinds["alpha"].runs == 1
    # once it is over, the other server may run one
    kinds["alpha"].release.set()
    b.submit("alpha", "bob")
    assert b.wait_idle(30)
    assert kinds["alpha"].runs == 2


def test_jobs_of_one_lane_queue_on_a_server_instead_of_running_in_parallel(
    kinds: dict[str, Gate], servers: tuple[jobs.JobRunner, jobs.JobRunner], store: Store
) -> None:
    a, _ = servers
    a.submit("alpha", "ada")
    assert kinds["alpha"].started.wait(30)
    queued = a.submit("beta", "ada")  # same lane ("data"): waits for alpha
    assert queued.state == "queued"
    with pytest.raises(jobs.JobRefused, match="is queued on web-a"):
        a.submit("beta", "ada")  # one queued of a kind is enough
    assert not kinds["beta"].started.is_set()
    current = rows.get(store, queued.id)
    assert current is not None and current.state == "queued"

    kinds["beta"].release.set()
    kinds["alpha"].release.set()
    assert a.wait_idle(30)
    assert [present(rows.latest(store, k)).state for k in ("alpha", "beta")] == ["done", "done"]
    alpha, beta = rows.latest(store, "alpha"), rows.latest(store, "beta")
    assert alpha is not None and beta is not None and beta.started_at is not None and alpha.finished_at is not None
    assert beta.started_at >= alpha.finished_at  # one after the other


def test_a_failed_job_keeps_its_one_line_reason(
    kinds: dict[str, Gate], servers: tuple[jobs.JobRunner, jobs.JobRunner], store: Store
) -> None:
    a, _ = servers
    kinds["gamma"].release.set()
    a.submit("gamma", "ada")
    assert a.wait_idle(30)
    failed = rows.latest(store, "gamma")
    assert failed is not None and failed.state == "failed"
    assert failed.error == "The source is gone; check the URL."


def test_a_job_left_running_by_a_dead_server_does_not_block_the_next(
    kinds: dict[str, Gate], servers: tuple[jobs.JobRunner, jobs.JobRunner], store: Store
) -> None:
    a, b = servers
    ghost = rows.enqueue(store, "alpha", requested_by="ada", server="web-gone:999:cccccc")
    rows.start(store, ghost.id)  # its server died: nobody holds the job's lock
    kinds["alpha"].release.set()
    b.submit("alpha", "bob")
    assert b.wait_idle(30)
    dead = rows.get(store, ghost.id)
    assert dead is not None and dead.state == "failed" and dead.error == rows.INTERRUPTED
    latest = rows.latest(store, "alpha")
    assert latest is not None and latest.state == "done" and latest.requested_by == "bob"


def test_a_restarted_server_fails_what_its_previous_process_left(settings: Settings, store: Store) -> None:
    host = jobs.SERVER_ID.split(":")[0]
    before = rows.enqueue(store, "train", requested_by="ada", server=f"{host}:{os.getpid()}:0ld0ld")
    other_host = rows.enqueue(store, "train", requested_by="ada", server="elsewhere:1:abcdef")
    jobs.JobRunner(settings, store)  # this process, a new tag: the old rows were its earlier life
    assert present(rows.get(store, before.id)).state == "failed"
    assert present(rows.get(store, other_host.id)).state == "queued"


def test_a_command_line_job_is_recorded_and_excludes_the_app_servers(
    kinds: dict[str, Gate], servers: tuple[jobs.JobRunner, jobs.JobRunner], settings: Settings, store: Store
) -> None:
    a, _ = servers
    lines: list[tuple[str, float, float | None]] = []
    with jobs.recorded(settings, "alpha", "ada (command line)", lambda *report: lines.append(report)) as progress:
        progress("step one", 1, 2)
        row = rows.latest(store, "alpha")
        assert row is not None and (row.state, row.stage, row.fraction) == (
            "running",
            "Working: step one (1 of 2)",
            0.5,
        )
        with pytest.raises(jobs.JobRefused, match="by ada \\(command line\\) .* is running on"):
            a.submit("alpha", "bob")
        with pytest.raises(jobs.JobRefused, match="^Another alpha job is already running"):
            with jobs.recorded(settings, "alpha", "eve (command line)"):
                pass  # pragma: no cover
    assert lines == [("step one", 1, 2)]  # the command's own progress lines still get every report
    done = rows.latest(store, "alpha")
    assert done is not None and done.state == "done" and done.requested_by == "ada (command line)"

    with pytest.raises(CineBlendError, match="^No catalogue"):
        with jobs.recorded(settings, "alpha", "ada (command line)"):
            raise CineBlendError("No catalogue; run `python -m recsys build`.")
    failed = rows.latest(store, "alpha")
    assert failed is not None and (failed.state, failed.error) == (
        "failed",
        "No catalogue; run `python -m recsys build`.",
    )
