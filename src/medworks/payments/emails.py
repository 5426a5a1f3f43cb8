"""The payment request's emails: each step tells the next person, with a link to the request
(SOP case 4 step 3: "share the details of payment ... to Chief of Staff for CEO's approval").

Internal (English, like the order to finance; every text marked for translation). What travels:
the request's number, the provider, the number of cases and the amounts; never a patient's
name (the table is behind the link, after sign-in), never a card.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from medworks.accounts.permissions import Capability
from medworks.accounts.selectors import users_with
from medworks.core.money import format_money
from medworks.notifications.services import email_queue

from .models import PaymentRequest

LANGUAGE = "en"


def request_url(request: PaymentRequest) -> str:
    path = reverse("web:payment_request_detail", args=[request.pk])
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path


def _context(request: PaymentRequest, **extra) -> dict:
    return {
        "number": request.display_number,
        "provider": request.provider.name,
        "cases": request.lines.count(),
        "clinic_cost": format_money(request.clinic_cost, LANGUAGE),
        "total_to_bill": format_money(request.total_to_bill, LANGUAGE),
        "method": request.get_method_display(),
        "url": request_url(request),
        **extra,
    }


def _send(request: PaymentRequest, *, to, template: str, **extra) -> None:
    addresses = [user.email for user in to if user.email]
    if addresses:
        email_queue(
            to=addresses,
            template=template,
            language=LANGUAGE,
            context=_context(request, **extra),
            related=request,
        )


def waits_for_review(request: PaymentRequest, *, reset: bool = False) -> None:
    _send(
        request,
        to=users_with(Capability.PAYMENT_REVIEW),
        template="payment_request_review",
        reset=reset,
    )


def waits_for_approval(request: PaymentRequest) -> None:
    _send(request, to=users_with(Capability.PAYMENT_APPROVE), template="payment_request_approve")


def approved(request: PaymentRequest) -> None:
    preparer = [request.prepared_by] if request.prepared_by_id else []
    _send(request, to=preparer, template="payment_request_approved")


def rejected(request: PaymentRequest, *, note: str) -> None:
    preparer = [request.prepared_by] if request.prepared_by_id else []
    _send(request, to=preparer, template="payment_request_rejected", note=note)
