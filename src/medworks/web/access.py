"""The one door every web view goes through: a capability check.

Anonymous visitors are sent to the login page; a signed-in user without the capability gets
the 403 page (Django's handler renders web's `403.html`). The decision itself lives in
`accounts.permissions`, so pages, API and templates give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from medworks.accounts.permissions import Capability, user_can
from medworks.core.actor import Actor


def require_capability(capability: Capability) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, capability):
                raise PermissionDenied(f"needs {capability.value}")
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability  # lets a test prove every route is guarded
        return wrapped

    return decorator


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in user as the Actor every use case takes."""
    return Actor.for_user(request.user)
