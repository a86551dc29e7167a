"""``python -m recsys worker`` with the training gate of :mod:`tests.multiserver.hooked_server`.

Run as ``python -m tests.multiserver.hooked_worker worker`` (the arguments of ``python -m
recsys``). With ``CINEBLEND_TEST_TRAIN_GATE=<fifo>`` set, every training the worker runs reports
"held by the test", then waits until the test opens that named pipe for writing; without it, it
is exactly ``python -m recsys``.
"""

from __future__ import annotations

import sys

from tests.multiserver.hooked_server import install_hooks

if __name__ == "__main__":
    install_hooks()
    from recsys.__main__ import main

    sys.exit(main())
