"""Narrowing for tests, so mypy knows what a test has asserted.

``present(store.get_user("ada")).role``: the lookup must find something (an assertion, so a
missing row fails the test where it is read). ``as_store(demo)``: a demo session's store where
the app passes it as a :class:`~recsys.store.Store` (``recsys.ui.resources.store`` hands out the
same duck-typed object)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from recsys.app.demo import DemoStore
    from recsys.store import Store

T = TypeVar("T")


def present(value: T | None) -> T:
    """``value``, failing the test when it is ``None``."""
    assert value is not None, "expected a value, found None"
    return value


def as_store(demo: DemoStore) -> Store:
    """The demo store typed as the store it stands in for (same methods, duck-typed)."""
    return cast("Store", demo)
