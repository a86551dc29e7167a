"""A corrupt catalogue (Parquet) or model file: a clear error with a way to rebuild, never a crash.

Catalogue: the CLI exits 1 with one line naming ``python -m recsys build``; the app shows that
message on every page that needs the catalogue, keeps sign-in working, and its Data page
rebuilds the catalogue (after which the feed serves again).
Model: the newest intact version is used; with none left the CLI says to run
``python -m recsys train``, the feed falls back to popularity, and retraining recovers even
from damage that kept the file's size and time stamp.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from recsys.app.pipeline import train_model
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.errors import CatalogError, ModelError
from recsys.models.artifacts import latest_version
from recsys.models.service import Recommender
from tests.app.helpers import after_jobs, alerts, open_section, start
from tests.badinput.support import bounded, make_user, signed_in
from tests.support.cli import cli, cli_env, one_line_error, run_cli
from tests.support.narrow import present

LIKES = ("tt0100001", "tt0100003", "tt0100008", "tt0100018", "tt0100020",
         "tt0200001", "tt0200002", "tt0200003", "tt0200004", "tt0200005")  # fmt: skip
REBUILD = "rebuild it with `python -m recsys build`"
TRAIN = "run `python -m recsys train`"


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def flip_byte(path: Path, *, keep_mtime: bool = False) -> None:
    """Damage one byte in the middle; optionally keep size and mtime (as bit rot does)."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    with path.open("r+b") as fh:  # in place: a hard-linked copy is damaged too
        fh.write(data)
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


DAMAGE = {
    "truncated": truncate,
    "empty": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_bytes(os.urandom(4096)),
    "deleted footer": lambda p: p.write_bytes(p.read_bytes()[:-8]),
}
# One flipped byte inside a Parquet data page is not always detectable (the catalogue has no
# checksums; zstd frames are written without one): it is a model-file case only, where the
# manifest's SHA-256 catches it.
MODEL_DAMAGE = {**DAMAGE, "one byte": flip_byte}


def feed_reasons(at: AppTest) -> list[str]:
    """The reasons on the feed's open section."""
    return [
        html.unescape(reason)
        for h in at.html
        for reason in re.findall(r'<div class="cb-reason">(.*?)</div>', str(h.value))
        if html.unescape(reason).startswith(("Because", "Popular"))
    ]


