"""Model versions on disk (atomic save, newest intact one loaded, pruning, clear errors), the
train helper, and concurrent use of one shared recommender."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from recsys.errors import ModelError
from recsys.models import (
    ALSScorer,
    Profile,
    Recommender,
    RecommenderConfig,
    TasteConfig,
    TrainingData,
    artifacts,
    latest_version,
    train,
)
from recsys.models.artifacts import MANIFEST
from tests.models.conftest import CLUSTERS, small_config
from tests.support.narrow import present
from tests.support.weights import full


def als_of(rec: Recommender) -> ALSScorer:
    """The served hybrid's ALS part."""
    als = rec.hybrid["als"]
    assert isinstance(als, ALSScorer)
    return als


PROFILES = [
    [(t, 1) for t in CLUSTERS[name]] + [(CLUSTERS[other][0], -1)]
    for name, other in [("crime", "comedy"), ("comedy", "scifi"), ("scifi", "romance"), ("romance", "crime")]
]


def test_save_then_load_latest_gives_identical_recommendations(recommender: Recommender, models_dir: Path) -> None:
    path = recommender.save(models_dir)
    assert path.parent == models_dir and path.name == recommender.version
    loaded = Recommender.load_latest(models_dir)
    assert loaded.version == recommender.version == latest_version(models_dir)
    for profile in PROFILES:
        for kind in ("movie", "tv"):
            a = recommender.recommend(profile, kind, n=10, favourite_genres=["Drama"])
            b = loaded.recommend(profile, kind, n=10, favourite_genres=["Drama"])
            assert a.equals(b)
    # the loaded config spells out every scorer's config (defaults included): same settings
    assert loaded.config.to_dict() == recommender.config.to_dict()


def test_newest_version_wins_and_only_the_last_three_are_kept(recommender: Recommender, models_dir: Path) -> None:
    versions = [recommender.save(models_dir).name for _ in range(5)]
    assert versions == sorted(versions) and len(set(versions)) == 5
    kept = sorted(p.name for p in models_dir.iterdir())
    assert kept == versions[-3:]
    assert Recommender.load_latest(models_dir).version == versions[-1]


def test_no_model_says_how_to_train(models_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"No trained model .*run `python -m recsys train`"):
        Recommender.load_latest(models_dir)
    assert latest_version(models_dir) is None


def test_unfinished_and_corrupt_versions_are_skipped(
    recommender: Recommender, models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = recommender.save(models_dir).name
    bad = recommender.save(models_dir)
    # a crash mid-save leaves a hidden temp folder; a folder without a manifest is unfinished
    (models_dir / ".tmp-20990101T000000000000Z-dead").mkdir()
    unfinished = models_dir / "20990101T000000000000Z"
    unfinished.mkdir()
    (unfinished / "titles.parquet").write_bytes(b"partial")
    # the newest complete version has a damaged file
    (bad / "hybrid" / "als" / "als.npz").write_bytes(b"garbage")
    assert latest_version(models_dir) == bad.name  # cheap check: complete, not verified
    with caplog.at_level(logging.WARNING):
        loaded = Recommender.load_latest(models_dir)
    assert loaded.version == good
    assert "corrupt" in caplog.text


def test_every_version_corrupt_is_an_error(recommender: Recommender, models_dir: Path) -> None:
    path = recommender.save(models_dir)
    (path / "titles.parquet").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"corrupt.*python -m recsys train"):
        Recommender.load_latest(models_dir)
    with pytest.raises(ModelError, match="corrupt"):
        Recommender.load(path)


def test_manifest_lists_every_file_with_checksums(recommender: Recommender, models_dir: Path) -> None:
    import json

    path = recommender.save(models_dir)
    manifest = json.loads((path / MANIFEST).read_text())
    files = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(manifest["files"]) == files
    assert "hybrid/als/als.npz" in files and "hybrid/content/tfidf.npz" in files
    assert all(len(info["sha256"]) == 64 for info in manifest["files"].values())


