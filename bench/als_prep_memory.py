"""Peak memory and time of the ALS matrix preparation alone (``interaction_matrix``), each in a
fresh process (by hand, not in CI).

    PYTHONPATH=<checkout> .venv/bin/python bench/als_prep_memory.py [--ratings 10000000]

Writes ``bench/als_scale.py``'s synthetic ratings (60k users, 40k titles, seeded) to a temporary
folder, then runs three children: one that only loads them (the baseline), one that also
prepares the users x items matrix from the loaded frame, and one that prepares it from
``pl.scan_parquet`` (the frame never loaded). Prints the peaks (``VmHWM``), the difference (the
preparation's own memory), the time, and a checksum of the matrix and vocabularies so two
checkouts (and the two inputs) can be compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(part: str, path: Path) -> None:
    from recsys.models.als import ALSConfig, interaction_matrix

    ratings = pl.scan_parquet(path) if part == "lazy" else pl.read_parquet(path)
    if part == "base":
        print(json.dumps({"peak_mb": peak_mb()}))
        return
    t0 = time.perf_counter()
    matrix, users, items = interaction_matrix(ratings, None, ALSConfig())
    seconds = time.perf_counter() - t0
    h = hashlib.sha256()
    for a in (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data.astype(np.float32)):
        h.update(a.tobytes())
    h.update("|".join(users.ids.tolist()).encode() + b"#" + "|".join(items.ids.tolist()).encode())
    print(json.dumps({"peak_mb": peak_mb(), "seconds": seconds, "nnz": matrix.nnz, "sha": h.hexdigest()[:16]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ratings", type=int, default=10_000_000)
    ap.add_argument("--part", choices=("base", "prep", "lazy"), help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        child(args.part, args.path)
        return
    from als_scale import synthetic_ratings  # bench/ is the script's folder

    with tempfile.TemporaryDirectory(prefix="als-prep-") as tmp:
        path = Path(tmp) / "ratings.parquet"
        synthetic_ratings(args.ratings, 60_000, 40_000, 25).write_parquet(path)
        out = {}
        for part in ("base", "prep", "lazy"):
            run = subprocess.run(
                [sys.executable, __file__, "--part", part, "--path", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            out[part] = json.loads(run.stdout.strip().splitlines()[-1])
    prep = out["prep"]
    print(
        f"{args.ratings:,} ratings -> {prep['nnz']:,} cells: preparation {prep['seconds']:.2f} s, peak "
        f"{prep['peak_mb']:.0f} MB against {out['base']['peak_mb']:.0f} MB for the loaded ratings "
        f"(+{prep['peak_mb'] - out['base']['peak_mb']:.0f} MB); matrix checksum {prep['sha']}"
    )
    lazy = out["lazy"]
    print(
        f"from the Parquet file (pl.scan_parquet, the frame never loaded): preparation {lazy['seconds']:.2f} s,"
        f" peak {lazy['peak_mb']:.0f} MB; matrix checksum {lazy['sha']}"
    )


if __name__ == "__main__":
    main()
