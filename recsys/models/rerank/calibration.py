"""Calibrated re-ranking (after Steck, "Calibrated recommendations", RecSys 2018): the list's
genres and languages follow the person's likes.

The list is built greedily from the pool; step ``t`` adds the title ``i`` maximising::

    (1 - s) * r_i  -  s * ( D_genre(L + i) + KL(p_lang || q~_lang(L + i)) )

- ``r_i = 1 / log2(rank_i + 1)``, the position discount of the title's rank in the blend, so the
  trade is against what NDCG counts (measured on validation at strength 0.25: NDCG@10 -1.6% for
  miscalibration -38%, where a min-max scaled score lost 2.6% for -24%).
- ``D_genre`` compares, per genre ``g`` of the taste, the share of the likes that carry it
  (``t_g``, :attr:`Taste.presence`: 1.0 when every like is a horror film) with the share of the list
  that carries it (``l_g``), as a sum of Bernoulli divergences ``t log(t / l~) + (1 - t) log((1 -
  t) / (1 - l~))`` with Steck's smoothing ``l~ = 0.99 l + 0.01 t``. Steck's genre *distribution*
  spreads a horror-thriller over two genres, so thirteen liked horror films read as "half
  horror" and the list settles at 4-5 horror titles; presence asks for horror on every card. On
  the mirror, 13 liked films of one genre: distribution 3-6 of the movie top 10 in that genre,
  presence 5-9.
- Languages use Steck's distribution form over buckets: each non-English language, and
  "English or unknown" together, so an English-speaking profile is not pushed away from titles
  whose language the catalogue does not know, while someone whose likes are mostly Japanese
  films gets mostly Japanese films.

**Only distinctive tastes are calibrated.** The strength is multiplied by
:attr:`Taste.distinctive` (how far the likes' genres stand out from the catalogue's, see
:meth:`Taste.of`): a MovieLens history that is "mostly Drama" is what the catalogue is, and its
next likes are the head titles the blend already ranks (calibrating every history cost 2-4% of
validation NDCG@10), while a fan of horror or of Korean cinema is exactly who the list should
follow. Cost: ``n`` steps over the pool, each a ``pool x categories`` array operation (about 1 ms
for 20 of 200 in NumPy; well under 0.1 ms compiled, see :func:`greedy`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from recsys.models.rerank.base import DEFAULT_LANGUAGE, CandidateFacts, Pool, Taste, language_bucket
from recsys.models.rerank.distribution import ALPHA

_PRESENCE_CAP = 0.99  # a taste share of 1 would make (1 - t) log(...) degenerate


class Calibration:
    name: ClassVar[str] = "calibration"

    def rerank(self, pool: Pool, taste: Taste, n: int, strength: float) -> Pool:
        strength *= taste.distinctive
        if strength <= 0 or len(pool) <= 1:
            return pool
        facts = pool.facts
        presence = None
        if taste.presence:
            presence = (
                _presence_from_masks(taste.presence, facts.genre_masks, pool.positions)
                if facts is not None
                else _presence_matrix(taste.presence, pool.genres)
            )
        targets: list[np.ndarray] = []
        shares: list[np.ndarray] = []
        languages = _buckets(taste.languages)
        if len(languages) > 1 or (languages and DEFAULT_LANGUAGE not in languages):
            p, m = (
                _bucket_matrix(languages, facts, pool.positions)
                if facts is not None
                else _share_matrix(languages, [[language_bucket(c)] for c in pool.languages])
            )
            targets.append(p)
            shares.append(m)
        if presence is None and not targets:
            return pool
        order = greedy(len(pool), min(n, len(pool)), strength, presence, targets, shares)
        listed = np.zeros(len(pool), dtype=bool)
        listed[order] = True  # the rest in pool order (np.setdiff1d did the same in ~10 us)
        return pool.take(np.concatenate([order, np.flatnonzero(~listed)]))


def greedy(
    size: int,
    n: int,
    strength: float,
    presence: tuple[np.ndarray, np.ndarray] | None,
    targets: Sequence[np.ndarray] = (),
    shares: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """The greedy list of ``n`` indices into a pool of ``size`` titles in blend order (see the
    module docstring). ``presence``: ``(t, pool x genres 0/1)``; ``targets[k]`` / ``shares[k]``:
    a distribution over category set ``k`` and each title's share of each category.

    A title either carries a genre or not, so at each step a genre's divergence term takes one of
    two values (computed once per genre, with the same formula) and a title's divergence is a
    matrix-vector product of its 0/1 row with their differences; the same for a category set
    whose shares are all 0 or 1 (languages: one per title). Other shares take the general
    ``pool x categories`` path. Measured on the mirror (200 simulated users, both sections,
    pools of 200): the stage's slowest requests, which set the feed's p95 (p95 4.97 ms with the
    stages against 3.12 ms without), cost about 1 ms per section before. With every step's terms
    precomputed (below) the 22 calibrated sections of those users' feeds cost 257 us each instead
    of 450 (thread CPU, same orders): a step is a dozen numpy calls instead of ~35. Then a step's
    terms as one ``take`` from the flattened table, the targets' parts planned once, and the rest
    of the pool without ``np.setdiff1d``: the stage 326 -> 270 us a calibrated section (the same
    22, replayed alternately in one process; same orders). With the tables' rows the loop reads
    only (:func:`_step_rows`, half the logs), built once per ``n``, and the position discounts
    once per pool size: greedy 228 -> 210 us, the stage 317 -> 240 us against 35d70c0 (same
    orders; 400 random inputs too). The feed's slowest 5% of requests are the calibrated ones
    (their ranking stages ~780 of ~3260 us). When every category is carried or not (the feed:
    genres, and one language bucket a title), the steps run as one compiled loop
    (:func:`recsys.models.compiled.calibration_steps`): a horror fan's film section (8 likes,
    8 cards) paid ~170-280 us for the stage, now under 20 us; the same lists on the 800 recorded
    ones and on the random pools of ``tests/models/test_rerank.py``.
    """
    rel = _discounts(size)
    counts = [np.zeros(len(p)) for p in targets]
    binary = [bool(((m == 0.0) | (m == 1.0)).all()) for m in shares]  # np.isin: ~8 us more each
    order: list[int] = []
    # A genre's (or a binary category's) term depends only on the step t and on how many listed
    # titles carry it, an integer k <= t: every value the loop can need is computed up front,
    # element by element with the loop's formula (so the same numbers), the genres and the binary
    # category sets side by side, and each step gathers the "without / with this title" rows
    # (k, k + 1) of every category at once; each part's sum and product then read its slice.
    first, listed_share, listed_part = _step_rows(n)
    tables: list[np.ndarray] = []
    carries: list[np.ndarray] = []  # pool x categories, 0 / 1, beside the tables
    parts: list[slice] = []
    if presence is not None:
        want, has = presence
        not_want, alpha_want = 1.0 - want, ALPHA * want
        listed = listed_share + alpha_want
        tables.append(want * np.log(want / listed) + not_want * np.log(not_want / (1.0 - listed)))
        carries.append(has)
    for p, m, is_binary in zip(targets, shares, binary, strict=True):
        if is_binary:
            tables.append(p * np.log(p / (listed_part + ALPHA * p)))
            carries.append(m)
    start = 0
    for table in tables:
        parts.append(slice(start, start + table.shape[1]))
        start += table.shape[1]
    every = np.concatenate(tables, axis=1) if tables else np.zeros((len(listed_share), 0))
    # flat: the value of (step t, k listed titles, category c) at (first[t] + k) * categories + c,
    # so a step's "without / with" terms are one take (``at`` moves as titles are listed)
    flat = every.reshape(-1)
    at = np.empty((2, start), dtype=np.intp)
    at[0], at[1] = np.arange(start), np.arange(start, 2 * start)
    carrying = np.hstack(carries) if carries else np.zeros((size, 0))  # pool x categories, 0 / 1
    # each target in order: its binary part's slice, or None (the general path)
    binary_parts = iter(parts[1:] if presence is not None else parts)
    plan = [
        (next(binary_parts) if is_binary else None, p, m, c)
        for p, m, c, is_binary in zip(targets, shares, counts, binary, strict=True)
    ]
    general = any(part_of is None for part_of, _, _, _ in plan)
    # taken titles score -inf: (-inf) - finite is -inf, as setting them after the subtraction
    weighted_rel = (1.0 - strength) * rel
    if not general and start:
        # every category carried or not (genres, one language a title: the feed's pools): the
        # steps below as one compiled loop, 210 -> ~20 us for a section's 20 steps. Imported
        # here: the stage registry is read by light modules (the model config, the lab's
        # experiment forms, the CLI's parsers) that must not load numba (~0.2 s, ~100 MB)
        from recsys.models.compiled import calibration_steps

        bounds = np.asarray([0, *(part.stop for part in parts)], dtype=np.int64)
        first_rows = np.asarray(first[:n], dtype=np.int64)
        carrying = np.ascontiguousarray(carrying, dtype=np.float64)
        return calibration_steps(flat, at, first_rows, carrying, bounds, weighted_rel, float(strength), n)
    carried = carrying.astype(np.intp)
    carried *= start  # one more listed title carrying c moves c's index by a row of the table
    for t in range(n):
        terms = flat.take(at + first[t] * start)
        without = terms[0]
        diff = terms[1] - without
        if presence is not None:
            genres = parts[0]
            divergence: np.ndarray = np.add.reduce(without[genres]) + has @ diff[genres]  # as 0 + x
        else:
            divergence = np.zeros(size)
        for part_of, p, m, c in plan:
            if part_of is not None:
                part = np.add.reduce(without[part_of]) + m @ diff[part_of]
            else:
                q = (c[None, :] + m) / (t + 1)
                part = np.sum(p * np.log(p / ((1.0 - ALPHA) * q + ALPHA * p)), axis=1)
            divergence += part
        objective = weighted_rel - strength * divergence
        best = int(objective.argmax())
        order.append(best)
        weighted_rel[best] = -np.inf
        at += carried[best]
        if general:
            for part_of, _, m, c in plan:
                if part_of is None:
                    c += m[best]
    return np.asarray(order, dtype=np.int64)


@functools.lru_cache(maxsize=8)
def _discounts(size: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks 1 .. size (read-only: shared by every request)."""
    rel = 1.0 / np.log2(np.arange(size, dtype=np.float64) + 2.0)
    rel.flags.writeable = False
    return rel


