"""API v1: the quote of a booking request, for insurers' systems (SOP case 2 step 4).

The insurer reads the standing quote as its pricing settings say (each service's price, the
tax lines and the total by default; the clinic's cost only when its settings show the full
breakdown) and confirms the charges or disputes them with a reason. Who confirmed (which API
key), when and which amount are recorded by billing.quotes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from medworks.accounts.permissions import Capability
from medworks.billing.models import InsurerView, Quote
from medworks.billing.quotes import quote_confirm, quote_dispute
from medworks.billing.selectors import insurer_pricing_of, quote_current
from medworks.billing.workflow import QUOTE_WORKFLOW
from medworks.core.errors import NotFound

from .auth import actor_of, require
from .bookings import ERRORS, WRITE_ERRORS, _case, require_reader
from .errors import responses

router = Router(tags=["quotes"])
# A quote whose state does not allow the answer is a conflict for a client, like a taken date.
STATUS_BY_CODE = {"quote_status_illegal": 409}


class QuoteLineOut(Schema):
    service: str = Field(examples=["XRAY"], description="Catalogue code")
    service_name: str
    clinic_cost: Decimal | None = Field(description="Shown only in the full breakdown")
    medworks_fee: Decimal | None = Field(description="Shown only in the full breakdown")
    price: Decimal | None = Field(description="Before tax; absent when only the total is shown")


class QuoteTaxOut(Schema):
    name: str = Field(examples=["HST"])
    rate: Decimal = Field(examples=["0.13"])
    amount: Decimal


class QuoteOut(Schema):
    version: int
    status: str = Field(examples=["awaiting_confirmation"])
    status_label: str
    currency: str = Field(examples=["CAD"])
    lines: list[QuoteLineOut]
    taxes: list[QuoteTaxOut]
    total: Decimal
    confirmed_total: Decimal | None
    confirmed_at: dt.datetime | None
    actions: list[str] = Field(description="What you may do with it now: confirm, dispute")


class DisputeIn(Schema):
    note: str = Field(min_length=1, max_length=2000, description="Why the charges are disputed")


def _quote(request, order_id: str) -> Quote:
    case = _case(request, order_id)
    quote = quote_current(case=case)
    if quote is None:
        raise NotFound("quote_not_found", _("No quote on this case yet."))
    quote.case = case
    return quote


def _reloaded(quote: Quote) -> Quote:
    """The quote as it stands after an answer (its case already read and logged)."""
    fresh = quote_current(case=quote.case)
    fresh.case = quote.case
    return fresh


def _render(request, quote: Quote) -> dict:
    view = insurer_pricing_of(quote.case.insurer).insurer_view
    full = view == InsurerView.FULL_BREAKDOWN
    total_only = view == InsurerView.TOTAL_ONLY
    return {
        "version": quote.version,
        "status": quote.status,
        "status_label": str(quote.get_status_display()),
        "currency": quote.currency,
        "lines": [
            {
                "service": line.service.code,
                "service_name": line.service.name,
                "clinic_cost": line.clinic_cost if full else None,
                "medworks_fee": line.medworks_fee if full else None,
                "price": None if total_only else line.amount,
            }
            for line in quote.lines.all()
        ],
        "taxes": []
        if total_only
        else [{"name": t.name, "rate": t.rate, "amount": t.amount} for t in quote.taxes.all()],
        "total": quote.total,
        "confirmed_total": quote.confirmed_total,
        "confirmed_at": quote.confirmed_at,
        "actions": sorted(
            name
            for name in QUOTE_WORKFLOW.allowed_names(quote, actor_of(request))
            if name in {"confirm", "dispute"}
        ),
    }


@router.get(
    "/booking-requests/{order_id}/quote",
    response={200: QuoteOut, **ERRORS},
    url_name="booking_request_quote",
    summary="The charges MedWorks will bill for the case, to confirm or dispute",
)
def booking_request_quote(request, order_id: str):
    require_reader(request)
    return _render(request, _quote(request, order_id))


@router.post(
    "/booking-requests/{order_id}/quote/confirm",
    response={200: QuoteOut, **responses(401, 403, 404, 409, 413, 500)},
    summary="Confirm the charges of the standing quote",
    description="A quote already answered or replaced by a new version is refused with 409.",
)
def booking_request_quote_confirm(request, order_id: str):
    require(request, Capability.BOOKING_SUBMIT)
    quote = _quote(request, order_id)
    quote_confirm(quote=quote, actor=actor_of(request))
    return _render(request, _reloaded(quote))


@router.post(
    "/booking-requests/{order_id}/quote/dispute",
    response={200: QuoteOut, **WRITE_ERRORS},
    summary="Dispute the charges, saying why: MedWorks answers with a new quote",
)
def booking_request_quote_dispute(request, order_id: str, payload: DisputeIn):
    require(request, Capability.BOOKING_SUBMIT)
    quote = _quote(request, order_id)
    quote_dispute(quote=quote, actor=actor_of(request), note=payload.note)
    return _render(request, _reloaded(quote))
