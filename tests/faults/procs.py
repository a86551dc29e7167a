"""The hooked CLI in crash tests: stderr watching and SIGKILL (running it to the end, and its
environment: :mod:`tests.support.cli`)."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

from tests.support.cli import CLI_TIMEOUT_S, REPO

#: The CLI with the fault hooks of tests/faults/cli_hooks.py (pauses, slow renames).
HOOKS = "tests.faults.cli_hooks"


def kill_when(args: list[str], env: Mapping[str, str], marker: str) -> list[str]:
    """Start the hooked CLI, read its stderr line by line, and SIGKILL it as soon as a line
    contains ``marker``. Returns the stderr lines seen; AssertionError if the process ended
    (or ``CLI_TIMEOUT_S`` passed) before the marker."""
    proc = subprocess.Popen(
        [sys.executable, "-m", HOOKS, *args],
        cwd=REPO, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + CLI_TIMEOUT_S
    try:
        while True:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(
                    f"{' '.join(args)} ended (exit {proc.wait()}) before {marker!r}:\n" + "\n".join(seen)
                )
            seen.append(line)
            if marker in line:
                proc.send_signal(signal.SIGKILL)
                break
    except queue.Empty:
        raise AssertionError(f"no {marker!r} within {CLI_TIMEOUT_S:g} s:\n" + "\n".join(seen)) from None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, f"exit {proc.returncode}, not killed"
    return seen
