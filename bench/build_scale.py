"""``fetch`` + ``build`` on a full-size IMDb dump, against a bare DuckDB ``COPY`` (by hand, not in CI).

    .venv/bin/python bench/build_scale.py [--basics-rows 12000000] [--ratings-rows 1600000]
                                          [--workdir /tmp] [--keep]

The mirror (``../shared/data/mirror``) holds a small extract, so the full-size files are made
here, in a temporary folder outside the repository (deleted at the end unless ``--keep``): the
mirror's ``title.basics`` rows are repeated with new ids until ``--basics-rows`` (copy ``k`` of
``ttN`` is ``tt`` + ``k * 10^8 + N``, 9-10 digits; copy 0 keeps the real ids, so MovieLens still
links), ``title.crew`` is repeated with the same ids, and ``title.ratings`` is repeated the
same way until ``--ratings-rows`` (so the first copies of the titles are rated, the rest are
not: as in IMDb's dump, most ``title.basics`` rows have no rating). MovieLens is the mirror's
ml-latest-small. The optional people files are left out (``fetch --no-people``). All of this is
printed with the results.

Measured, each in its own child process (wall time, peak RSS from ``wait4``):

* ``python -m recsys fetch --no-people`` from the local folder (copy + full gzip check), then
  ``python -m recsys build`` -- the product path;
* the baseline: one bare DuckDB ``COPY (SELECT * FROM read_csv(...)) TO '*.parquet'`` per
  TSV file the build reads (same reader options and column types, zstd), in one process.

Targets (issue 6): fetch + build within 1.5x the baseline, peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "data" / "mirror"

# This process stays small on purpose: a child's peak RSS (ru_maxrss from wait4) starts from the
# parent's high-water mark at fork, so DuckDB is only ever imported in children.
BASICS, RATINGS, CREW = "title.basics.tsv.gz", "title.ratings.tsv.gz", "title.crew.tsv.gz"
ID_STRIDE = 100_000_000  # > every mirror id (8 digits at most)
MOVIELENS_ZIP = "ml-latest-small.zip"


@dataclass
class Run:
    """One child process: what it was, how long it took, its peak resident memory."""

    label: str
    seconds: float
    peak_bytes: int
    returncode: int
    output: str


def run_child(label: str, args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``args`` and wait for it with ``os.wait4``, which reports the child's own peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()  # drains the pipe; returns when the child closes it (exits)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(label, seconds, usage.ru_maxrss * 1024, proc.returncode, output)


# ------------------------------------------------------------------------------ the data


def _columns(name: str) -> str:
    from recsys.catalog.build import TSV_COLUMNS

    # every column as text: the files are copied byte for byte apart from the ids
    return "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in TSV_COLUMNS[name]) + "}"


def _write_scaled(con: Any, name: str, src: Path, dst: Path, rows: int) -> dict[str, Any]:
    """Repeat ``src``'s rows with new ids until ``rows``; returns what was written."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE src AS
            SELECT * FROM read_csv(?, delim='\t', header=true, quote='', escape='',
                                   auto_detect=false, columns={_columns(name)})""",
        [str(src)],
    )
    base = con.execute("SELECT count(*) FROM src").fetchone()[0]
    copies = -(-rows // base)
    from recsys.catalog.build import TSV_COLUMNS

    cols = [c for c in TSV_COLUMNS[name] if c != "tconst"]
    select = ", ".join(f'"{c}"' for c in cols)
    con.execute(
        f"""COPY (
              SELECT CASE WHEN k = 0 THEN tconst
                          ELSE 'tt' || (k * {ID_STRIDE} + CAST(substr(tconst, 3) AS BIGINT))::VARCHAR
                     END AS tconst, {select}
              FROM src, range({int(copies)}) AS r(k)
              LIMIT {int(rows)}
            ) TO '{dst}' (FORMAT csv, DELIMITER '\t', HEADER true, QUOTE '', ESCAPE '',
                          COMPRESSION gzip)"""
    )
    return {"file": name, "mirror_rows": base, "copies": copies, "rows": rows, "bytes": dst.stat().st_size}


def make_sources(folder: Path, basics_rows: int, ratings_rows: int) -> list[dict[str, Any]]:
    """The full-size IMDb files (and MovieLens) in ``folder``, as a local fetch source (runs in
    a child process: ``--make-input``)."""
    import duckdb

    folder.mkdir(parents=True)
    imdb = MIRROR / "imdb"
    written = []
    with duckdb.connect(":memory:") as con:
        mirror_basics = con.execute(
            f"SELECT count(*) FROM read_csv(?, delim='\t', header=true, quote='', escape='',"
            f" auto_detect=false, columns={_columns(BASICS)})",
            [str(imdb / BASICS)],
        ).fetchall()[0][0]
        crew_rows_per_copy = con.execute(
            f"SELECT count(*) FROM read_csv(?, delim='\t', header=true, quote='', escape='',"
            f" auto_detect=false, columns={_columns(CREW)})",
            [str(imdb / CREW)],
        ).fetchall()[0][0]
        copies = -(-basics_rows // mirror_basics)
        written.append(_write_scaled(con, BASICS, imdb / BASICS, folder / BASICS, basics_rows))
        # crew: the same copies as title.basics (one crew row per title, as in IMDb)
        written.append(_write_scaled(con, CREW, imdb / CREW, folder / CREW, crew_rows_per_copy * copies))
        written.append(_write_scaled(con, RATINGS, imdb / RATINGS, folder / RATINGS, ratings_rows))
    shutil.copyfile(MIRROR / "movielens" / MOVIELENS_ZIP, folder / MOVIELENS_ZIP)
    return written


# --------------------------------------------------------------------------- the runs


BASELINE = """
import sys, duckdb
from recsys.catalog.build import BASICS, CREW, RATINGS, TSV_COLUMNS
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect(":memory:")
for name in (BASICS, RATINGS, CREW):
    columns = TSV_COLUMNS[name]
    cols = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
    con.execute(
        f"COPY (SELECT * FROM read_csv('{src}/{name}', delim='\\t', header=true, nullstr='\\\\N',"
        f" quote='', escape='', auto_detect=false, compression='gzip', columns={cols}))"
        f" TO '{out}/{name}.parquet' (FORMAT parquet, COMPRESSION zstd)"
    )
