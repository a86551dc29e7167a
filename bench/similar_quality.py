""" "More like this" before / after on a built catalogue and trained model, by hand (not in CI).

    CINEBLEND_DATA_DIR=/work/data .venv/bin/python bench/similar_quality.py [-n 10] [--lists]

For the ten titles of :data:`recsys.evaluation.similarcheck.TEN`: how many of the top n share the
title's main genre or language, how many have 20k+ votes, and the companion's rank; "before" is
the previous algorithm (:func:`legacy_similar`, main's ``Recommender.similar`` until issue 18: the
300 nearest TF-IDF neighbours re-ranked by a z-score blend of cosine, ALS item cosine and log
votes with weights 1 / 0.6 / 0.8), "after" is :meth:`Recommender.similar_explained`, same model,
same run. ``--lists`` prints both lists with the reasons.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from recsys.catalog.queries import Catalog
from recsys.config import get_settings
from recsys.evaluation.similarcheck import SimilarCheck, similar_checks
from recsys.models import Recommender
from recsys.models.als import ALSScorer
from recsys.models.content import TfidfScorer
from recsys.models.hybrid import blend, normalise_with_scale


def legacy_similar(rec: Recommender, tconst: str, n: int) -> list[str]:
    """The pre-issue-18 "More like this", kept here only to measure against."""
    home = next((k for k, s in rec.sections.items() if tconst in s.position), None)
    content = rec.hybrid.scorers.get("content")
    if home is None or not isinstance(content, TfidfScorer):
        return []
    sec = rec.sections[home]
    sims = content.similar(tconst, sec.blocks["content"])
    sims[sec.position[tconst]] = np.nan
    sims = np.where(np.isfinite(sims), sims, -np.inf)
    size = min(300, int(np.isfinite(sims).sum()))
    pool = np.argpartition(-sims, size - 1)[:size]
    pool = pool[sims[pool] > 0]
    parts: dict[str, np.ndarray] = {"content": sims[pool]}
    als = rec.hybrid.scorers.get("als")
    if isinstance(als, ALSScorer) and "als" in sec.blocks and als.items is not None:
        out = np.zeros(len(pool))
        row = als.items.get(tconst)
        if row >= 0:
            target = als.item_factors[row]
            s = sec.blocks["als"].data.slots[pool]
            hit = s >= 0
            f = sec.blocks["als"].data.factors[s[hit]]
            out[hit] = (f @ target) / np.maximum(np.linalg.norm(f, axis=1) * np.linalg.norm(target), 1e-12)
        parts["als"] = out
    parts["popularity"] = np.log1p(np.nan_to_num(sec.popularity[pool], nan=0.0).clip(min=0.0))
    normed = {k: normalise_with_scale(v)[0] for k, v in parts.items()}
    w = {k: v for k, v in {"content": 1.0, "als": 0.6, "popularity": 0.8}.items() if k in normed}
    score = blend(normed, w)
    order = pool[np.lexsort((pool, -np.nan_to_num(score, nan=-np.inf)))]
    return [str(sec.tconsts[i]) for i in order[:n]]


def _cell(c: SimilarCheck) -> str:
    comp = "-" if c.companion is None else (f"#{c.companion_rank}" if c.companion_rank else "absent")
    return f"{c.on_topic:>2}/{c.n:<2} {c.well_known:>2}/{c.n:<2} {comp:>6}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--lists", action="store_true", help="print both lists with the reasons")
    args = ap.parse_args()
    settings = get_settings()
    titles = Catalog(settings.parquet_dir).all_titles()
    rec = Recommender.load_latest(settings.models_dir)
    t0 = time.perf_counter()
    before = similar_checks(lambda t, n: legacy_similar(rec, t, n), titles, args.n)
    t1 = time.perf_counter()
    explained: dict[str, pl.DataFrame] = {}

    def after_fn(t: str, n: int) -> list[str]:
        explained[t] = rec.similar_explained(t, n)
        return explained[t]["tconst"].to_list()

    after = similar_checks(after_fn, titles, args.n)
    t2 = time.perf_counter()
    print(
        f"{'title':<18} {'main genre':<10} | before: genre/lang  20k+  companion | after: genre/lang  20k+  companion"
    )
    for b, a in zip(before, after, strict=True):
        print(f"{a.title[:18]:<18} {a.genre or '-':<10} | {_cell(b):>30} | {_cell(a):>29}")
    tot = lambda cs, f: sum(getattr(c, f) for c in cs)  # noqa: E731
    print(
        f"{'total':<29} | {tot(before, 'on_topic'):>3} / {tot(before, 'well_known'):>3}"
        f"{'':>20} | {tot(after, 'on_topic'):>3} / {tot(after, 'well_known'):>3}"
    )
    print(
        f"[before {1000 * (t1 - t0) / len(before):.0f} ms / title, after {1000 * (t2 - t1) / len(after):.0f} ms / title]"
    )
    if args.lists:
        for b, a in zip(before, after, strict=True):
            print(f"\n== {a.title} ({a.genre})")
            print("  before: " + "; ".join(b.shown))
            frame = explained[a.tconst]
            for i, (title, why) in enumerate(zip(a.shown, frame["reason"].to_list(), strict=False), 1):
                print(f"  {i:>2}. {title}  -- {why}")


if __name__ == "__main__":
    main()
