"""The evaluation adapters agree with each other and with the models."""

from __future__ import annotations

import numpy as np

from recsys.evaluation import SplitIndex, evaluate, split
from recsys.evaluation.scoring import component_scores, hybrid_fn, normalise_components, scorer_fn
from recsys.models import ALSConfig, TfidfConfig, TrainingData, WeightedHybrid, registry
from tests.models.conftest import make_ratings, make_titles


def test_sweep_path_equals_the_hybrid_scorer() -> None:
    ratings = make_ratings()
    sp = split(ratings)
    assert sp.users  # the tiny data has users with 5+ positives
    hybrid = WeightedHybrid.from_configs(
        {"content": TfidfConfig(min_df=1), "als": ALSConfig(factors=8, iterations=10, num_threads=1, random_state=1)}
    ).fit(TrainingData(titles=make_titles(), ratings=sp.train))
    index = SplitIndex(sp)
    direct = evaluate(index, scorer_fn(hybrid, index), k=3)
    comps = component_scores(hybrid, index)
    swept = evaluate(index, hybrid_fn(normalise_components(comps), hybrid.config.weights), k=3)
    assert direct.top == swept.top
    assert direct.summary == swept.summary
    # training items never come back
    for user, top in direct.top.items():
        assert not set(top) & set(index.histories[user]["tconst"].to_list())
    # a single-scorer weight reproduces that scorer's ranking
    for name in registry.names():
        alone = evaluate(index, hybrid_fn(normalise_components(comps), {name: 1.0}), k=3)
        assert alone.top == evaluate(index, scorer_fn(hybrid[name], index), k=3).top, name
    assert np.isfinite(list(direct.summary.values())).all()
