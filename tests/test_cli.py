"""The CLI as scripts use it: help, exit codes, one-line errors, progress lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.config import Settings
from tests.support.cli import cli, run_cli

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_help_lists_commands() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("fetch", "build", "stats"):
        assert command in out.stdout
    assert run_cli("fetch", "--help").returncode == 0


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_fetch_and_build_from_local_sources(tmp_path: Path, fixture_sources: tuple[Path, Path]) -> None:
    env = {
        "CINEBLEND_DATA_DIR": str(tmp_path / "data"),
        "CINEBLEND_IMDB_BASE_URL": str(fixture_sources[0]),
        "CINEBLEND_MOVIELENS_URL": str(fixture_sources[1]),
    }
    fetched = run_cli("fetch", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "title.basics.tsv.gz" in fetched.stderr  # progress lines
    built = run_cli("build", env=env)
    assert built.returncode == 0, built.stderr
    assert "Built catalogue" in built.stdout
    stats = run_cli("stats", "--json", env=env)
    assert stats.returncode == 0 and '"titles"' in stats.stdout
    table = run_cli("stats", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[0] == "Titles" and "{" not in table.stdout  # a table, not Python dicts
    assert any(line.startswith("  Movies") for line in lines)
    assert any(line.startswith("Built") and "UTC" in line for line in lines)


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_failures_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    env = {
        "CINEBLEND_DATA_DIR": str(tmp_path / "data"),
        "CINEBLEND_IMDB_BASE_URL": str(tmp_path / "nowhere"),
        "CINEBLEND_MOVIELENS_URL": str(tmp_path / "nowhere" / "ml.zip"),
    }
    fetched = run_cli("fetch", env=env)
    assert fetched.returncode == 1
    errors = [line for line in fetched.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in fetched.stderr
    built = run_cli("build", env=env)
    assert built.returncode == 1 and "recsys fetch" in built.stderr
    assert not (tmp_path / "data" / "parquet").exists()


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
@pytest.mark.parametrize("value", ["-3", "many"])
def test_bad_setting_is_reported(tmp_path: Path, value: str) -> None:
    out = run_cli("stats", env={"CINEBLEND_DATA_DIR": str(tmp_path), "CINEBLEND_MIN_VOTES": value})
    assert out.returncode == 1 and "CINEBLEND_MIN_VOTES" in out.stderr


# --- recommend / similar on the trained fixture model (in process, same entry point) ----------

A, B = "tt0100018", "tt0200001"  # Harbor Lights (drama romance film), Starlight Precinct (crime show)


def test_like_twice_and_like_with_two_ids_are_the_same_profile(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, repeated, err = cli(capsys, "recommend", "--like", A, "--like", B, "-n", "5", "--json")
    assert code == 0, err
    code, listed, err = cli(capsys, "recommend", "--like", A, B, "-n", "5", "--json")
    assert code == 0, err
    assert json.loads(repeated) == json.loads(listed)
    data = json.loads(listed)
    assert set(data) == {"movie", "tv"}
    for kind, items in data.items():
        ids = [item["tconst"] for item in items]
        assert len(ids) == 5 and len(set(ids)) == 5, kind
        assert A not in ids and B not in ids
        assert [item["rank"] for item in items] == [1, 2, 3, 4, 5]
        assert {"tconst", "primary_title", "start_year", "score", "reason"} <= set(items[0])
    # both likes count: the lists differ from the one-like profile
    code, single, _ = cli(capsys, "recommend", "--like", A, "-n", "5", "--json")
    assert code == 0 and json.loads(single) != data


def test_weights_by_name_on_the_command_line(model_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys, "recommend", "--like", A, B, "--type", "movie", "-n", "3", "--weights", "content=1,als=0"
    )
    assert code == 0, err
    assert out.startswith("== Movies ==") and len(out.strip().splitlines()) == 4
    code, legacy, err = cli(capsys, "recommend", "--like", A, B, "--type", "movie", "-n", "3", "--weights", "1,0,0")
    assert code == 0 and legacy == out  # the old positional content,als,popularity
    code, out, err = cli(capsys, "recommend", "--like", A, "--weights", "nope=1")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Unknown scorer 'nope'")
    assert "known: content, als, taste, popularity" in lines[0]
    code, _, err = cli(capsys, "recommend", "--like", A, "--weights", "content=0,als=0")
    assert code == 1 and "must not all be zero" in err


def test_recommend_with_an_unknown_title_exits_1(model_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "recommend", "--like", "tt9999999")
    assert code == 1 and out == "" and "not in the catalogue" in err
    code, _, err = cli(capsys, "recommend", "--like", "godfather")
    assert code == 1 and "not an IMDb title id" in err


def test_similar_json_lists_other_titles_with_rank_score_and_reason(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "similar", A, "-n", "4", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["similar_to"] == A
    items = data["items"]
    assert 1 <= len(items) <= 4
    for item in items:
        assert {"tconst", "rank", "score", "reason"} <= set(item)
        assert item["reason"]  # why it is there ("Same director: ...", "Crime, Drama")
    ids = [item["tconst"] for item in items]
    assert A not in ids and len(set(ids)) == len(ids)
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    # the same list the app's "More like this" shows
    from recsys.models import Recommender

    rec = Recommender.load_latest(model_settings.models_dir)
    assert ids == rec.similar(A, 4)
    assert [item["reason"] for item in items] == rec.similar_explained(A, 4)["reason"].to_list()


def test_similar_of_an_unknown_title_exits_1(model_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "similar", "tt9999999", "--json")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "tt9999999 is not in the catalogue" in err


def test_search_finds_a_tconst_by_title(app_settings: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "search", "harbor", "--json", "-n", "2")
    assert code == 0, err
    data = json.loads(out)
    assert data["query"] == "harbor"
    assert [i["tconst"] for i in data["items"]] == ["tt0100017", "tt0100018"]  # exact title first
    assert data["items"][0]["primary_title"] == "Harbor" and data["items"][0]["rank"] == 1
    code, out, _ = cli(capsys, "search", "harbor", "--type", "tv")
    assert code == 0 and "tt0200014" in out and "Harbor Patrol" in out and "tt0100017" not in out
    code, out, _ = cli(capsys, "search", "zzzzqqq")
    assert code == 0 and "No titles match" in out


@pytest.mark.parametrize("argv", [(), ("",), ("   ",)])
def test_search_without_text_is_a_one_line_error(
    app_settings: object, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = cli(capsys, "search", *argv)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "search needs some text" in err
