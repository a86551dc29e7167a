"""A larger invented catalogue for load and fault tests: hundreds of titles, not one real one.

The hand-written fixture (``tests/fixtures/make_data.py``) has 21 movies; a load test where each
tester rates 50 titles in the feed needs more. :func:`write_synthetic_sources` writes IMDb-format
gzip TSVs (``title.basics``, ``title.ratings``, ``title.crew``) and a MovieLens-format zip with
generated, clearly invented titles ("Amber Harbor 0007") and ratings, deterministic for a seed.

What it holds (``movies`` / ``shows`` as passed; defaults 200 / 80), all with >= 100 votes so the
default ``min_votes`` keeps every one:

- movie ``i`` (1-based) is ``tt05{i:05d}`` titled ``"<Adjective> <Noun> {i:04d}"``; TV show ``i``
  is ``tt06{i:05d}`` titled ``"<Adjective> <Noun> Show {i:03d}"``; every title is unique.
- two or three genres each from :data:`GENRES`, years 1980-2024, votes 150-200,000.
- MovieLens: ``ml_users`` invented users, each rating 15-30 movies (half-star ratings); plus
  ``fans`` long-history users (demo personas need 200+ ratings): fan ``k`` rates 220 movies,
  4.5-5 stars for a third of those of its two genres (``FAN_GENRES[k]``), 0.5-2 for others; with
  fans, a third of the movies are exactly one fan's two genres and every other TV show carries
  them (a persona's rows must be able to show its taste: 6 of the top 8 cards).
"""

from __future__ import annotations

import random
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tests.fixtures.make_data import _csv, _rating, _write_tsv_gz

GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Mystery", "Romance", "Sci-Fi", "Thriller", "Western",
)  # fmt: skip
_ADJECTIVES = (
    "Amber", "Silent", "Crimson", "Hidden", "Electric", "Paper", "Golden", "Broken", "Velvet",
    "Northern", "Hollow", "Wild", "Quiet", "Iron", "Glass", "Midnight",
)  # fmt: skip
#: The two genres fan ``k`` loves (distinct pairs: each can name its own demo persona).
FAN_GENRES = (("Crime", "Mystery"), ("Sci-Fi", "Fantasy"), ("Comedy", "Family"), ("Horror", "Western"))
#: Ratings per fan (a persona needs at least ``recsys.app.demo.MIN_RATINGS``).
FAN_RATINGS = 220
_NOUNS = (
    "Harbor", "Garden", "Signal", "Orchard", "Circuit", "Meadow", "Lantern", "Frontier", "Tide",
    "Archive", "Station", "Canyon", "Bridge", "Comet", "Kitchen", "Parade",
)  # fmt: skip


def movie_tconst(i: int) -> str:
    return f"tt05{i:05d}"


def show_tconst(i: int) -> str:
    return f"tt06{i:05d}"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


