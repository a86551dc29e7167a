"""A damaged model version on the data page and in the feed (issue 21, N6): the app serves the
newest version that verifies and says which one, instead of "No trained model yet"."""

from __future__ import annotations

from pathlib import Path

from recsys.app.pipeline import train_model
from recsys.config import Settings
from recsys.models.artifacts import versions
from tests.app.helpers import alerts
from tests.badinput.support import make_user, signed_in


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupt_file_in_the_newest_version_serves_the_previous_one(model_settings: Settings) -> None:
    train_model(model_settings)  # same catalogue: the content model is reused from the first version
    newest, previous = versions(model_settings.models_dir)[:2]
    _flip_a_byte(newest / "hybrid" / "content" / "tfidf.npz")
    make_user(model_settings, "ada")  # the first account: the admin
    at = signed_in("ada")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert alerts(at, "warning") == [
        f"Model damaged (version {newest.name} failed verification), serving version {previous.name}."
    ]
    assert not any("No trained model" in a for a in alerts(at, "warning") + alerts(at, "error"))
    at.switch_page("pages/feed.py").run()
    assert not at.exception
