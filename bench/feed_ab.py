"""Before / after for the feed engine: ``bench/feed_latency.py`` of two checkouts, run by run
(by hand, not in CI).

    .venv/bin/python bench/feed_ab.py BEFORE_CHECKOUT AFTER_CHECKOUT PARQUET_DIR [--pairs 5] [-- FEED_LATENCY_ARGS]

Each checkout's own ``bench/feed_latency.py`` runs in a fresh process with ``PYTHONPATH`` set to
that checkout (``git worktree add /tmp/before <commit>`` gives one), alternating before, after,
before, after ... so both see the same machine. The ratio of one run moves by +-0.2x with the
machine alone (the same code: p95 2.41x-3.11x in one afternoon on 2 shared cores), so one pair
proves little: this prints every pair and the median of each column. Arguments after ``--`` go
to both runs (``--cold``, ``--clock cpu``, ``--users``).

Example (issue 22, this change's own figures): ``recommend_feed`` p95 2.93x -> 2.67x the floor,
median of 5 pairs, wall clock.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

LINE = re.compile(
    r"recommend_feed\(\)\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms.*ratio to floor p50 ([\d.]+)x\s+p95 ([\d.]+)x"
)
COLUMNS = ("p50 ms", "p95 ms", "p50 x floor", "p95 x floor")


def run_once(checkout: Path, parquet_dir: Path, extra: list[str]) -> tuple[float, ...]:
    """One ``feed_latency.py`` run of ``checkout``: its recommend_feed line's four figures."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, str(checkout / "bench" / "feed_latency.py"), str(parquet_dir), *extra],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = LINE.search(out.stdout)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"{checkout}: feed_latency.py failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return tuple(float(x) for x in found.groups())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("--pairs", type=int, default=5)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    args.extra = argv[cut + 1 :]  # for feed_latency.py
    if args.pairs < 1:
        ap.error("--pairs must be at least 1")
    results: dict[str, list[tuple[float, ...]]] = {"before": [], "after": []}
    for pair in range(1, args.pairs + 1):
        for name, checkout in (("before", args.before), ("after", args.after)):
            figures = run_once(checkout.resolve(), args.parquet_dir.resolve(), args.extra)
            results[name].append(figures)
            print(
                f"pair {pair}/{args.pairs} {name:6s} "
                + "  ".join(f"{c} {v:.2f}" for c, v in zip(COLUMNS, figures, strict=True))
            )
    print(f"median of {args.pairs} pairs ({' '.join(args.extra) or 'wall clock'}):")
    for i, column in enumerate(COLUMNS):
        before = statistics.median(r[i] for r in results["before"])
        after = statistics.median(r[i] for r in results["after"])
        print(f"  {column:12s} {before:6.2f} -> {after:6.2f}")


if __name__ == "__main__":
    main()
