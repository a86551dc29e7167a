"""Smaller things of issue 20, item 8, as a person sees them: the details dialog says when cast
and crew are unknown; one "demo unavailable" line on a fresh install; search filters fold away
on a narrow screen until one is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.config import Settings
from tests.app.helpers import feed_tconsts, onboarded, start, texts

UNKNOWN_PEOPLE = "Cast and crew: not in the catalogue for this title (see IMDb)."


def test_the_details_dialog_says_when_cast_and_crew_are_unknown(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    seen = {"with people": 0, "without": 0}
    for kind in ("movie", "tv"):
        for tconst in feed_tconsts(at, kind)[:4]:
            at.button(key=f"details-feed-{kind}-{tconst}").click().run()
            assert not at.exception
            shown = texts(at)
            named = any(f"{label}: " in shown for label in ("Directed by", "Written by", "Starring"))
            assert named != (UNKNOWN_PEOPLE in shown), tconst  # one or the other, never silence
            seen["with people" if named else "without"] += 1
    assert seen["without"] > 0, seen


def test_one_demo_line_on_a_fresh_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CINEBLEND_COOKIE_KEY", "test-cookie-key-" + "x" * 40)
    at = start()
    demo_lines = [c.value for c in at.caption if "Demo profiles" in c.value]
    assert len(demo_lines) == 1, demo_lines


def test_search_filters_fold_away_until_one_is_used(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    at.switch_page("pages/search.py").run()
    (box,) = [e for e in at.expander if e.label.startswith("Filters")]
    assert box.proto.expanded is False
    at.radio(key="search-kind").set_value("TV shows").run()
    (box,) = [e for e in at.expander if e.label.startswith("Filters")]
    assert box.proto.expanded is True
