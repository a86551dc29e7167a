"""Who a connection is, for per-client limits: the peer's address, or, only when the peer is a
proxy you trust, the address that proxy reports in ``X-Forwarded-For``.

``CINEBLEND_TRUSTED_PROXIES`` lists the trusted proxies as addresses or networks, separated by
commas or spaces (``172.16.0.0/12, 127.0.0.1``; empty: none, the default). The rule:

- a peer that is not trusted is the client, whatever headers it sends: a visitor cannot pick a
  new identity per request (before, any loopback peer could: 8 of 8 registrations passed with a
  new ``X-Forwarded-For`` each, and ``client:not-an-ip; DROP TABLE`` was stored as a key);
- from a trusted peer, ``X-Forwarded-For`` is read from the right (the entry the proxy itself
  appended) past further trusted proxies to the first other entry, which must parse as an IP
  address; anything else (a name, garbage, nothing) is refused and the peer stays the client.
  Example: peer ``172.18.0.5`` trusted, ``X-Forwarded-For: 1.2.3.4, 203.0.113.7`` ->
  ``203.0.113.7`` (``1.2.3.4`` is what the visitor claimed; nginx appended the real address).

Uvicorn (Streamlit's server) rewrites the connection's address from ``X-Forwarded-For`` itself
when the peer is in its ``FORWARDED_ALLOW_IPS`` (default: loopback), before the app sees it, and
keeps no copy of the real peer. :func:`client_address` therefore recognises a rewritten address
(uvicorn's own reading of the header gives exactly it) and treats that connection as coming
from one of uvicorn's trusted hosts: trusted by us only when all of them are in
``CINEBLEND_TRUSTED_PROXIES``, else keyed as one shared unknown peer. ``scripts/start.sh`` sets
``FORWARDED_ALLOW_IPS=""`` so uvicorn rewrites nothing in the shipped set-ups.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from typing import Union

from recsys.errors import ConfigError

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]  # noqa: UP007 - used at runtime

#: The key of connections whose real peer uvicorn hid (rewritten from a header it trusted).
HIDDEN_PEER = "unknown-peer"
_SEPARATORS = re.compile(r"[,\s]+")


def parse_networks(text: str | None, name: str = "CINEBLEND_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` -> the networks; ConfigError naming the bad entry."""
    out = []
    for entry in _SEPARATORS.split((text or "").strip()):
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"{name} must list IP addresses or networks (e.g. 172.16.0.0/12, 127.0.0.1); {entry!r} is neither."
            ) from exc
    return tuple(out)


def parse_ip(value: str) -> str | None:
    """The canonical text of an IP address (``::ffff:1.2.3.4`` -> ``1.2.3.4``), or None."""
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def _trusted(ip: str, networks: tuple[Network, ...]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr.version == net.version and addr in net for net in networks)


def _forwarded_for(headers: Iterable[tuple[str, str]]) -> list[str]:
    values = [v for k, v in headers if k.lower() == "x-forwarded-for"]
    return [e.strip() for e in ", ".join(values).split(",")] if values else []


def _uvicorn_reading(entries: list[str], allowed: str) -> str | None:
    """The address uvicorn's proxy middleware makes of ``entries`` when it trusts the peer."""
    try:
        from uvicorn.middleware.proxy_headers import _TrustedHosts

        host, _ = _TrustedHosts(allowed).get_trusted_client_address(", ".join(entries))
    except Exception:  # an internal API; without it no rewrite is recognised
        return None
    return str(host) if host else None


def _uvicorn_hosts_trusted(allowed: str, networks: tuple[Network, ...]) -> bool:
    hosts = [h for h in _SEPARATORS.split(allowed.strip()) if h]
    try:
        nets = [ipaddress.ip_network(h, strict=False) for h in hosts]
    except ValueError:  # "*" or a socket path: not all of them are known proxies
        return False
    return bool(nets) and all(
        any(n.version == t.version and n.subnet_of(t) for t in networks)  # type: ignore[arg-type]  # the stubs want one IP version; the versions are compared first
        for n in nets
    )


def client_address(
    peer: str | None,
    headers: Iterable[tuple[str, str]],
    trusted: tuple[Network, ...],
    uvicorn_allowed: str | None = None,
) -> str:
    """The client of a connection from ``peer`` with ``headers`` (module docstring).

    ``uvicorn_allowed``: uvicorn's ``FORWARDED_ALLOW_IPS`` (default: this process's setting).

    >>> nets = parse_networks("127.0.0.1")
    >>> client_address("10.1.2.3", [("x-forwarded-for", "8.8.8.8")], nets, "")
    '10.1.2.3'
    >>> client_address("127.0.0.1", [("x-forwarded-for", "junk, 8.8.8.8")], nets, "")
    '8.8.8.8'
    >>> client_address("127.0.0.1", [("x-forwarded-for", "not-an-ip")], nets, "")
    '127.0.0.1'
    """
    allowed = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if uvicorn_allowed is None else uvicorn_allowed
    entries = _forwarded_for(headers)
    peer_ip = parse_ip(peer or "")
    if entries and peer is not None and allowed.strip() and _uvicorn_reading(entries, allowed) == peer:
        # uvicorn replaced the real peer (one of its trusted hosts) with the header's value
        if not _uvicorn_hosts_trusted(allowed, trusted):
            return HIDDEN_PEER
        peer_trusted = True
        fallback = HIDDEN_PEER
    else:
        if peer_ip is None:
            return "local"  # no network peer (a test harness, a unix socket)
        peer_trusted = _trusted(peer_ip, trusted)
        fallback = peer_ip
    if not peer_trusted:
        return fallback
    for entry in reversed(entries):
        ip = parse_ip(entry)
        if ip is None:
            return fallback  # not an address: the header is refused, the peer stays the client
        if not _trusted(ip, trusted):
            return ip
    return fallback
