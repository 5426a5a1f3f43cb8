"""The coordinator's four checks of an order (SOP case 4 step 6), evaluated from what the
other apps recorded. Nothing here writes: `services.reconciliation_refresh` stores the result.

1. Email details from the booking team: the order sent to finance (billing.orders), needed
   for a pre-paid provider only; its total must be the standing quote's.
2. The payment process reconfirmed: the provider paid the way the plan says. Direct billing:
   its invoice approved and paid in full. A pre-payment: a request reviewed by the Chief of
   Staff, approved by the CEO and paid, for the agreed clinic cost, by a method the provider
   accepts; money paid to a pre-paid provider outside such a request is a discrepancy.
3. Any invoice received from the provider: for the agreed clinic cost, billed once. Required
   under direct billing; a pre-paid provider's invoice (a receipt) is checked when it comes.
4. The insurer's payment: the order invoiced for the quote's price before tax, and the
   invoice paid in full. A part payment is a discrepancy with the amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from medworks.billing.models import (
    INVOICE_LIVE_STATUSES,
    InvoiceKind,
    InvoiceLine,
    ProviderInvoiceLine,
    ProviderInvoiceStatus,
    ProviderPayment,
    Quote,
    QuoteStatus,
)
from medworks.billing.payables import PaymentPlan, payment_plan_of, provider_invoice_balance
from medworks.billing.receivables import invoice_balances
from medworks.bookings.models import BookingEvent, BookingRequest
from medworks.payments.models import PaymentRequestLine, PaymentRequestStatus
from medworks.payments.requests import ARRANGEMENT_OF

from .models import CheckName, CheckState

ZERO = Decimal("0.00")
PI = ProviderInvoiceStatus


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class Check:
    """One check's result: its state, what it says, and the amounts that disagree."""

    name: str  # a CheckName
    state: str  # a CheckState
    message: str
    amounts: dict[str, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(CheckName(self.name).label)

    @property
    def settled(self) -> bool:
        return self.state in (CheckState.MET, CheckState.NOT_NEEDED)

    def as_detail(self) -> dict:
        return {"message": self.message, "amounts": self.amounts}


@dataclass(frozen=True)
class Figures:
    """The SOP table's figures of the order, from its standing quote."""

    clinic_cost: Decimal | None
    medworks_cost: Decimal | None
    total_to_bill: Decimal | None
    tax: Decimal | None
    total_with_tax: Decimal | None
    payment_method: str  # a BillingArrangement value, or ""


@dataclass(frozen=True)
class Evaluation:
    figures: Figures
    checks: list[Check]

    def of(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def has_discrepancy(self) -> bool:
        return any(c.state == CheckState.DISCREPANCY for c in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.state == CheckState.MISSING]

    @property
    def discrepancies(self) -> list[Check]:
        return [c for c in self.checks if c.state == CheckState.DISCREPANCY]


def _standing_quote(case: BookingRequest) -> Quote | None:
    return (
        Quote.objects.filter(case=case)
        .exclude(status=QuoteStatus.SUPERSEDED)
        .order_by("-version")
        .first()
    )


# --- 1. The order to finance -------------------------------------------------------------------


def _order_email(case, plan: PaymentPlan | None, quote: Quote | None) -> Check:
    name = CheckName.ORDER_EMAIL
    if plan is not None and not plan.prepaid:
        return Check(
            name,
            CheckState.NOT_NEEDED,
            _("Direct billing: the provider invoices MedWorks, no order goes to finance."),
        )
    sent = (
        BookingEvent.objects.filter(request=case, kind="order_sent")
        .order_by("-occurred_at", "-id")
        .values_list("payload", flat=True)
        .first()
    )
    if sent is None:
        return Check(name, CheckState.MISSING, _("No order was sent to finance."))
    if quote is None:
        return Check(name, CheckState.MISSING, _("The order has no standing quote to match."))
    ordered = Decimal(sent.get("total", "0"))
    if ordered != quote.total:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("The order to finance says %(ordered)s; the quote now says %(quote)s.")
            % {"ordered": f"{ordered:.2f}", "quote": f"{quote.total:.2f}"},
            {"ordered": _amount(ordered), "quote": _amount(quote.total)},
        )
    return Check(
        name,
        CheckState.MET,
        _("Order sent to finance for %(total)s (quote version %(version)s).")
        % {"total": f"{ordered:.2f}", "version": sent.get("quote_version", "")},
    )


# --- 2. The payment process --------------------------------------------------------------------


def _provider_lines(case) -> list[ProviderInvoiceLine]:
    return list(
        ProviderInvoiceLine.objects.filter(case=case)
        .exclude(invoice__status=PI.REJECTED)
        .select_related("invoice")
        .order_by("invoice__recorded_at", "invoice_id", "position")
    )


def _payment_process(case, plan: PaymentPlan | None, agreed: Decimal | None, lines) -> Check:
    name = CheckName.PAYMENT_PROCESS
    if plan is None:
        return Check(name, CheckState.MISSING, _("No provider was chosen."))
    invoices = {line.invoice_id: line.invoice for line in lines}
    if not plan.prepaid:
        if not invoices:
            return Check(
                name, CheckState.MISSING, _("Direct billing: waiting for the provider's invoice.")
            )
        waiting = [i for i in invoices.values() if i.status == PI.RECEIVED]
        if waiting:
            return Check(
                name,
                CheckState.MISSING,
                _("Direct billing: invoice %(number)s waits for finance's review.")
                % {"number": waiting[0].number},
            )
        owed = sum((provider_invoice_balance(i) for i in invoices.values()), ZERO)
        if owed > 0:
            return Check(
                name,
                CheckState.MISSING,
                _("Direct billing: %(owed)s still to pay to the provider.")
                % {"owed": f"{owed:.2f}"},
                {"owed": _amount(owed)},
            )
        return Check(name, CheckState.MET, _("Direct billing: the provider's invoice is paid."))

    # A pre-payment.
    on_invoices = list(ProviderPayment.objects.filter(invoice_id__in=list(invoices)).order_by("pk"))
    request_line = (
        PaymentRequestLine.objects.filter(case=case)
        .exclude(
            request__status__in=[PaymentRequestStatus.REJECTED, PaymentRequestStatus.CANCELLED]
        )
        .select_related("request")
        .order_by("-request__prepared_at", "-pk")
        .first()
    )
    request = request_line.request if request_line else None
    approved = (
        request is not None
        and request.status == PaymentRequestStatus.PAID
        and request.reviewed_by_id is not None
        and request.approved_by_id is not None
    )
    if approved and on_invoices:
        # Pre-paid through the request, and the provider's invoice paid too: paid twice.
        total = sum((p.amount for p in on_invoices), ZERO)
        return Check(
            name,
            CheckState.DISCREPANCY,
            _(
                "Paid twice: pre-paid %(prepaid)s (%(number)s), and %(paid)s paid on the "
                "provider's invoice."
            )
            % {
                "prepaid": f"{request_line.clinic_cost:.2f}",
                "number": request.display_number,
                "paid": f"{total:.2f}",
            },
            {"prepaid": _amount(request_line.clinic_cost), "paid": _amount(total)},
        )
    paid_outside = on_invoices  # not approved (the paid-twice case is above)
    if paid_outside:
        total = sum((p.amount for p in paid_outside), ZERO)
        return Check(
            name,
            CheckState.DISCREPANCY,
            _(
                "%(amount)s was paid to a pre-paid provider (%(method)s) without a pre-payment "
                "approved by the CEO."
            )
            % {"amount": f"{total:.2f}", "method": paid_outside[0].get_method_display()},
            {"paid": _amount(total), "approved": None},
        )
    if request is None:
        return Check(
            name,
            CheckState.MISSING,
            _("A pre-payment (%(plan)s): no payment request yet.") % {"plan": plan.label},
        )
    if request.status == PaymentRequestStatus.PAID and not approved:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("%(number)s is recorded as paid without the Chief of Staff's and the CEO's approval.")
            % {"number": request.display_number},
            {"paid": _amount(request_line.clinic_cost), "approved": None},
        )
    if request.status != PaymentRequestStatus.PAID:
        return Check(
            name,
            CheckState.MISSING,
            _("%(number)s is not paid yet (%(state)s).")
            % {"number": request.display_number, "state": request.get_status_display().lower()},
        )
    accepted = set(plan.provider.billing_arrangements or [])
    if ARRANGEMENT_OF[request.method] not in accepted:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("%(number)s was paid by %(method)s, which the provider does not accept.")
            % {"number": request.display_number, "method": request.get_method_display()},
        )
    if agreed is not None and request_line.clinic_cost != agreed:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("Pre-paid %(paid)s; the agreed clinic cost is %(agreed)s.")
            % {"paid": f"{request_line.clinic_cost:.2f}", "agreed": f"{agreed:.2f}"},
            {"paid": _amount(request_line.clinic_cost), "agreed": _amount(agreed)},
        )
    return Check(
        name,
        CheckState.MET,
        _("Pre-paid %(paid)s by %(method)s (%(number)s), reviewed and approved.")
        % {
            "paid": f"{request_line.clinic_cost:.2f}",
            "method": request.get_method_display(),
            "number": request.display_number,
        },
    )


