"""Refusal time and peak memory of ``fetch`` / ``build`` facing a gzip bomb (by hand, not in CI).

    .venv/bin/python -m bench.gzip_bomb [--expanded-mib 2300]

Writes the hand-written fixture sources into a temporary folder, fetches and builds them (the
"good catalogue"), then replaces ``title.basics.tsv.gz`` by a bomb like the one of issue 10 (about
12 MB expanding to 2.4 GB, ~190:1; ``tests.fixtures.bombs``) and runs, each in its own process
measured by ``/usr/bin/time -v`` (wall time, maximum resident set size):

- ``fetch --force`` with the bomb at the source (refused while checking the download);
- ``build`` with the bomb placed straight into ``raw/`` and its gzip size field forged (refused by
  the streaming check before DuckDB reads it);
- as the baseline of the same run, ``fetch --force`` and ``build`` of the good files.

Prints each command's exit code, one error line, wall seconds and peak MB, and the bomb runs as
ratios of the baseline. The decompression stops at 100 x the compressed size (~1.2 GB for the
default bomb), so the refusal time is the time to inflate that much, not the whole file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fixtures.bombs import write_gzip_bomb
from tests.fixtures.make_data import write_raw_fixture

REPO = Path(__file__).resolve().parents[1]
BASICS = "title.basics.tsv.gz"


def timed(argv: list[str], env: dict[str, str]) -> tuple[int, str, float, float]:
    """(exit code, last error line, wall seconds, peak RSS MB) of ``python -m recsys argv``."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "recsys", *argv]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    err = done.stderr
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    status = re.search(r"Exit status: (\d+)", err)
    assert wall and rss and status, err[-2000:]
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    code = int(status.group(1))
    return code, errors[-1] if errors else "", seconds, int(rss.group(1)) / 1024


def _check_seconds(path: Path) -> float:
    from recsys.catalog.download import verify_gzip
    from recsys.errors import FetchError

    started = time.perf_counter()
    with contextlib.suppress(FetchError):
        verify_gzip(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expanded-mib", type=int, default=2300, help="the bomb's uncompressed size")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cineblend-bomb-bench-"))
    try:
        source, data = root / "source", root / "data"
        write_raw_fixture(source)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "CINEBLEND_DATA_DIR": str(data),
            "CINEBLEND_IMDB_BASE_URL": str(source),
            "CINEBLEND_MOVIELENS_URL": str(source / "ml-latest-small.zip"),
            "CINEBLEND_WITH_PEOPLE": "0",
            "CINEBLEND_SECRETS_FILE": str(root / "none.toml"),
        }
        runs = {
            "good fetch": timed(["fetch", "--force"], env),
            "good build": timed(["build"], env),
        }
        compressed, expanded = write_gzip_bomb(source / BASICS, args.expanded_mib)
        print(f"bomb: {compressed / 1e6:.1f} MB expanding to {expanded / 1e9:.2f} GB ({expanded / compressed:.0f}:1)")
        runs["bomb fetch"] = timed(["fetch", "--force"], env)
        write_gzip_bomb(data / "raw" / BASICS, args.expanded_mib, forge_trailer=True)
        runs["bomb build"] = timed(["build"], env)
        for name, (code, line, seconds, peak) in runs.items():
            print(f"{name:11s} exit {code}  {seconds:6.2f} s  peak {peak:6.0f} MB  {line[:150]}")
        for kind in ("fetch", "build"):
            _, _, good_s, good_mb = runs[f"good {kind}"]
            _, _, bomb_s, bomb_mb = runs[f"bomb {kind}"]
            print(f"bomb {kind} vs good {kind}: time {bomb_s / good_s:.1f}x, peak memory {bomb_mb / good_mb:.2f}x")
        check_s = _check_seconds(source / BASICS)
        print(f"the streaming check alone (in this process): {check_s:.2f} s until the refusal")
        kept = (data / "parquet" / "titles.parquet").is_file()
        print(f"previous catalogue still in place: {kept}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
