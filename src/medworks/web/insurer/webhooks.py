"""The insurer's own webhook endpoints in its portal: the staff pages' views
(web/staff/webhooks.py, EndpointPages) for the insurer audience. Any portal user of the insurer
manages them (INSURER_PORTAL: the portal has no administrator role of its own); the endpoints
are loaded through selectors.endpoints_for_user, so only the insurer's own are ever reached."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability

from ..access import require_capability
from ..staff.webhooks import EndpointPages

PORTAL_PAGES = EndpointPages(audience="insurer", prefix="portal_webhook")
_guard = require_capability(Capability.INSURER_PORTAL)


@_guard
def webhook_list(request: HttpRequest) -> HttpResponse:
    return PORTAL_PAGES.list(request)


@_guard
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return PORTAL_PAGES.detail(request, endpoint_id)


@require_POST
@_guard
def webhook_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return PORTAL_PAGES.rotate(request, endpoint_id)


@require_POST
@_guard
def webhook_step(request: HttpRequest, endpoint_id: int, name: str) -> HttpResponse:
    return PORTAL_PAGES.step(request, endpoint_id, name)


@require_POST
@_guard
def webhook_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return PORTAL_PAGES.test(request, endpoint_id)


@require_POST
@_guard
def webhook_resend(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return PORTAL_PAGES.resend(request, endpoint_id)
