"""The build's ``language`` / ``region`` columns: from the titles alone, and with a hand-written
``title.akas`` (tests/fixtures/make_data.py ``AKAS``) through the real build."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from recsys.__main__ import main
from recsys.catalog.build import build
from recsys.config import Settings
from tests.fixtures.make_data import write_raw_fixture

#: tconst -> (language, region) expected with the akas fixture / without it.
WITH_AKAS = {
    "tt0100001": ("en", None),
    "tt0100010": ("de", "DE"),
    "tt0100018": ("hi", "IN"),
    "tt0200005": ("fr", "FR"),
    "tt0100021": ("en", None),
    "tt0100019": (None, None),
}
WITHOUT_AKAS = {
    "tt0100001": ("en", None),
    "tt0100010": (None, None),
    "tt0100018": (None, None),
    "tt0200005": ("fr", None),
    "tt0100021": ("en", None),
    "tt0100019": (None, None),
}


def _languages(settings: Settings) -> dict[str, tuple[str | None, str | None]]:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT tconst, language, region FROM read_parquet(?)", [str(settings.parquet_dir / "titles.parquet")]
        ).fetchall()
    return {t: (lang, region) for t, lang, region in rows}


def test_akas_give_languages_and_regions(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw", akas=True)
    settings = Settings(data_dir=tmp_path)
    manifest = build(settings)
    found = _languages(settings)
    assert {t: found[t] for t in WITH_AKAS} == WITH_AKAS
    assert manifest["with_akas"] is True
    assert manifest["sources"]["title.akas.tsv.gz"]["bytes"] > 0
    assert sum(manifest["languages"].values()) == manifest["row_counts"]["titles"]
    assert manifest["languages"]["de"] == 1 and manifest["languages"]["hi"] == 1


def test_without_akas_languages_come_from_titles_and_the_build_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_raw_fixture(tmp_path / "raw")
    settings = Settings(data_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="recsys.catalog.build"):
        manifest = build(settings)
    found = _languages(settings)
    assert {t: found[t] for t in WITHOUT_AKAS} == WITHOUT_AKAS
    assert all(region is None for _, region in found.values())
    assert manifest["with_akas"] is False
    assert "title.akas.tsv.gz is absent: title languages come from the original titles only (no region)." in (
        caplog.text
    )


def test_with_akas_off_ignores_a_present_akas_file(tmp_path: Path) -> None:
    write_raw_fixture(tmp_path / "raw", akas=True)
    settings = Settings(data_dir=tmp_path, with_akas=False)
    manifest = build(settings)
    assert manifest["with_akas"] is False
    assert _languages(settings)["tt0100010"] == (None, None)


def test_stats_show_language_counts_and_the_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_raw_fixture(tmp_path / "raw")
    build(Settings(data_dir=tmp_path))
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path))
    assert main(["stats"]) == 0
    lines = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    counts = _languages(Settings(data_dir=tmp_path))
    english = sum(1 for lang, _ in counts.values() if lang == "en")
    unknown = sum(1 for lang, _ in counts.values() if lang is None)
    assert lines["Languages"].split("  ", 1)[1].strip().startswith(f"en {english},")
    assert lines["Languages"].endswith(f"unknown {unknown}")
    assert lines["Language evidence"].endswith("original titles only (title.akas.tsv.gz absent: no regions)")
