"""40 sign-ins sent at once through real websockets get at most the policy's number of password
checks (issue 21, N1), against one real ``streamlit run`` server.

40 browser-less sessions (``tests.support.ws_session``) open the sign-in page, then all submit
the form for one account with a wrong password in the same instant (one ``asyncio.gather``; the
server runs each session's script on its own thread, and the app's bcrypt check takes ~0.25 s,
far longer than the store's round trips). What each person sees tells whether their password was
checked: "Username or password is incorrect" (checked) or "Too many failed sign-ins" (refused
before any check). The policy allows 4 checks per account (3 free failures and the one that
blocks). Before the reservation, the block was read first and the failure counted after the
bcrypt check, so nearly all 40 were checked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from recsys.access.throttle import ACCOUNT
from recsys.config import Settings
from recsys.store import Store, register
from recsys.ui.auth import INCORRECT
from tests.support.app_server import AppServer
from tests.support.testers import LOGIN_FORM, run_async
from tests.support.ws_session import StreamlitSession, text_value, trigger

pytestmark = [pytest.mark.server]

BURST = 40
ALLOWED = ACCOUNT.free + 1  # 3 free failures and the one that blocks


async def burst(url: str, username: str, password: str) -> list[list[str]]:
    """Every session's errors after the simultaneous submit."""
    sessions = [StreamlitSession(url, timeout=120) for _ in range(BURST)]
    try:
        forms = []
        for session in sessions:
            await session.__aenter__()
            run = await session.run()
            forms.append(
                [
                    text_value(run.widget("text_input", label="Username", form=LOGIN_FORM), username),
                    text_value(run.widget("text_input", label="Password", form=LOGIN_FORM), password),
                    trigger(run.widget("button", key="FormSubmitter:login-form-Log in")),
                ]
            )
        runs = await asyncio.gather(*(s.run(form) for s, form in zip(sessions, forms, strict=True)))
        return [run.errors() for run in runs]
    finally:
        for session in sessions:
            await session.close()


def test_forty_simultaneous_sign_ins_get_at_most_the_policys_checks(app_settings: Settings, tmp_path: Path) -> None:
    with Store.open(app_settings.store_url) as store:
        register(store, "dave", "Dave", "dave@example.com", "Right#pass1")  # the app's bcrypt cost
    server = AppServer(app_settings.data_dir, log_path=tmp_path / "streamlit.log")
    server.start()
    try:
        seen = run_async(lambda: burst(server.url, "dave", "Wrong#pass1"), timeout=600)
    finally:
        server.stop()
    checked = sum(any(INCORRECT in e for e in errors) for errors in seen)
    refused = sum(any("Too many failed sign-ins" in e for e in errors) for errors in seen)
    assert (checked, refused) == (ALLOWED, BURST - ALLOWED), seen
