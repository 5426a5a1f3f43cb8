"""Where a webhook may go: HTTPS to a public address, checked when the URL is saved and again
at each attempt, after DNS resolution (a name can be pointed at 127.0.0.1 after it was saved).

`resolve_public(url)` returns the one address the attempt connects to: the connection is made
to that address (services._post), so the name cannot resolve to another one in between (DNS
rebinding). `MEDWORKS_WEBHOOKS_ALLOW_PRIVATE` (tests only, refused in production) lets plain
http and loopback or private addresses through, for a receiver the tests run on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(ValueError):
    """The URL or what its name resolves to is not a public HTTPS address."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name, for the Host header and the TLS certificate
    port: int
    path: str  # path and query
    address: str  # the checked IP the connection goes to


def _allow_private() -> bool:
    return bool(settings.MEDWORKS_WEBHOOKS_ALLOW_PRIVATE)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_check(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, or AddressRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("webhook_url_invalid") from None
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if _allow_private() else {"https"}
    if scheme not in allowed:
        raise AddressRefused("webhook_url_not_https")
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username or parts.password or parts.fragment:
        raise AddressRefused("webhook_url_invalid")
    if not _allow_private():
        if host.lower() == "localhost" or host.lower().endswith((".localhost", ".local")):
            raise AddressRefused("webhook_url_private")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not _public(literal):
            raise AddressRefused("webhook_url_private")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_public(url: str) -> Target:
    """Check the URL, resolve its host, refuse if any address is not public; the first one."""
    scheme, host, port, path = url_check(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused("webhook_host_unresolved") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise AddressRefused("webhook_host_unresolved")
    if not _allow_private():
        # Every address, not just the first: a name answering both a public and a private
        # address would let a retry land on the private one.
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise AddressRefused("webhook_url_private")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
