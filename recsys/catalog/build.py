"""Turn the raw downloads into the Parquet catalogue (layout: :mod:`recsys.catalog`).

Everything runs as DuckDB SQL on an in-memory connection that streams the gzip TSVs, so the full
IMDb dump (12M+ ``title.basics`` rows, ~90M ``title.principals`` rows) never sits in a Python
frame; DuckDB spills to a work folder next to the catalogue when memory runs short.

Steps (each reported as ``progress(step, steps done, steps in total)``):

``check``
    The required raw files exist and look right (gzip header line, MovieLens zip members), each
    is decompressed once within the bounds of :mod:`recsys.catalog.limits` (refused past 100:1
    or ``CINEBLEND_MAX_UNCOMPRESSED_GB``, before DuckDB reads it), and the disk has room for
    the build (the raw inputs' size as an upper bound of what it writes, plus a reserve).
``titles``
    ``title.basics`` rows of type movie / tvSeries / tvMiniSeries, not adult, joined with
    ``title.ratings``; titles with fewer than ``Settings.min_votes`` votes are dropped
    (unrated titles count as 0 votes). IMDb's ``\\N`` becomes NULL; ``genres`` becomes a list
    (empty when ``\\N``).
``crew``
    ``title.crew`` directors / writers, in IMDb's order, resolved to names through
    ``name.basics`` when it is present (an nconst without a name stays as the nconst).
``people``
    When ``title.principals`` is present: ``people.parquet`` and each title's leading cast (the
    first 4 actors / actresses by ``ordering``). With ``Settings.with_people`` off, both people
    files are ignored even when present (a faster build; no cast, crew as nconsts).
``languages``
    Each title's original ``language`` (ISO 639-1) and ``region`` (ISO 3166-1), null when
    unknown, by :func:`recsys.catalog.language.infer` from its primary and original titles and,
    when ``title.akas`` is present (and ``Settings.with_akas`` on), the akas rows that carry
    its original title: those rows (of ~40M) are found and grouped per title in DuckDB (a hash
    join against the kept titles, within the memory limit), and only the per-title lists of
    regions and languages reach Python. Without akas the languages come from the titles alone
    and the region is null (logged, and in the manifest as ``with_akas: false``).
``movielens``
    ``links.csv`` ``imdbId`` (7 zero-padded digits, read as text) becomes ``tt`` + id; ratings
    are kept when their tconst is a non-adult movie-ish title of ``title.basics`` (movie,
    tvMovie, video, short, tvShort, tvSpecial, tvSeries, tvMiniSeries), **whether or not it
    passed the catalogue's vote filter**: the extra items give ALS more signal about each
    MovieLens user. The ``in_catalog`` column says which ratings are for catalogue titles
    (always a subset: every catalogue title is movie-ish). Ratings of ids unknown to IMDb are
    dropped. When two MovieLens movies map to one tconst, a user's latest rating of it is kept.
``write`` / ``verify`` / ``swap``
    Parquet goes into a new folder ``parquet.new-<pid>`` next to ``parquet/``; every file is
    re-opened and its columns, types and row counts checked; ``manifest.json`` is written; then
    the new folder and ``parquet/`` are exchanged in one atomic step (Linux ``renameat2``) and
    the old one is deleted, so even a build killed mid-swap leaves a complete catalogue in
    place. Where that call is missing, ``parquet/`` becomes ``parquet.old``, the new folder
    becomes ``parquet/`` and the old one is deleted (a crash between the two renames is undone
    by the next build). A failure at any point removes the new folder and leaves ``parquet/``
    untouched.

Only one build runs per data folder at a time (a lock file ``parquet.lock``). DuckDB runs with
``memory_limit`` = ``CINEBLEND_DUCKDB_MEMORY`` (default: 4 GB or half the machine's memory,
whichever is smaller) and may spill to the work folder only up to the disk space left free.
"""

from __future__ import annotations

import ctypes
import errno
import gzip
import json
import logging
import os
import shutil
import time
import zipfile
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from recsys import config
from recsys.atomic import fsync, fsync_tree, rename_into_place
from recsys.catalog.download import check_zip_expansion, movielens_members, verify_gzip
from recsys.catalog.language import infer as infer_language
from recsys.catalog.limits import RESERVE_BYTES, require_free
from recsys.columns import TITLE_TYPES, Columns
from recsys.config import Settings
from recsys.errors import BuildError, FetchError
from recsys.jobs.locks import exclusive
from recsys.progress import Progress, null_progress

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: titles.language, titles.region (issue 18)
TITLES_FILE = "titles.parquet"
PEOPLE_FILE = "people.parquet"
MOVIELENS_PARQUET = "movielens_ratings.parquet"
MANIFEST_FILE = "manifest.json"
BUILD_LOCK = ".build.lock"  # in the data folder: one build at a time
MAX_CAST = 4

