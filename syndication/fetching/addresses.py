"""Which hosts and addresses the importer may talk to.

Pure functions with no I/O: `fetching` uses them twice, once on the URL as written (before any
DNS lookup) and once on every address the host name resolves to (right before connecting).

Python's own `ipaddress.is_global` has changed between patch releases and calls some
special ranges global (multicast, 6to4 around a loopback address), so the ranges are listed here.
"""

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_SPECIAL = [
    (ipaddress.ip_network(net), reason)
    for net, reason in [
        ("0.0.0.0/8", "an unspecified address"),
        ("10.0.0.0/8", "a private-network address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
        ("172.16.0.0/12", "a private-network address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private-network address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    ]
]

_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_IPV6_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV6_SPECIAL = [
    (ipaddress.ip_network(net), reason)
    for net, reason in [
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/23", "an IETF protocol address (Teredo and others)"),
        ("2001:db8::/32", "a documentation address"),
        ("2002::/16", "a 6to4 address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
        ("fc00::/7", "a unique-local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    ]
]

# A DNS name: letters, digits, hyphens and (in the wild) underscores, dot-separated labels.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
# A last label that is a number: "127.1", "0x7f.1" and "2130706433" are IPv4 addresses to
# inet_aton() and so to getaddrinfo(), whatever they look like to a URL parser.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def non_public_reason(address: IPAddress) -> str:
    """Why `address` must not be fetched from, or "" when it is an ordinary public address.

    IPv4 addresses carried inside IPv6 (IPv4-mapped `::ffff:a.b.c.d` and NAT64
    `64:ff9b::a.b.c.d`) are judged by the IPv4 address they carry.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return non_public_reason(address.ipv4_mapped)
        if address in _IPV6_NAT64:
            return non_public_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.scope_id:
            return "an address with a network-interface scope"
        if address not in _IPV6_GLOBAL_UNICAST:
            special = _first_match(address, _IPV6_SPECIAL)
            return special or "a reserved address"
        special = _first_match(address, _IPV6_SPECIAL)
    else:
        special = _first_match(address, _IPV4_SPECIAL)
    if special:
        return special
    if not address.is_global or address.is_multicast or address.is_reserved:
        return "not a globally reachable address"
    return ""


def _first_match(address: IPAddress, table) -> str:
    for network, reason in table:
        if address in network:
            return reason
    return ""


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address when `host` is a standard IPv4 dotted quad or an IPv6 address, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_name_problem(host: str) -> str:
    """Why `host` (lower-case, ASCII/IDNA, not an IP literal) is unusable, or "" when it is fine."""
    bare = host.removesuffix(".")
    if not _HOST_NAME.match(bare):
        return "is not a valid host name"
    if _NUMERIC_LABEL.match(bare.rsplit(".", 1)[-1]):
        return "is a numeric address written in an unusual form"
    return ""


def is_local_name(host: str) -> bool:
    """True for names that always mean this machine (RFC 6761), whatever DNS says."""
    bare = normalise_host(host)
    return bare == "localhost" or bare.endswith(".localhost")


def normalise_host(host: str) -> str:
    """The form used to compare a host with the allow-list: lower case, no brackets or final dot."""
    return host.strip().lower().strip("[]").removesuffix(".")
