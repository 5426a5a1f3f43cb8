"""One domain error type; each app gives its own stable codes.

The web, API and command-line faces map a code to a message and an HTTP status; a domain
function never knows which face called it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on: a stable `code`, a human `message`, optional field errors."""

    status = 400

    def __init__(
        self, code: str, message: str, *, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403
