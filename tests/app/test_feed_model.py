"""The feed with the trained hybrid recommender: clicks reshape the next list at once."""

from __future__ import annotations

from recsys.config import Settings
from tests.app.helpers import card_texts, feed_tconsts, onboarded, user


def reasons(at) -> list[str]:
    return [t for t in card_texts(at) if "Because you lik" in t or "Popular" in t]


def test_a_like_changes_the_next_list_and_removes_the_title(model_settings: Settings) -> None:
    at = onboarded(model_settings)
    before = feed_tconsts(at, "movie")
    assert before
    # 5 liked movies at onboarding: the hybrid (not the cold-start rule) explains the picks with
    # the person's taste (a liked title only where it is similar enough to the card, issue 18)
    assert any("Because you lik" in r for r in reasons(at))
    liked = before[-1]
    at.button(key=f"rate-feed-movie-{liked}-2").click().run()
    assert not at.exception
    after = feed_tconsts(at, "movie")
    assert liked not in after
    assert after and after != before


def test_not_interested_hides_without_a_dislike_and_can_be_undone(model_settings: Settings) -> None:
    at = onboarded(model_settings)
    target = feed_tconsts(at, "tv")[0]
    at.button(key=f"hide-feed-tv-{target}").click().run()
    assert target not in feed_tconsts(at, "tv")
    store, alice = user(model_settings)
    assert target in store.hidden_tconsts(alice.id)
    assert target not in store.rated_tconsts(alice.id)
    store.close()
    at.button(key="undo-feed").click().run()
    # still on the TV tab, which alone is rendered (the hidden section costs nothing)
    keys = [str(b.key) for b in at.button]
    assert f"hide-feed-tv-{target}" in keys
    assert not any(k.startswith("rate-feed-movie-") for k in keys)


def test_details_show_more_like_this(model_settings: Settings) -> None:
    at = onboarded(model_settings)
    first = feed_tconsts(at, "movie")[0]
    at.button(key=f"details-feed-movie-{first}").click().run()
    assert not at.exception
    assert any("More like this" in m.value for m in at.markdown)
