"""New users offline: a simulated tester after onboarding, and the cold-start table by likes.

**Who.** ``users`` tested users of the strict temporal split with at least ``min_positives``
positives are drawn (seeded) and *left out of training entirely* (every rating of theirs): ALS
never saw them and folds them in from their clicks, as it does for a new tester.

**Onboarding.** From a drawn user's training positives (before their first held-out one),
``likes`` are drawn (seeded); their favourite genres are the ``genres`` most frequent among those
liked titles. The relevant items are the user's held-out positives, as in the strict protocol.
The full catalogue of training items is ranked; every title the user rated before the held-out
ones is excluded from the ranking (as in the strict protocol: they were seen already), though
only the picks are known to the recommender.

``stage="validation"`` runs the same on the validation split carved from training (to choose the
cold-start blend); ``"test"`` reports.

**Lists compared** (NDCG etc. at K, averaged over ``draws`` seeded draws; ``ndcg_ci95`` is the
half-width of the 95% interval of the mean NDCG over the draws, ``t_{0.975, draws-1} * sd /
sqrt(draws)``: one draw is not a measurement, the same code gives 0.083-0.105 across samples):

- ``popularity``: the classic baseline (``ln(1 + positives)`` in training);
- ``served``: what the feed serves (:func:`recsys.models.config.served_weights`: no ALS below
  ``hybrid_from_likes`` likes, then the ranking stages with ``base.stages``), from the clicks and
  the favourite genres;
- ``hybrid``: the full blend with the same weights, ALS included whatever the number of likes;
- ``popular in genres``: the no-likes fallback (popular titles in the favourite genres: by
  training positives, then IMDb popularity, as :meth:`recsys.models.service.Recommender._popular`).

:func:`cold_start_table` repeats it for 1, 2, 3, 5 and 10 likes; :func:`onboarding` is the issue's
"new user after onboarding" row (5 likes + 5 genres).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from recsys.evaluation import metrics as M
from recsys.evaluation.scoring import top_k
from recsys.evaluation.served import ItemFacts
from recsys.evaluation.splits import Split, split, validation_split
from recsys.models import registry
from recsys.models.base import Profile, Scorer, TrainingData
from recsys.models.config import RecommenderConfig, served_weights
from recsys.models.hybrid import WeightedHybrid, blend, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.models.rerank import registry as rerank
from recsys.models.sections import catalogue_shares
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

LISTS = ("popularity", "popular in genres", "served", "hybrid")


@dataclass(frozen=True)
class NewUserConfig:
    likes: int = 5
    genres: int = 5
    users: int = 100
    draws: int = 3
    k: int = 10
    min_positives: int = 5
    seed: int = 7
    stage: str = "test"  # "validation": the same on the validation split carved from training


def onboarding(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    config: NewUserConfig | None = None,
    *,
    base: RecommenderConfig | None = None,
    reuse: Mapping[str, Scorer] | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, float]]:
    """``{list: {metric: mean over users and draws}}`` for a simulated new user (module docstring)."""
    return cold_start_table(
        titles, ratings, (config or NewUserConfig()).likes, config, base=base, reuse=reuse, progress=progress
    )[0]["lists"]


def cold_start_table(
    titles: pl.DataFrame,
    ratings: pl.DataFrame,
    likes: int | Sequence[int] = (1, 2, 3, 5, 10),
    config: NewUserConfig | None = None,
    *,
    base: RecommenderConfig | None = None,
    reuse: Mapping[str, Scorer] | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One row per number of likes: ``{"likes": n, "lists": {list: {metric: value}}}``."""
    config = config or NewUserConfig()
    base = base or RecommenderConfig()
    progress = progress or null_progress
    counts = [likes] if isinstance(likes, int) else list(likes)
    genres_of = _genres(titles)
    sums: dict[int, dict[str, dict[str, list[float]]]] = {
        n: {name: {m: [] for m in ("ndcg", "recall", "hit_rate")} for name in LISTS} for n in counts
    }
    per_draw: dict[int, dict[str, list[float]]] = {n: {name: [] for name in LISTS} for n in counts}
    strengths = rerank.check_strengths(base.stages)
    configs = {n: base.scorer_config(n) for n in registry.names()}
    fixed = registry.fit_catalogue_scorers(TrainingData(titles=titles), configs, reuse)
    shares = catalogue_shares(titles)  # the same for every draw
    for draw in range(config.draws):
        rng = np.random.default_rng(config.seed + draw)
        sp = split(ratings, "temporal", min_positives=config.min_positives, seed=config.seed)
        if config.stage == "validation":
            sp = validation_split(sp)
        eligible = sp.users
        chosen = sorted(rng.choice(eligible, size=min(config.users, len(eligible)), replace=False).tolist())
        train = sp.train.filter(~pl.col(sp.user_col).is_in(chosen))
        data = TrainingData(titles=titles, ratings=train)
        hybrid = WeightedHybrid(registry.fit_scorers(data, configs, fixed))
        counted = PopularityScorer(PopularityConfig(source="interactions")).fit_frames(movielens_ratings=train)
        items = sorted(set(train[sp.item_col].to_list()))
        parts = {name: s.candidate_scorer(items) for name, s in hybrid.scorers.items()}
        baseline = counted.candidate_scorer(items)(Profile.of([]))
        position = {t: i for i, t in enumerate(items)}
        held_out = sp.relevant()
        facts = ItemFacts.of_items(items, titles, shares)
        marks = {n: {name: len(sums[n][name]["ndcg"]) for name in LISTS} for n in counts}
        for u_i, user in enumerate(chosen):
            progress(f"new users (draw {draw + 1} of {config.draws})", u_i, len(chosen))
            early = _positives(sp.train, sp, user)
            seen = sp.train.filter(pl.col(sp.user_col) == user)[sp.item_col].to_list()
            relevant = held_out.get(user, set())
            if not relevant:
                continue
            for n in counts:
                if len(early) < n:
                    continue
                # one stream per (draw, likes, user): a row does not depend on which others are asked
                pick_rng = np.random.default_rng([config.seed, draw, n, int(user) & 0x7FFFFFFF])
                picks = [early[i] for i in sorted(pick_rng.choice(len(early), size=n, replace=False).tolist())]
                favourites = _top_genres(picks, genres_of, config.genres)
                profile = Profile.of([(t, 1.0) for t in picks], genres=favourites)
                removed = np.asarray([position[t] for t in seen if t in position], dtype=np.int64)
                raw = {name: part(profile) for name, part in parts.items()}
                for r in raw.values():
                    r[removed] = np.nan
                normed = {name: normalise(r) for name, r in raw.items()}
                weights = dict(base.hybrid.weights)
                served = blend(normed, served_weights(weights, n, base.hybrid_from_likes, base.cold_start_weights))
                lists = {
                    "popularity": baseline,
                    # the feed's no-likes list: training positives first, IMDb popularity below
                    "popular in genres": _in_genres(
                        np.nan_to_num(baseline, nan=0.0) * 1000.0 + np.nan_to_num(raw["popularity"], nan=0.0),
                        items,
                        genres_of,
                        favourites,
                    ),
                    "served": facts.staged(served, removed, profile, strengths, config.k),
                    "hybrid": blend(normed, weights),
                }
                for name, scores in lists.items():
                    top = top_k(scores, removed, config.k)  # rated before: never recommended
                    rec = [items[i] for i in top]
                    sums[n][name]["ndcg"].append(M.ndcg_at_k(rec, relevant, config.k))
                    sums[n][name]["recall"].append(M.recall_at_k(rec, relevant, config.k))
                    sums[n][name]["hit_rate"].append(M.hit_rate_at_k(rec, relevant, config.k))
        for n in counts:
            for name in LISTS:
                values = sums[n][name]["ndcg"][marks[n][name] :]
                if values:
                    per_draw[n][name].append(float(np.mean(values)))
    rows = []
    for n in counts:
        figures = {
            name: {m: float(np.mean(v)) if v else float("nan") for m, v in ms.items()} for name, ms in sums[n].items()
        }
        for name in LISTS:
            figures[name]["ndcg_ci95"] = interval95(per_draw[n][name])
        users = len(sums[n]["served"]["ndcg"])
        rows.append({"likes": n, "users": users, "lists": figures})
    return rows


