"""Demo personas saved with a model version at train time and read by the sign-in page, which
never computes them itself (issue 22: 2.6 s per model version on a cold server's first page)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from recsys.app import demo
from recsys.app.demo import PERSONAS_FILE, load_personas, pick_personas, save_personas
from recsys.config import Settings
from recsys.models.versions import latest_version
from recsys.ui import resources
from tests.app.helpers import start
from tests.demo.test_personas import RATINGS, TITLES


def test_saved_personas_read_back_for_the_same_catalogue_only(tmp_path: Path) -> None:
    personas = pick_personas(RATINGS, TITLES, count=4, min_ratings=5)
    path = tmp_path / PERSONAS_FILE
    save_personas(personas, path, "stamp-1")
    assert path.stat().st_mode & 0o077 == 0  # private, like the model files
    back = load_personas(path, "stamp-1")
    assert back is not None
    assert [(p.slug, p.name, p.blurb, p.ml_user_id, p.favourite_genres) for p in back] == [
        (p.slug, p.name, p.blurb, p.ml_user_id, p.favourite_genres) for p in personas
    ]
    assert [p.ratings.rows() for p in back] == [p.ratings.rows() for p in personas]
    assert [p.ratings.schema for p in back] == [p.ratings.schema for p in personas]
    assert load_personas(path, "stamp-2") is None  # a rebuilt catalogue: picked again
    assert load_personas(tmp_path / "missing.json", "stamp-1") is None
    path.write_text('{"catalogue": "stamp-1", "personas": [{"slug": 1}]}')
    assert load_personas(path, "stamp-1") is None  # damaged: picked again, never an error page


def _refuse(*_args: object, **_kwargs: object) -> list[demo.Persona]:
    raise AssertionError("personas computed on a visitor's page")


def test_sign_in_page_shows_the_personas_saved_by_training(
    model_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = latest_version(model_settings.models_dir)
    assert version is not None
    saved = pick_personas(RATINGS, TITLES, count=4, min_ratings=5)
    stamp = resources.catalogue_stamp(model_settings.parquet_dir)
    save_personas(saved, model_settings.models_dir / version / PERSONAS_FILE, stamp)
    monkeypatch.setattr(demo, "pick_personas", _refuse)
    at = start()
    assert [str(b.key) for b in at.button if str(b.key).startswith("demo-")] == [f"demo-{p.slug}" for p in saved]
    assert [b.label for b in at.button if str(b.key).startswith("demo-")] == [p.name for p in saved]


def test_personas_missing_from_the_model_are_picked_in_the_background(
    model_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = latest_version(model_settings.models_dir)
    assert version is not None
    (model_settings.models_dir / version / PERSONAS_FILE).unlink(missing_ok=True)  # a model from before
    release = threading.Event()
    picked = pick_personas(RATINGS, TITLES, count=4, min_ratings=5)

    def slow(*_args: object, **_kwargs: object) -> list[demo.Persona]:
        assert release.wait(30)
        return picked

    monkeypatch.setattr(demo, "pick_personas", slow)
    at = start()  # the page does not wait for them
    assert not [b for b in at.button if str(b.key).startswith("demo-")]
    assert any("being prepared" in c.value for c in at.caption)
    release.set()
    path = model_settings.models_dir / version / PERSONAS_FILE
    deadline = time.monotonic() + 30
    while load_personas(path, resources.catalogue_stamp(model_settings.parquet_dir)) is None:
        assert time.monotonic() < deadline, "the background pick never saved the personas"
        time.sleep(0.05)
    at.run()
    assert [str(b.key) for b in at.button if str(b.key).startswith("demo-")] == [f"demo-{p.slug}" for p in picked]
