"""Running ``python -m recsys`` in tests, once for the whole suite.

- :func:`cli`: the CLI's ``main(args)`` in this process (same code path, no interpreter
  start-up), with the test's environment and ``capsys`` capturing its output;
- :func:`run_cli`: the CLI as a subprocess (``--help`` as scripts see it, crash tests, the hooked
  runner of ``tests/faults``), with :func:`cli_env`'s clean environment by default;
- :func:`cli_env`: the caller's environment without CineBlend settings, plus a data folder;
- :func:`one_line_error` / :func:`error_lines`: the documented way a command fails.

Each returns a :class:`CliResult`, which reads like a ``CompletedProcess`` (``returncode``,
``stdout``, ``stderr``) and unpacks as ``code, out, err``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Longest any one CLI subprocess may take in the tests.
CLI_TIMEOUT_S = 120.0


class CliResult(NamedTuple):
    """What one CLI run left: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def cli_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The caller's environment without CineBlend / Streamlit settings, the database URL or the
    TMDb key; with ``data_dir`` as the data folder (and no secrets file), one BLAS thread,
    unbuffered output, and ``extra`` on top."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CINEBLEND_", "STREAMLIT_")) and k not in ("DATABASE_URL", "TMDB_API_KEY")
    }
    env.update(OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    if data_dir is not None:
        env.update(CINEBLEND_DATA_DIR=str(data_dir), CINEBLEND_SECRETS_FILE=str(data_dir / "no-secrets.toml"))
    env.update(extra)
    return env


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, module: str = "recsys", timeout: float = CLI_TIMEOUT_S
) -> CliResult:
    """``python -m <module> ARGS`` to the end (``module``: the CLI, or a runner that hooks it) in
    :func:`cli_env`'s environment with ``env`` set on top."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO, env={**cli_env(), **(env or {})}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    return CliResult(done.returncode, done.stdout, done.stderr)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """The CLI's ``main(args)`` in this process; argparse's usage errors give their exit status
    as a subprocess run would."""
    from recsys.__main__ import main

    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return CliResult(code, out, err)


def error_lines(result: CliResult) -> list[str]:
    """The ``error:`` lines of a run's standard error."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def one_line_error(result: CliResult) -> str:
    """Assert the CLI failed the documented way -- exit 1, no traceback, one ``error:`` line and
    it is the last line (progress lines may come before it) -- and return that line."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    return errors[0]
