"""``streamlit run`` with one test hook, for the two-server test: hold a training at a known point.

Run as ``python -m tests.multiserver.hooked_server run app.py ...`` (the arguments of
``streamlit``). With ``CINEBLEND_TEST_TRAIN_GATE=<fifo>`` set, every training that the server's
job runner starts reports progress, then blocks opening that named pipe until the test opens it
for writing, so the test sees the job running for as long as it needs (no timing guesswork),
then the real training runs. Without the variable it is exactly ``python -m recsys.ui.serve``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from recsys.progress import Progress


def install_hooks() -> None:
    gate = os.environ.get("CINEBLEND_TEST_TRAIN_GATE")
    if not gate:
        return
    import recsys.app.pipeline as pipeline
    from recsys.config import Settings

    original = pipeline.train_model

    def gated(settings: Settings, progress: Progress | None = None) -> Path:
        if progress is not None:
            progress("held by the test", 0, 1)
        with open(gate, encoding="utf-8") as fh:  # blocks until the test opens it for writing
            fh.read()
        return original(settings, progress)

    pipeline.train_model = gated


if __name__ == "__main__":
    install_hooks()
    from recsys.ui.serve import main

    main(sys.argv[1:])
