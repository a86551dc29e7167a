"""Ranking metrics at K and beyond-accuracy measures for offline evaluation.

Per-user metrics take ``recommended`` (a ranked list, best first; only the first ``k`` count) and
``relevant`` (the user's held-out items) and return a float; the reported figure is the mean over
tested users (MAP is the mean of :func:`average_precision_at_k`, MRR the mean of
:func:`reciprocal_rank_at_k`). A user with no relevant item scores 0 on every accuracy metric.
Relevance is binary. ``rel_i`` below is 1 when the item at rank ``i`` (1-based) is relevant.

List-level measures (:func:`catalogue_coverage`, :func:`novelty`,
:func:`average_popularity`, :func:`intra_list_diversity`) describe what is recommended rather than
whether it was right.

**Taste metrics** (issue 18; :data:`TASTE`) compare each user's list with that user's own taste:
:func:`miscalibration` (Steck 2018), :func:`popularity_lift` and :func:`tail_share`
(Abdollahpouri et al. 2019). They need what the split knows of the user (their training likes,
the head of the training catalogue), built once per split by
:class:`recsys.evaluation.taste.TasteContext`; the reported figure is the mean over tested users
for whom it is defined. Every registered figure carries a one-line ``definition`` that the
evaluation page and the CLI report print next to the tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recsys.models.rerank.distribution import ALPHA, distribution, kl_divergence


def _hits(recommended: Sequence[str], relevant: Collection[str], k: int) -> list[int]:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    return [1 if item in relevant else 0 for item in list(recommended)[:k]]


def precision_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the top ``k`` slots holding a relevant item.

    ``P@K = (sum_{i<=K} rel_i) / K`` (a list shorter than K still divides by K).
    Example: recommended [a, b, c, d], relevant {b, d, x}, K=4 -> 2/4 = 0.5.
    """
    return sum(_hits(recommended, relevant, k)) / k


def recall_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant items found in the top ``k``.

    ``R@K = (sum_{i<=K} rel_i) / |relevant|``.
    Example: recommended [a, b, c, d], relevant {b, d, x}, K=4 -> 2/3.
    """
    if not relevant:
        return 0.0
    return sum(_hits(recommended, relevant, k)) / len(relevant)


def ndcg_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance.

    ``DCG@K = sum_{i<=K} rel_i / log2(i + 1)``; ``IDCG@K`` is the DCG of an ideal list with
    ``min(|relevant|, K)`` relevant items first; ``NDCG@K = DCG@K / IDCG@K``.
    Example: recommended [a, b, c], relevant {b, x}, K=3 -> DCG = 1/log2(3) = 0.6309,
    IDCG = 1 + 1/log2(3) = 1.6309, NDCG = 0.3869.
    """
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / idcg


def average_precision_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Average precision at K (MAP@K is its mean over users).

    ``AP@K = (1 / min(|relevant|, K)) sum_{i<=K} P@i * rel_i``.
    Example: recommended [a, b, c, d], relevant {a, c, x}, K=4 ->
    (P@1 + P@3) / 3 = (1 + 2/3) / 3 = 0.5556.
    """
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    found, total = 0, 0.0
    for i, h in enumerate(hits, start=1):
        if h:
            found += 1
            total += found / i
    return total / min(len(relevant), k)


def reciprocal_rank_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """``1 / rank`` of the first relevant item within the top ``k``, else 0 (MRR: the mean).

    Example: recommended [a, b, c], relevant {c}, K=3 -> 1/3; K=2 -> 0.
    """
    for i, h in enumerate(_hits(recommended, relevant, k), start=1):
        if h:
            return 1.0 / i
    return 0.0


def hit_rate_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1 when at least one relevant item is in the top ``k``, else 0 (HitRate: the mean).

    Example: recommended [a, b, c], relevant {c, x}, K=3 -> 1; K=2 -> 0.
    """
    return 1.0 if any(_hits(recommended, relevant, k)) else 0.0


