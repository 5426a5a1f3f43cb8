"""Providers' invoices to MedWorks and MedWorks' payments of them (SOP case 3). One
transaction per use case; the reads are in `billing.payables`.

- `provider_invoice_record(...)`: the booking team, or the provider's clinic in its portal,
  records an invoice received: the provider's number (used twice: refused, unless the first
  was rejected), its date and due date (default: the provider's terms), lines per case and
  service, the tax, the total (must equal the lines and the tax), and its PDF, stored as a
  clinic-invoice document on the first case. Every case must be the provider's own. What
  disagrees with the desk's records is flagged (`payables.provider_invoice_flags`), not
  refused: the provider's paper is what it is, finance decides.
- `provider_invoice_approve(...)`: finance approves it for payment (a flagged invoice needs a
  note saying why the difference is accepted). Posted: Dr cost of services (each line, on its
  case) and Dr sales tax recoverable / Cr accounts payable (the total).
- `provider_invoice_reject(...)`: finance sends it back, with the reason.
- `provider_payment_record(...)`: finance records a payment made (EFT, cheque or the MedWorks
  card; date, amount, reference), full or partial, never beyond what is owed. Posted: Dr
  accounts payable / Cr bank.

Who records is never who approves: the booking team records (it holds the case), finance
approves and pays (it holds no case: documents refuse it an upload).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor, Party
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.money import parse_money
from medworks.documents import services as document_services
from medworks.documents.models import DocumentKind
from medworks.network.models import AffiliatePartner, Service

from .ledger import credit, debit, ledger_post
from .models import (
    JournalKind,
    LedgerAccount,
    ProviderInvoice,
    ProviderInvoiceLine,
    ProviderInvoiceStatus,
    ProviderPayment,
    ProviderPaymentMethod,
)
from .payables import provider_invoice_balance, provider_invoice_flags
from .workflow import PROVIDER_INVOICE_WORKFLOW, provider_invoice_event_write

ZERO = Decimal("0.00")
MAX_LINES = 50
# A provider's invoice is dated within this many days before today (older paper is a typo).
MAX_AGE_DAYS = 3 * 366


@dataclass(frozen=True)
class LineIn:
    """One line as typed: a case, the service (optional), a description, the amount."""

    case: BookingRequest
    amount: Decimal | str
    service: Service | None = None
    description: str = ""


def number_key(number: str) -> str:
    """How two invoice numbers are compared: case-folded, without spaces."""
    return "".join(number.split()).casefold()


def _recorder_party(actor: Actor, provider: AffiliatePartner) -> Party:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if actor_can(actor, Capability.BOOKING_WORK):
        return Party.STAFF
    if (
        actor_can(actor, Capability.CLINIC_AVAILABILITY)
        and provider.organisation_id is not None
        and actor.principal.organisation_id == provider.organisation_id
    ):
        return Party.CLINIC
    raise PermissionDenied(
        "provider_invoice_forbidden",
        _("Only the booking team, or the provider itself, records a provider's invoice."),
    )


def _require_finance(actor: Actor) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, Capability.INVOICING):
        raise PermissionDenied(
            "provider_invoice_finance_only",
            _("Only finance approves providers' invoices and records payments to providers."),
        )


def _amount(value, *, field: str, zero_allowed: bool = False) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{field} must not be a float")
    try:
        amount = parse_money(value)
    except (TypeError, ValueError):
        amount = None
    if amount is None or amount < 0 or (amount == 0 and not zero_allowed):
        raise DomainError(
            f"{field}_invalid",
            _("Enter an amount such as 150.00 (%(value)s is not one).") % {"value": value},
            fields={field: [_("Enter an amount such as 150.00.")]},
        )
    return amount


def _date(value, *, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{field} must be a date")
    return value


def provider_invoice_record(
    *,
    provider: AffiliatePartner,
    number: str,
    invoice_date: dt.date,
    lines: Sequence[LineIn],
    tax_total: Decimal | str,
    total: Decimal | str,
    file,
    filename: str,
    actor: Actor,
    due_date: dt.date | None = None,
) -> ProviderInvoice:
    """Record a provider's invoice received, with its PDF; returns it `received`, flagged or
    not. Refused (DomainError with field errors; nothing written): no number or a number the
    provider already used, a date in the future or years back, a due date before the invoice
    date, no line or too many, an amount not above zero, a case not the provider's, a total
    that is not the lines plus the tax, no file."""
    party = _recorder_party(actor, provider)
    number = (number or "").strip()
    refuse_card_numbers({"number": number, "file": filename or ""})
    errors: dict[str, list[str]] = {}
    if not number or len(number) > 64:
        errors["number"] = [_("Enter the provider's invoice number (at most 64 characters).")]
    today = timezone.localdate()
    invoice_date = _date(invoice_date, field="invoice_date")
    if invoice_date > today:
        errors["invoice_date"] = [_("Enter today's date or an earlier one.")]
    elif invoice_date < today - dt.timedelta(days=MAX_AGE_DAYS):
        errors["invoice_date"] = [_("An invoice dated more than three years ago is a typo.")]
    if due_date is None:
        due_date = invoice_date + dt.timedelta(days=provider.payment_terms_days)
    due_date = _date(due_date, field="due_date")
    if due_date < invoice_date:
        errors["due_date"] = [_("The due date is on or after the invoice date.")]
    if not lines:
        errors["lines"] = [_("Add a line for each case and service billed.")]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [_("At most %(n)s lines on one invoice.") % {"n": MAX_LINES}]
    if file is None:
        errors["file"] = [_("Attach the provider's invoice (PDF).")]
    if errors:
        raise DomainError(
            "provider_invoice_invalid", _("The invoice could not be recorded."), fields=errors
        )
    amounts = [_amount(line.amount, field="lines") for line in lines]
    tax = _amount(tax_total, field="tax_total", zero_allowed=True)
    stated = _amount(total, field="total")
    subtotal = sum(amounts, ZERO)
    if subtotal + tax != stated:
        mismatch = _("The lines (%(lines)s) and the tax (%(tax)s) make %(sum)s, not %(total)s.") % {
            "lines": f"{subtotal:.2f}",
            "tax": f"{tax:.2f}",
            "sum": f"{subtotal + tax:.2f}",
            "total": f"{stated:.2f}",
        }
        raise DomainError("provider_invoice_total_mismatch", mismatch, fields={"total": [mismatch]})
    for line in lines:
        refuse_card_numbers({"description": line.description})
    case_ids = sorted({line.case.pk for line in lines})
    with transaction.atomic():
        cases = {
            case.pk: case
            for case in BookingRequest.objects.select_for_update(of=("self",))
            .select_related("location")
            .filter(pk__in=case_ids)
            .order_by("pk")
        }
        foreign = [
            cases[pk].order_id
            for pk in case_ids
            if pk not in cases
            or cases[pk].location is None
            or cases[pk].location.partner_id != provider.pk
        ]
        if foreign:
            raise DomainError(
                "provider_invoice_foreign_case",
                _("%(orders)s was not booked with %(provider)s.")
                % {"orders": ", ".join(foreign), "provider": provider.name},
                fields={"lines": [_("Bill only the provider's own cases.")]},
            )
        key = number_key(number)
        if (
            ProviderInvoice.objects.filter(provider=provider, number_key=key)
            .exclude(status=ProviderInvoiceStatus.REJECTED)
            .exists()
        ):
            raise _duplicate(number)
        first_case = cases[lines[0].case.pk]
        version = document_services.document_upload(
            case=first_case,
            kind=DocumentKind.CLINIC_INVOICE,
            file=file,
            filename=filename,
            actor=actor,
            title=_("Invoice %(number)s") % {"number": number},
        )
        try:
            with transaction.atomic():
                invoice = ProviderInvoice.objects.create(
                    provider=provider,
                    number=number,
                    number_key=key,
                    invoice_date=invoice_date,
                    due_date=due_date,
                    subtotal=subtotal,
                    tax_total=tax,
                    total=stated,
                    document_version=version,
                    recorded_by=actor.user,
                    recorded_by_party=party.value,
                )
        except IntegrityError:  # the same number recorded at the same moment
            raise _duplicate(number) from None
        ProviderInvoiceLine.objects.bulk_create(
            ProviderInvoiceLine(
                invoice=invoice,
                position=position,
                case=cases[line.case.pk],
                service=line.service,
                description=(line.description or "").strip()[:255],
                amount=amount,
            )
            for position, (line, amount) in enumerate(zip(lines, amounts, strict=True))
        )
        flags = provider_invoice_flags(invoice)
        provider_invoice_event_write(
            invoice=invoice,
            kind="provider_invoice_recorded",
            actor=actor,
            extra={"party": party.value, "flags": [flag.code for flag in flags]},
        )
    return invoice


def _duplicate(number: str) -> DomainError:
    return DomainError(
        "provider_invoice_duplicate",
        _("This provider's invoice %(number)s is already recorded.") % {"number": number},
        fields={"number": [_("This invoice number is already recorded for the provider.")]},
    )


def provider_invoice_approve(
    *, invoice: ProviderInvoice, actor: Actor, note: str = ""
) -> ProviderInvoice:
    """Approve for payment: the payable is posted. A flagged invoice needs a note."""
    _require_finance(actor)
    note = (note or "").strip()
    with transaction.atomic():
        flags = provider_invoice_flags(invoice)
        if flags and not note:
            why = _("Say why the flagged differences are accepted.")
            raise DomainError("provider_invoice_flags_unanswered", why, fields={"note": [why]})
        locked = PROVIDER_INVOICE_WORKFLOW.fire(
            record=invoice,
            name="approve",
            actor=actor,
            note=note,
            payload={"flags": [flag.code for flag in flags]},
        )
        lines = list(locked.lines.order_by("position"))
        postings = [
            debit(LedgerAccount.COST_OF_SERVICES, line.amount, case_id=line.case_id)
            for line in lines
        ]
        if locked.tax_total > 0:
            postings.append(debit(LedgerAccount.TAX_RECOVERABLE, locked.tax_total))
        postings.append(credit(LedgerAccount.PAYABLE, locked.total, provider_invoice=locked))
        ledger_post(
            kind=JournalKind.PROVIDER_INVOICE,
            date=locked.invoice_date,
            reference=locked.number[:32],
            memo=f"{locked.provider.name} {locked.number}"[:255],
            actor=actor,
            postings=postings,
            provider_invoice=locked,
        )
    invoice.refresh_from_db()
    return invoice


def provider_invoice_reject(
    *, invoice: ProviderInvoice, actor: Actor, note: str
) -> ProviderInvoice:
    """Send the invoice back to the provider (nothing is posted); the reason is required."""
    _require_finance(actor)
    return PROVIDER_INVOICE_WORKFLOW.fire(record=invoice, name="reject", actor=actor, note=note)


def provider_payment_record(
    *,
    invoice: ProviderInvoice,
    amount: Decimal | str,
    paid_on: dt.date,
    method: str,
    reference: str,
    actor: Actor,
) -> ProviderPayment:
    """Record a payment made to the provider on its approved invoice, up to what is owed."""
    _require_finance(actor)
    amount = _amount(amount, field="amount")
    paid_on = _date(paid_on, field="paid_on")
    errors: dict[str, list[str]] = {}
    if paid_on > timezone.localdate():
        errors["paid_on"] = [_("Enter today's date or an earlier one.")]
    if method not in ProviderPaymentMethod.values:
        errors["method"] = [
            _("One of: %(choices)s.") % {"choices": ", ".join(ProviderPaymentMethod.values)}
        ]
    reference = (reference or "").strip()
    refuse_card_numbers({"reference": reference})
    if not reference:
        errors["reference"] = [_("Enter the reference (EFT trace, cheque number, authorisation).")]
    if errors:
        raise DomainError(
            "provider_payment_invalid", _("The payment could not be recorded."), fields=errors
        )
    with transaction.atomic():
        locked = ProviderInvoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status not in (
            ProviderInvoiceStatus.APPROVED,
            ProviderInvoiceStatus.PARTLY_PAID,
        ):
            raise DomainError(
                "provider_invoice_not_payable",
                _("The provider's invoice %(number)s is %(state)s: it is not to be paid.")
                % {"number": locked.number, "state": locked.get_status_display().lower()},
            )
        owed = provider_invoice_balance(locked)
        if amount > owed:
            raise DomainError(
                "provider_payment_too_much",
                _("%(amount)s is more than the %(owed)s owed on invoice %(number)s.")
                % {"amount": f"{amount:.2f}", "owed": f"{owed:.2f}", "number": locked.number},
                fields={"amount": [_("At most %(owed)s.") % {"owed": f"{owed:.2f}"}]},
            )
        payment = ProviderPayment.objects.create(
            invoice=locked,
            paid_on=paid_on,
            amount=amount,
            method=method,
            reference=reference[:100],
            recorded_by=actor.user,
        )
        ledger_post(
            kind=JournalKind.PROVIDER_PAYMENT,
            date=paid_on,
            reference=reference[:32],
            memo=f"{ProviderPaymentMethod(method).label} {locked.provider.name} {locked.number}"[
                :255
            ],
            actor=actor,
            postings=[
                debit(LedgerAccount.PAYABLE, amount, provider_invoice=locked),
                credit(LedgerAccount.CASH, amount),
            ],
            provider_invoice=locked,
        )
        step = "pay_full" if amount == owed else "pay_part"
        if not (step == "pay_part" and locked.status == ProviderInvoiceStatus.PARTLY_PAID):
            PROVIDER_INVOICE_WORKFLOW.fire(
                record=locked,
                name=step,
                actor=actor,
                payload={"amount": f"{amount:.2f}", "method": method},
            )
        audit_record(
            actor=actor,
            action="provider_payment.recorded",
            obj=payment,
            summary=f"{amount:.2f} to {locked.provider.name} on {locked.number}",
            payload={
                "provider_invoice_id": locked.pk,
                "amount": f"{amount:.2f}",
                "method": method,
                "paid_on": paid_on.isoformat(),
            },
        )
    invoice.refresh_from_db()
    return payment
