"""The card section element's server side: what it sends the browser (plain data) and which
triggers it accepts (only an action it offered, on a title it showed)."""

from __future__ import annotations

from recsys.ui.card_element import FEED_BUTTONS, PICK_BUTTONS, Click, card_data, key_class, parse_click

ROW = {
    "tconst": "tt0000001",
    "primary_title": '<img src=x onerror="alert(1)"> [Jaws](http://x)',
    "kind": "movie",
    "start_year": 1975,
    "genres": ["Thriller", "Adventure"],
    "average_rating": 8.1,
    "num_votes": 650_000,
    "reason": "Because you liked <b>Alien</b>",
}
SHOWN = {"tt0000001": "Jaws", "tt0000002": "Alien"}


def test_card_data_is_the_row_as_plain_text_with_the_widget_key_classes() -> None:
    card = card_data(ROW, key="feed-movie", buttons=FEED_BUTTONS, current=2)
    assert card["title"] == '<img src=x onerror="alert(1)"> [Jaws](http://x)'  # text, put in with textContent
    assert card["reason"] == "Because you liked <b>Alien</b>"
    assert card["meta"] == ["1975 · Thriller, Adventure", "IMDb 8.1 · 650k votes"]
    assert card["mine"] == "Your rating: Superliked"
    assert card["cls"] == "st-key-card-feed-movie-tt0000001"
    assert card["hue"] == 260 and card["poster"] == ""
    assert [(b["key_cls"], b["primary"], b["optimistic"]) for b in card["buttons"]] == [
        ("st-key-rate-feed-movie-tt0000001-1", False, True),
        ("st-key-rate-feed-movie-tt0000001--1", False, True),
        ("st-key-rate-feed-movie-tt0000001-2", True, True),
        ("st-key-details-feed-movie-tt0000001", False, False),
        ("st-key-hide-feed-movie-tt0000001", False, True),
    ]


def test_pick_buttons_keep_the_onboarding_keys() -> None:
    card = card_data(ROW, key="onb-movie", buttons=PICK_BUTTONS, picked=True)
    assert card["picked"] is True
    assert [b["key_cls"] for b in card["buttons"]] == [
        "st-key-rate-onb-movie-tt0000001-1",
        "st-key-rate-onb-movie-tt0000001-0",
    ]
    assert key_class(" card feed/tt1 ") == "st-key-card-feed-tt1"


def test_a_click_on_an_offered_action_of_a_shown_title_is_accepted_at_the_server_position() -> None:
    payload = {"action": "rate", "value": -1, "tconst": "tt0000002", "position": 0, "n": 5}
    assert parse_click(payload, FEED_BUTTONS, SHOWN) == Click("rate", "tt0000002", 1, -1, "Alien")
    hide = {"action": "hide", "value": None, "tconst": "tt0000001", "position": 0}
    assert parse_click(hide, FEED_BUTTONS, SHOWN) == Click("hide", "tt0000001", 0, None, "Jaws")


def test_forged_or_stale_triggers_are_refused() -> None:
    base = {"action": "rate", "value": 1, "tconst": "tt0000001", "position": 0}
    forged = [
        {**base, "value": 5},  # a rating the buttons do not offer
        {**base, "value": True},  # JSON true is not the like value 1
        {**base, "action": "pick"},  # onboarding's action on the feed
        {**base, "action": "delete"},
        {**base, "tconst": "tt9999999"},  # not shown by this element (stale or forged)
        {**base, "tconst": ["tt0000001"]},
        {},
    ]
    assert [parse_click(p, FEED_BUTTONS, SHOWN) for p in forged] == [None] * len(forged)
    assert parse_click({**base, "action": "pick", "value": 0}, PICK_BUTTONS, SHOWN) == Click(
        "pick", "tt0000001", 0, 0, "Jaws"
    )
