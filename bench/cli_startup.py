"""Start-up time of ``python -m recsys --help`` against ``python -c "import polars, numpy"``.

    .venv/bin/python -m bench.cli_startup [--runs 15]

Runs the two commands alternately in fresh interpreters (so a busy moment on a shared machine
hits both alike), ``--runs`` times each, and prints the median and best wall seconds of each and
the ratio of the medians. Target (issue 24): ``--help`` at most 2x the import of polars and
numpy; before the lazy imports it was about 8x, because the parser imported scikit-learn and
SciPy through the scorer registry, SQLAlchemy through the jobs, and DuckDB through the evaluation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -m recsys --help": [sys.executable, "-m", "recsys", "--help"],
    'python -c "import polars, numpy"': [sys.executable, "-c", "import polars, numpy"],
}


def wall(argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the file cache once
        wall(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(wall(argv))
    for name, values in times.items():
        print(f"{name:<36} median {statistics.median(values):.3f} s  best {min(values):.3f} s  ({len(values)} runs)")
    help_s, base_s = (statistics.median(v) for v in times.values())
    print(f"ratio of the medians: {help_s / base_s:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
