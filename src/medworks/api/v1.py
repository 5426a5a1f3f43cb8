"""JSON API v1 (Django Ninja). OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every error is JSON of one shape: {"detail": "...", "code": "...", "fields": {"name": ["..."]}}.
A DomainError's status comes from its class (403 PermissionDenied, 404 NotFound), or from
STATUS_BY_CODE where the API says more than the domain does (a taken date is a 409 conflict
for a client); any other refusal is 422, like field errors and a body that is not JSON
(malformed, or sent as another content type); unauthenticated is 401; a body or upload over
the limits is 413. The shape, and the errors Ninja never sees (unknown address, method,
CSRF, 500), are in errors.py; the docs page, self-hosted under the strict CSP, in docs.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from medworks.core.errors import DomainError

from .auth import AUTHENTICATORS
from .billing import STATUS_BY_CODE as BILLING_STATUS_BY_CODE
from .billing import router as billing_router
from .bookings import router as bookings_router
from .docs import SelfHostedSwagger
from .documents import STATUS_BY_CODE as DOCUMENT_STATUS_BY_CODE
from .documents import router as documents_router
from .errors import error_body, generic_answer
from .invoices import router as invoices_router
from .network import router as network_router
from .parser import TextJsonParser

api = NinjaAPI(
    title="MedWorks Booking Desk API",
    version="1",
    urls_namespace="api-v1",
    auth=AUTHENTICATORS,
    docs=SelfHostedSwagger(),
    parser=TextJsonParser(),
)
api.add_router("/", network_router)
api.add_router("/", bookings_router)
api.add_router("/", documents_router)
api.add_router("/", billing_router)
api.add_router("/", invoices_router)

STATUS_BY_CODE = {
    "request_invalid": 422,
    "insurer_invalid": 422,
    "note_required": 422,
    "idempotency_key_invalid": 422,
    "slot_taken": 409,
    "slot_expired": 409,
    "offer_missing": 409,
    "offer_closed": 409,
    "transition_illegal": 409,
    "transition_refused": 409,
    "transition_forbidden": 403,
    **DOCUMENT_STATUS_BY_CODE,
    **BILLING_STATUS_BY_CODE,
}


def _error(request, status: int, *, detail: str, code: str, fields=None):
    return api.create_response(
        request, error_body(detail=detail, code=code, fields=fields), status=status
    )


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    # A refusal the domain does not classify further (its base status, 400) is a 422 here:
    # the request was read, and refused as it stands.
    status = STATUS_BY_CODE.get(exc.code, 422 if exc.status == 400 else exc.status)
    return _error(request, status, detail=exc.message, code=exc.code, fields=exc.fields)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # Ninja raises HttpError(400) when a JSON body cannot be parsed (params/models.py).
    if exc.status_code == 400:
        return _error(request, 422, detail=_("The body is not valid JSON."), code="json_invalid")
    code, detail = generic_answer(exc.status_code, request.method)
    return _error(request, exc.status_code, detail=detail, code=code)


@api.exception_handler(MultiPartParserError)
def form_unreadable(request, exc: MultiPartParserError):
    return _error(
        request,
        422,
        detail=_("The body is not valid multipart/form-data."),
        code="form_invalid",
    )


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    return _error(request, 404, detail=_("Not found."), code="not_found")


def _too_large(request, exc: Exception):
    """Over DATA_UPLOAD_MAX_MEMORY_SIZE (a body) or the number of fields or files."""
    code, detail = generic_answer(413, request.method)
    return _error(request, 413, detail=detail, code=code)


for _exc in (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
    api.add_exception_handler(_exc, _too_large)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc: AuthenticationError):
    return _error(request, 401, detail=_("Sign in first."), code="not_authenticated")


# Pydantic's words for the commonest refusals, in the caller's language (others stay as
# pydantic writes them, in English).
_SCHEMA_MESSAGES = {
    "missing": gettext_lazy("Required."),
    "string_type": gettext_lazy("Give a text."),
    "int_parsing": gettext_lazy("Give a whole number."),
    "int_type": gettext_lazy("Give a whole number."),
    "bool_parsing": gettext_lazy("Give true or false."),
    "list_type": gettext_lazy("Give a list."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
    # These name what they expected (pydantic's ctx["expected"]: "'gop', 'other'").
    "literal_error": gettext_lazy("Give one of %(expected)s."),
    "enum": gettext_lazy("Give one of %(expected)s."),
}


def _file_too_large(request, names: list[str]):
    """A file dropped by web.uploads.SizeCappedUploadHandler as it arrived: 413, not "Required"."""
    limit = settings.MEDWORKS_DOCUMENT_MAX_BYTES
    message = _("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024) or 1}
    return _error(
        request,
        413,
        detail=message,
        code="file_too_large",
        fields={name: [message] for name in names},
    )


@api.exception_handler(ValidationError)
def invalid_input(request, exc: ValidationError):
    skipped = getattr(request, "uploads_too_large", None)
    if skipped:
        return _file_too_large(request, skipped)
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is ("query", "max_minutes") and the like: the last part names the field.
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body")]
        known = _SCHEMA_MESSAGES.get(error.get("type", ""))
        message = str(known) if known is not None else error.get("msg", "invalid")
        if known is not None and "%(expected)s" in message:
            message %= {"expected": error.get("ctx", {}).get("expected", "")}
        fields.setdefault(loc[-1] if loc else "__all__", []).append(message)
    return _error(
        request, 422, detail=_("Some values are not valid."), code="invalid_input", fields=fields
    )
