"""Settings: JSON values round-trip with who changed them and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recsys.store import Store


@pytest.mark.parametrize(
    "value",
    [
        {"content": 0.3, "als": 0.6, "popularity": 0.1},
        [1, "two", None, 3.5],
        0.25,
        "text",
        True,
        None,
    ],
)
def test_round_trip(store: Store, value: object) -> None:
    before = datetime.now(UTC)
    store.set_setting("hybrid.weights", value, updated_by="ada")
    after = datetime.now(UTC)
    assert store.get_setting("hybrid.weights", default="missing") == value
    info = store.setting_info("hybrid.weights")
    assert info is not None
    stored, updated_at, updated_by = info
    assert stored == value
    assert updated_at.tzinfo is UTC and before <= updated_at <= after
    assert updated_by == "ada"


def test_overwrite_updates_value_time_and_author(store: Store) -> None:
    store.set_setting("k", {"a": 1}, updated_by="ada")
    first = store.setting_info("k")
    store.set_setting("k", {"a": 2})
    second = store.setting_info("k")
    assert first is not None and second is not None
    assert second[0] == {"a": 2}
    assert second[1] >= first[1]
    assert second[2] is None


def test_missing_setting(store: Store) -> None:
    assert store.get_setting("nope") is None
    assert store.get_setting("nope", {"x": 1}) == {"x": 1}
    assert store.setting_info("nope") is None


def test_invalid_settings_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="must be JSON-serialisable"):
        store.set_setting("k", {1, 2})
    with pytest.raises(ValueError, match="must be JSON-serialisable"):
        store.set_setting("k", float("nan"))
    with pytest.raises(ValueError, match="setting key"):
        store.set_setting("", 1)
    with pytest.raises(ValueError, match="setting key"):
        store.set_setting("x" * 101, 1)
    assert store.setting_info("k") is None