TITLES_SCHEMA: dict[str, str] = {
    "tconst": "VARCHAR",
    "title_type": "VARCHAR",
    "kind": "VARCHAR",
    "primary_title": "VARCHAR",
    "original_title": "VARCHAR",
    "start_year": "INTEGER",
    "end_year": "INTEGER",
    "runtime_minutes": "INTEGER",
    "genres": "VARCHAR[]",
    "average_rating": "DOUBLE",
    "num_votes": "BIGINT",
    "popularity": "DOUBLE",
    "directors": "VARCHAR[]",
    "writers": "VARCHAR[]",
    "cast": "VARCHAR[]",
    "language": "VARCHAR",
    "region": "VARCHAR",
    "search_text": "VARCHAR",
}
PEOPLE_SCHEMA: dict[str, str] = {
    "tconst": "VARCHAR",
    "nconst": "VARCHAR",
    "name": "VARCHAR",
    "category": "VARCHAR",
    "ordering": "INTEGER",
}
MOVIELENS_SCHEMA: dict[str, str] = {
    Columns.ML_USER_ID: "INTEGER",
    "tconst": "VARCHAR",
    "rating": "DOUBLE",
    "timestamp": "BIGINT",
    "in_catalog": "BOOLEAN",
}

# The IMDb TSV layouts (header names and the types DuckDB reads them as). A row that does not
# fit (wrong column count, a non-number in a number column) is skipped and counted.
BASICS = "title.basics.tsv.gz"
RATINGS = "title.ratings.tsv.gz"
CREW = "title.crew.tsv.gz"
PRINCIPALS = "title.principals.tsv.gz"
NAMES = "name.basics.tsv.gz"
AKAS = config.IMDB_AKAS_FILE
TSV_COLUMNS: dict[str, dict[str, str]] = {
    BASICS: {
        "tconst": "VARCHAR",
        "titleType": "VARCHAR",
        "primaryTitle": "VARCHAR",
        "originalTitle": "VARCHAR",
        "isAdult": "INTEGER",
        "startYear": "INTEGER",
        "endYear": "INTEGER",
        "runtimeMinutes": "INTEGER",
        "genres": "VARCHAR",
    },
    RATINGS: {"tconst": "VARCHAR", "averageRating": "DOUBLE", "numVotes": "BIGINT"},
    CREW: {"tconst": "VARCHAR", "directors": "VARCHAR", "writers": "VARCHAR"},
    PRINCIPALS: {
        "tconst": "VARCHAR",
        "ordering": "INTEGER",
        "nconst": "VARCHAR",
        "category": "VARCHAR",
        "job": "VARCHAR",
        "characters": "VARCHAR",
    },
    NAMES: {
        "nconst": "VARCHAR",
        "primaryName": "VARCHAR",
        "birthYear": "VARCHAR",
        "deathYear": "VARCHAR",
        "primaryProfession": "VARCHAR",
        "knownForTitles": "VARCHAR",
    },
    AKAS: {
        "titleId": "VARCHAR",
        "ordering": "INTEGER",
        "title": "VARCHAR",
        "region": "VARCHAR",
        "language": "VARCHAR",
        "types": "VARCHAR",
        "attributes": "VARCHAR",
        "isOriginalTitle": "INTEGER",
    },
}
MOVIELENS_TITLE_TYPES = (
    "movie",
    "tvMovie",
    "video",
    "short",
    "tvShort",
    "tvSpecial",
    "tvSeries",
    "tvMiniSeries",
)
LINKS_COLUMNS = {"movieId": "INTEGER", "imdbId": "VARCHAR", "tmdbId": "VARCHAR"}
ML_RATINGS_COLUMNS = {
    "userId": "INTEGER",
    "movieId": "INTEGER",
    "rating": "DOUBLE",
    "timestamp": "BIGINT",
}

_AT_FDCWD = -100  # renameat2: paths relative to the working directory
_RENAME_EXCHANGE = 2  # renameat2 flag: swap the two paths atomically

