"""Signs out a session past its limits, or of a user or organisation no longer active.

The request then goes on as an anonymous visitor's, which every view already handles: a page
sends to the login page (coming back here after sign-in), the API answers 401, a signed link
still works. The reason is left as a message, which the login page shows.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .sessions import session_limits_check


class SessionLimitsMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware (settings.MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            reason = session_limits_check(session=request.session, user=user, now=timezone.now())
            if reason is not None:
                logout(request)
                messages.warning(request, reason)
        return self.get_response(request)