def test_train_reports_progress_and_writes_a_version(
    titles: pl.DataFrame, ratings: pl.DataFrame, models_dir: Path
) -> None:
    app = pl.DataFrame(
        {
            "user_id": [1, 1, 1, 2],
            "tconst": ["tt0000101", "tt0000102", "tt0000103", "tt0000107"],
            "value": [1, 2, -1, 1],
            "created_at": pl.Series([1, 2, 3, 4]).cast(pl.Datetime("us", "UTC")),
        }
    )
    stages: list[tuple[str, float, float | None]] = []
    path = train(
        TrainingData(titles, ratings, app), models_dir, small_config(), lambda s, d, t: stages.append((s, d, t))
    )
    assert path.parent == models_dir and (path / MANIFEST).is_file()
    names = {s for s, _, _ in stages}
    assert {"als: iterations", "saving model"} <= names
    assert ("als: iterations", 10, 10) in stages
    rec = Recommender.load_latest(models_dir)
    assert "app:1" in present(als_of(rec).users) and "ml:1" in present(als_of(rec).users)


def test_empty_catalogue_is_a_clear_error(titles: pl.DataFrame, ratings: pl.DataFrame) -> None:
    with pytest.raises(ModelError, match="python -m recsys build"):
        Recommender.fit(TrainingData(titles.clear(), ratings), small_config())


def test_shared_recommender_gives_the_same_answers_from_many_threads(recommender: Recommender) -> None:
    jobs = [(p, kind) for p in PROFILES for kind in ("movie", "tv")] * 8
    serial = [recommender.recommend(p, kind, n=8) for p, kind in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda job: recommender.recommend(job[0], job[1], n=8), jobs))
    assert all(a.equals(b) for a, b in zip(serial, parallel, strict=True))


def test_config_round_trips_through_the_version(recommender: Recommender, models_dir: Path) -> None:
    cfg = replace(small_config(), hybrid_from_likes=3, reason_titles=1)
    rec = Recommender(recommender.hybrid, recommender.titles, cfg)
    rec.save(models_dir)
    loaded = Recommender.load_latest(models_dir).config
    assert loaded.to_dict() == cfg.to_dict()
    assert (loaded.hybrid_from_likes, loaded.reason_titles) == (3, 1)
    assert loaded.scorer_config("als") == cfg.scorer_config("als")
    assert loaded.scorer_config("content").min_df == 1


def test_config_from_the_first_format_reads_the_old_keys() -> None:
    """A version saved before the registry kept ``tfidf`` / ``als`` / ``popularity`` configs and
    a positional ``[content, als, popularity]`` weight list."""
    old = {
        "tfidf": {"min_df": 3, "director_weight": 2.0},
        "als": {"factors": 16},
        "popularity": {"source": "interactions"},
        "hybrid": {"weights": [0.6, 0.3, 0.1], "normalisation": "minmax"},
        "cold_start_likes": 5,
    }
    cfg = RecommenderConfig.from_dict(old)
    assert cfg.scorer_config("content").min_df == 3 and cfg.scorer_config("content").director_weight == 2.0
    assert cfg.scorer_config("als").factors == 16
    assert cfg.scorer_config("popularity").source == "interactions"
    assert cfg.scorer_config("taste") == TasteConfig()
    assert cfg.hybrid.weights == full(content=0.6, als=0.3, taste=0.0, popularity=0.1)
    assert cfg.hybrid.normalisation == "minmax"


def _app(users: list[int]) -> pl.DataFrame:
    rows = [(u, t, 1) for u in users for t in CLUSTERS["scifi"][:4]]
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "tconst": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "created_at": pl.Series(range(len(rows))).cast(pl.Datetime("us", "UTC")),
        }
    )


