"""How ``nerd review serve`` runs: who may in, from where, and the limits of a request."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ReviewSettings:
    order: str = "given"
    # Seconds an item stays with its reviewer; the page renews the lease while the sentence is open.
    lease_s: int = 600
    # The interface served: a database without users is open to one person on loopback only.
    host: str = "127.0.0.1"
    # The name the one person of an open (user-less, loopback) review decides under.
    open_reviewer: str = "reviewer"
    # Host header values accepted (besides loopback names and --host).
    allowed_hosts: tuple[str, ...] = ()
    # Addresses of reverse proxies whose user header is believed, and that header's name.
    trusted_proxies: tuple[str, ...] = ()
    user_header: str = "X-Forwarded-User"
    # Served over TLS (directly or behind a TLS proxy): session cookies are Secure.
    tls: bool = False
    # Signs session cookies when given; else the key kept in the database.
    secret: str | None = None
    session_hours: float = 12.0
    max_body_bytes: int = 1_000_000
    body_timeout_s: float = 30.0
    header_timeout_s: float = 30.0

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def hosts(self) -> list[str]:
        names = {*LOOPBACK_NAMES, self.host, *self.allowed_hosts}
        names.discard("0.0.0.0")
        names.discard("::")
        return sorted(names)


def is_loopback(host: str) -> bool:
    """
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("10.1.2.3")
    (True, True, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