# --- 3. The provider's invoice -----------------------------------------------------------------


def _provider_invoice(case, plan: PaymentPlan | None, agreed: Decimal | None, lines) -> Check:
    name = CheckName.PROVIDER_INVOICE
    numbers = sorted({line.invoice.number for line in lines})
    if not lines:
        if plan is not None and plan.prepaid:
            return Check(
                name, CheckState.NOT_NEEDED, _("Pre-paid: no invoice from the provider is due.")
            )
        return Check(name, CheckState.MISSING, _("No invoice received from the provider."))
    invoiced = sum((line.amount for line in lines), ZERO)
    if len(numbers) > 1:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("Billed on %(count)s of the provider's invoices: %(numbers)s.")
            % {"count": len(numbers), "numbers": ", ".join(numbers)},
            {"invoiced": _amount(invoiced), "agreed": _amount(agreed)},
        )
    if agreed is None:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("Invoice %(number)s bills %(invoiced)s; no clinic cost was agreed.")
            % {"number": numbers[0], "invoiced": f"{invoiced:.2f}"},
            {"invoiced": _amount(invoiced), "agreed": None},
        )
    if invoiced != agreed:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("Invoice %(number)s bills %(invoiced)s; the agreed clinic cost is %(agreed)s.")
            % {"number": numbers[0], "invoiced": f"{invoiced:.2f}", "agreed": f"{agreed:.2f}"},
            {"invoiced": _amount(invoiced), "agreed": _amount(agreed)},
        )
    return Check(
        name,
        CheckState.MET,
        _("Invoice %(number)s bills the agreed %(agreed)s.")
        % {"number": numbers[0], "agreed": f"{agreed:.2f}"},
    )


