"""API v1: the insurer's invoices and credit notes (SOP case 3: "the insurer finds the invoice
through the API, with its status and balance"). Handlers parse, check, call, render.

An insurer's key (or its portal user's session) reads its own issued invoices and credit notes,
never a draft; another insurer's number is 404, so its existence is not disclosed. Money is
written as decimal strings ("203.40"), never floats. Downloading the PDF is recorded
(`invoice.pdf_downloaded`, origin "api"); reading the figures is not (no patient data).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from ninja import Query, Router, Schema
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from medworks.accounts.permissions import Capability
from medworks.billing.insurer_invoices import (
    INSURER_STATUSES,
    insurer_invoice_get,
    insurer_invoices,
    invoice_payments_received,
    invoice_pdf_download,
)
from medworks.billing.models import InvoiceKind
from medworks.billing.receivables import insurer_credit, invoice_balance, invoice_balances

from .auth import actor_of, require
from .errors import responses

router = Router(tags=["invoices"])

PAGE_SIZE = 50
# The statuses an issued invoice or credit note can have (a draft is never shown).
IssuedStatus = Literal[tuple(s.value for s in INSURER_STATUSES)]


# --- schemas ----------------------------------------------------------------------------------


class InvoiceLinksOut(Schema):
    self: str
    pdf: str


class InvoiceSummaryOut(Schema):
    number: str = Field(examples=["INV-2026-000001"])
    kind: str = Field(examples=["invoice"], description="invoice or credit_note")
    kind_label: str
    status: str = Field(examples=["partly_paid"])
    status_label: str
    issue_date: dt.date
    due_date: dt.date | None
    currency: str = Field(examples=["CAD"])
    total: Decimal = Field(description="Tax included, a decimal string", examples=["203.40"])
    balance: Decimal = Field(description="Still to pay, from the ledger", examples=["103.40"])
    credits: str | None = Field(description="A credit note: the invoice it reverses")
    links: InvoiceLinksOut


class InvoicePageOut(Schema):
    count: int
    page: int
    pages: int
    credit: Decimal = Field(description="Your payments not yet applied to an invoice")
    results: list[InvoiceSummaryOut]


class InvoiceLineOut(Schema):
    order_id: str | None = Field(description="The case the line bills")
    service: str | None = Field(examples=["XRAY"], description="Catalogue code")
    description: str
    amount: Decimal = Field(description="Before tax")


class InvoiceTaxOut(Schema):
    name: str = Field(examples=["HST"])
    rate: Decimal = Field(examples=["0.13"])
    amount: Decimal


class PaymentOut(Schema):
    receipt: str = Field(examples=["RCT-2026-000001"])
    applied_on: dt.date
    received_on: dt.date
    method: str = Field(examples=["eft"])
    method_label: str
    reference: str
    amount: Decimal = Field(description="What this payment paid on the invoice")


class InvoiceDetailOut(InvoiceSummaryOut):
    terms_days: int
    place_of_supply: str = Field(examples=["ON"])
    reason: str = Field(description="Why a credit note was issued")
    lines: list[InvoiceLineOut]
    taxes: list[InvoiceTaxOut]
    subtotal: Decimal
    tax_total: Decimal
    payments: list[PaymentOut]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """A day as the schema says it (YYYY-MM-DD): pydantic would read "0" as 1970-01-01."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_invalid", gettext("Give a date as YYYY-MM-DD."))
    return value


class InvoiceListQuery(Schema):
    status: IssuedStatus | None = None
    issued_from: dt.date | None = Field(None, description="Issued on or after this day")
    issued_to: dt.date | None = Field(None, description="Issued on or before this day")
    page: int = Field(1, ge=1)

    _iso_dates = field_validator("issued_from", "issued_to", mode="before")(_iso_date)


ERRORS = responses(401, 403, 404, 500)
PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


# --- rendering --------------------------------------------------------------------------------


