"""Helpers of the tests that run several real app servers (and worker processes) on one store:
polling another process's state with a deadline, a button click, and the hooked processes'
training gate (a signed-in websocket tester: :func:`tests.support.testers.signed_in`)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.testers import signed_in
from tests.support.ws_session import Run, StreamlitSession, trigger

__all__ = ["button", "open_gate", "signed_in", "unblock", "wait_for"]


def wait_for(what: str, check: Callable[[], object], timeout: float = 60) -> None:
    """Poll another process's state (the store) until ``check()`` holds; bounded."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


async def button(session: StreamlitSession, key: str) -> Run:
    """Click the button ``key`` of the page the session shows last; the run that follows."""
    run = session.runs[-1]
    widget = run.widget("button", key=key)
    return await session.run([trigger(widget)], widget.fragment_id)


def open_gate(gate: Path) -> threading.Thread:
    """Let one training held at the gate (``CINEBLEND_TEST_TRAIN_GATE``) go on: a thread opens the
    named pipe for writing (it blocks until the held training opens it for reading)."""

    def release() -> None:
        with open(gate, "w", encoding="utf-8") as fh:
            fh.write("go")

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def unblock(gate: Path) -> None:
    """Never leave a training blocked on the gate (a test's clean-up)."""
    fd = os.open(gate, os.O_RDWR | os.O_NONBLOCK)
    os.close(fd)
