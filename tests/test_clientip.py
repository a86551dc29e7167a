"""Client identity for per-client limits (issue 21, N3): X-Forwarded-For counts only from a
trusted proxy, and only as an IP address."""

from __future__ import annotations

import pytest

from recsys.access.clientip import HIDDEN_PEER, client_address, parse_networks
from recsys.errors import ConfigError

NGINX = parse_networks("172.28.0.10")
XFF = "x-forwarded-for"


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        # an untrusted peer is the client, whatever it claims
        ("198.51.100.9", "203.0.113.7", NGINX, "198.51.100.9"),
        ("198.51.100.9", "not-an-ip; DROP TABLE", NGINX, "198.51.100.9"),
        # the trusted proxy: the entry it appended (rightmost), not what the visitor prepended
        ("172.28.0.10", "203.0.113.7", NGINX, "203.0.113.7"),
        ("172.28.0.10", "1.2.3.4, 203.0.113.7", NGINX, "203.0.113.7"),
        ("172.28.0.10", "garbage, 2001:DB8::1", NGINX, "2001:db8::1"),
        # chained trusted proxies are skipped; a non-address is refused (the peer stays the client)
        ("172.28.0.10", "203.0.113.7, 10.0.0.2", parse_networks("172.28.0.10 10.0.0.0/8"), "203.0.113.7"),
        ("172.28.0.10", "not-an-ip; DROP TABLE", NGINX, "172.28.0.10"),
        ("172.28.0.10", "", NGINX, "172.28.0.10"),
        ("::ffff:172.28.0.10", "203.0.113.7", NGINX, "203.0.113.7"),
    ],
)
def test_the_client_is_the_peer_unless_a_trusted_proxy_names_an_address(
    peer: str, forwarded: str, trusted: tuple, client: str
) -> None:
    assert client_address(peer, [(XFF, forwarded)], trusted, uvicorn_allowed="") == client


def test_an_address_uvicorn_rewrote_for_a_peer_we_do_not_trust_is_one_shared_unknown_peer() -> None:
    # uvicorn (default FORWARDED_ALLOW_IPS: loopback) already replaced the loopback peer with the header
    headers = [(XFF, "203.0.113.7")]
    assert client_address("203.0.113.7", headers, (), uvicorn_allowed="127.0.0.1,::1") == HIDDEN_PEER
    trusted = parse_networks("127.0.0.0/8 ::1")
    assert client_address("203.0.113.7", headers, trusted, uvicorn_allowed="127.0.0.1,::1") == "203.0.113.7"
    assert client_address("198.51.100.9", headers, (), uvicorn_allowed="127.0.0.1,::1") == "198.51.100.9"


def test_no_peer_is_local_and_a_bad_setting_names_the_entry() -> None:
    assert client_address(None, [], (), uvicorn_allowed="") == "local"
    with pytest.raises(ConfigError, match="'nginx' is neither"):
        parse_networks("127.0.0.1, nginx")
