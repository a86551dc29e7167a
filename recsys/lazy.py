"""Package ``__init__`` files that re-export names without importing their submodules.

A package whose ``__init__`` imports its own submodules forms an import cycle with each of them
(importing ``recsys.models.service`` takes that module's import lock, then imports the parent
``recsys.models``, whose ``__init__`` imports ``recsys.models.service`` again). In one thread this
works; Streamlit runs the first sessions after a start on parallel threads, and there it raised
``_DeadlockError`` or "cannot import name ... from partially initialized module" (issue 20: 1 of
10 runs of four threads importing ``recsys.models.service`` / ``recsys.models.artifacts``).

:func:`lazy_exports` gives a package a module ``__getattr__`` (PEP 562) that imports a name's
submodule on first access, after the package itself has finished initialising::

    __getattr__ = lazy_exports(__name__, {"Store": "repository", "register": "accounts"})

``from recsys.store import Store`` then imports ``recsys.store.repository`` at that moment; the
``__init__`` keeps the same names under ``TYPE_CHECKING`` for the type checker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps an exported name to the
    submodule (relative to ``package``) that defines it; the value is cached in the package."""

    def __getattr__(name: str) -> Any:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