@functools.lru_cache(maxsize=8)
def _step_rows(n: int) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """The rows of :func:`greedy`'s tables for ``n`` steps: only the ``(t, k)`` the loop reads,
    step after step (at step t, k <= t + 1 titles carry a category: t listed, and the candidate;
    half the logs of every ``k <= n + 1``). Returns the first row of each step and, per row, the
    list's smoothed share of a category before the taste's part, as the genre and the
    distribution formulas write it (``(1 - ALPHA) * k / (t + 1)`` and ``(1 - ALPHA) * (k / (t +
    1))``), read-only: shared by every request."""
    first = tuple(t * (t + 3) // 2 for t in range(n))
    per_step = np.arange(2, n + 2)
    steps = np.repeat(np.arange(1, n + 1, dtype=np.float64), per_step)[:, None]  # t + 1
    listed_k = (np.arange(len(steps)) - np.repeat(first, per_step)).astype(np.float64)[:, None]  # k
    listed_share = (1.0 - ALPHA) * listed_k / steps
    listed_part = (1.0 - ALPHA) * (listed_k / steps)
    listed_share.flags.writeable = listed_part.flags.writeable = False
    return first, listed_share, listed_part


def _presence_matrix(presence: Mapping[str, float], items: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The taste's genre shares (capped below 1) and pool x genres: 1 where a title carries it."""
    names = [g for g, v in presence.items() if v > 0]
    col = {g: j for j, g in enumerate(names)}
    has = np.zeros((len(items), len(names)))
    for i, genres in enumerate(items):
        for g in genres:
            j = col.get(g)
            if j is not None:
                has[i, j] = 1.0
    return np.asarray([min(presence[g], _PRESENCE_CAP) for g in names], dtype=np.float64), has


def _presence_from_masks(
    presence: Mapping[str, float], masks: Mapping[str, np.ndarray], at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_presence_matrix` from the candidate set's genre masks (the same numbers): one
    gather per genre of the taste instead of a loop over the pool's titles."""
    names = [g for g, v in presence.items() if v > 0]
    has = np.zeros((len(at), len(names)))
    for j, g in enumerate(names):
        mask = masks.get(g)
        if mask is not None:
            has[:, j] = mask[at]
    return np.asarray([min(presence[g], _PRESENCE_CAP) for g in names], dtype=np.float64), has


def _bucket_matrix(target: Mapping[str, float], facts: CandidateFacts, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_share_matrix` of the pool titles' language buckets (one per title, so a share is
    0 or 1) from the candidate set's bucket codes (the same numbers)."""
    names = [c for c, v in target.items() if v > 0]
    codes = facts.bucket[at]
    m = np.zeros((len(at), len(names)))
    for j, c in enumerate(names):
        k = facts.bucket_code.get(c)
        if k is not None:
            m[:, j] = codes == k
    return np.asarray([target[c] for c in names], dtype=np.float64), m


def _buckets(languages: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for code, share in languages.items():
        key = language_bucket(code)
        out[key] = out.get(key, 0.0) + share
    return out


def _share_matrix(target: Mapping[str, float], items: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The target as a vector over its categories, and pool x categories shares (each title
    spreads 1 over all its categories, so a category outside the target still takes its part)."""
    names = [c for c, v in target.items() if v > 0]
    col = {c: j for j, c in enumerate(names)}
    m = np.zeros((len(items), len(names)))
    for i, cats in enumerate(items):
        cats = [c for c in cats if c]
        for c in cats:
            j = col.get(c)
            if j is not None:
                m[i, j] += 1.0 / len(cats)
    return np.asarray([target[c] for c in names], dtype=np.float64), m