def test_retrain_on_the_same_catalogue_reuses_the_content_model(
    titles: pl.DataFrame, ratings: pl.DataFrame, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    first = train(TrainingData(titles, ratings, _app([1])), models, small_config())
    second = train(TrainingData(titles, ratings, _app([1, 2])), models, small_config())
    tfidf = "hybrid/content/tfidf.npz"
    # copied, not refitted and never hard-linked (issue 21, N6): the versions do not share fate
    assert (first / tfidf).read_bytes() == (second / tfidf).read_bytes()
    assert (first / tfidf).stat().st_ino != (second / tfidf).stat().st_ino
    # the titles carry the training data's interaction counts: written anew
    assert (first / "titles.parquet").stat().st_ino != (second / "titles.parquet").stat().st_ino
    rec = Recommender.load_latest(models)
    assert rec.version == second.name and "app:2" in present(als_of(rec).users)
    # the reused version recommends exactly what a full fit on the same data does
    full = Recommender.fit(TrainingData(titles, ratings, _app([1, 2])), small_config())
    for profile in PROFILES:
        assert rec.recommend(profile, "movie", n=8).equals(full.recommend(profile, "movie", n=8))
    # the first version can be pruned without breaking the second
    for _ in range(3):
        train(TrainingData(titles, ratings, _app([1, 2])), models, small_config())
    assert not first.exists()
    Recommender.load_latest(models)


def test_a_corrupt_reused_file_fails_only_its_version_and_is_checked_once(
    titles: pl.DataFrame, ratings: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, N6: one flipped byte in the newest version's content model (a file reused from
    the earlier versions) used to fail all three kept versions, which shared it by hard link."""
    models = tmp_path / "models"
    kept = [train(TrainingData(titles, ratings, _app(list(range(1, n + 2)))), models, small_config()) for n in range(3)]
    tfidf = kept[-1] / "hybrid" / "content" / "tfidf.npz"
    data = bytearray(tfidf.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tfidf.write_bytes(bytes(data))

    hashed: list[str] = []
    real = artifacts.sha256

    def hashing(path: Path) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(artifacts, "sha256", hashing)
    with pytest.raises(ModelError, match="tfidf.npz .* is missing or corrupt"):
        Recommender.load(kept[-1])
    for older in kept[:-1]:
        assert Recommender.load(older).version == older.name
    rec = Recommender.load_latest(models)
    assert rec.version == kept[1].name and "app:2" in present(als_of(rec).users)
    assert artifacts.serving_version(models) == kept[1].name
    assert artifacts.damaged_versions(models) == [kept[-1].name]
    # the verdict is remembered: the damaged version is not hashed again on later runs
    before = len(hashed)
    for _ in range(5):
        assert Recommender.load_latest(models).version == kept[1].name
    assert hashed[before:].count("tfidf.npz") == 5  # the good version's own check, once per load
    # ...until its files change: restored, it is verified again and served
    tfidf.write_bytes((kept[1] / "hybrid" / "content" / "tfidf.npz").read_bytes())
    assert artifacts.serving_version(models) == kept[-1].name
    assert Recommender.load_latest(models).version == kept[-1].name
    assert artifacts.damaged_versions(models) == []


def test_versions_hard_linked_by_an_older_release_are_unshared_by_the_next_training(
    titles: pl.DataFrame, ratings: pl.DataFrame, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    first = train(TrainingData(titles, ratings, _app([1])), models, small_config())
    second = train(TrainingData(titles, ratings, _app([1, 2])), models, small_config())
    tfidf = "hybrid/content/tfidf.npz"
    (second / tfidf).unlink()
    (second / tfidf).hardlink_to(first / tfidf)  # what the earlier release wrote
    assert (first / tfidf).stat().st_nlink == 2
    third = train(TrainingData(titles, ratings, _app([1, 2])), models, small_config())
    inodes = {(v / tfidf).stat().st_ino for v in (first, second, third)}
    assert len(inodes) == 3 and all((v / tfidf).stat().st_nlink == 1 for v in (first, second, third))
    for v in (first, second, third):
        assert Recommender.load(v).version == v.name  # the manifests still hold


def test_changed_catalogue_or_damaged_files_fit_everything_again(
    titles: pl.DataFrame, ratings: pl.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    first = train(TrainingData(titles, ratings, None), models, small_config())
    renamed = titles.with_columns(
        pl.when(pl.col("tconst") == "tt0000015")
        .then(pl.lit("Quiet Fields Redux"))
        .otherwise(pl.col("primary_title"))
        .alias("primary_title")
    )
    second = train(TrainingData(renamed, ratings, None), models, small_config())
    tfidf = "hybrid/content/tfidf.npz"
    assert (first / tfidf).stat().st_ino != (second / tfidf).stat().st_ino
    (second / "hybrid" / "content" / "features.json").write_text("[]")
    with caplog.at_level(logging.WARNING):
        third = train(TrainingData(renamed, ratings, None), models, small_config())
    assert "damaged" in caplog.text
    assert (third / tfidf).stat().st_ino != (second / tfidf).stat().st_ino
    assert Recommender.load_latest(models).version == third.name


def test_more_like_this_stays_in_the_section_and_starts_with_the_same_director(
    recommender: Recommender,
) -> None:
    similar = recommender.similar("tt0000001", 3)
    # "Night Street" (Ann Noir crime drama): her other two crime dramas first, movies only
    assert set(similar[:2]) == {"tt0000002", "tt0000003"}
    assert "tt0000001" not in similar and "tt0000101" not in similar
    assert recommender.similar("tt9999999") == []


# --- cold start --------------------------------------------------------------------------------

MOVIE_POPULARITY = ["tt0000008", "tt0000001", "tt0000002", "tt0000009", "tt0000005", "tt0000012"]


def test_no_likes_gives_the_popular_titles_of_the_favourite_genres(recommender: Recommender) -> None:
    profile = [("tt0000005", -1)]  # a dislike is not a like
    out = recommender.recommend(profile, "movie", n=6, favourite_genres=["Sci-Fi", "Romance"])
    # Sci-Fi or Romance movies by their training positives (5 each; Summer and Winter Letters 4),
    # then by IMDb popularity: 85, 65, 45, 35, 25, 22 (Summer Letters, 55, comes after)
    assert out["tconst"].to_list() == ["tt0000008", "tt0000009", "tt0000010", "tt0000011", "tt0000007", "tt0000014"]
    assert out["reason"].to_list() == [
        "Popular in Sci-Fi",
        "Popular in Sci-Fi",
        "Popular in Sci-Fi",
        "Popular in Sci-Fi",
        "Popular in Romance",
        "Popular in Romance",
    ]
    for name in ("content", "als", "taste"):
        assert out[name].is_nan().all()
    assert out["popularity"].is_finite().all()
    # fewer favourite-genre titles than asked: topped up with the rest, never a rated one
    many = recommender.recommend(profile, "movie", n=20, favourite_genres=["Sci-Fi"])
    assert many.height == 16 - 1
    assert "tt0000005" not in many["tconst"].to_list()
    assert many["tconst"].to_list()[4:7] == ["tt0000001", "tt0000002", "tt0000006"]
    assert many["reason"].to_list()[4:] == ["Popular on IMDb"] * (many.height - 4)
    # no favourite genres either: the global list (positives, then IMDb popularity)
    assert recommender.recommend([], "movie", n=6)["tconst"].to_list() == [
        "tt0000008",
        "tt0000001",
        "tt0000002",
        "tt0000009",
        "tt0000006",
        "tt0000010",
    ]
    # without any training positive: IMDb popularity (test_no_ratings_no_likes_keeps_imdb_popularity)


def test_one_like_gets_the_cold_start_blend_and_follows_the_liked_genres(recommender: Recommender) -> None:
    one = [("tt0000012", 1)]  # Summer Letters: a romance drama
    cold = recommender.config.cold_start_weights
    assert recommender.effective_weights(Profile.of(one), None) == cold
    feed = recommender.recommend_feed(one, n=6)
    movies, tv = feed["movie"], feed["tv"]
    for out in (movies, tv):
        assert out["content"].is_finite().all() and out["taste"].is_finite().all()
        assert out["popularity"].is_finite().all()
    # not the global popularity list: the liked title's genres pull the other romances up
    assert movies["tconst"].to_list() != MOVIE_POPULARITY
    rank = {t: i for i, t in enumerate(movies["tconst"].to_list())}
    popularity_rank = {t: i for i, t in enumerate(MOVIE_POPULARITY)}
    assert rank.get("tt0000013", 99) < popularity_rank.get("tt0000013", 99)
    # a superlike is one like too
    assert recommender.effective_weights(Profile.of([("tt0000012", 2)]), None) == cold


def test_the_hybrid_takes_over_at_the_threshold(recommender: Recommender) -> None:
    threshold = recommender.config.hybrid_from_likes
    assert threshold == 3  # chosen on validation: see the service docstring
    likes = [("tt0000012", 1), ("tt0000013", 1), ("tt0000014", 1)]
    below, at = likes[: threshold - 1], likes[:threshold]
    assert recommender.effective_weights(Profile.of(below), None) == recommender.config.cold_start_weights
    assert recommender.effective_weights(Profile.of(at), None) == recommender.config.hybrid.weights
    out = recommender.recommend(at, "movie", n=6)
    assert out["als"].is_finite().any()
    # dislikes do not count towards the threshold
    with_dislike = [*below, ("tt0000001", -1)]
    assert recommender.effective_weights(Profile.of(with_dislike), None) == recommender.config.cold_start_weights


def test_the_threshold_and_the_cold_blend_are_settings(recommender: Recommender) -> None:
    cfg = replace(recommender.config, hybrid_from_likes=2, cold_start_weights={"content": 1.0})
    rec = Recommender(recommender.hybrid, recommender.titles, cfg)
    one, two = [("tt0000012", 1)], [("tt0000012", 1), ("tt0000013", 1)]
    out = rec.recommend(one, "movie", n=3)
    assert out["als"].is_nan().all() and out["popularity"].is_nan().all()  # content alone
    assert rec.recommend(two, "movie", n=3)["als"].is_finite().any()
    loaded = RecommenderConfig.from_dict(cfg.to_dict())
    assert loaded.hybrid_from_likes == 2 and loaded.cold_start_weights["content"] == 1.0


# --- feature-poor likes (issue 18: IndexError when no liked title has a word or person) --------


def _feature_poor_recommender(titles: pl.DataFrame, ratings: pl.DataFrame) -> Recommender:
    """The fixture catalogue plus three films whose titles are only stop words or digits and
    that have no people ("Up", "1917", "Get Out"), like 8,858 titles of the mirror."""
    poor = pl.DataFrame(
        [
            {**titles.row(0, named=True), "tconst": t, "primary_title": name, "directors": [], "writers": []}
            for t, name in (("tt0000901", "Up"), ("tt0000902", "1917"), ("tt0000903", "Get Out"))
        ],
        schema=titles.schema,
    )
    return Recommender.fit(TrainingData(pl.concat([titles, poor]), ratings), small_config())


def test_likes_without_any_word_or_person_feature_are_recommended_for(
    titles: pl.DataFrame, ratings: pl.DataFrame
) -> None:
    rec = _feature_poor_recommender(titles, ratings)
    for likes in (["tt0000901"], ["tt0000901", "tt0000902", "tt0000903"]):
        feed = rec.recommend_feed([(t, 1) for t in likes], n=5)
        assert feed["movie"].height == 5 and feed["tv"].height == 5
        assert all(feed["movie"]["reason"].to_list())
        assert not set(likes) & set(feed["movie"]["tconst"].to_list())
    assert rec.similar("tt0000902", 3)


def test_an_unexpected_error_inside_ranking_is_one_clear_model_error(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("index 0 is out of bounds")

    monkeypatch.setattr(Recommender, "_rank", broken)
    with pytest.raises(ModelError, match="Could not compute recommendations .IndexError.; the error was logged"):
        recommender.recommend_feed([("tt0000001", 1)], n=3)
    assert "computing recommendations failed" in caplog.text


def test_no_ratings_no_likes_keeps_imdb_popularity(recommender: Recommender, titles: pl.DataFrame) -> None:
    # titles without counts (a model saved before them, or no training positive at all)
    bare = Recommender(recommender.hybrid, titles, recommender.config)
    assert bare.sections["movie"].positives is None
    # the catalogue's popularity: 85, 80, 70, 65, 60, 55
    assert bare.recommend([], "movie", n=6)["tconst"].to_list() == [
        "tt0000008",
        "tt0000001",
        "tt0000002",
        "tt0000009",
        "tt0000005",
        "tt0000012",
    ]
