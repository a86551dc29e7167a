"""A click the store cannot save (database locked, disk full) says so inside the feed at once, in
the undo bar's slot, and the undo bar never names the title that was not saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Node

from recsys.config import Settings
from recsys.errors import StoreError
from recsys.store import Store
from tests.app.helpers import feed_tconsts, onboarded, user

LOCKED = "The database at app.db is busy (locked by another writer for over 15 s): try again in a moment."
FULL = "The disk holding app.db is full: free some space, then try again."


def slot_items(at: AppTest, key: str = "undo-slot-feed") -> list[tuple[str, str]]:
    """``(element type, text)`` of what the undo bar's slot (a keyed container) shows."""

    def walk(node: Node) -> Iterator[Node]:
        yield node
        if isinstance(node, Block):
            for child in node.children.values():
                yield from walk(child)

    slots = [n for n in walk(at._tree) if getattr(getattr(n, "proto", None), "id", "").endswith(key)]
    assert len(slots) == 1, f"{len(slots)} blocks keyed {key}"
    return [
        (n.type, str(getattr(n, "value", "") or getattr(n, "label", "")))
        for n in walk(slots[0])
        if n is not slots[0] and n.type != "flex_container"
    ]


def title_of(settings: Settings, tconst: str) -> str:
    from recsys.catalog.queries import Catalog

    with Catalog(settings.parquet_dir) as catalog:
        row = catalog.title(tconst)
    assert row is not None
    return str(row["primary_title"])


@pytest.mark.parametrize("failure", [LOCKED, FULL], ids=["locked", "disk-full"])
def test_a_failed_click_shows_its_error_in_the_feed_and_undo_keeps_the_last_saved_one(
    app_settings: Settings, failure: str
) -> None:
    at = onboarded(app_settings)
    saved, failed = feed_tconsts(at, "movie")[:2]
    at.button(key=f"rate-feed-movie-{saved}-1").click().run()
    assert ("caption", f"Last action: Liked {title_of(app_settings, saved)}") in [
        (kind, text.replace("\\", "")) for kind, text in slot_items(at)
    ]

    def broken(self: Store, user_id: int, tconst: str, value: int | None) -> tuple[bool, int | None]:
        raise StoreError(failure)

    with pytest.MonkeyPatch.context() as breakage:
        breakage.setattr(Store, "change_rating", broken)  # the one write a rating click makes
        at.button(key=f"rate-feed-movie-{failed}-2").click().run()
        assert not at.exception
        shown = slot_items(at)
        errors = [text.replace("\\", "") for kind, text in shown if kind == "alert" or kind == "error"]
        assert errors and failure in errors[0] and title_of(app_settings, failed) in errors[0], shown
        assert not any(title_of(app_settings, failed) in text and kind == "caption" for kind, text in shown)
        assert at.button(key="undo-feed").disabled  # no Undo offered next to the error
        assert failed in feed_tconsts(at, "movie")  # the card stays: nothing was saved
        store, alice = user(app_settings)
        try:
            assert failed not in store.rated_tconsts(alice.id)
        finally:
            store.close()

    # the store answers again: the next run shows the last saved action
    at.run()
    assert ("caption", f"Last action: Liked {title_of(app_settings, saved)}") in [
        (kind, text.replace("\\", "")) for kind, text in slot_items(at)
    ]
    at.button(key="undo-feed").click().run()
    assert saved in feed_tconsts(at, "movie")
