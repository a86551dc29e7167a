"""Stage names in plain words on the data page (issue 20: "check", "people", "write", "tokens",
"als" read as jargon)."""

from __future__ import annotations

from recsys.progress import plain_stage


def test_short_stage_names_become_words_and_counts_stay() -> None:
    assert plain_stage("Training the recommender: als: iterations (6 of 15)") == (
        "Training the recommender: collaborative model: training rounds (6 of 15)"
    )
    assert plain_stage("Building the catalogue: check") == "Building the catalogue: checking the downloaded files"
    assert plain_stage("content: tokens") == "content model: title words"
    assert plain_stage("title.basics.tsv.gz") == "title.basics.tsv.gz"  # a file name stays