def interval95(draws: Sequence[float]) -> float:
    """Half-width of the 95% confidence interval of the mean of per-draw figures (Student's t;
    NaN with fewer than 2 draws). Example: [0.09, 0.10, 0.11] -> 4.303 * 0.01 / sqrt(3) = 0.0248."""
    if len(draws) < 2:
        return float("nan")
    from scipy.stats import t

    sd = float(np.std(draws, ddof=1))
    return float(t.ppf(0.975, len(draws) - 1) * sd / np.sqrt(len(draws)))


def render(rows: Sequence[Mapping[str, Any]], k: int = 10) -> str:
    """The cold-start table as text: NDCG@K per list and number of likes."""
    header = f"{'likes':>5}  {'users':>5}  " + "  ".join(f"{name:>18}" for name in LISTS)
    lines = [f"NDCG@{k} of a new user (left out of training) by number of likes", header]
    for row in rows:
        cells = "  ".join(f"{row['lists'][name]['ndcg']:>18.4f}" for name in LISTS)
        lines.append(f"{row['likes']:>5}  {row['users']:>5}  {cells}")
    return "\n".join(lines)


def _positives(ratings: pl.DataFrame, sp: Split, user: int) -> list[str]:
    mine = ratings.filter(pl.col(sp.user_col) == user, pl.col(sp.rating_col) >= 4.0).sort(sp.time_col, sp.item_col)
    return mine[sp.item_col].to_list()


def _genres(titles: pl.DataFrame) -> dict[str, list[str]]:
    return {t: list(g or ()) for t, g in zip(titles["tconst"].to_list(), titles["genres"].to_list(), strict=True)}


def _top_genres(picks: Sequence[str], genres_of: Mapping[str, Sequence[str]], n: int) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for t in picks:
        for g in genres_of.get(t, ()):
            counts[g] = counts.get(g, 0) + 1
    return tuple(g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def _in_genres(
    popularity: np.ndarray, items: Sequence[str], genres_of: Mapping[str, Sequence[str]], favourites: Sequence[str]
) -> np.ndarray:
    """The fallback: popular titles in the favourite genres first, then the rest."""
    wanted = set(favourites)
    inside = np.fromiter((bool(wanted.intersection(genres_of.get(t, ()))) for t in items), dtype=bool, count=len(items))
    pop = np.nan_to_num(popularity, nan=-np.inf)
    out = np.where(inside, pop + 1e6, pop)
    out[np.isnan(popularity)] = np.nan
    return out


__all__ = ["LISTS", "NewUserConfig", "cold_start_table", "onboarding", "render"]