# --- 4. The insurer's payment ------------------------------------------------------------------


def _insurer_payment(case, quote: Quote | None) -> Check:
    name = CheckName.INSURER_PAYMENT
    lines = list(
        InvoiceLine.objects.filter(
            case=case, invoice__kind=InvoiceKind.INVOICE, invoice__status__in=INVOICE_LIVE_STATUSES
        )
        .exclude(invoice__number__isnull=True)  # a draft is not billed yet
        .select_related("invoice")
    )
    if not lines:
        return Check(name, CheckState.MISSING, _("The insurer has not been invoiced."))
    invoices = {line.invoice_id: line.invoice for line in lines}
    billed = sum((line.amount for line in lines), ZERO)
    numbers = ", ".join(sorted(i.display_number for i in invoices.values()))
    if quote is not None and billed != quote.subtotal:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("%(numbers)s bills %(billed)s before tax; the quote says %(quote)s.")
            % {"numbers": numbers, "billed": f"{billed:.2f}", "quote": f"{quote.subtotal:.2f}"},
            {"billed": _amount(billed), "quote": _amount(quote.subtotal)},
        )
    total = sum((i.total for i in invoices.values()), ZERO)
    owing = sum(invoice_balances(invoices.values()).values(), ZERO)
    received = total - owing
    if owing <= 0:
        return Check(
            name,
            CheckState.MET,
            _("%(numbers)s paid in full (%(total)s).")
            % {"numbers": numbers, "total": f"{total:.2f}"},
        )
    if received > 0:
        return Check(
            name,
            CheckState.DISCREPANCY,
            _("%(numbers)s: billed %(total)s, received %(received)s, %(owing)s still owed.")
            % {
                "numbers": numbers,
                "total": f"{total:.2f}",
                "received": f"{received:.2f}",
                "owing": f"{owing:.2f}",
            },
            {"billed": _amount(total), "received": _amount(received), "owing": _amount(owing)},
        )
    return Check(
        name,
        CheckState.MISSING,
        _("%(numbers)s: waiting for the insurer's payment of %(total)s.")
        % {"numbers": numbers, "total": f"{total:.2f}"},
        {"billed": _amount(total), "received": _amount(ZERO)},
    )


def evaluate(case: BookingRequest) -> Evaluation:
    """The order's figures and its four checks, now."""
    plan = payment_plan_of(case)
    quote = _standing_quote(case)
    agreed = quote.clinic_cost if quote is not None else None
    lines = _provider_lines(case)
    figures = Figures(
        clinic_cost=quote.clinic_cost if quote else None,
        medworks_cost=quote.medworks_fee if quote else None,
        total_to_bill=quote.subtotal if quote else None,
        tax=(quote.total - quote.subtotal) if quote else None,
        total_with_tax=quote.total if quote else None,
        payment_method=plan.arrangement if plan else "",
    )
    checks = [
        _order_email(case, plan, quote),
        _payment_process(case, plan, agreed, lines),
        _provider_invoice(case, plan, agreed, lines),
        _insurer_payment(case, quote),
    ]
    return Evaluation(figures=figures, checks=checks)
