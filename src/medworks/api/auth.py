"""Who is calling the API, and what they may do.

Authentication answers "who": today a staff member's browser session. A later issue adds API
keys for insurers: another class next to StaffSession (e.g. an `APIKeyHeader` subclass that
returns the key's user), appended to AUTHENTICATORS; nothing in the routers changes.

Authorisation answers "may they": `require(request, capability)` asks the one permission
table (accounts.permissions.user_can), so the API and the web pages never disagree.
"""

from __future__ import annotations

from ninja.security import SessionAuth

from medworks.accounts.permissions import Capability, user_can
from medworks.core.errors import PermissionDenied


class StaffSession(SessionAuth):
    """A signed-in user's session cookie (GET only for now, so no CSRF token is involved)."""

    def authenticate(self, request, key):
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


AUTHENTICATORS = [StaffSession()]


def require(request, capability: Capability) -> None:
    """Refuse with 403 unless the caller's role grants the capability."""
    if not user_can(request.auth, capability):
        raise PermissionDenied("permission_denied", "Your role does not allow this.", fields={})
