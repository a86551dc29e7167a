"""Many "Try a demo profile" clicks at once through a real server (the concurrency test and
``bench/demo_starts.py`` share it).

Each start is one websocket session (:mod:`tests.support.ws_session`): the first visit shows the
sign-in page with its demo buttons; the click on one persona's button runs the page with the
demo session open, which must show the feed ("Your feed" heading, movie cards) and no error.
All sessions connect and load the sign-in page first, then every click is sent at once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tests.support.testers import section_cards
from tests.support.ws_session import Run, StreamlitSession, headings, trigger

DEMO_PREFIX = "demo-"


@dataclass
class DemoStarts:
    """What ``count`` simultaneous demo starts did: ``reached`` sessions ended on the feed,
    ``failures`` says why the others did not; ``seconds`` from the clicks to the last answer."""

    count: int
    reached: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def demo_buttons(run: Run) -> list[str]:
    """The keys of the demo buttons on the sign-in page."""
    return [i.key for i in run.elements("button") if i.key.startswith(DEMO_PREFIX)]


async def _start(session: StreamlitSession, key: str) -> Run:
    page = await session.run()
    button = page.widget("button", key=key)
    run = await session.run([trigger(button)])
    if "Your feed" not in headings(run) or not section_cards(run, "feed-movie"):
        raise AssertionError(f"not on the feed: headings {headings(run)}, errors {run.errors()}")
    if run.errors():
        raise AssertionError(f"errors shown: {run.errors()}")
    return run


async def start_demos(base_url: str, count: int, timeout: float = 120.0) -> DemoStarts:
    """Open ``count`` sessions and click a demo profile in all of them at once (the personas
    taken in turn); ``AssertionError`` when the sign-in page offers none."""
    sessions = [StreamlitSession(base_url, timeout=timeout) for _ in range(count)]
    outcome = DemoStarts(count)
    try:
        for session in sessions:
            await session.__aenter__()
        first = await sessions[0].run()
        keys = demo_buttons(first)
        if not keys:
            raise AssertionError(f"the sign-in page offers no demo profile: {first.texts()[:10]}")
        started = time.monotonic()
        results = await asyncio.gather(
            *(_start(s, keys[i % len(keys)]) for i, s in enumerate(sessions)), return_exceptions=True
        )
        outcome.seconds = time.monotonic() - started
        for i, result in enumerate(results):
            if isinstance(result, BaseException):
                outcome.failures.append(f"session {i}: {type(result).__name__}: {str(result)[:300]}")
            else:
                outcome.reached += 1
    finally:
        for session in sessions:
            await session.close()
    return outcome
