"""The insurer portal's invoices: its issued invoices and credit notes with their status and
balance, one invoice with its lines, taxes and the payments received on it, and its PDF; and
its statement of account (its open invoices, its credit and their ageing) as a PDF.

Only the organisation's own, never a draft (`billing.insurer_invoices`): another insurer's id
is 404. Each PDF download is recorded (`invoice.pdf_downloaded`, origin "portal").
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from medworks.accounts.permissions import Capability
from medworks.billing.insurer_invoices import (
    case_invoice,
    insurer_invoice_get,
    insurer_invoices,
    invoice_payments_received,
    invoice_pdf_download,
)
from medworks.billing.models import Invoice
from medworks.billing.receivables import insurer_credit, invoice_balance, invoice_balances
from medworks.bookings.models import BookingRequest
from medworks.core.errors import NotFound

from ..access import actor_of, require_capability
from ..statements import statement_pdf_response

INVOICES_PER_PAGE = 25


def _invoice_or_404(request: HttpRequest, invoice_id: int) -> Invoice:
    try:
        return insurer_invoice_get(actor=actor_of(request), invoice_id=invoice_id)
    except NotFound:
        raise Http404("No such invoice") from None


def case_invoice_panel(case: BookingRequest) -> dict | None:
    """The case page's line on its invoice: the latest issued one and its balance, or None."""
    invoice = case_invoice(case)
    if invoice is None:
        return None
    return {"invoice": invoice, "balance": invoice_balance(invoice)}


@require_capability(Capability.INSURER_PORTAL)
def portal_invoices(request: HttpRequest) -> HttpResponse:
    invoices = insurer_invoices(actor=actor_of(request))
    page = Paginator(invoices, INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    balances = invoice_balances(page.object_list)
    return render(
        request,
        "web/insurer/invoices.html",
        {
            "page": page,
            "rows": [(invoice, balances[invoice.pk]) for invoice in page.object_list],
            "credit": insurer_credit(request.user.organisation),
        },
    )


@require_capability(Capability.INSURER_PORTAL)
def portal_invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(request, invoice_id)
    return render(
        request,
        "web/insurer/invoice.html",
        {
            "invoice": invoice,
            "balance": invoice_balance(invoice),
            "payments": invoice_payments_received(invoice),
        },
    )


@require_capability(Capability.INSURER_PORTAL)
def portal_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(request, invoice_id)
    try:
        content = invoice_pdf_download(invoice=invoice, actor=actor_of(request), origin="portal")
    except NotFound:
        raise Http404("No PDF for this invoice") from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, invoice.pdf.filename)
    response["Cache-Control"] = "private, no-store"
    return response


@require_capability(Capability.INSURER_PORTAL)
def portal_statement_pdf(request: HttpRequest) -> HttpResponse:
    """The organisation's own statement of account (today, or `?as_of=YYYY-MM-DD`); audited."""
    return statement_pdf_response(request, request.user.organisation, origin="portal")