def both_sections_reasons(at: AppTest) -> tuple[list[str], list[str]]:
    """The reasons on the Movies section, then on the TV section (opening each tab)."""
    sections = []
    for kind in ("movie", "tv"):
        open_section(at, kind)
        assert not at.exception
        sections.append(feed_reasons(at))
    return sections[0], sections[1]


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_titles_parquet_says_to_rebuild(app_settings: Settings, damage: str) -> None:
    DAMAGE[damage](app_settings.parquet_dir / "titles.parquet")
    with pytest.raises(CatalogError) as info:
        Catalog(app_settings.parquet_dir)
    message = str(info.value)
    assert REBUILD in message and "\n" not in message


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_cli_exits_1_with_one_line_on_a_truncated_catalogue(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate(model_settings.parquet_dir / "titles.parquet")
    assert REBUILD in one_line_error(run_cli("stats", env=cli_env(model_settings.data_dir)))
    for args in (("recommend", "--like", "tt0100001"), ("train",)):
        assert REBUILD in one_line_error(cli(capsys, *args)), args
    assert latest_version(model_settings.models_dir) is not None  # the old model is untouched


def test_app_explains_a_truncated_catalogue_and_rebuilds_it(app_settings: Settings) -> None:
    make_user(app_settings, likes=LIKES)
    truncate(app_settings.parquet_dir / "titles.parquet")

    visitor = start()  # signed out: the sign-in page does not need the catalogue
    assert visitor.title[0].value == "CineBlend" and not alerts(visitor, "error")

    at = signed_in()
    for page in ("pages/feed.py", "pages/search.py", "pages/history.py", "pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        errors = alerts(at, "error")
        assert len(errors) == 1 and REBUILD in errors[0], (page, errors)
    # the data page (where the app sends you) offers the rebuild; it works from the raw sources
    at.button(key="data-fetch-build").click().run()
    at = after_jobs(at)
    assert not at.exception
    assert any("Catalogue and recommender ready" in s for s in alerts(at, "success"))
    with Catalog(app_settings.parquet_dir) as rebuilt:
        assert rebuilt.all_titles().height == 38
    at.switch_page("pages/feed.py").run()
    assert not at.exception and not alerts(at, "error")
    movies, shows = both_sections_reasons(at)
    assert (len(movies), len(shows)) == (8, 8)  # the first two rows of each (16 TV titles, 5 liked)


def test_catalogue_damaged_while_the_app_runs(app_settings: Settings) -> None:
    make_user(app_settings, likes=LIKES)
    at = signed_in()
    first = next(str(b.key) for b in at.button if str(b.key).startswith("rate-feed-movie-"))
    truncate(app_settings.parquet_dir / "titles.parquet")  # the cached catalogue reads it anew
    at.button(key=first).click().run()
    assert not at.exception
    assert any(REBUILD in e for e in alerts(at, "error"))


# ------------------------------------------------------------------------------- the model


def test_damaged_newest_model_falls_back_to_the_previous_version(model_settings: Settings) -> None:
    models = model_settings.models_dir
    older = present(latest_version(models))
    newest = train_model(model_settings)
    flip_byte(newest / "hybrid" / "als" / "als.npz")  # ALS is never shared between versions
    assert Recommender.load_latest(models).version == older

    make_user(model_settings, likes=LIKES)
    at = signed_in()
    assert not at.exception and not alerts(at, "error")
    assert any(r.startswith("Because you liked") for r in feed_reasons(at))  # the model serves
    at.switch_page("pages/data.py").run()
    assert any(older in str(c.value) for c in at.caption)


@pytest.mark.parametrize("damage", MODEL_DAMAGE)
@pytest.mark.parametrize("file", ["hybrid/content/tfidf.npz", "hybrid/als/items.json", "titles.parquet"])
def test_any_damaged_model_file_says_to_train(model_settings: Settings, damage: str, file: str) -> None:
    version = model_settings.models_dir / present(latest_version(model_settings.models_dir))
    MODEL_DAMAGE[damage](version / file)
    with pytest.raises(ModelError) as info:
        Recommender.load_latest(model_settings.models_dir)
    assert str(info.value).endswith("run `python -m recsys train`.") and "\n" not in str(info.value)


def test_only_model_damaged_cli_says_to_train_and_the_feed_falls_back(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    version = model_settings.models_dir / present(latest_version(model_settings.models_dir))
    flip_byte(version / "hybrid" / "content" / "tfidf.npz")
    assert TRAIN in one_line_error(cli(capsys, "recommend", "--like", "tt0100001"))

    make_user(model_settings, likes=LIKES)
    at = signed_in()
    assert not at.exception and not alerts(at, "error")
    movies, shows = both_sections_reasons(at)
    assert (len(movies), len(shows)) == (8, 8)
    assert all(r.startswith("Popular") for r in movies + shows)  # popularity
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert any("train" in w for w in alerts(at, "warning") + alerts(at, "error")), alerts(at, "warning") + alerts(
        at, "error"
    )  # the way out is offered
    assert at.button(key="data-train") is not None


@given(
    content=st.one_of(
        st.binary(max_size=64),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
            max_leaves=6,
        ).map(lambda v: json.dumps(v).encode()),
        st.sampled_from([b"null", b"[]", b'{"format": 1, "version": "x", "files": {"a": 1}}']),
    )
)
@bounded(40)
def test_any_damaged_manifest_is_a_model_error(
    trained_models: Path, tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    models = tmp_path_factory.mktemp("models")
    shutil.copytree(trained_models, models, dirs_exist_ok=True)
    version = models / present(latest_version(models))
    (version / "manifest.json").write_bytes(content)
    with pytest.raises(ModelError, match="run `python -m recsys train`"):
        Recommender.load_latest(models)


def test_retraining_recovers_from_damage_that_kept_size_and_time(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bit rot in a file a retrain reused: versions hold their own copies (issue 21, N6), so only
    the damaged version fails, the previous one still loads, and training again must not copy the
    damaged file into the new version under its old checksum."""
    models = model_settings.models_dir
    previous = latest_version(models)
    newest = train_model(model_settings)
    reused = newest / "hybrid" / "content" / "tfidf.npz"  # the content model: catalogue only
    assert reused.stat().st_nlink == 1  # a copy, not a link shared with the previous version
    flip_byte(reused, keep_mtime=True)
    assert Recommender.load_latest(models).version == previous  # the older version is served

    proc = cli(capsys, "train")
    assert proc.returncode == 0, proc.stderr
    recovered = Recommender.load_latest(models)
    assert recovered.version == latest_version(models) != newest.name
    assert not recovered.recommend([("tt0100001", 1)], "movie", n=3).is_empty()
