"""Reads of what MedWorks owes providers, all computed from the ledger and the records.

- `provider_invoice_balance(invoice)`: what is still owed on an approved provider's invoice
  (its payable rows: approval credits the total, each payment debits its amount).
- `provider_invoice_paid(invoice)`: what was paid on it (the payable debits).
- `provider_invoice_flags(invoice)`: what finance must look at before approving: an amount
  per case that differs from the agreed clinic cost (with the difference), a case without an
  agreed cost, a case never completed, a case another invoice of the provider already bills.
- `agreed_clinic_cost(case)`: the clinic cost of the case's standing quote.
- `payables(today=)`: per provider, what is owed, what is overdue, the next due date, and
  what waits for review.
- `payment_plan_of(case)`: how the case's provider is paid (direct billing unless it is
  pre-paid: SOP case 4 step 2), from the moment a clinic is chosen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.money import to_money
from medworks.network.models import AffiliatePartner, BillingArrangement

from .models import (
    LedgerAccount,
    LedgerEntry,
    ProviderInvoice,
    ProviderInvoiceLine,
    ProviderInvoiceStatus,
    Quote,
    QuoteStatus,
)
from .selectors import prepayment_needed

ZERO = Decimal("0.00")
PI = ProviderInvoiceStatus
# The states in which a provider's invoice is owed (approved, not yet paid in full).
PAYABLE_STATUSES = frozenset({PI.APPROVED, PI.PARTLY_PAID})
# A case the patient was seen in (a provider bills for a service given).
_SERVED = frozenset(
    {BookingStatus.COMPLETED, BookingStatus.READY_FOR_BILLING, BookingStatus.CLOSED}
)


def _payable_rows(invoice: ProviderInvoice):
    return LedgerEntry.objects.filter(account=LedgerAccount.PAYABLE, provider_invoice=invoice)


def _sums(rows) -> tuple[Decimal, Decimal]:
    totals = rows.aggregate(dr=Coalesce(Sum("debit"), ZERO), cr=Coalesce(Sum("credit"), ZERO))
    # SQLite sums decimals as floats: rounded back to the cent (exact on PostgreSQL).
    return to_money(totals["dr"]), to_money(totals["cr"])


def provider_invoice_paid(invoice: ProviderInvoice) -> Decimal:
    return _sums(_payable_rows(invoice))[0]


def provider_invoice_balance(invoice: ProviderInvoice) -> Decimal:
    """Owed on the invoice: zero until it is approved (the payable is posted then)."""
    debits, credits = _sums(_payable_rows(invoice))
    return credits - debits


def agreed_clinic_cost(case: BookingRequest) -> Decimal | None:
    """The clinic cost on the case's standing quote (confirmed first), or None: no quote."""
    quote = (
        Quote.objects.filter(case=case)
        .exclude(status=QuoteStatus.SUPERSEDED)
        .prefetch_related("lines")
        .order_by("-version")
        .first()
    )
    if quote is None:
        return None
    return sum((line.clinic_cost for line in quote.lines.all()), ZERO)


@dataclass(frozen=True)
class Flag:
    """One thing on a provider's invoice that disagrees with what the desk recorded."""

    code: str  # cost_differs, no_agreed_cost, not_completed, billed_twice
    message: str
    order_id: str
    invoiced: Decimal | None = None
    agreed: Decimal | None = None

    @property
    def difference(self) -> Decimal | None:
        if self.invoiced is None or self.agreed is None:
            return None
        return self.invoiced - self.agreed


def case_flags(
    *,
    case: BookingRequest,
    invoiced: Decimal,
    provider_id: int,
    exclude_invoice_id: int | None = None,
) -> list[Flag]:
    """The flags of `invoiced` (before tax) billed for `case` by the provider."""
    flags: list[Flag] = []
    agreed = agreed_clinic_cost(case)
    if agreed is None:
        flags.append(
            Flag(
                "no_agreed_cost",
                _("%(order)s has no quote: no clinic cost was agreed.") % {"order": case.order_id},
                case.order_id,
                invoiced=invoiced,
            )
        )
    elif invoiced != agreed:
        flags.append(
            Flag(
                "cost_differs",
                _("%(order)s: invoiced %(invoiced)s, agreed %(agreed)s (difference %(diff)s).")
                % {
                    "order": case.order_id,
                    "invoiced": f"{invoiced:.2f}",
                    "agreed": f"{agreed:.2f}",
                    "diff": f"{invoiced - agreed:+.2f}",
                },
                case.order_id,
                invoiced=invoiced,
                agreed=agreed,
            )
        )
    if case.status not in _SERVED:
        flags.append(
            Flag(
                "not_completed",
                _("%(order)s was never completed (it is %(state)s).")
                % {"order": case.order_id, "state": case.get_status_display().lower()},
                case.order_id,
            )
        )
    others = (
        ProviderInvoiceLine.objects.filter(case=case, invoice__provider_id=provider_id)
        .exclude(invoice__status=PI.REJECTED)
        .exclude(invoice_id=exclude_invoice_id)
        .values_list("invoice__number", flat=True)
        .distinct()
    )
    for number in sorted(others):
        flags.append(
            Flag(
                "billed_twice",
                _("%(order)s is also billed on the provider's invoice %(number)s.")
                % {"order": case.order_id, "number": number},
                case.order_id,
            )
        )
    return flags


