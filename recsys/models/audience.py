"""Who a title is for, by its genres: children's titles and mature ones, in one place.

Two readers: the reasons and "More like this" never pair a children's title with a mature one
(:func:`maturity_clash`: "Breaking Bad - because you liked Paddington"), and the family filter
(:mod:`recsys.models.rerank.maturity`) keeps a family profile's lists free of
:data:`FAMILY_UNSUITABLE` titles, a wider set.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Genres of a children's title (when none of :data:`MATURE_GENRES` is present too).
CHILD_GENRES = frozenset({"Family", "Animation"})
#: Genres of a title no children's title may explain, nor be explained by (Adult: IMDb's adult
#: genre; the catalogue drops isAdult titles, but an Adult genre tag still marks one).
MATURE_GENRES = frozenset({"Horror", "Crime", "Thriller", "War", "Adult"})
#: Genres a family profile is never shown: those of which under 1% of the titles are also
#: Family on the mirror catalogue (Adult 0%, Film-Noir 0%, Thriller 0.13%, Horror 0.23%, Crime
#: 0.45%, War 0.57%, Mystery 0.73%; next come History 1.4%, Romance 1.6%, Action 1.7%): the
#: mature genres plus Film-Noir and Mystery.
FAMILY_UNSUITABLE = MATURE_GENRES | {"Film-Noir", "Mystery"}


def is_childrens(genres: Sequence[str]) -> bool:
    """Family, or Animation without a mature genre (Spirited Away, Paddington; not Perfect Blue,
    which is Animation, Horror, Thriller)."""
    gs = set(genres)
    return "Family" in gs or ("Animation" in gs and not gs & MATURE_GENRES)


def is_mature(genres: Sequence[str]) -> bool:
    """A mature genre (Horror, Crime, Thriller, War, Adult) and not Family."""
    gs = set(genres)
    return bool(gs & MATURE_GENRES) and "Family" not in gs


def maturity_clash(a: Sequence[str], b: Sequence[str]) -> bool:
    """True when one title is a children's title and the other a mature one: such a pair never
    explains one another and is never shown as "More like this"."""
    return (is_childrens(a) and is_mature(b)) or (is_mature(a) and is_childrens(b))


def maturity(genres: Sequence[str]) -> int:
    """1 for a children's title, 2 for a mature one, 0 otherwise (a 1 / 2 pair clashes:
    :func:`maturity_clash`)."""
    return 1 if is_childrens(genres) else 2 if is_mature(genres) else 0
