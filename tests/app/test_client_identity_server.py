"""The per-client sign-in key through the real server (issue 21, N3): a spoofed
``X-Forwarded-For`` from a peer that is not a trusted proxy changes nothing, and from the
trusted proxy only an IP address counts.

Every session is a websocket from 127.0.0.1 carrying its own ``X-Forwarded-For`` and fails one
sign-in; the store's ``auth_throttle`` keys show who the server counted. The server runs with
uvicorn's default ``FORWARDED_ALLOW_IPS`` (loopback), as a plain ``streamlit run`` does. Before,
every header was its own client (``client:203.0.113.7``, ``client:not-an-ip; DROP TABLE``): a
visitor got a fresh limit per request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from recsys.config import Settings
from tests.support.app_server import AppServer
from tests.support.testers import LOGIN_FORM, run_async
from tests.support.ws_session import StreamlitSession, text_value, trigger

pytestmark = [pytest.mark.server]

CLAIMS = ("203.0.113.7", "198.51.100.9", "not-an-ip; DROP TABLE")


async def fail_sign_ins(url: str) -> None:
    for claim in CLAIMS:
        async with StreamlitSession(url, headers={"X-Forwarded-For": claim}) as session:
            run = await session.run()
            await session.run(
                [
                    text_value(run.widget("text_input", label="Username", form=LOGIN_FORM), "nobody"),
                    text_value(run.widget("text_input", label="Password", form=LOGIN_FORM), "Wrong#pass1"),
                    trigger(run.widget("button", key="FormSubmitter:login-form-Log in")),
                ]
            )


def client_counts(store_url: str) -> dict[str, int]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT key, count FROM auth_throttle WHERE key LIKE 'client:%'")).all()
    finally:
        engine.dispose()
    return {key: count for key, count in rows}


def counted(settings: Settings, log: Path, env: dict[str, str]) -> dict[str, int]:
    server = AppServer(settings.data_dir, log_path=log, env=env)
    server.start()
    try:
        run_async(lambda: fail_sign_ins(server.url), timeout=300)
    finally:
        server.stop()
    return client_counts(settings.store_url)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"FORWARDED_ALLOW_IPS": ""}, "client:127.0.0.1"),  # as scripts/start.sh runs it
        ({}, "client:unknown-peer"),  # uvicorn's default hid the loopback peer: one shared key
    ],
)
def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(
    app_settings: Settings, tmp_path: Path, env: dict[str, str], key: str
) -> None:
    assert counted(app_settings, tmp_path / "streamlit.log", env) == {key: 3}


def test_the_trusted_proxy_names_the_client_by_address_only(app_settings: Settings, tmp_path: Path) -> None:
    env = {"CINEBLEND_TRUSTED_PROXIES": "127.0.0.1, ::1", "FORWARDED_ALLOW_IPS": ""}
    assert counted(app_settings, tmp_path / "streamlit.log", env) == {
        "client:203.0.113.7": 1,
        "client:198.51.100.9": 1,
        "client:127.0.0.1": 1,  # "not-an-ip; DROP TABLE" refused: the proxy's own address
    }