def write_synthetic_sources(
    imdb_dir: Path,
    movielens_zip: Path,
    *,
    movies: int = 200,
    shows: int = 80,
    ml_users: int = 40,
    fans: int = 0,
    seed: int = 20240601,
) -> dict[str, str]:
    """Write the IMDb files into ``imdb_dir`` and the MovieLens zip at ``movielens_zip``.

    Returns ``{tconst: primary title}`` of every generated title.
    """
    rng = random.Random(seed)
    imdb_dir.mkdir(parents=True, exist_ok=True)
    basics: list[tuple[str, str, str, str, int, int, int | None, int, str]] = []
    ratings: list[tuple[object, ...]] = []
    crew: list[tuple[object, ...]] = []
    titles: dict[str, str] = {}
    for i in range(1, movies + 1):
        tconst, title = movie_tconst(i), f"{_name(rng)} {i:04d}"
        year = rng.randint(1980, 2024)
        genres = ",".join(sorted(rng.sample(GENRES, rng.randint(2, 3))))
        if fans and i % 3 == 0:  # a third of the movies are exactly one fan's two genres
            genres = ",".join(sorted(FAN_GENRES[(i // 3) % min(fans, len(FAN_GENRES))]))
        basics.append((tconst, "movie", title, title, 0, year, None, rng.randint(80, 160), genres))
        titles[tconst] = title
    for i in range(1, shows + 1):
        tconst, title = show_tconst(i), f"{_name(rng)} Show {i:03d}"
        start = rng.randint(1990, 2024)
        end = None if rng.random() < 0.5 else min(2025, start + rng.randint(0, 6))
        genres = ",".join(sorted(rng.sample(GENRES, rng.randint(2, 3))))
        if fans and i % 2 == 0:  # half the shows carry a fan pair, so a persona's TV row can show its taste
            pair = FAN_GENRES[(i // 2) % min(fans, len(FAN_GENRES))]
            genres = ",".join(sorted({*pair, rng.choice(GENRES)}))
        kind = "tvSeries" if i % 4 else "tvMiniSeries"
        basics.append((tconst, kind, title, title, 0, start, end, rng.randint(20, 60), genres))
        titles[tconst] = title
    for tconst in titles:
        ratings.append((tconst, round(rng.uniform(4.5, 8.9), 1), rng.randint(150, 200_000)))
        crew.append((tconst, f"nm07{rng.randint(1, 60):05d}", None))
    _write_tsv_gz(
        imdb_dir / "title.basics.tsv.gz",
        ["tconst", "titleType", "primaryTitle", "originalTitle", "isAdult", "startYear",
         "endYear", "runtimeMinutes", "genres"],
        basics,
    )  # fmt: skip
    _write_tsv_gz(imdb_dir / "title.ratings.tsv.gz", ["tconst", "averageRating", "numVotes"], ratings)
    _write_tsv_gz(imdb_dir / "title.crew.tsv.gz", ["tconst", "directors", "writers"], crew)
    movie_genres = {int(row[0][4:]): row[8].split(",") for row in basics if row[1] == "movie"}
    _write_movielens(movielens_zip, movies, ml_users, rng, _fan_ratings(movie_genres, fans, ml_users, rng))
    return titles


def _fan_ratings(
    movie_genres: dict[int, list[str]], fans: int, first_user: int, rng: random.Random
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for k in range(fans):
        user = first_user + 1 + k
        loved = set(FAN_GENRES[k % len(FAN_GENRES)])
        fan_of = [m for m, genres in movie_genres.items() if loved & set(genres)]
        others = [m for m in movie_genres if m not in set(fan_of)]
        # a third of the loved genres' movies (the rest left for the feed), the rest from the others
        liked = rng.sample(fan_of, min(len(fan_of) // 3, FAN_RATINGS // 2))
        disliked = rng.sample(others, min(len(others), FAN_RATINGS - len(liked)))
        for j, movie in enumerate(sorted(liked + disliked)):
            stars = rng.choice((4.5, 5.0)) if movie in liked else rng.choice((0.5, 1.0, 1.5, 2.0))
            rows.append((user, movie, _rating(stars), 1_700_000_000 + user * 1000 + j))
    return rows


def _write_movielens(
    path: Path, movies: int, users: int, rng: random.Random, extra: Sequence[tuple[object, ...]] = ()
) -> None:
    links = [(i, movie_tconst(i)[2:], "") for i in range(1, movies + 1)]
    ml_movies = [(i, f"Invented Movie {i} (2000)", "Drama") for i in range(1, movies + 1)]
    rows: list[tuple[object, ...]] = []
    for user in range(1, users + 1):
        rated = sorted(rng.sample(range(1, movies + 1), rng.randint(15, 30)))
        for j, movie in enumerate(rated):
            stars = _rating(rng.randint(1, 10) / 2)
            rows.append((user, movie, stars, 1_700_000_000 + user * 1000 + j))
    rows.extend(extra)
    members = {
        "ml-latest-small/README.txt": b"Invented MovieLens-format test data (not MovieLens).\r\n",
        "ml-latest-small/links.csv": _csv(["movieId", "imdbId", "tmdbId"], links),
        "ml-latest-small/movies.csv": _csv(["movieId", "title", "genres"], ml_movies),
        "ml-latest-small/ratings.csv": _csv(["userId", "movieId", "rating", "timestamp"], rows),
        "ml-latest-small/tags.csv": _csv(["userId", "movieId", "tag", "timestamp"], []),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def build_synthetic_data(root: Path, *, train: bool = True, fans: int = 0) -> Path:
    """``root/data``: the synthetic catalogue fetched (from local files), built and (unless
    ``train=False``) a model trained, with no store yet. Reused when already there. With
    ``fans`` (demo personas), 500 movies and that many long-history MovieLens users.

    ``root/sources`` keeps the IMDb folder and MovieLens zip the data came from.
    """
    from recsys.app.pipeline import train_model
    from recsys.catalog.build import build, catalog_ready
    from recsys.catalog.download import fetch
    from recsys.config import Settings

    data_dir = root / "data"
    cfg = Settings(
        data_dir=data_dir,
        imdb_base_url=str(root / "sources" / "imdb"),
        movielens_url=str(root / "sources" / "ml-latest-small.zip"),
        with_people=False,
    )
    if not catalog_ready(cfg):
        sizes = {"movies": 500, "fans": fans} if fans else {}
        write_synthetic_sources(root / "sources" / "imdb", root / "sources" / "ml-latest-small.zip", **sizes)
        fetch(cfg)
        build(cfg)
    if train and not (cfg.models_dir.is_dir() and any(cfg.models_dir.iterdir())):
        train_model(cfg)
    for leftover in data_dir.glob("app.db*"):  # train_model opened (created) an empty store
        leftover.unlink()
    return data_dir