"""


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--basics-rows", type=int, default=12_000_000)
    parser.add_argument("--ratings-rows", type=int, default=1_600_000)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the temporary folder goes (not the repository)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure the runs this many times (each from scratch); best kept"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--make-input", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args(argv)
    if args.make_input is not None:
        print(json.dumps(make_sources(args.make_input, args.basics_rows, args.ratings_rows)))
        return 0
    if not (MIRROR / "imdb" / BASICS).is_file():
        print(f"error: no mirror at {MIRROR}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="cineblend-build-scale-", dir=args.workdir))
    if work.resolve() == REPO or REPO in work.resolve().parents:
        shutil.rmtree(work)
        print("error: --workdir must be outside the repository", file=sys.stderr)
        return 1
    try:
        return _bench(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    import resource

    src, data, baseline_out = work / "source", work / "data", work / "baseline"
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start; work folder {work}")
    made = run_child(
        "make input",
        [
            sys.executable,
            __file__,
            "--make-input",
            str(src),
            "--basics-rows",
            str(args.basics_rows),
            "--ratings-rows",
            str(args.ratings_rows),
        ],
    )
    if made.returncode != 0:
        print(f"FAILED to make the input:\n{textwrap.indent(made.output[-3000:], '  ')}")
        return 1
    written = json.loads(made.output.strip().splitlines()[-1])
    print(
        f"made the input in {made.seconds:.1f} s -- SYNTHETIC, scaled up from the mirror with new"
        " ids (copy k of ttN is tt{k*10^8+N}; copy 0 keeps the real ids):"
    )
    for w in written:
        print(
            f"  {w['file']:<22} {w['rows']:>12,} rows = mirror's {w['mirror_rows']:,} rows"
            f" x {w['copies']} copies (cut to size), {w['bytes'] / 2**20:,.0f} MiB gzip"
        )
    print(f"  {MOVIELENS_ZIP:<22} the mirror's file as is; people files left out (--no-people)")

    env = {k: v for k, v in os.environ.items() if not k.startswith("CINEBLEND_")}
    env.update(
        CINEBLEND_DATA_DIR=str(data),
        CINEBLEND_IMDB_BASE_URL=str(src),
        CINEBLEND_MOVIELENS_URL=str(src / MOVIELENS_ZIP),
        CINEBLEND_SECRETS_FILE=str(work / "no-secrets.toml"),
        CINEBLEND_WITH_PEOPLE="0",
    )
    best: dict[str, Run] = {}
    for attempt in range(args.repeat):
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(baseline_out, ignore_errors=True)
        baseline_out.mkdir()
        runs = [
            run_child(
                "baseline: DuckDB COPY x3 -> Parquet", [sys.executable, "-c", BASELINE, str(src), str(baseline_out)]
            ),
            run_child(
                "python -m recsys fetch --no-people", [sys.executable, "-m", "recsys", "fetch", "--no-people"], env
            ),
            run_child("python -m recsys build", [sys.executable, "-m", "recsys", "build"], env),
        ]
        failed = [r for r in runs if r.returncode != 0]
        for r in failed:
            print(f"FAILED ({r.returncode}): {r.label}\n{textwrap.indent(r.output[-3000:], '  ')}")
        if failed:
            return 1
        print(f"run {attempt + 1}: " + ", ".join(f"{r.label.split(':')[0]} {r.seconds:.1f} s" for r in runs))
        for r in runs:
            if r.label not in best or r.seconds < best[r.label].seconds:
                best[r.label] = r
    baseline, fetch, build = best.values()
    manifest = json.loads((data / "parquet" / "manifest.json").read_text())
    print(
        f"catalogue: {manifest['row_counts']['titles']:,} titles"
        f" ({manifest['titles_by_kind']}), {manifest['row_counts']['movielens_ratings']:,}"
        " MovieLens ratings"
    )
    print()
    print(f"{'step (best of ' + str(args.repeat) + ')':<40} {'wall s':>8} {'peak RSS':>10}")
    for r in (baseline, fetch, build):
        print(f"{r.label:<40} {r.seconds:>8.1f} {gib(r.peak_bytes):>10}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"(this process: {gib(own)}, the floor of every peak above)")
    total = fetch.seconds + build.seconds
    peak = max(fetch.peak_bytes, build.peak_bytes)
    print()
    print(
        f"fetch + build = {total:.1f} s = {total / baseline.seconds:.2f}x the baseline"
        f" (target <= 1.5x); build alone {build.seconds / baseline.seconds:.2f}x"
    )
    print(f"peak memory {gib(peak)} (target < 4 GiB); baseline {gib(baseline.peak_bytes)}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: timings are noisy above 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
