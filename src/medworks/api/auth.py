"""Who is calling the API, and what they may do.

Authentication answers "who": an insurer's system with an API key (`Authorization: Bearer
<key>` or `X-API-Key: <key>`), or a signed-in user's browser session. A key stands for its
insurer (`accounts.services.ApiClient`), which the permission table treats like one of the
insurer's portal users. The key authenticators come first: a presented key that is unknown or
revoked is refused with 401 at once, instead of falling through to the session check (whose
CSRF refusal would answer a key problem with a misleading 403).

Authorisation answers "may they": `require(request, capability)` asks the one permission
table (accounts.permissions.user_can), so the API and the web pages never disagree.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from medworks.accounts.actors import actor_for
from medworks.accounts.permissions import Capability, user_can
from medworks.accounts.services import ApiClient, api_key_authenticate
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, PermissionDenied

from .errors import CSRF_FAILED


class NotAuthenticated(DomainError):
    status = 401


def _client_for(key: str | None) -> ApiClient:
    client = api_key_authenticate(secret=key or "")
    if client is None:
        raise NotAuthenticated("api_key_invalid", _("The API key is unknown or has been revoked."))
    return client


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>`."""

    def authenticate(self, request, token):
        return _client_for(token)


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: <key>`, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        if key is None:
            return None  # no key header: let the next authenticator try
        return _client_for(key)


class StaffSession(SessionAuth):
    """A signed-in user's session cookie (unsafe methods need the CSRF token, as on pages).

    The token is checked only when there is a signed-in session to protect: a caller with
    neither key nor session is told 401 (sign in), not a misleading CSRF refusal. A refused
    token is the API's 403 `csrf_failed`, the same answer as Django's CSRF_FAILURE_VIEW.
    """

    def _get_key(self, request):
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied("csrf_failed", str(CSRF_FAILED))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


AUTHENTICATORS = [ApiKeyBearer(), ApiKeyHeader(), StaffSession()]


def require(request, capability: Capability, *alternatives: Capability) -> None:
    """Refuse with 403 unless the caller's role grants the capability (or one of the
    alternatives: a route two kinds of caller read, such as the service catalogue)."""
    if not any(user_can(request.auth, c) for c in (capability, *alternatives)):
        raise PermissionDenied("permission_denied", _("Your role does not allow this."), fields={})


def actor_of(request) -> Actor:
    """The Actor behind a request: the API key's client, or the signed-in user."""
    return actor_for(request.auth)
