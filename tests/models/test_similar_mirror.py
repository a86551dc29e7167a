""" "More like this" targets of issue 18 on the real mirror model (skipped without ../shared):
for the ten well-known titles of :data:`recsys.evaluation.similarcheck.TEN`, at least 7/10 of
the top 10 share the title's main genre or language, at least 8/10 have 20k+ votes, and the
obvious companion comes first where the data can know it (a shared writer / director, or ALS
knowing both titles).

Measured when written (``bench/similar_quality.py`` on /work/data): 97/100 on topic and
100/100 known against 90 / 83 before; every title 9-10/10 on topic and 10/10 known. On the mirror
Breaking Bad has no crew rows and ALS knows no show, so nothing in the data links it to Better
Call Saul; that companion is asserted only where the model knows such a link.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.evaluation.similarcheck import TEN, similar_checks
from recsys.models import Recommender
from recsys.models.als import ALSScorer
from recsys.models.content import TfidfScorer
from tests.support.narrow import present

pytestmark = [pytest.mark.slow, pytest.mark.mirror]


@pytest.fixture(scope="module")
def rec(mirror_data: Path) -> Recommender:
    return Recommender.load_latest(mirror_data / "models")


def _linked(rec: Recommender, a: str, b: str) -> bool:
    """Whether the model can know ``b`` is ``a``'s companion: ALS knows both, or both have crew."""
    als = rec.hybrid.scorers.get("als")
    if isinstance(als, ALSScorer) and als.items is not None and a in als.items and b in als.items:
        return True
    content = rec.hybrid.scorers["content"]
    assert isinstance(content, TfidfScorer) and content.items is not None and content.matrix is not None
    crew = {j for j, f in enumerate(content.features) if f.startswith(("dir:", "wri:"))}

    def has_crew(t: str) -> bool:
        row = present(content.items).get(t)
        return row >= 0 and bool(crew.intersection(present(content.matrix)[row].indices.tolist()))

    return has_crew(a) and has_crew(b)


def test_more_like_this_is_about_the_film(rec: Recommender) -> None:
    checks = similar_checks(lambda t, n: rec.similar(t, n), rec.titles, n=10)
    assert [c.tconst for c in checks] == list(TEN)
    for c in checks:
        assert c.n == 10, c
        assert c.on_topic >= 7, c
        assert c.well_known >= 8, c
        if c.companion is not None and _linked(rec, c.tconst, c.companion):
            assert c.companion_rank == 1, c
    first = {c.tconst: c.shown[0] for c in checks}
    assert first["tt0068646"] == "The Godfather: Part II"
    assert first["tt0114709"] == "Toy Story 2"
    spirited = next(c for c in checks if c.tconst == "tt0245429")
    assert "My Neighbor Totoro (Tonari no Totoro)" in spirited.shown  # people who liked both


def test_every_entry_says_why(rec: Recommender) -> None:
    for tconst in TEN:
        out = rec.similar_explained(tconst, 10)
        assert out.height == 10 and all(out["reason"].to_list()), tconst
    assert rec.similar_explained("tt0047478", 10)["reason"][0].startswith("Same director: Akira Kurosawa")
    assert rec.similar_explained("tt0068646", 1)["reason"][0].startswith("Same series as The Godfather")
