"""``python -m recsys evaluate`` on the fixture catalogue: text and JSON output, exit codes, and a
dump from which the figures can be recomputed with a few lines of independent code."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.evaluation.runner import model_names
from recsys.models import registry
from recsys.store import Store
from tests.support.cli import cli

K = 5


def add_app_users(settings: Settings, n_users: int = 4, per_user: int = 7) -> None:
    """App users who each like ``per_user`` catalogue titles (the last one superliked) and
    dislike one, in a different rotation each."""
    with Catalog(settings.parquet_dir) as catalog:
        ids = catalog.all_titles()["tconst"].to_list()
    with Store.open(settings.store_url) as store:
        for u in range(n_users):
            user = store.create_user(f"tester{u}", f"Tester {u}", f"t{u}@example.com", "x")
            picks = [ids[(u * 3 + i) % len(ids)] for i in range(per_user + 1)]
            for i, tconst in enumerate(picks[:-1]):
                store.rate(user.id, tconst, 2 if i == per_user - 1 else 1)
            store.rate(user.id, picks[-1], -1)


def test_nobody_to_test_exits_1_with_a_reason(app_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "evaluate")  # the fixture's MovieLens users have at most 3 positives
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1].startswith("error: No user has 5 or more positive ratings")
    code, _, err = cli(capsys, "evaluate", "--sweep", "0:2:0.1")
    assert code == 1 and "0 <= start <= stop <= 1" in err


def test_text_output_and_json_agree(app_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    small = ("--min-positives", "3", "-k", str(K), "--sweep", "0:1:0.5", "--iterations", "5")
    code, text, err = cli(capsys, "evaluate", *small)
    assert code == 0, err
    assert "evaluation: scoring users (" in err  # progress goes to stderr
    lines = text.splitlines()
    assert lines[0].startswith("MovieLens ratings, temporal protocol, K=5: 2 tested users")
    assert any(line.startswith("Model ") and "NDCG@5" in line for line in lines)
    assert sum("◀ best" in line for line in lines) == 1
    best = [line for line in lines if line.startswith("Best step by NDCG@5 (chosen on ")]
    assert len(best) == 1 and "): content " in best[0] and "taste" in best[0]
    code, out, _ = cli(capsys, "evaluate", *small, "--json")
    data = json.loads(out)
    assert [m["model"] for m in data["models"]] == list(model_names())
    assert [m["model"] for m in data["models"]][:5] == ["popularity", "content", "ALS", "taste", "popularity (IMDb)"]
    hybrid = next(m for m in data["models"] if m["model"] == "hybrid (current)")
    row = next(line for line in lines if line.startswith("hybrid (current)"))
    assert f"{hybrid['ndcg']:.4f}" in row.split()
    assert data["weights"] == registry.default_weights()  # the live weights (never set: defaults)
    assert data["best"]["chosen_on"] in ("validation", "test")
    assert f"chosen on {'validation' if data['best']['chosen_on'] == 'validation' else 'the test users'}" in text
    assert data["significance"]["n_users"] == 2


def test_dump_recomputes_ndcg_independently(
    app_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_app_users(app_settings)
    dump = tmp_path / "dump"
    code, out, err = cli(
        capsys,
        "evaluate",
        "--with-app-data",
        "--min-positives",
        "3",
        "-k",
        str(K),
        "--sweep",
        "0:1:0.25",
        "--iterations",
        "5",
        "--json",
        "--dump",
        str(dump),
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["counts"]["app_users"] == 4 and data["counts"]["users"] == 6
    assert sorted(p.name for p in dump.iterdir()) == sorted(
        [
            "test.parquet",
            "train.parquet",
            "summary.json",
            "popularity.parquet",
            *(f"{registry.SCORERS[n].dump}.parquet" for n in registry.names()),  # one per scorer
            "hybrid.parquet",
            "hybrid_best.parquet",
            "served.parquet",
        ]
    )

    # --- independent recomputation: binary-relevance NDCG@K, mean over every tested user
    test = pl.read_parquet(dump / "test.parquet")
    relevant = {u: set(items) for u, items in test.group_by("user_id").agg("tconst").iter_rows()}
    assert len(relevant) == 6 and sum(u < 0 for u in relevant) == 4  # app users have negative ids
    files = {
        "popularity": "popularity",
        "content": "content",
        "ALS": "als",
        "taste": "taste",
        "popularity (IMDb)": "popularity_imdb",
        "hybrid (current)": "hybrid",
        "hybrid (best sweep step)": "hybrid_best",
        "served (hybrid + ranking stages)": "served",
    }
    for model, name in files.items():
        lists = pl.read_parquet(dump / f"{name}.parquet")
        assert lists.columns == ["user_id", "tconst", "rank"]
        total = 0.0
        for user, rel in relevant.items():
            ranks = lists.filter((pl.col("user_id") == user) & pl.col("tconst").is_in(list(rel)))["rank"]
            dcg = sum(1 / math.log2(r + 1) for r in ranks.to_list() if r <= K)
            ideal = sum(1 / math.log2(i + 2) for i in range(min(len(rel), K)))
            total += dcg / ideal
        reported = next(m["ndcg"] for m in data["models"] if m["model"] == model)
        assert total / len(relevant) == pytest.approx(reported, abs=1e-12), model
    assert json.loads((dump / "summary.json").read_text())["models"] == data["models"]
    # the training ratings of the dump: no held-out positive among its user's training ratings,
    # and the app users' ratings are in it (negative ids)
    train = pl.read_parquet(dump / "train.parquet")
    assert train.height == data["counts"]["train"]
    assert train.join(test, on=["user_id", "tconst"]).height == 0
    assert (train["user_id"] < 0).any()
