"""Reads the staff page and the insurer's portal share: endpoints and their recent deliveries."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from medworks.accounts.permissions import Capability, user_can

from .models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 20


def endpoints_for_user(user) -> QuerySet[WebhookEndpoint]:
    """What a user may see: staff who manage API keys every endpoint, an insurer's portal users
    their own insurer's; nobody else any."""
    endpoints = WebhookEndpoint.objects.select_related("insurer")
    if user_can(user, Capability.API_KEYS_MANAGE):
        return endpoints
    if user_can(user, Capability.INSURER_PORTAL):
        return endpoints.filter(insurer_id=user.organisation_id)
    return endpoints.none()


def deliveries_for_user(user) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=endpoints_for_user(user)).select_related(
        "endpoint"
    )


def recent_deliveries(endpoint: WebhookEndpoint, *, limit: int = RECENT_DELIVERIES):
    return list(endpoint.deliveries.order_by("-created_at", "-id")[:limit])


def endpoints_with_last_delivery(user) -> QuerySet[WebhookEndpoint]:
    """Endpoints the user may see, each annotated with its last delivery's time and status
    (`last_delivery_at`, `last_delivery_status`): one query whatever the count."""
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return endpoints_for_user(user).annotate(
        last_delivery_at=Subquery(last.values("created_at")[:1]),
        last_delivery_status=Subquery(last.values("status")[:1]),
    )
