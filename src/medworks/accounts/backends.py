"""Sign-in throttling with django-axes: the lockout backend and the client's address.

`LockoutBackend` comes first in AUTHENTICATION_BACKENDS: for a locked-out account or address
it stops the attempt before any password is checked (axes then answers with the lockout page,
settings.AXES_LOCKOUT_CALLABLE). Failures are counted by axes from Django's
`user_login_failed`; the numbers are in settings (AXES_*).
"""

from __future__ import annotations

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, for attempts that come with a request (every sign-in page passes one).

    `authenticate()` called by code without a request (a shell, a command, a test checking a
    password) is nobody's attempt from an address: it is left to the next backend instead of
    failing, as axes' own backend does."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip_address(request: HttpRequest) -> str | None:
    """The caller's address (settings.AXES_CLIENT_IP_CALLABLE).

    Behind MEDWORKS_TRUSTED_PROXIES proxies of ours, X-Forwarded-For is read from the right: the
    last N entries were written by them, anything further left is whatever the client sent (so
    a client cannot pick the address it is counted under)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MEDWORKS_TRUSTED_PROXIES
    if proxies:
        forwarded = [a for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a]
        if len(forwarded) >= proxies:
            address = _valid(forwarded[-proxies])
            if address is not None:
                return address
    return _valid(remote) if remote else None


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """How axes' log lines name a client (settings.AXES_CLIENT_STR_CALLABLE): the address and
    the path, not the username typed (our logs name no people)."""
    return f"{{ip_address: {ip_address!r}, path_info: {path_info!r}}}"