def catalogue_coverage(lists: Iterable[Sequence[str]], catalogue_size: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's top ``k``.

    ``coverage = |union_u top_K(u)| / |catalogue|``.
    Example: lists [a, b] and [b, c], K=2, catalogue of 10 items -> 3/10 = 0.3.
    """
    if catalogue_size <= 0:
        raise ValueError("catalogue_size must be positive")
    seen: set[str] = set()
    for rec in lists:
        seen.update(list(rec)[:k])
    return len(seen) / catalogue_size


def novelty(lists: Iterable[Sequence[str]], item_share: Mapping[str, float], k: int) -> float:
    """Mean self-information of recommended items, in bits (higher = less popular picks).

    ``novelty = mean over users and top-K items of -log2 p(i)``, where ``p(i)`` is the share of
    training users who interacted with ``i`` (``item_share``; unknown items count as
    ``p = min share``). Example: lists [a, b] with p(a) = 0.5, p(b) = 0.125, K=2 ->
    (1 + 3) / 2 = 2.0 bits.
    """
    floor = min((v for v in item_share.values() if v > 0), default=1.0)
    values = [-math.log2(max(item_share.get(item, floor), floor)) for rec in lists for item in list(rec)[:k]]
    return float(np.mean(values)) if values else 0.0


def average_popularity(lists: Iterable[Sequence[str]], item_share: Mapping[str, float], k: int) -> float:
    """Average recommendation popularity (popularity bias): mean ``p(i)`` of recommended items.

    Example: lists [a, b] with p(a) = 0.5, p(b) = 0.125, K=2 -> 0.3125.
    """
    values = [item_share.get(item, 0.0) for rec in lists for item in list(rec)[:k]]
    return float(np.mean(values)) if values else 0.0


def intra_list_diversity(recommended: Sequence[str], genres: Mapping[str, Collection[str]], k: int) -> float:
    """Genre-based diversity of one list: mean pairwise Jaccard distance of the items' genres.

    ``ILD = mean over pairs i < j in top K of 1 - |G_i & G_j| / |G_i | G_j|`` (two items without
    genres have distance 0). Example: a {Drama}, b {Drama, Crime}, c {Comedy} ->
    d(a,b) = 1 - 1/2 = 0.5, d(a,c) = 1, d(b,c) = 1 -> ILD = 2.5 / 3 = 0.8333.
    A list of fewer than two items scores 0.
    """
    items = list(recommended)[:k]
    sets = [set(genres.get(i, ())) for i in items]
    if len(sets) < 2:
        return 0.0
    total, pairs = 0.0, 0
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            union = sets[a] | sets[b]
            total += 1.0 - (len(sets[a] & sets[b]) / len(union) if union else 1.0)
            pairs += 1
    return total / pairs


def miscalibration(
    recommended: Sequence[str],
    history: Mapping[str, float],
    genres: Mapping[str, Collection[str]],
    k: int,
    alpha: float = ALPHA,
) -> float:
    """Steck's miscalibration of one list (RecSys 2018, eq. 3), in nats; lower is closer.

    ``p`` = ``history``, the genre distribution of the user's training likes (recency-weighted,
    :class:`recsys.evaluation.taste.TasteContext`); ``q`` = the genre distribution of the top ``k``
    (each title 1, spread evenly over its genres); ``MC = KL(p || (1 - alpha) q + alpha p)`` with
    Steck's ``alpha = 0.01`` (:mod:`recsys.models.rerank.distribution`, the math the calibrated
    re-ranking uses). Example: p = {Horror: 1}, top 2 = [a {Horror}, b {Drama}] -> q = {Horror: .5,
    Drama: .5}, q~(Horror) = .99 * .5 + .01 = .505, MC = ln(1 / .505) = 0.6832; a top 2 of two
    horror films scores 0; an empty list scores ln(1 / alpha) = 4.6052 (none of the taste shown).
    """
    q = distribution([list(genres.get(i, ())) for i in list(recommended)[:k]])
    return kl_divergence(history, q, alpha)


def popularity_lift(
    recommended: Sequence[str], history_log_votes: float, log_votes: Mapping[str, float], k: int
) -> float:
    """How much more popular the top ``k`` is than what the user likes, in log IMDb votes.

    ``lift = mean_{i in top K} ln(1 + votes_i) - mean_{j in likes} ln(1 + votes_j)`` where
    ``history_log_votes`` is the second mean (the user's training likes) and ``log_votes`` maps a
    title to ``ln(1 + votes)`` (a title without votes counts 0). ``exp(lift)`` is the ratio of the
    geometric-mean votes: 0 = as popular as the user's likes, +0.69 = twice the votes, +2.30 = ten
    times. Example: likes with 99 votes (ln 100 = 4.6052), top 2 with 999 and 9 votes ->
    (ln 1000 + ln 10) / 2 - ln 100 = 0; top 1 with 999 votes -> ln 10 = 2.3026. NaN for an empty
    list.
    """
    items = list(recommended)[:k]
    if not items:
        return math.nan
    return float(np.mean([log_votes.get(i, 0.0) for i in items])) - history_log_votes


def tail_share(recommended: Sequence[str], tail: Collection[str], k: int) -> float:
    """Share of the top ``k`` that is long tail (Abdollahpouri et al.'s APLT, FLAIRS 2019).

    ``tail share = |top K & T| / |top K|``, ``T`` the tail: every title of the ranking catalogue
    outside the short head, the head being the 20% most-rated titles of the training ratings
    (:func:`recsys.evaluation.taste.head_items`). Example: tail {c, d}, top 4 = [a, b, c, x] ->
    1/4; NaN for an empty list.
    """
    items = list(recommended)[:k]
    if not items:
        return math.nan
    return sum(1 for i in items if i in tail) / len(items)


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One reported figure: ``name`` (the column / JSON key), ``label`` (shown; ``"NDCG"`` is
    shown ``"NDCG@10"`` when ``at_k``), ``fn`` and ``at_k``.

    Ranking metrics (``at_k``) are per-user: ``fn(recommended, relevant, k) -> float``, averaged
    over tested users, and may be chosen to pick the sweep step. List measures (``at_k`` False)
    are computed from every user's list by :func:`recsys.evaluation.scoring.evaluate`; their
    ``fn`` is the function it calls, for reference. ``definition``: one line shown next to the
    tables (the page, the CLI report).
    """

    name: str
    fn: Callable[..., float]
    label: str
    at_k: bool = True
    definition: str = ""


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric`` to the registry (the runner, the evaluation page and the CLI read it)."""
    REGISTRY[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove a metric (tests that registered a toy one)."""
    REGISTRY.pop(name, None)


def ranking_metrics() -> tuple[str, ...]:
    """Names of the per-user ranking metrics at K, in registry order."""
    return tuple(m.name for m in REGISTRY.values() if m.at_k)


def list_measures() -> tuple[str, ...]:
    """Names of the list-level measures, in registry order."""
    return tuple(m.name for m in REGISTRY.values() if not m.at_k)


def summary_names() -> tuple[str, ...]:
    """Every reported figure: ranking metrics first, then list measures."""
    return (*ranking_metrics(), *list_measures())


def metric_label(metric: str, k: int) -> str:
    """Display name: ``"NDCG@10"`` for ranking metrics, ``"Coverage"`` etc. for list measures."""
    spec = REGISTRY.get(metric)
    if spec is None:
        return metric
    return f"{spec.label}@{k}" if spec.at_k else spec.label


#: The taste metrics of issue 18 (per user, against the user's own training likes).
TASTE: tuple[str, ...] = ("miscalibration", "popularity_lift", "tail_share")


def definitions(names: Iterable[str] | None = None) -> list[str]:
    """``"Label: definition"`` of each figure in ``names`` (default every list measure) that has a
    definition, in registry order (the page and the CLI report print these)."""
    wanted = list_measures() if names is None else tuple(names)
    return [f"{m.label}: {m.definition}" for m in REGISTRY.values() if m.name in wanted and m.definition]


for _metric in (
    Metric("precision", precision_at_k, "Precision"),
    Metric("recall", recall_at_k, "Recall"),
    Metric("ndcg", ndcg_at_k, "NDCG"),
    Metric("map", average_precision_at_k, "MAP"),
    Metric("mrr", reciprocal_rank_at_k, "MRR"),
    Metric("hit_rate", hit_rate_at_k, "HitRate"),
    Metric(
        "coverage",
        catalogue_coverage,
        "Coverage",
        at_k=False,
        definition="share of the ranked catalogue (every title seen in training) that is in at least one "
        "tested user's top K; one figure for the whole run, higher = more of the catalogue reaches someone.",
    ),
    Metric(
        "novelty",
        novelty,
        "Novelty (bits)",
        at_k=False,
        definition="mean -log2 of the share of training users who rated each recommended title; "
        "higher = less mainstream picks.",
    ),
    Metric(
        "avg_popularity",
        average_popularity,
        "Avg popularity",
        at_k=False,
        definition="mean share of training users who rated each recommended title (popularity bias); "
        "lower = less head-heavy.",
    ),
    Metric(
        "diversity",
        intra_list_diversity,
        "Diversity (genres)",
        at_k=False,
        definition="intra-list genre diversity: mean pairwise Jaccard distance between the genres of a "
        "user's top K, averaged over users; 0 = all the same genres, 1 = no genre shared.",
    ),
    Metric(
        "miscalibration",
        miscalibration,
        "Miscalibration",
        at_k=False,
        definition="KL divergence (nats) from the genre mix of the user's training likes (ratings >= 4, "
        "recency-weighted 0.95 per newer like) to the genre mix of their top K, smoothed with alpha 0.01 "
        "(Steck 2018); 0 = the user's own proportions, lower is closer to the user's taste.",
    ),
    Metric(
        "popularity_lift",
        popularity_lift,
        "Popularity lift",
        at_k=False,
        definition="mean ln(1 + IMDb votes) of the top K minus that of the user's training likes; "
        "0 = as popular as what the user likes, +0.69 = twice the votes (exp(lift) is the ratio).",
    ),
    Metric(
        "tail_share",
        tail_share,
        "Tail share",
        at_k=False,
        definition="share of the top K outside the short head, the head being the 20% most-rated titles "
        "in training (Abdollahpouri et al. 2019, APLT); higher = more long-tail titles.",
    ),
):
    register(_metric)
