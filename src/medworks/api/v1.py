"""JSON API v1 (Django Ninja). OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every error is JSON of one shape: {"detail": "...", "code": "...", "fields": {"name": ["..."]}}.
A DomainError's status comes from its class (400, 403 PermissionDenied, 404 NotFound), or
from STATUS_BY_CODE where the API says more than the domain does (a taken date is a 409
conflict for a client; a form's field errors are 422 like malformed JSON); unauthenticated
is 401, malformed input 422.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from medworks.core.errors import DomainError

from .auth import AUTHENTICATORS
from .billing import STATUS_BY_CODE as BILLING_STATUS_BY_CODE
from .billing import router as billing_router
from .bookings import router as bookings_router
from .documents import STATUS_BY_CODE as DOCUMENT_STATUS_BY_CODE
from .documents import router as documents_router
from .network import router as network_router

api = NinjaAPI(
    title="MedWorks Booking Desk API",
    version="1",
    urls_namespace="api-v1",
    auth=AUTHENTICATORS,
)
api.add_router("/", network_router)
api.add_router("/", bookings_router)
api.add_router("/", documents_router)
api.add_router("/", billing_router)

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
        request, {"detail": detail, "code": code, "fields": fields or {}}, status=status
    )


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    status = STATUS_BY_CODE.get(exc.code, exc.status)
    return _error(request, status, detail=exc.message, code=exc.code, fields=exc.fields)


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
}


@api.exception_handler(ValidationError)
def invalid_input(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is ("query", "max_minutes") and the like: the last part names the field.
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body")]
        known = _SCHEMA_MESSAGES.get(error.get("type", ""))
        message = str(known) if known is not None else error.get("msg", "invalid")
        fields.setdefault(loc[-1] if loc else "__all__", []).append(message)
    return _error(
        request, 422, detail=_("Some values are not valid."), code="invalid_input", fields=fields
    )
