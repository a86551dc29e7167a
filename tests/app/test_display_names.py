"""A display name is plain text everywhere it is shown (issue 21, low: "a URL in a user's display
name becomes a link"). Every Markdown-rendered element that shows the name (the sidebar's
"Signed in as", the account page) must show it literally, with nothing Markdown or GFM's
autolinker would act on: no link, image or HTML, and no bare ``http://`` or ``www.`` left intact."""

from __future__ import annotations

from recsys.config import Settings
from recsys.ui.plain import md_escape
from tests.badinput.support import make_user, shown_text, signed_in

HOSTILE = "[Verify](http://evil.example) ![p](http://e.example/i.png) www.e.example"


def _showing_the_name(values: list[str]) -> list[str]:
    return [v for v in values if "Verify" in v]


def test_a_hostile_display_name_is_shown_as_plain_text(app_settings: Settings) -> None:
    make_user(app_settings, "mallory", name=HOSTILE)
    at = signed_in("mallory")
    at.switch_page("pages/account.py").run()
    assert not at.exception
    shown = _showing_the_name(
        [c.value for c in at.sidebar.caption] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    )
    assert shown_text(md_escape(HOSTILE)) == HOSTILE  # shows literally, nothing left for Markdown
    assert len(shown) >= 2, shown  # the sidebar and the account page both show it
    for source in shown:
        assert md_escape(HOSTILE) in source  # the name as one escaped run inside the element's own markup
        for live in ("http://", "www.", "evil.example", "e.example"):
            assert live not in source, source  # the autolinker never sees a URL or an address