STEPS = ("check", "titles", "crew", "people", "languages", "movielens", "write", "verify", "swap")


def catalog_ready(settings: Settings) -> bool:
    """True when a built catalogue is in place (``titles.parquet`` and ``manifest.json``)."""
    folder = settings.parquet_dir
    return (folder / TITLES_FILE).is_file() and (folder / MANIFEST_FILE).is_file()


def catalogue_stamp(parquet_dir: Path) -> str:
    """The catalogue build's stamp (its manifest's modification time) for cache keys."""
    try:
        return str((Path(parquet_dir) / MANIFEST_FILE).stat().st_mtime_ns)
    except OSError:
        return "missing"


def read_manifest(parquet_dir: Path) -> dict[str, Any] | None:
    """The manifest of the catalogue in ``parquet_dir``, or None when missing or unreadable."""
    try:
        with (parquet_dir / MANIFEST_FILE).open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def build(settings: Settings, progress: Progress | None = None) -> dict[str, Any]:
    """Build the Parquet catalogue from ``settings.raw_dir`` into ``settings.parquet_dir``.

    Returns the manifest (also written as ``manifest.json``). Raises :class:`BuildError` with a
    one-line message on any failure; the previous catalogue then stays in use.
    """
    report = progress or null_progress
    target = settings.parquet_dir
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"Cannot create {parent}: {exc.strerror}; check CINEBLEND_DATA_DIR.") from exc
    with exclusive(settings.data_dir / BUILD_LOCK, "catalogue build", BuildError, store_url=settings.store_url):
        _recover(target)
        _remove_leftovers(target)
        new = parent / f"{target.name}.new-{os.getpid()}"
        work = parent / f"{target.name}.work-{os.getpid()}"
        builder = _Builder(settings, new, work, report)
        swapped = False
        try:
            for folder in (new, work):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
            manifest = builder.run()
            builder.step("swap")
            _swap(new, target)
            swapped = True
            report("swap", len(STEPS), len(STEPS))
            logger.info(
                "Catalogue built: %d titles, %d MovieLens ratings in %.1f s.",
                manifest["row_counts"]["titles"],
                manifest["row_counts"]["movielens_ratings"],
                manifest["build_seconds"],
            )
            return manifest
        except BuildError:
            raise
        except Exception as exc:
            raise BuildError(builder.explain(exc)) from exc
        finally:
            builder.close()
            shutil.rmtree(work, ignore_errors=True)
            if not swapped:
                shutil.rmtree(new, ignore_errors=True)


# --------------------------------------------------------------------------- folder handling


def _recover(target: Path) -> None:
    """Finish or undo a swap that a crash interrupted."""
    old = target.with_name(target.name + ".old")
    if not old.exists():
        return
    if not target.exists():
        logger.warning("Restoring %s from an interrupted build.", target)
        os.rename(old, target)
    else:
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(target: Path) -> None:
    """Delete ``parquet.new-*`` / ``parquet.work-*`` left by killed builds (we hold the lock)."""
    for pattern in (f"{target.name}.new-*", f"{target.name}.work-*"):
        for folder in target.parent.glob(pattern):
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where that is not available (another OS, an old C library or kernel, a file
    system without it); raises OSError for any other failure.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint
    ]  # fmt: skip
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(new: Path, target: Path) -> None:
    """Put the folder ``new`` in place of ``target``.

    With an atomic exchange there is no moment without a complete catalogue at ``target``, even
    if the process is killed half-way (the previous catalogue then waits in ``new`` for the
    next build's clean-up). Elsewhere two renames, with ``parquet.old`` in between, which
    :func:`_recover` puts back if a crash comes between them.
    """
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    fsync_tree(new)
    if target.exists() and _exchange(new, target):
        fsync(target.parent)
        shutil.rmtree(new, ignore_errors=True)  # now the previous catalogue
        return
    had_old = target.exists()
    if had_old:
        os.rename(target, old)
    try:
        rename_into_place(new, target)
    except OSError:
        if had_old:
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- the build


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.strip().split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _tsv(name: str, rejects: str) -> str:
    """A ``read_csv`` call for an IMDb TSV (the path is the next ``?`` parameter)."""
    columns = ", ".join(f"'{col}': '{typ}'" for col, typ in TSV_COLUMNS[name].items())
    return (
        r"read_csv(?, delim='\t', header=true, nullstr='\N', quote='', escape='',"
        f" auto_detect=false, compression='gzip', columns={{{columns}}},"
        f" store_rejects=true, rejects_scan='{rejects}_scan', rejects_table='{rejects}_rejects')"
    )


