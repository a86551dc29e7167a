"""``python -m recsys build`` / ``train`` killed half-way (SIGKILL): the previous catalogue /
model stays in use, and a re-run completes.

Each run goes through ``tests.faults.cli_hooks`` (the real CLI with a pause hook): the process
prints its progress lines, and the test reads its stderr and SIGKILLs it the moment the line of
the chosen step appears, with the process held there, so the kill lands exactly at that point
every time (no sleeps, no race with a fast machine). The points:

- build: at the ``write`` step (about to write Parquet), at ``verify`` (new files written,
  not checked), at ``swap`` (checked, not yet swapped in): the previous catalogue stays; and
  inside the swap, right after the atomic exchange, before the old folder is deleted: the new
  catalogue is complete and in place. (Before ``_exchange`` existed, a kill between the swap's
  two renames left no ``parquet/`` at all until the next build: the app lost its catalogue.)
- train: during ALS iterations, at ``saving model`` (fitted, nothing written), and just before
  the finished version folder is renamed into place.

The killed build uses ``CINEBLEND_MIN_VOTES=10000`` (12 titles instead of 38), so a build that
slipped through would show.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recsys.catalog.build import catalog_ready, read_manifest
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.jobs import runner as jobs
from recsys.models.artifacts import latest_version
from recsys.models.service import Recommender
from recsys.store import Store
from recsys.store import jobs as job_rows
from tests.faults.procs import kill_when
from tests.support.cli import cli_env, run_cli

pytestmark = pytest.mark.slow

ALL_TITLES = 38  # the fixture catalogue at the default min_votes (tests/fixtures/make_data.py)
FEW_TITLES = 12  # ... at min_votes = 10,000
EXCHANGE = "recsys.catalog.build:_exchange:after"  # pause right after the atomic swap


def leftovers(data_dir: Path) -> list[str]:
    prefixes = ("parquet.new-", "parquet.work-", "parquet.old")
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith(prefixes))


@pytest.fixture
def data_dir(tmp_path: Path, built_data: Path, trained_models: Path) -> Path:
    """A data folder with raw files, the fixture catalogue and a trained model."""
    target = tmp_path / "data"
    shutil.copytree(built_data, target, ignore=shutil.ignore_patterns("app.db*", "*.lock"))
    return target


@pytest.mark.parametrize(
    ("hook", "marker", "in_place"),
    [
        ({"CINEBLEND_TEST_PAUSE_AT": "write"}, "PAUSED write", ALL_TITLES),
        ({"CINEBLEND_TEST_PAUSE_AT": "verify"}, "PAUSED verify", ALL_TITLES),
        ({"CINEBLEND_TEST_PAUSE_AT": "swap"}, "PAUSED swap", ALL_TITLES),
        ({"CINEBLEND_TEST_PAUSE_CALL": EXCHANGE}, "PAUSED after _exchange", FEW_TITLES),
    ],
    ids=["at-write", "at-verify", "before-swap", "mid-swap"],
)
def test_killed_build_leaves_a_complete_catalogue(
    data_dir: Path, hook: dict[str, str], marker: str, in_place: int
) -> None:
    """Until the swap the previous catalogue stays; from the swap on, the new one is complete."""
    parquet = data_dir / "parquet"
    before = read_manifest(parquet)
    assert before is not None and before["row_counts"]["titles"] == ALL_TITLES
    env = cli_env(data_dir, CINEBLEND_MIN_VOTES="10000")

    seen = kill_when(["build"], env | hook, marker)

    assert any(line.startswith("titles:") for line in seen), f"no progress lines: {seen}"
    holds = sorted(p.name for p in data_dir.iterdir())
    assert catalog_ready(Settings(data_dir=data_dir)), f"no catalogue after the kill: {holds}"
    with Catalog(parquet) as catalog:
        assert catalog.stats()["titles"] == in_place
    if in_place == ALL_TITLES:
        assert read_manifest(parquet) == before

    rerun = run_cli("build", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "Built catalogue" in rerun.stdout
    with Catalog(parquet) as catalog:
        assert catalog.stats()["titles"] == FEW_TITLES
    assert leftovers(data_dir) == []


@pytest.mark.parametrize(
    ("hook", "marker"),
    [
        ({"CINEBLEND_TEST_PAUSE_AT": "als: iterations"}, "PAUSED als: iterations"),
        ({"CINEBLEND_TEST_PAUSE_AT": "saving model"}, "PAUSED saving model"),
        ({"CINEBLEND_TEST_PAUSE_RENAME": ".tmp-"}, "PAUSED rename .tmp-"),
    ],
    ids=["during-als", "at-saving", "before-rename"],
)
def test_killed_training_keeps_the_previous_model(data_dir: Path, hook: dict[str, str], marker: str) -> None:
    models = data_dir / "models"
    previous = latest_version(models)
    assert previous is not None
    env = cli_env(data_dir)

    kill_when(["train"], env | hook, marker)

    assert latest_version(models) == previous
    model = Recommender.load_latest(models)
    assert model.version == previous
    assert model.similar("tt0100001", 3), "the previous model does not answer"

    rerun = run_cli("train", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "Trained model" in rerun.stdout
    newest = latest_version(models)
    assert newest is not None and newest != previous
    assert Recommender.load_latest(models).version == newest
    # the data page's view: the killed run is marked interrupted, the rerun done
    with Store.open(Settings(data_dir=data_dir).store_url) as store:
        killed, rerun_job = job_rows.recent(store, (jobs.TRAIN,))[::-1]
    assert (killed.state, killed.error) == ("failed", job_rows.INTERRUPTED)
    assert rerun_job.state == "done" and str(rerun_job.requested_by).endswith("(command line)")


def test_swap_without_an_atomic_exchange_still_replaces_the_catalogue(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ``renameat2`` is missing the swap falls back to two renames (tests/catalog covers
    the recovery of a crash between them)."""
    from recsys.catalog import build as build_module

    monkeypatch.setattr(build_module, "_exchange", lambda a, b: False)
    build_module.build(Settings(data_dir=data_dir, min_votes=10_000))

    with Catalog(data_dir / "parquet") as catalog:
        assert catalog.stats()["titles"] == FEW_TITLES
    assert leftovers(data_dir) == []
