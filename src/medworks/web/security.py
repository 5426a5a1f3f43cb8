"""Security headers on every page: a strict Content-Security-Policy and a Permissions-Policy.

Every script and stylesheet is served by the app itself (htmx and the API docs' Swagger UI are
vendored) and no template has inline script, inline style or event-handler attributes, so the
policy allows nothing but the app's own origin, on every page, the API docs page included.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


class NulCharacterGuard:
    """A query string or form field with a NUL character is refused (400) before any view.

    No person types one, and PostgreSQL text cannot hold it: a lookup or save with one fails in
    the database (a 500) wherever a field is not a CharField, which refuses it itself. Under
    /api/ the answer becomes the API's JSON error (api/errors.py); JSON bodies are cleaned by
    the API's parser."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or _form_body_has_nul(request):
            from django.http import HttpResponseBadRequest
            from django.utils.translation import gettext

            return HttpResponseBadRequest(
                gettext("The request contains a NUL character, which no field accepts.")
            )
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in data.getlist(key)) for key in data)


def _form_body_has_nul(request: HttpRequest) -> bool:
    """A url-encoded form's body, read as bytes (cached for the view) only when within the size
    Django accepts: an over-large body stays the view's to refuse (413). Multipart uploads are
    checked by their fields' own validation."""
    from django.conf import settings

    if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
        return False
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        return False
    body = request.body
    return b"%00" in body or b"\x00" in body