def _csv(columns: dict[str, str]) -> str:
    """A ``read_csv`` call for a MovieLens CSV (the path is the next ``?`` parameter)."""
    cols = ", ".join(f"'{col}': '{typ}'" for col, typ in columns.items())
    return f"read_csv(?, delim=',', header=true, quote='\"', escape='\"', auto_detect=false, columns={{{cols}}})"


class _Builder:
    """Runs the steps on one DuckDB connection; remembers the step for error messages."""

    def __init__(self, settings: Settings, new: Path, work: Path, report: Progress) -> None:
        self.settings = settings
        self.raw = settings.raw_dir
        self.new = new
        self.work = work
        self.report = report
        self.current = STEPS[0]
        self.started = time.monotonic()
        self.step_started = self.started
        self.con: duckdb.DuckDBPyConnection | None = None
        self.skipped: dict[str, int] = {}
        self.ml: dict[str, int] = {}
        self.with_principals = False
        self.with_names = False
        self.with_akas = False
        self.spill_bytes = 0  # disk DuckDB may spill to (set by _check)

    # -- plumbing

    def step(self, name: str) -> None:
        now = time.monotonic()
        if name != STEPS[0]:
            logger.info("Build step %s took %.1f s.", self.current, now - self.step_started)
        self.current = name
        self.step_started = now
        self.report(name, STEPS.index(name), len(STEPS))

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def explain(self, exc: BaseException) -> str:
        """A one-line message for a failure, naming the raw file when one is at fault."""
        text = _one_line(str(exc) or type(exc).__name__)
        full = str(exc)
        for name in (*TSV_COLUMNS, config.MOVIELENS_FILE):
            if str(self.raw / name) in full or name in full:
                return f"{name} is unreadable ({text}): run `python -m recsys fetch` again."
        if isinstance(exc, OSError) and exc.strerror:
            return f"Build failed during {self.current}: {exc.strerror} ({exc.filename})."
        return f"Build failed during {self.current}: {text}"

    def _path(self, name: str) -> Path:
        return self.raw / name

    def _has(self, name: str) -> bool:
        return self._path(name).is_file()

    def _uses(self, name: str) -> bool:
        """Whether this build reads ``name``: present, and people files only when wanted."""
        if name in config.IMDB_OPTIONAL_FILES and not self.settings.with_people:
            return False
        if name == AKAS and not self.settings.with_akas:
            return False
        return self._has(name)

    def _count(self, sql: str, params: Sequence[object] = ()) -> int:
        assert self.con is not None
        # fetchall: DuckDB 2.0 keeps a connection busy until a result is read to its end
        rows = self.con.execute(sql, list(params)).fetchall()
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _note_rejects(self, name: str, rejects: str) -> None:
        try:
            # one line can fail several ways (too many columns and a bad cast)
            count = self._count(f"SELECT count(DISTINCT line) FROM {rejects}_rejects")
        except duckdb.Error:
            count = 0
        self.skipped[name] = self.skipped.get(name, 0) + count
        if count:
            logger.warning("%s: skipped %d malformed line(s).", name, count)

    # -- steps

    def run(self) -> dict[str, Any]:
        self.step("check")
        self._check()
        self.con = self._connect()
        self.step("titles")
        self._titles()
        self.step("crew")
        self._crew()
        self.step("people")
        self._people()
        self.step("languages")
        self._languages()
        self._final_titles()
        self.step("movielens")
        self._movielens()
        self.step("write")
        self._write()
        self.step("verify")
        counts = self._verify()
        return self._manifest(counts)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the memory limit and a bounded spill folder."""
        limits: dict[str, Any] = {
            "temp_directory": str(self.work / "duckdb"),
            "preserve_insertion_order": False,
            "memory_limit": self.settings.duckdb_memory_limit,
        }
        if self.spill_bytes > 0:
            limits["max_temp_directory_size"] = f"{max(self.spill_bytes // (1 << 20), 64)}MiB"
        try:
            return duckdb.connect(":memory:", config=limits)
        except duckdb.Error as exc:
            raise BuildError(
                f"DuckDB refused its limits ({_one_line(str(exc))}); check CINEBLEND_DUCKDB_MEMORY."
            ) from None

    def _check(self) -> None:
        for name in config.IMDB_FILES:
            if not self._has(name):
                raise BuildError(f"{name} is missing: run `python -m recsys fetch` first.")
        if not self._has(config.MOVIELENS_FILE):
            raise BuildError(f"{config.MOVIELENS_FILE} is missing: run `python -m recsys fetch` first.")
        needed = 0
        for name in TSV_COLUMNS:
            if self._uses(name):
                path = self._path(name)
                _check_header(path, name, list(TSV_COLUMNS[name]))
                try:  # DuckDB would read a bomb to its end: refuse it before
                    verify_gzip(
                        path,
                        name=name,
                        max_bytes=self.settings.max_uncompressed_bytes,
                        advice="run `python -m recsys fetch` again.",
                    )
                except FetchError as exc:
                    raise BuildError(
                        str(exc).replace("run fetch again", "run `python -m recsys fetch` again")
                    ) from None
                needed += path.stat().st_size
        zip_path = self._path(config.MOVIELENS_FILE)
        try:
            with zipfile.ZipFile(zip_path) as zf:
                try:
                    check_zip_expansion(
                        zf, config.MOVIELENS_FILE, zip_path.stat().st_size, self.settings.max_uncompressed_bytes
                    )
                except FetchError as exc:
                    raise BuildError(
                        str(exc).replace("run fetch again", "run `python -m recsys fetch` again")
                    ) from None
                members = movielens_members(zf, config.MOVIELENS_FILE)
                needed += sum(zf.getinfo(member).file_size for member in members.values())
                free = require_free(self.settings.data_dir, needed, "build the catalogue", BuildError)
                self.spill_bytes = free - needed - RESERVE_BYTES
                for key, member in members.items():
                    dest = self.work / key
                    with zf.open(member) as src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
        except FetchError as exc:
            raise BuildError(f"{exc} Run `python -m recsys fetch` again.") from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise BuildError(
                f"{config.MOVIELENS_FILE} is corrupt ({_one_line(str(exc))}): run `python -m recsys fetch` again."
            ) from None

    def _titles(self) -> None:
        con = self.con
        assert con is not None
        con.execute("CREATE TEMP TABLE type_kind (title_type VARCHAR, kind VARCHAR)")
        con.executemany("INSERT INTO type_kind VALUES (?, ?)", list(TITLE_TYPES.items()))
        # MovieLens links first: the one pass over title.basics also keeps the linked titles
        # of other movie-ish types (see the module docstring).
        con.execute(
            f"""
            CREATE TEMP TABLE ml_links AS
            SELECT movieId AS movie_id,
                   'tt' || CASE WHEN length(trim(imdbId)) < 7 THEN lpad(trim(imdbId), 7, '0')
                                ELSE trim(imdbId) END AS tconst
            FROM {_csv(LINKS_COLUMNS)}
            WHERE movieId IS NOT NULL AND regexp_full_match(trim(imdbId), '[0-9]{{1,10}}')
            """,
            [str(self.work / "links.csv")],
        )
        self.ml["links"] = self._count(f"SELECT count(*) FROM {_csv(LINKS_COLUMNS)}", [str(self.work / "links.csv")])
        con.execute(
            f"""
            CREATE TEMP TABLE basics AS
            SELECT tconst, titleType AS title_type, primaryTitle, originalTitle,
                   startYear, endYear, runtimeMinutes, genres
            FROM {_tsv(BASICS, "basics")}
            WHERE coalesce(isAdult, 0) = 0
              AND (titleType IN (SELECT title_type FROM type_kind)
                   OR (list_contains(?::VARCHAR[], titleType)
                       AND tconst IN (SELECT tconst FROM ml_links)))
            """,
            [str(self._path(BASICS)), list(MOVIELENS_TITLE_TYPES)],
        )
        self._note_rejects(BASICS, "basics")
        con.execute(
            f"""
            CREATE TEMP TABLE kept AS
            SELECT b.tconst, b.title_type, tk.kind,
                   coalesce(b.primaryTitle, b.originalTitle, b.tconst) AS primary_title,
                   coalesce(b.originalTitle, b.primaryTitle, b.tconst) AS original_title,
                   b.startYear AS start_year, b.endYear AS end_year,
                   b.runtimeMinutes AS runtime_minutes,
                   coalesce(string_split(b.genres, ','), []::VARCHAR[]) AS genres,
                   r.averageRating AS average_rating,
                   coalesce(r.numVotes, 0)::BIGINT AS num_votes
            FROM basics b
            JOIN type_kind tk ON tk.title_type = b.title_type
            LEFT JOIN {_tsv(RATINGS, "ratings")} r ON r.tconst = b.tconst
            WHERE coalesce(r.numVotes, 0) >= ?
            """,
            [str(self._path(RATINGS)), self.settings.min_votes],
        )
        self._note_rejects(RATINGS, "ratings")
        if self._count("SELECT count(*) FROM kept") == 0:
            raise BuildError(
                "No titles left after filtering (movie / tvSeries / tvMiniSeries, not adult,"
                f" at least {self.settings.min_votes} votes): check the raw files or lower"
                " CINEBLEND_MIN_VOTES."
            )

    def _crew(self) -> None:
        con = self.con
        assert con is not None
        con.execute(
            f"""
            CREATE TEMP TABLE crew_long AS
            WITH c AS (
                SELECT tconst, string_split(directors, ',') AS d, string_split(writers, ',') AS w
                FROM {_tsv(CREW, "crew")}
                WHERE tconst IN (SELECT tconst FROM kept)
            )
            SELECT tconst, 'director' AS role, unnest(d) AS nconst,
                   unnest(range(1, len(d) + 1)) AS pos
            FROM c WHERE d IS NOT NULL
            UNION ALL
            SELECT tconst, 'writer' AS role, unnest(w) AS nconst,
                   unnest(range(1, len(w) + 1)) AS pos
            FROM c WHERE w IS NOT NULL
            """,
            [str(self._path(CREW))],
        )
        self._note_rejects(CREW, "crew")

    def _people(self) -> None:
        con = self.con
        assert con is not None
        self.with_principals = self._uses(PRINCIPALS)
        if self.with_principals:
            con.execute(
                f"""
                CREATE TEMP TABLE principals AS
                SELECT tconst, ordering, nconst, category
                FROM {_tsv(PRINCIPALS, "principals")}
                WHERE tconst IN (SELECT tconst FROM kept)
                """,
                [str(self._path(PRINCIPALS))],
            )
            self._note_rejects(PRINCIPALS, "principals")
        else:
            con.execute(
                "CREATE TEMP TABLE principals (tconst VARCHAR, ordering INTEGER, nconst VARCHAR, category VARCHAR)"
            )
        self.with_names = self._uses(NAMES)
        if self.with_names:
            con.execute(
                f"""
                CREATE TEMP TABLE names AS
                SELECT nconst, primaryName AS name
                FROM {_tsv(NAMES, "names")}
                WHERE primaryName IS NOT NULL
                  AND nconst IN (SELECT nconst FROM crew_long UNION SELECT nconst FROM principals)
                """,
                [str(self._path(NAMES))],
            )
            self._note_rejects(NAMES, "names")
        else:
            con.execute("CREATE TEMP TABLE names (nconst VARCHAR, name VARCHAR)")
        if not self.with_principals:
            logger.info("%s is absent: the catalogue has no cast.", PRINCIPALS)
        if not self.with_names:
            logger.info("%s is absent: people stay as IMDb ids (nconst).", NAMES)

    def _languages(self) -> None:
        """``title_languages(tconst, language, region)`` for every kept title (see the module
        docstring and :mod:`recsys.catalog.language`)."""
        con = self.con
        assert con is not None
        self.with_akas = self._uses(AKAS)
        if self.with_akas:
            con.execute(
                f"""
                CREATE TEMP TABLE akas_evidence AS
                SELECT a.titleId AS tconst,
                       list(DISTINCT upper(a.region)) FILTER (WHERE a.region IS NOT NULL) AS regions,
                       list(DISTINCT lower(a.language)) FILTER (WHERE a.language IS NOT NULL) AS languages
                FROM {_tsv(AKAS, "akas")} a
                JOIN kept k ON k.tconst = a.titleId
                WHERE lower(trim(a.title)) = lower(trim(k.original_title))
                GROUP BY a.titleId
                """,
                [str(self._path(AKAS))],
            )
            self._note_rejects(AKAS, "akas")
        else:
            con.execute("CREATE TEMP TABLE akas_evidence (tconst VARCHAR, regions VARCHAR[], languages VARCHAR[])")
            logger.info(
                "%s is absent: title languages come from the original titles only (no region).",
                AKAS,
            )
        rows = con.execute(
            """
            SELECT k.tconst, k.primary_title, k.original_title, e.regions, e.languages
            FROM kept k LEFT JOIN akas_evidence e ON e.tconst = k.tconst
            """
        ).fetchall()
        inferred = [(t, *infer_language(p, o, r, la)) for t, p, o, r, la in rows]
        frame = pl.DataFrame(inferred, schema={"tconst": pl.Utf8, "language": pl.Utf8, "region": pl.Utf8}, orient="row")
        con.register("title_languages_frame", frame)
        con.execute("CREATE TEMP TABLE title_languages AS SELECT * FROM title_languages_frame")
        con.unregister("title_languages_frame")

    def _final_titles(self) -> None:
        con = self.con
        assert con is not None
        con.execute(
            """
            CREATE TEMP TABLE crew_names AS
            SELECT cl.tconst,
                   list(coalesce(n.name, cl.nconst) ORDER BY cl.pos)
                       FILTER (WHERE cl.role = 'director') AS directors,
                   list(coalesce(n.name, cl.nconst) ORDER BY cl.pos)
                       FILTER (WHERE cl.role = 'writer') AS writers
            FROM crew_long cl LEFT JOIN names n ON n.nconst = cl.nconst
            GROUP BY cl.tconst
            """
        )
        con.execute(
            f"""
            CREATE TEMP TABLE cast_names AS
            SELECT p.tconst,
                   list(coalesce(n.name, p.nconst) ORDER BY p.ordering)[1:{MAX_CAST}] AS "cast"
            FROM principals p LEFT JOIN names n ON n.nconst = p.nconst
            WHERE p.category IN ('actor', 'actress')
            GROUP BY p.tconst
            """
        )
        # popularity: (v / (v + m) * R + m / (v + m) * C) * ln(1 + v), see recsys.catalog
        con.execute(
            """
            CREATE TEMP TABLE titles AS
            WITH s AS (
                SELECT avg(average_rating) AS c, quantile_cont(num_votes, 0.5) AS m FROM kept
            )
            SELECT k.tconst, k.title_type, k.kind, k.primary_title, k.original_title,
                   k.start_year::INTEGER AS start_year, k.end_year::INTEGER AS end_year,
                   k.runtime_minutes::INTEGER AS runtime_minutes, k.genres,
                   k.average_rating::DOUBLE AS average_rating, k.num_votes,
                   CASE WHEN k.average_rating IS NULL OR k.num_votes + s.m <= 0 THEN 0.0
                        ELSE (k.num_votes / (k.num_votes + s.m) * k.average_rating
                              + s.m / (k.num_votes + s.m) * s.c) * ln(1 + k.num_votes)
                   END::DOUBLE AS popularity,
                   coalesce(cn.directors, []::VARCHAR[]) AS directors,
                   coalesce(cn.writers, []::VARCHAR[]) AS writers,
                   coalesce(ca."cast", []::VARCHAR[]) AS "cast",
                   tl.language::VARCHAR AS language, tl.region::VARCHAR AS region,
                   strip_accents(lower(
                       CASE WHEN k.original_title IS DISTINCT FROM k.primary_title
                            THEN k.primary_title || ' ' || k.original_title
                            ELSE k.primary_title END)) AS search_text
            FROM kept k
            CROSS JOIN s
            LEFT JOIN crew_names cn ON cn.tconst = k.tconst
            LEFT JOIN cast_names ca ON ca.tconst = k.tconst
            LEFT JOIN title_languages tl ON tl.tconst = k.tconst
            """
        )

    def _movielens(self) -> None:
        con = self.con
        assert con is not None
        ratings_csv = str(self.work / "ratings.csv")
        con.execute(
            f"""
            CREATE TEMP TABLE ml_ratings AS
            SELECT r.userId AS ml_user_id, l.tconst, r.rating, r."timestamp",
                   l.tconst IN (SELECT tconst FROM titles) AS in_catalog
            FROM {_csv(ML_RATINGS_COLUMNS)} r
            JOIN ml_links l ON l.movie_id = r.movieId
            WHERE l.tconst IN (SELECT tconst FROM basics) AND r.userId IS NOT NULL
            QUALIFY row_number() OVER (
                PARTITION BY r.userId, l.tconst ORDER BY r."timestamp" DESC, r.rating DESC) = 1
            """,
            [ratings_csv],
        )
        self.ml["ratings"] = self._count(f"SELECT count(*) FROM {_csv(ML_RATINGS_COLUMNS)}", [ratings_csv])
        self.ml["mapped_links"] = self._count(
            "SELECT count(*) FROM ml_links WHERE tconst IN (SELECT tconst FROM basics)"
        )
        self.ml["mapped_ratings"] = self._count("SELECT count(*) FROM ml_ratings")
        self.ml["in_catalog_ratings"] = self._count("SELECT count(*) FROM ml_ratings WHERE in_catalog")
        if self.ml["mapped_ratings"] == 0:
            logger.warning("No MovieLens rating maps to an IMDb title: ALS will learn from app users only.")

    def _write(self) -> None:
        con = self.con
        assert con is not None
        outputs = [
            (TITLES_FILE, "SELECT * FROM titles ORDER BY tconst"),
            (MOVIELENS_PARQUET, 'SELECT * FROM ml_ratings ORDER BY ml_user_id, "timestamp", tconst'),
        ]
        if self.with_principals:
            outputs.append(
                (
                    PEOPLE_FILE,
                    """
                    SELECT p.tconst, p.nconst, coalesce(n.name, p.nconst) AS name, p.category,
                           p.ordering
                    FROM principals p LEFT JOIN names n ON n.nconst = p.nconst
                    ORDER BY p.tconst, p.ordering
                    """,
                )
            )
        for name, sql in outputs:
            con.sql(sql).write_parquet(str(self.new / name), compression="zstd")

    def _verify(self) -> dict[str, int]:
        expected = {TITLES_FILE: TITLES_SCHEMA, MOVIELENS_PARQUET: MOVIELENS_SCHEMA}
        if self.with_principals:
            expected[PEOPLE_FILE] = PEOPLE_SCHEMA
        counts: dict[str, int] = {}
        with self._connect() as check:
            for name, schema in expected.items():
                path = str(self.new / name)
                described = check.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
                found = {row[0]: str(row[1]) for row in described}
                if found != schema:
                    raise BuildError(f"Internal error: {name} came out with columns {found}; please report it.")
                rows = check.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchall()
                counts[name] = int(rows[0][0])
        if counts[TITLES_FILE] == 0:
            raise BuildError("The catalogue came out empty: check the raw files.")
        return counts

    def _manifest(self, counts: dict[str, int]) -> dict[str, Any]:
        con = self.con
        assert con is not None
        by_kind = dict(con.execute("SELECT kind, count(*) FROM titles GROUP BY kind ORDER BY kind").fetchall())
        newest = dict(con.execute("SELECT kind, max(start_year) FROM titles GROUP BY kind ORDER BY kind").fetchall())
        year_min, year_max = con.execute("SELECT min(start_year), max(start_year) FROM titles").fetchall()[0]
        languages = con.execute(
            "SELECT coalesce(language, 'unknown'), count(*) FROM titles GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        sources = {}
        for name in (*TSV_COLUMNS, config.MOVIELENS_FILE):
            path = self._path(name)
            if path.is_file():
                stat = path.stat()
                sources[name] = {
                    "bytes": stat.st_size,
                    "modified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
                }
        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - self.started, 3),
            "min_votes": self.settings.min_votes,
            "with_people": self.with_principals,
            "with_names": self.with_names,
            "with_akas": self.with_akas,
            "languages": {str(lang): int(n) for lang, n in languages},
            "row_counts": {
                "titles": counts[TITLES_FILE],
                "people": counts.get(PEOPLE_FILE, 0),
                "movielens_ratings": counts[MOVIELENS_PARQUET],
            },
            "titles_by_kind": {kind: int(n) for kind, n in by_kind.items()},
            "newest_year_by_kind": newest,
            "year_range": [year_min, year_max],
            "movielens": dict(self.ml),
            "skipped_rows": dict(self.skipped),
            "sources": sources,
        }
        with (self.new / MANIFEST_FILE).open("w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
        return manifest


def _check_header(path: Path, name: str, expected: list[str]) -> None:
    """Read the first line of a gzip TSV and compare it with IMDb's header."""
    try:
        with gzip.open(path, "rb") as fh:
            first = fh.readline(1 << 16)
    except (OSError, EOFError, zlib.error) as exc:
        raise BuildError(
            f"{name} is not a valid gzip file ({_one_line(str(exc))}): run `python -m recsys fetch` again."
        ) from None
    header = first.decode("utf-8", "replace").rstrip("\r\n").split("\t")
    if header != expected:
        raise BuildError(
            f"{name} does not have IMDb's columns (found {_one_line(' '.join(header), 80)!r}):"
            " run `python -m recsys fetch` again."
        )
