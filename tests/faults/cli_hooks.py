"""``python -m recsys`` with test hooks, for crash tests that must stop the CLI at a known point.

Run as ``python -m tests.faults.cli_hooks <recsys arguments>``: the very same ``recsys.__main__``
``main()``, with these hooks read from the environment:

``CINEBLEND_TEST_PAUSE_AT=<stage>``
    When the progress line of ``<stage>`` is printed (e.g. ``write`` or ``verify`` of a build,
    ``saving model`` of a training), print ``PAUSED <stage>`` on stderr and wait forever, so
    the test can SIGKILL the process exactly there (no timing guesswork).
``CINEBLEND_TEST_PAUSE_RENAME=<prefix>``
    Before ``os.rename`` of a path whose name starts with ``<prefix>`` (e.g. ``parquet.new-``:
    the second rename of the catalogue swap; ``.tmp-``: a model version moved into place),
    print ``PAUSED rename <name>`` and wait forever.
``CINEBLEND_TEST_PAUSE_CALL=<module>:<function>[:after]``
    Before (or after) every call of that module-level function, print
    ``PAUSED call <function>`` (``PAUSED after <function>``) and wait forever; e.g.
    ``recsys.catalog.build:_exchange:after`` stops a build right after the atomic swap.
``CINEBLEND_TEST_READ_TIMEOUT=<seconds>``
    ``recsys.catalog.download.READ_TIMEOUT`` (30 s by default, too long for a stall test).

Without any of them it behaves exactly like ``python -m recsys``.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

PAUSED = "PAUSED"


def _pause(what: str) -> None:
    sys.stderr.write(f"{PAUSED} {what}\n")
    sys.stderr.flush()
    threading.Event().wait()  # until SIGKILL


def install_hooks() -> None:
    pause_at = os.environ.get("CINEBLEND_TEST_PAUSE_AT")
    if pause_at:
        from recsys.progress import LineProgress

        original_call = LineProgress.__call__

        def call(self: LineProgress, stage: str, done: float, total: float | None) -> None:
            original_call(self, stage, done, total)
            if stage == pause_at:
                _pause(stage)

        LineProgress.__call__ = call  # type: ignore[method-assign]  # the hook patches the class the CLI process uses

    rename_prefix = os.environ.get("CINEBLEND_TEST_PAUSE_RENAME")
    if rename_prefix:
        original_rename = os.rename

        def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if Path(src).name.startswith(rename_prefix):
                _pause(f"rename {Path(src).name}")
            original_rename(src, dst, *args, **kwargs)

        os.rename = rename

    pause_call = os.environ.get("CINEBLEND_TEST_PAUSE_CALL")
    if pause_call:
        module_name, name, *when = pause_call.split(":")
        module = importlib.import_module(module_name)
        function = getattr(module, name)
        after = when == ["after"]

        def paused(*args: Any, **kwargs: Any) -> Any:
            if not after:
                _pause(f"call {name}")
            result = function(*args, **kwargs)
            if after:
                _pause(f"after {name}")
            return result

        setattr(module, name, paused)

    read_timeout = os.environ.get("CINEBLEND_TEST_READ_TIMEOUT")
    if read_timeout:
        from recsys.catalog import download

        download.READ_TIMEOUT = float(read_timeout)


def main(argv: list[str]) -> int:
    install_hooks()
    from recsys.__main__ import main as recsys_main

    return recsys_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