def invoiced_by_case(invoice: ProviderInvoice) -> dict[BookingRequest, Decimal]:
    amounts: dict[BookingRequest, Decimal] = defaultdict(lambda: ZERO)
    for line in invoice.lines.select_related("case").order_by("position"):
        amounts[line.case] += line.amount
    return dict(amounts)


def provider_invoice_flags(invoice: ProviderInvoice) -> list[Flag]:
    """Every flag of the invoice, case by case in the order of its lines."""
    flags: list[Flag] = []
    for case, invoiced in invoiced_by_case(invoice).items():
        flags += case_flags(
            case=case,
            invoiced=invoiced,
            provider_id=invoice.provider_id,
            exclude_invoice_id=invoice.pk,
        )
    return flags


@dataclass
class ProviderPayable:
    """What MedWorks owes one provider on `today`."""

    provider: AffiliatePartner
    owed: Decimal = ZERO
    overdue: Decimal = ZERO
    next_due: dt.date | None = None
    to_review: int = 0  # invoices received, not yet approved or rejected
    invoices: list[tuple[ProviderInvoice, Decimal]] = field(default_factory=list)


def payables(*, today: dt.date) -> list[ProviderPayable]:
    """Per provider with something owed or waiting for review, most owed first."""
    balances = {
        row["provider_invoice"]: to_money(row["cr"] - row["dr"])
        for row in LedgerEntry.objects.filter(
            account=LedgerAccount.PAYABLE, provider_invoice__status__in=PAYABLE_STATUSES
        )
        .values("provider_invoice")
        .annotate(dr=Coalesce(Sum("debit"), ZERO), cr=Coalesce(Sum("credit"), ZERO))
        .order_by()
    }
    by_provider: dict[int, ProviderPayable] = {}
    invoices = (
        ProviderInvoice.objects.filter(status__in=PAYABLE_STATUSES | {PI.RECEIVED})
        .select_related("provider")
        .order_by("due_date", "id")
    )
    for invoice in invoices:
        entry = by_provider.setdefault(
            invoice.provider_id, ProviderPayable(provider=invoice.provider)
        )
        if invoice.status == PI.RECEIVED:
            entry.to_review += 1
            continue
        balance = balances.get(invoice.pk, ZERO)
        if balance <= 0:
            continue
        entry.owed += balance
        entry.invoices.append((invoice, balance))
        if invoice.due_date < today:
            entry.overdue += balance
        elif entry.next_due is None or invoice.due_date < entry.next_due:
            entry.next_due = invoice.due_date
    return sorted(by_provider.values(), key=lambda p: (-p.owed, p.provider.name))


def case_provider_invoices(case: BookingRequest) -> list[ProviderInvoice]:
    """The providers' invoices that bill the case (rejected ones included, marked)."""
    return list(
        ProviderInvoice.objects.filter(lines__case=case)
        .distinct()
        .select_related("provider")
        .order_by("-recorded_at", "-id")
    )


# --- The payment plan ------------------------------------------------------------------------

# A pre-paid provider's methods, in the order the SOP names them (case 4 step 5).
_PREPAYMENT_METHODS = [
    BillingArrangement.EFT,
    BillingArrangement.CREDIT_CARD,
    BillingArrangement.INSURER_CARD,
]


@dataclass(frozen=True)
class PaymentPlan:
    provider: AffiliatePartner
    prepaid: bool  # selectors.prepayment_needed: the one rule
    arrangement: str  # a BillingArrangement, or "" for a pre-payment by no recorded method
    terms_days: int

    @property
    def label(self) -> str:
        if not self.arrangement:
            return _("A pre-payment: %(provider)s has no payment method recorded.") % {
                "provider": self.provider.name
            }
        return str(BillingArrangement(self.arrangement).label)

    @property
    def is_direct_billing(self) -> bool:
        return self.arrangement == BillingArrangement.DIRECT_BILLING


def payment_plan_of(case: BookingRequest) -> PaymentPlan | None:
    """How the provider of the case is paid, from the moment a clinic is chosen (None before):
    direct billing unless the provider is pre-paid (`prepayment_needed`: "in the event that
    billing can be established, MedWorks will opt for that option"), else the first
    pre-payment method it accepts."""
    if case.location_id is None:
        return None
    provider = case.location.partner
    prepaid = prepayment_needed(case)
    if not prepaid:
        chosen = BillingArrangement.DIRECT_BILLING.value
    else:
        accepted = set(provider.billing_arrangements or [])
        chosen = next((m.value for m in _PREPAYMENT_METHODS if m.value in accepted), "")
    return PaymentPlan(
        provider=provider,
        prepaid=prepaid,
        arrangement=chosen,
        terms_days=provider.payment_terms_days,
    )
