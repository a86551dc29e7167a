"""Running the CLI as a subprocess in crash tests: environment, stderr watching, SIGKILL."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.app_server import REPO

#: Longest any one CLI run may take in these tests.
CLI_TIMEOUT_S = 120.0


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without CineBlend settings, plus ``data_dir`` and ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CINEBLEND_", "STREAMLIT_")) and k not in ("DATABASE_URL", "TMDB_API_KEY")
    }
    env.update(
        CINEBLEND_DATA_DIR=str(data_dir),
        CINEBLEND_SECRETS_FILE=str(data_dir / "no-secrets.toml"),
        OPENBLAS_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_cli(args: list[str], env: Mapping[str, str], *, hooks: bool = False) -> Result:
    """``python -m recsys <args>`` (or the hooked runner) to the end."""
    module = "tests.faults.cli_hooks" if hooks else "recsys"
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


def kill_when(args: list[str], env: Mapping[str, str], marker: str) -> list[str]:
    """Start the hooked CLI, read its stderr line by line, and SIGKILL it as soon as a line
    contains ``marker``. Returns the stderr lines seen; AssertionError if the process ended
    (or ``CLI_TIMEOUT_S`` passed) before the marker."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.cli_hooks", *args],
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
