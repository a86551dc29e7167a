"""Your ratings stays current without navigating away: rows, counts and the CSV after each
change, removal and undo; hidden titles listed with Restore."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from recsys.app import history
from recsys.config import Settings
from tests.app.helpers import alerts, card_texts, feed_tconsts, onboarded, texts, user
from tests.support.narrow import present


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], object]]:
    """The download callables the app registered, by file id (what a click would run)."""
    seen: dict[str, Callable[[], object]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any, **kwargs: Any) -> str:
        file_id = original(self, data_callable, *args, **kwargs)
        seen[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


def downloaded(at: AppTest, deferred: dict[str, Callable[[], object]]) -> dict[str, str]:
    """What "Export as CSV" downloads if clicked now: tconst -> rating name."""
    (button,) = at.get("download_button")
    file_id = button.proto.deferred_file_id
    assert file_id, "the CSV must be built when it is requested"
    data = deferred[file_id]()
    assert isinstance(data, bytes | str), type(data)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8") if isinstance(data, bytes) else data)))
    return {r["tconst"]: r["rating"] for r in rows}


def row_text(at: AppTest, tconst: str) -> str | None:
    """The text shown in the history row of ``tconst`` (None when there is no such row): rows
    and their Remove buttons come in the same order."""
    order = [str(b.key)[len("hist-remove-") :] for b in at.button if str(b.key).startswith("hist-remove-")]
    rows = [t for t in card_texts(at) if t.endswith(" UTC")]
    assert len(rows) == len(order)
    return rows[order.index(tconst)] if tconst in order else None


def count(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.endswith((" titles", " title")))


def test_change_remove_and_undo_update_rows_count_and_csv_at_once(
    app_settings: Settings, deferred: dict[str, Callable[[], object]]
) -> None:
    at = onboarded(app_settings)
    at.switch_page("pages/history.py").run()
    assert not at.exception
    assert count(at) == "10 titles"
    exported = downloaded(at, deferred)
    assert len(exported) == 10 and set(exported.values()) == {"like"}
    tconst = next(iter(exported))

    # Change: Like -> Dislike, without navigating away
    at.button(key=f"hist-rate-{tconst}--1").click().run()
    assert not at.exception
    assert "Disliked" in present(row_text(at, tconst))
    assert at.button(key=f"hist-rate-{tconst}--1").proto.type == "primary"
    assert downloaded(at, deferred)[tconst] == "dislike"
    assert count(at) == "10 titles"

    # Remove: the row goes, the count and the CSV follow
    at.button(key=f"hist-remove-{tconst}").click().run()
    assert not at.exception
    assert row_text(at, tconst) is None
    assert count(at) == "9 titles"
    assert tconst not in downloaded(at, deferred)

    # Undo puts it back (as the dislike it was before the removal)
    at.button(key="undo-history").click().run()
    assert not at.exception
    assert "Disliked" in present(row_text(at, tconst))
    assert count(at) == "10 titles"
    assert downloaded(at, deferred)[tconst] == "dislike"

    # a filter shows the current values too
    at.radio(key="history-value").set_value("Disliked").run()
    assert count(at) == "1 title" and row_text(at, tconst) is not None


def test_hidden_filter_lists_not_interested_titles_and_restores_them(app_settings: Settings) -> None:
    at = onboarded(app_settings)
    first = feed_tconsts(at, "movie")[0]
    at.button(key=f"hide-feed-movie-{first}").click().run()
    assert not at.exception and first not in feed_tconsts(at, "movie")

    at.switch_page("pages/history.py").run()
    at.radio(key="history-value").set_value("Hidden").run()
    assert not at.exception
    assert "1 hidden title\n" in texts(at)
    at.button(key=f"hist-restore-{first}").click().run()
    assert not at.exception
    assert any("No hidden titles" in m for m in alerts(at, "info"))
    store, alice = user(app_settings)
    try:
        assert store.hidden_tconsts(alice.id) == set()
        assert store.unhide(alice.id, first) is False  # idempotent
    finally:
        store.close()
    at.switch_page("pages/feed.py").run()
    assert first in feed_tconsts(at, "movie")


def test_csv_neutralises_cells_a_spreadsheet_would_run() -> None:
    frame = pl.DataFrame(
        {
            "tconst": ["tt0000001", "tt0000002", "tt0000003", "tt0000004", "tt0000005"],
            "primary_title": ['=HYPERLINK("http://x")', "+1", "-2 Fast", "@SUM(A1)", "Plain - title"],
            "kind": ["movie"] * 5,
            "start_year": [2000] * 5,
            "value": [1, -1, 2, 1, 1],
            "updated_at": [datetime(2024, 1, 1, tzinfo=UTC)] * 5,
        }
    )
    rows = list(csv.DictReader(io.StringIO(history.to_csv(frame).decode("utf-8"))))
    assert [r["primary_title"] for r in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2 Fast",
        "'@SUM(A1)",
        "Plain - title",
    ]
    assert [r["rating"] for r in rows] == ["like", "dislike", "superlike", "like", "like"]
    assert [r["value"] for r in rows] == ["1", "-1", "2", "1", "1"]  # numbers stay numbers
