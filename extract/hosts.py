"""Where a request may go: https only (plain http to this machine's loopback addresses, for
replays in tests), and the hosts a source's API key may be sent to.

A host here is an origin without its scheme: the host name (lower case) and the port
(443 when none is given), so two servers on 127.0.0.1 on two ports are two hosts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

Host = tuple[str, int]

DEFAULT_PORTS = {"https": 443, "http": 80}


def host_of(url: str) -> Host | None:
    """The host and port a URL points at (None: not an http(s) URL with a host)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    return parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[parts.scheme]


def parse_host(entry: str) -> Host | None:
    """A configured host: `api.fda.gov` (port 443), `127.0.0.1:8080`, `[::1]:8080`, or a
    URL (its host and port)."""
    entry = entry.strip()
    if not entry:
        return None
    if "://" in entry:
        return host_of(entry)
    return host_of(f"https://{entry}")


def parse_hosts(entries: str | Iterable[str] | None) -> frozenset[Host]:
    """Configured hosts: a list, or one string of them separated by commas."""
    if not entries:
        return frozenset()
    if isinstance(entries, str):
        entries = entries.split(",")
    return frozenset(host for host in map(parse_host, entries) if host)


def is_loopback(host: str) -> bool:
    """True for `localhost` and the loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scheme_problem(url: str) -> str | None:
    """Why medmirror will not fetch `url` (None: it may): only https, or plain http to a
    loopback address (a replay on this machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return None
    if parts.scheme == "http":
        return "plain http:// is refused (use https://; http is allowed only to this machine)"
    return f"only https:// URLs are fetched, not {parts.scheme or 'a URL without a scheme'}"
