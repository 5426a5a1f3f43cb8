"""The API's one error shape, and the errors Django Ninja never sees.

Every error under /api/ is JSON of one shape, in the caller's language (Accept-Language):

    {"detail": "What went wrong, in words", "code": "a_stable_code", "fields": {"name": ["..."]}}

Ninja's exception handlers (v1.py) answer what happens inside an operation: domain refusals,
validation, authentication, an unreadable or oversize body. What never reaches an operation
is answered here, in the same shape:

- `ApiErrorsMiddleware`: an error response under /api/ that is not the API's JSON (Django's
  404 page for an unknown address, Ninja's bare 405 for a method a path does not take,
  Django's 500 page after an unexpected exception, already logged by Django) is rewritten,
  keeping its status and its `Allow` header, and saying nothing of the cause.
- `csrf_failure` (settings.CSRF_FAILURE_VIEW): JSON under /api/, Django's 403 page elsewhere.

`responses(...)` declares an operation's error statuses for the OpenAPI schema, all with the
one `ErrorOut` schema, so the schema says every status an operation can answer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy
from django.views.csrf import csrf_failure as django_csrf_failure
from ninja import Schema
from pydantic import Field

API_PREFIX = "/api/"


class ErrorOut(Schema):
    """Every error of the API: 401, 403, 404, 405, 409, 413, 422 and 500 alike."""

    detail: str = Field(description="What went wrong, in the caller's language")
    code: str = Field(description="A stable code to act on", examples=["not_found"])
    fields: dict[str, list[str]] = Field(description="What to fix, by field (422); empty otherwise")


def responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error statuses an operation can answer, for `response={200: ..., **responses(...)}`."""
    return dict.fromkeys(statuses, ErrorOut)


def error_body(*, detail: str, code: str, fields: dict | None = None) -> dict:
    return {"detail": str(detail), "code": code, "fields": fields or {}}


def error_response(status: int, *, detail: str, code: str, fields=None) -> JsonResponse:
    return JsonResponse(error_body(detail=detail, code=code, fields=fields), status=status)


CSRF_FAILED = gettext_lazy(
    "The CSRF token is missing or wrong: reload the page you called from, or use an API key."
)

# What an error response made outside the API says, by status (any other: `error`).
_ANSWERS = {
    400: ("bad_request", gettext_lazy("The request could not be read.")),
    403: ("forbidden", gettext_lazy("This request is not allowed.")),
    404: ("not_found", gettext_lazy("There is nothing at this address of the API.")),
    405: ("method_not_allowed", gettext_lazy("This address does not take %(method)s requests.")),
    413: ("request_too_large", gettext_lazy("The request is larger than the API accepts.")),
    429: ("throttled", gettext_lazy("Too many requests: wait a moment and try again.")),
    500: (
        "server_error",
        gettext_lazy("Something went wrong on our side; MedWorks has been told."),
    ),
}
_OTHER = ("error", gettext_lazy("The request could not be answered."))


def generic_answer(status: int, method: str) -> tuple[str, str]:
    """The code and words of an error that says no more than its status."""
    code, message = _ANSWERS.get(status, _OTHER)
    detail = str(message)
    if status == 405:
        detail %= {"method": method}
    return code, detail


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorsMiddleware:
    """Under /api/, an error answered by anything but the API itself, in the API's shape.

    Placed after LocaleMiddleware, so the words are in the caller's language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request) or _is_json(response):
            return response
        code, detail = generic_answer(response.status_code, request.method)
        answer = error_response(response.status_code, detail=detail, code=code)
        if response.has_header("Allow"):
            answer["Allow"] = response["Allow"]
        return answer


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: the API's JSON under /api/, Django's own page elsewhere."""
    if is_api_path(request):
        return error_response(403, detail=str(CSRF_FAILED), code="csrf_failed")
    return django_csrf_failure(request, reason=reason)
