"""The client's address behind proxies (PAHT_TRUSTED_PROXIES): what rate limits, login throttling and request logs
key on.

A request's TCP peer is the client unless the peer is a trusted proxy (an ingress, a load balancer). Then the
client is read from `X-Forwarded-For`, walked from the right — each proxy appends the address it received the
request from — skipping the trusted hops: the first address that is not trusted is the client. Whatever a client
writes in the header itself lies to the left of what the trusted proxies appended, so it is never reached while a
trusted proxy's own entry is untrusted. A peer that is not trusted is the client whatever header it sends.

Plain functions (no settings read here but in `of_environ`), tested without a broker: tests/unit/test_proxies.py.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ENVIRON_KEY = "paht.client_address"   # where the HTTP server keeps a request's resolved client (paht.web)


@lru_cache(maxsize=32)
def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.7, fd00::/8` → the networks (an address alone is its own /32 or /128; host bits
    after the prefix are ignored). ValueError naming the entry that is not an address or network."""
    networks = []
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        networks.append(network)
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """One hop of a forwarding chain: `203.0.113.7`, `203.0.113.7:5123`, `2001:db8::1`, `[2001:db8::1]:443`;
    an IPv4-mapped IPv6 address as its IPv4 address. None for anything else (`unknown`, an obfuscated id, junk)."""
    text = (text or "").strip().strip('"')
    if text.startswith("["):                         # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:                       # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def forwarded_hops(values) -> list[str]:
    """Every hop of the X-Forwarded-For header(s), left to right (several headers read as one list, in order)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [hop.strip() for value in values for hop in (value or "").split(",") if hop.strip()]


def client_address(peer: str, forwarded_for, networks: tuple[Network, ...]) -> str:
    """The client of a request whose TCP peer is `peer` and whose X-Forwarded-For header(s) are `forwarded_for`
    (a string, a list of them, or None), trusting the proxies in `networks`.

    - the peer is not trusted (or nothing is): the peer, whatever the header says;
    - else the header's hops from the right: a trusted one is skipped, the first untrusted one is the client;
    - a hop that is not an address stops the walk: the last trusted hop (the proxy that wrote it) is the client;
    - every hop trusted: the leftmost (the first proxy's own client, inside the trusted networks)."""
    peer_address = parse_address(peer)
    if peer_address is None:
        return peer or ""
    if not networks or not trusted(peer_address, networks):
        return str(peer_address)
    client = peer_address
    for hop in reversed(forwarded_hops(forwarded_for)):
        address = parse_address(hop)
        if address is None:
            return str(client)
        client = address
        if not trusted(address, networks):
            return str(address)
    return str(client)


def of_environ(environ: dict) -> str:
    """A WSGI request's client, by PAHT_TRUSTED_PROXIES (resolved once per request and kept in the environ)."""
    found = environ.get(ENVIRON_KEY)
    if found is None:
        from . import settings

        found = client_address(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"),
                               settings.trusted_proxies())
        environ[ENVIRON_KEY] = found
    return found


def of_request(request) -> str:
    """The client of a werkzeug request (use instead of `request.remote_addr`)."""
    return of_environ(request.environ)
