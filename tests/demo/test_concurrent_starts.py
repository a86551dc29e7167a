"""16 "Try a demo profile" clicks at the same moment, through the real server, all reach the feed
(issue 10: with 8 at once every start failed and once the server segfaulted, because each demo
ran the Alembic migrations in-process on its private database).

The catalogue is the synthetic one with long-history MovieLens fans, so the sign-in page offers
demo personas; each session loads the sign-in page, then all click a persona at once
(``tests.support.demo_starts``). Wall time is printed, not asserted (``bench/demo_starts.py``
compares it with one start).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recsys.store import Store
from tests.support.app_server import REPO, AppServer
from tests.support.demo_starts import start_demos
from tests.support.synthetic import build_synthetic_data
from tests.support.testers import run_async

pytestmark = pytest.mark.server

STARTS = 16


@pytest.fixture(scope="module")
def persona_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_data(tmp_path_factory.mktemp("personas"), fans=4)


def test_sixteen_concurrent_demo_starts_all_reach_the_feed(persona_data: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(persona_data, data_dir)
    log_path = REPO / "test-artifacts" / "demo" / "streamlit-demo-starts.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.unlink(missing_ok=True)
    with AppServer(data_dir, log_path=log_path) as server:
        outcome = run_async(lambda: start_demos(server.url, STARTS))
        alive = server.running()
    print(f"\n{STARTS} concurrent demo starts: {outcome.reached} reached the feed in {outcome.seconds:.2f} s")
    assert outcome.failures == [], "\n".join(outcome.failures)
    assert outcome.reached == STARTS and alive
    with Store.open(f"sqlite:///{data_dir / 'app.db'}") as shared:  # demos never reach the shared store
        assert shared.all_interactions().is_empty()
        assert shared.credentials()["usernames"] == {}