def _summary(invoice, balance: Decimal) -> dict:
    number = invoice.display_number
    return {
        "number": number,
        "kind": invoice.kind,
        "kind_label": str(invoice.get_kind_display()),
        "status": invoice.status,
        "status_label": str(invoice.get_status_display()),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date if invoice.kind == InvoiceKind.INVOICE else None,
        "currency": invoice.currency,
        "total": invoice.total,
        "balance": balance,
        "credits": invoice.credits.display_number if invoice.credits_id else None,
        "links": {
            "self": reverse("api-v1:invoice_detail", args=[number]),
            "pdf": reverse("api-v1:invoice_pdf", args=[number]),
        },
    }


def _detail(invoice) -> dict:
    return {
        **_summary(invoice, invoice_balance(invoice)),
        "terms_days": invoice.terms_days,
        "place_of_supply": invoice.place_of_supply,
        "reason": invoice.reason,
        "lines": [
            {
                "order_id": line.case.order_id if line.case_id else None,
                "service": line.service.code if line.service_id else None,
                "description": line.description,
                "amount": line.amount,
            }
            for line in invoice.lines.all()
        ],
        "taxes": [
            {"name": t.name, "rate": t.rate, "amount": t.amount} for t in invoice.taxes.all()
        ],
        "subtotal": invoice.subtotal,
        "tax_total": invoice.tax_total,
        "payments": [
            {
                "receipt": a.payment.display_number,
                "applied_on": a.applied_on,
                "received_on": a.payment.received_on,
                "method": a.payment.method,
                "method_label": str(a.payment.get_method_display()),
                "reference": a.payment.reference,
                "amount": a.amount,
            }
            for a in invoice_payments_received(invoice)
        ],
    }


def _require_insurer(request) -> None:
    """Invoices are read by the insurer billed (its keys and portal users)."""
    require(request, Capability.INSURER_PORTAL)


# --- endpoints --------------------------------------------------------------------------------


@router.get(
    "/invoices",
    response={200: InvoicePageOut, **responses(401, 403, 422, 500)},
    summary="Your invoices and credit notes, newest first, with their status and balance",
)
def invoice_list(request, query: Query[InvoiceListQuery]):
    _require_insurer(request)
    actor = actor_of(request)
    invoices = insurer_invoices(
        actor=actor,
        status=query.status,
        issued_from=query.issued_from,
        issued_to=query.issued_to,
    )
    count = invoices.count()
    pages = max(1, math.ceil(count / PAGE_SIZE))
    start = (query.page - 1) * PAGE_SIZE
    # A page past the last is empty; never an offset past what the database takes (a 500).
    rows = list(invoices[start : start + PAGE_SIZE]) if start < count else []
    balances = invoice_balances(rows)
    return {
        "count": count,
        "page": query.page,
        "pages": pages,
        "credit": insurer_credit(request.auth.organisation),
        "results": [_summary(invoice, balances[invoice.pk]) for invoice in rows],
    }


@router.get(
    "/invoices/{number}",
    response={200: InvoiceDetailOut, **ERRORS},
    url_name="invoice_detail",
    summary="An invoice or credit note: lines, taxes, totals, status, balance, payments",
)
def invoice_detail(request, number: str):
    _require_insurer(request)
    return _detail(insurer_invoice_get(actor=actor_of(request), number=number))


@router.get(
    "/invoices/{number}/pdf",
    # None: no JSON body to document; openapi_extra says the 200 is a PDF file.
    response={200: None, **ERRORS},
    url_name="invoice_pdf",
    summary="The invoice's PDF, as issued; the download is recorded",
    openapi_extra={
        "responses": {200: {"description": "The PDF as issued", "content": PDF_CONTENT}}
    },
)
def invoice_pdf(request, number: str):
    _require_insurer(request)
    actor = actor_of(request)
    invoice = insurer_invoice_get(actor=actor, number=number)
    content = invoice_pdf_download(invoice=invoice, actor=actor, origin="api")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, invoice.pdf.filename)
    response["Cache-Control"] = "private, no-store"
    return response
