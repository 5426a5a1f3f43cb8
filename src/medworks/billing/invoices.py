"""Invoicing the insurers (SOP case 3: "we in turn will add our fees and invoice the insurance
partner for payment"), the payments they send, and the ledger rows both make.

Every write here is a use case: keyword-only, one transaction, an `actor` (finance: the
INVOICING capability; the overdue sweep: the system). Invoices move through INVOICE_WORKFLOW
(`billing/workflow.py`); money moves are journals of `ledger.ledger_post`; balances are read
from the ledger (`receivables`).

- `invoice_draft_for_case(case=)`: a draft from the case's confirmed quote, a line per service
  at the quoted price (clinic cost + MedWorks fee), the quote's tax lines. Refused for an
  insurer invoiced by monthly statement (its `InsurerPricing.invoicing`).
- `invoice_draft_statement(insurer=, month=)`: the monthly statement: a line per case whose
  appointment was that month, one statement per place of supply and rates (one HST rate per
  invoice).
- `invoice_draft_edit` (a draft's terms), `invoice_draft_discard` (a draft dropped: voided,
  no number, nothing posted).
- `invoice_issue(invoice=, issue_date=)`: numbered, dated, particulars snapshotted, posted
  (Dr receivable / Cr revenue, Cr tax payable), its PDF drawn in the insurer's language.
- `credit_note_issue(invoice=, reason=)`: reverses an unpaid invoice exactly and voids it.
- `payment_record(insurer=, amount=, received_on=, method=, reference=, allocations=)`: Dr
  bank / Cr receivable per invoice paid (named, else oldest first); the rest is the
  insurer's credit; `insurer_credit_apply` uses that credit on open invoices later.
- `invoices_mark_overdue(today=)`: the sweep (a periodic job of `medworks worker`); it also
  queues the reminders before the due date (`invoices_remind_before_due`).

Each insurer's invoicing settings (on `InsurerPricing`, finance's: set by
`services.insurer_invoicing_update`): per case or by monthly statement
(`insurer_invoiced_monthly`), its payment terms (`insurer_terms_days`, a new draft's terms;
else MEDWORKS_INVOICE_TERMS_DAYS), its billing address (the buyer's address snapshotted at
issue) and its billing email (`invoice_emails.invoice_recipients`).

The decisions and their reasons are in billing/README.md ("Invoices, payments and the ledger").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.models import (
    AppointmentStatus,
    BookingRequest,
    BookingStatus,
)
from medworks.core.actor import Actor, ActorKind
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.core.money import parse_money, to_money
from medworks.documents.storage import seal, unseal
from medworks.network.models import Province, Service

from . import invoice_emails, invoice_pdf
from .ledger import credit, debit, ledger_post
from .models import (
    INVOICE_LIVE_STATUSES,
    INVOICE_OPEN_STATUSES,
    TAX_ACCOUNT,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoicePdf,
    InvoiceSequence,
    InvoiceStatus,
    InvoiceTax,
    InvoicingCycle,
    JournalKind,
    LedgerAccount,
    LedgerEntry,
    PaymentAllocation,
    PaymentMethod,
    PaymentReceived,
    Quote,
    QuoteStatus,
)
from .receivables import invoice_balance, invoice_balances, invoices_open
from .selectors import insurer_pricing_of, quote_current, tax_rates_at
from .workflow import INVOICE_WORKFLOW, invoice_event_write, invoice_label, invoice_party_of

ZERO = Decimal("0.00")
# A series per kind and year of issue: INV-2026-000001, CN-2026-000001, RCT-2026-000001.
SERIES_PREFIX = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}
RECEIPT_PREFIX = "RCT"
# A case is invoiced once it is ready for billing: its appointment completed and, when the
# insurer asked for paperwork, the signed papers back (documents' guard on that step).
INVOICEABLE_STATUSES = frozenset({BookingStatus.READY_FOR_BILLING})
# RULES.md: from $100 the GST/HST registration number; from $500 also the buyer's name, a
# description and the terms. On the total the insurer pays, tax included (CRA: "the total
# amount paid or payable").
GST_HST_NUMBER_FROM = Decimal("100.00")
FULL_PARTICULARS_FROM = Decimal("500.00")
OVERDUE_SWEEP = Actor.system("invoices_mark_overdue")


# --- Who, numbers, particulars ------------------------------------------------------------------


def _require_finance(actor: Actor, *, or_system: bool = False) -> None:
    """Finance only (INVOICING); `or_system`: the system too (a scheduled job, the command
    line), for a write that only drafts: a draft is not sent, numbered nor posted."""
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if or_system and actor.kind == ActorKind.SYSTEM:
        return
    if not actor_can(actor, Capability.INVOICING):
        raise PermissionDenied(
            "invoicing_forbidden",
            _("Only finance issues invoices and credit notes and records payments."),
        )


def _today() -> dt.date:
    return timezone.localdate()


def _a_date(value, *, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{field} must be a date")
    if value > _today():
        raise DomainError(
            f"{field}_future",
            _("%(date)s is in the future.") % {"date": value.isoformat()},
            fields={field: [_("Enter today's date or an earlier one.")]},
        )
    return value


def number_take(series: str) -> int:
    """The next number of `series`, inside the caller's transaction: the series row is
    created if need be (a savepoint; two first issues racing to create it end with one row),
    then locked (FOR UPDATE) until the transaction ends. Rolled back, the number is given back:
    no gap, and no duplicate since the row is held."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a number is taken inside the issuing transaction")
    try:
        with transaction.atomic():
            InvoiceSequence.objects.get_or_create(series=series)
    except IntegrityError:
        pass  # created meanwhile by another transaction: it is there now
    sequence = InvoiceSequence.objects.select_for_update().get(series=series)
    InvoiceSequence.objects.filter(pk=sequence.pk).update(next_number=F("next_number") + 1)
    return sequence.next_number


def display_number(series: str, number: int) -> str:
    return f"{series}-{number:06d}"


def invoice_required_fields(*, total: Decimal, place_of_supply: str) -> frozenset[str]:
    """The particulars the law asks of an invoice of `total` (tax included; RULES.md):
    always the seller's name, the date and the total; from $100 the GST/HST registration
    number and the tax; from $500 also the buyer's name, a description and the payment terms.
    A Quebec invoice also carries the QST number, whatever its amount (RULES.md lists it
    apart from the thresholds: the stricter reading)."""
    fields = {"seller_name", "issue_date", "total"}
    if total >= GST_HST_NUMBER_FROM:
        fields |= {"gst_hst_number", "tax"}
    if total >= FULL_PARTICULARS_FROM:
        fields |= {"buyer_name", "description", "terms"}
    if place_of_supply == Province.QC:
        fields.add("qst_number")
    return frozenset(fields)


# The particulars an issue checks, as the refusal names them (the total, the date, the tax
# and the terms are always on an issued invoice: nothing to check).
_PARTICULAR = {
    "seller_name": gettext_lazy("MedWorks' legal name (MEDWORKS_LEGAL_NAME)"),
    "gst_hst_number": gettext_lazy(
        "MedWorks' GST/HST registration number (MEDWORKS_GST_HST_NUMBER)"
    ),
    "qst_number": gettext_lazy("MedWorks' QST registration number (MEDWORKS_QST_NUMBER)"),
    "buyer_name": gettext_lazy("the insurer's name"),
    "description": gettext_lazy("a description on every line"),
}


def _missing_particulars(invoice: Invoice, lines: list[InvoiceLine]) -> list[str]:
    required = invoice_required_fields(total=invoice.total, place_of_supply=invoice.place_of_supply)
    have = {
        "seller_name": bool(invoice.seller_name),
        "gst_hst_number": bool(invoice.seller_gst_hst_number),
        "qst_number": bool(invoice.seller_qst_number),
        "buyer_name": bool(invoice.buyer_name),
        "description": all(line.description.strip() for line in lines),
    }
    return [name for name in _PARTICULAR if name in required and not have[name]]


# --- The insurer's invoicing settings -----------------------------------------------------------


def insurer_terms_days(insurer: Organisation) -> int:
    """The days an insurer has to pay: its own terms, else MEDWORKS_INVOICE_TERMS_DAYS."""
    days = insurer_pricing_of(insurer).payment_terms_days
    return settings.MEDWORKS_INVOICE_TERMS_DAYS if days is None else days


def insurer_invoiced_monthly(insurer: Organisation) -> bool:
    """Whether the insurer is invoiced by monthly statement rather than per case."""
    return insurer_pricing_of(insurer).invoicing == InvoicingCycle.MONTHLY


def insurer_billing_address(insurer: Organisation) -> str:
    """The address printed under the insurer's name on its invoices ("" when none is set)."""
    return insurer_pricing_of(insurer).billing_address.strip()


def _monthly_refusal(case: BookingRequest) -> DomainError:
    return DomainError(
        "invoice_insurer_invoiced_monthly",
        _(
            "%(insurer)s is invoiced by a monthly statement: case %(order_id)s goes on the "
            "statement of the month of its appointment, not on an invoice of its own."
        )
        % {"insurer": case.insurer.name, "order_id": case.order_id},
    )


# --- Drafts -------------------------------------------------------------------------------------


def _service_name(service: Service) -> str:
    if (translation.get_language() or "en").startswith("fr") and service.name_fr:
        return service.name_fr
    return service.name_en


def _open_invoice_of(case: BookingRequest) -> Invoice | None:
    line = (
        InvoiceLine.objects.filter(
            case=case, invoice__kind=InvoiceKind.INVOICE, invoice__status__in=INVOICE_LIVE_STATUSES
        )
        .select_related("invoice")
        .first()
    )
    return line.invoice if line is not None else None


def _standing_quotes(case_ids) -> dict[int, Quote]:
    """The standing quote of each case (`selectors.quote_current` for many at once: a
    statement of a thousand cases reads them in three queries, not four thousand)."""
    quotes: dict[int, Quote] = {}
    for quote in (
        Quote.objects.filter(case_id__in=list(case_ids))
        .exclude(status=QuoteStatus.SUPERSEDED)
        .select_related("location", "confirmed_by")
        .prefetch_related("lines__service", "taxes")
        .order_by("case_id", "-version")
    ):
        quotes.setdefault(quote.case_id, quote)
    return quotes


def _open_invoices(case_ids) -> dict[int, Invoice]:
    """The live invoice each case is on (`_open_invoice_of` for many at once)."""
    found: dict[int, Invoice] = {}
    for line in (
        InvoiceLine.objects.filter(
            case_id__in=list(case_ids),
            invoice__kind=InvoiceKind.INVOICE,
            invoice__status__in=INVOICE_LIVE_STATUSES,
        )
        .select_related("invoice")
        .order_by("case_id", "pk")
    ):
        found.setdefault(line.case_id, line.invoice)
    return found


_UNKNOWN = object()


def _case_refusal(
    case: BookingRequest,
    quote: Quote | None,
    *,
    invoice: Invoice | None = None,
    existing=_UNKNOWN,
) -> DomainError | None:
    """Why `case` cannot be invoiced now at `quote` (its standing quote), or None. `invoice`:
    the invoice being issued (the case is on it, so not "already invoiced"); `existing`: the
    live invoice the case is on, when the caller read them all at once."""
    values = {"order_id": case.order_id}
    if case.status == BookingStatus.CANCELLED:
        return DomainError(
            "invoice_case_cancelled",
            _("Case %(order_id)s is cancelled: it is not invoiced.") % values,
        )
    if case.status not in INVOICEABLE_STATUSES:
        return DomainError(
            "invoice_case_not_ready",
            _(
                "Case %(order_id)s is %(state)s: it is invoiced once ready for billing (the "
                "appointment completed and any paperwork back)."
            )
            % {**values, "state": case.get_status_display().lower()},
        )
    if quote is None or quote.status != QuoteStatus.CONFIRMED:
        return DomainError(
            "invoice_quote_not_confirmed",
            _(
                "The insurer has not confirmed the charges of case %(order_id)s: an invoice "
                "bills a confirmed quote."
            )
            % values,
        )
    if quote.confirmed_total != quote.total:
        return DomainError(
            "invoice_quote_not_confirmed",
            _("The confirmed amount of case %(order_id)s is not its quote's total.") % values,
        )
    if existing is _UNKNOWN:
        existing = _open_invoice_of(case)
    if existing is not None and (invoice is None or existing.pk != invoice.pk):
        return DomainError(
            "invoice_case_already_invoiced",
            _("Case %(order_id)s is already on %(invoice)s.")
            % {**values, "invoice": invoice_label(existing)},
        )
    return None


def _draft(
    *,
    insurer: Organisation,
    actor: Actor,
    place_of_supply: str,
    lines: list[InvoiceLine],
    taxes: list[InvoiceTax],
    statement_month: dt.date | None = None,
) -> Invoice:
    subtotal = sum((line.amount for line in lines), ZERO)
    tax_total = sum((tax.amount for tax in taxes), ZERO)
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        insurer=insurer,
        place_of_supply=place_of_supply,
        language=insurer.correspondence_language or "en",
        terms_days=insurer_terms_days(insurer),
        statement_month=statement_month,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        created_by=actor.user,
    )
    for position, line in enumerate(lines):
        line.invoice, line.position = invoice, position
    for position, tax in enumerate(taxes):
        tax.invoice, tax.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(taxes)
    invoice_event_write(
        invoice=invoice,
        kind="",
        actor=actor,
        action="invoice.drafted",
        extra={"cases": sorted({line.case_id for line in lines if line.case_id})},
    )
    return invoice


def invoice_draft_for_case(*, case: BookingRequest, actor: Actor) -> Invoice:
    """A draft invoice of `case` from its confirmed quote: one line per quote line at its
    price before tax (the clinic cost plus the MedWorks fee, as the quote says), the quote's
    tax lines, so its total is the amount the insurer confirmed. Written in the insurer's
    language, due after the insurer's terms (`insurer_terms_days`). Refused: an insurer invoiced
    by monthly statement (`invoice_insurer_invoiced_monthly`: the case goes on its month's
    statement), a cancelled case (`invoice_case_cancelled`), one not ready for billing
    (`invoice_case_not_ready`), no confirmed quote (`invoice_quote_not_confirmed`), a case
    already on a live invoice, draft included (`invoice_case_already_invoiced`)."""
    _require_finance(actor)
    with transaction.atomic():
        locked = (
            BookingRequest.objects.select_for_update(of=("self",))
            .select_related("insurer")
            .get(pk=case.pk)
        )
        if insurer_invoiced_monthly(locked.insurer):
            raise _monthly_refusal(locked)
        quote = quote_current(case=locked)
        refusal = _case_refusal(locked, quote)
        if refusal is not None:
            raise refusal
        with translation.override(locked.insurer.correspondence_language or "en"):
            lines = [
                InvoiceLine(
                    case=locked,
                    quote=quote,
                    service=line.service,
                    description=_("%(service)s: case %(order_id)s, your reference %(reference)s")
                    % {
                        "service": _service_name(line.service),
                        "order_id": locked.order_id,
                        "reference": locked.insurer_reference,
                    },
                    amount=line.amount,
                )
                for line in quote.lines.all()
            ]
        taxes = [InvoiceTax(name=t.name, rate=t.rate, amount=t.amount) for t in quote.taxes.all()]
        return _draft(
            insurer=locked.insurer,
            actor=actor,
            place_of_supply=quote.place_of_supply,
            lines=lines,
            taxes=taxes,
        )


def insurers_invoiced_monthly() -> list[Organisation]:
    """The insurers invoiced by monthly statement, by name (`medworks draft-statements`)."""
    return list(
        Organisation.objects.filter(
            kind=OrganisationKind.INSURER, pricing__invoicing=InvoicingCycle.MONTHLY
        ).order_by("name", "pk")
    )


@dataclass(frozen=True)
class StatementDrafts:
    """A statement run: the drafts made (one per place of supply and rates), and the cases of
    the month left out, each with why (not confirmed, already invoiced, ...)."""

    invoices: list[Invoice]
    left_out: list[tuple[BookingRequest, DomainError]]


def _month_bounds(month: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    if not isinstance(month, dt.date) or isinstance(month, dt.datetime):
        raise TypeError("month must be a date (any day of the month)")
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(following, dt.time.min, tzinfo=zone)
    return first, start, end


def invoice_draft_statement(
    *, insurer: Organisation, month: dt.date, actor: Actor
) -> StatementDrafts:
    """The insurer's monthly statement for `month` (any day of it): a line per case whose
    completed appointment fell in that month (local time) and that can be invoiced, at its
    confirmed quote's price before tax; the tax lines are the sums of the cases' quoted tax
    lines, per tax, so the total is the sum of the amounts the insurer confirmed.

    One invoice shows one rate per tax (one HST line: RULES.md), so the cases are grouped by
    place of supply and rates: usually one statement (the insurer's place of supply), one per
    group otherwise. Cases that cannot be invoiced are left out and listed with the reason;
    none at all is `statement_nothing_to_invoice`. Finance, or the system (`medworks
    draft-statements`, for the insurers invoiced monthly): finance checks and issues them.
    Each draft is due after the insurer's terms."""
    _require_finance(actor, or_system=True)
    if insurer.kind != OrganisationKind.INSURER:
        raise DomainError("invoice_not_an_insurer", _("Only insurers are invoiced."))
    first, start, end = _month_bounds(month)
    with transaction.atomic():
        ids = list(
            BookingRequest.objects.filter(
                insurer=insurer,
                appointments__status=AppointmentStatus.COMPLETED,
                appointments__starts_at__gte=start,
                appointments__starts_at__lt=end,
            )
            .exclude(status=BookingStatus.CANCELLED)
            .values_list("pk", flat=True)
            .distinct()
        )
        # The one lock order: cases by id, before anything of theirs.
        cases = list(
            BookingRequest.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
        )
        groups: dict[tuple, list[tuple[BookingRequest, Quote]]] = {}
        left_out = []
        quotes, open_invoices = _standing_quotes(ids), _open_invoices(ids)
        for case in cases:
            quote = quotes.get(case.pk)
            refusal = _case_refusal(case, quote, existing=open_invoices.get(case.pk))
            if refusal is not None:
                left_out.append((case, refusal))
                continue
            rates = tuple((t.name, t.rate) for t in quote.taxes.all())
            groups.setdefault((quote.place_of_supply, rates), []).append((case, quote))
        if not groups:
            with translation.override(insurer.correspondence_language or "en"):
                when = formats.date_format(first, "YEAR_MONTH_FORMAT")
            raise DomainError(
                "statement_nothing_to_invoice",
                _(
                    "No case of %(insurer)s seen in %(month)s can be invoiced "
                    "(%(left_out)s left out)."
                )
                % {"insurer": insurer.name, "month": when, "left_out": len(left_out)},
            )
        invoices = []
        language = insurer.correspondence_language or "en"
        for (place, _rates), members in sorted(groups.items(), key=lambda kv: kv[0][0]):
            with translation.override(language):
                lines = [
                    InvoiceLine(
                        case=case,
                        quote=quote,
                        description=_(
                            "Case %(order_id)s, your reference %(reference)s: %(services)s"
                        )
                        % {
                            "order_id": case.order_id,
                            "reference": case.insurer_reference,
                            "services": ", ".join(
                                _service_name(line.service) for line in quote.lines.all()
                            ),
                        },
                        amount=quote.subtotal,
                    )
                    for case, quote in members
                ]
            sums: dict[str, list] = {}
            for _case, quote in members:
                for t in quote.taxes.all():
                    sums.setdefault(t.name, [t.rate, ZERO])[1] += t.amount
            taxes = [
                InvoiceTax(name=name, rate=rate, amount=amount)
                for name, (rate, amount) in sums.items()
            ]
            invoices.append(
                _draft(
                    insurer=insurer,
                    actor=actor,
                    place_of_supply=place,
                    lines=lines,
                    taxes=taxes,
                    statement_month=first,
                )
            )
    return StatementDrafts(invoices=invoices, left_out=left_out)


def _frozen(invoice: Invoice) -> DomainError:
    return DomainError(
        "invoice_issued_frozen",
        _(
            "%(invoice)s is issued: an issued invoice is never edited. To correct it, issue a "
            "credit note and a new invoice."
        )
        % {"invoice": invoice_label(invoice)},
    )


def invoice_draft_edit(*, invoice: Invoice, actor: Actor, terms_days: int) -> Invoice:
    """Change a draft's payment terms (days from the invoice date to the due date). Only a
    draft: an issued invoice is never edited (`invoice_issued_frozen`)."""
    _require_finance(actor)
    if (
        isinstance(terms_days, bool)
        or not isinstance(terms_days, int)
        or not 0 <= terms_days <= 365
    ):
        raise DomainError(
            "invoice_terms_invalid",
            _("Payment terms are a number of days from 0 to 365."),
            fields={"terms_days": [_("Enter a number of days from 0 to 365.")]},
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.DRAFT or locked.number is not None:
            raise _frozen(locked)
        old = locked.terms_days
        locked.terms_days = terms_days
        locked.save(update_fields=["terms_days"])
        invoice_event_write(
            invoice=locked,
            kind="",
            actor=actor,
            action="invoice.draft_edited",
            extra={"terms_days": [old, terms_days]},
        )
    return locked


def invoice_draft_discard(*, invoice: Invoice, actor: Actor, note: str) -> Invoice:
    """Drop a draft (voided, kept; it never had a number), saying why. Its cases can be
    invoiced again."""
    _require_finance(actor)
    return INVOICE_WORKFLOW.fire(record=invoice, name="discard", actor=actor, note=note)


# --- Issue --------------------------------------------------------------------------------------


def _rates_refusal(invoice: Invoice, taxes: list[InvoiceTax], issue_date: dt.date):
    """The invoice's tax lines must be the rates in force at its tax point (the issue date):
    a quote made before a rate change is prepared again (and confirmed again) first."""
    if not taxes:
        return None
    in_force = {
        (row.tax_name, row.rate) for row in tax_rates_at(invoice.place_of_supply, issue_date)
    }
    if {(t.name, t.rate) for t in taxes} <= in_force:
        return None
    return DomainError(
        "invoice_tax_rates_changed",
        _(
            "The sales tax of %(province)s on %(date)s is not the quote's: prepare the quote "
            "again at today's rates, and have the insurer confirm it, before invoicing."
        )
        % {"province": invoice.place_of_supply, "date": issue_date.isoformat()},
    )


def _postings_issue(invoice: Invoice, lines, taxes, *, reverse: bool):
    """An invoice: Dr receivable (total), Cr revenue (each line), Cr tax payable (each tax).
    A credit note: the same rows on the other side, on the invoice it credits."""
    target = invoice.credits if reverse else invoice
    owed, earned = (credit, debit) if reverse else (debit, credit)
    postings = [owed(LedgerAccount.RECEIVABLE, invoice.total, invoice=target)]
    postings += [
        earned(LedgerAccount.REVENUE, line.amount, invoice=target, case_id=line.case_id)
        for line in lines
        if line.amount > 0
    ]
    postings += [
        earned(TAX_ACCOUNT[tax.name], tax.amount, invoice=target, tax_name=tax.name)
        for tax in taxes
        if tax.amount > 0
    ]
    return postings


def _issue(locked: Invoice, *, actor: Actor, issue_date: dt.date) -> Invoice:
    """Number, date, snapshot, post, draw and store `locked` (a draft, locked by the caller),
    then take the `issue` step. Inside the caller's transaction."""
    if locked.status != InvoiceStatus.DRAFT or locked.number is not None:
        raise DomainError(
            "invoice_status_illegal",
            INVOICE_WORKFLOW.illegal_message(locked, INVOICE_WORKFLOW["issue"]),
        )
    lines = list(locked.lines.select_related("case", "service"))
    taxes = list(locked.taxes.all())
    if locked.total <= 0:
        raise DomainError(
            "invoice_total_zero",
            _("%(invoice)s is for nothing.") % {"invoice": invoice_label(locked)},
        )
    if locked.kind == InvoiceKind.INVOICE:
        case_ids = sorted({line.case_id for line in lines if line.case_id})
        cases = BookingRequest.objects.in_bulk(case_ids)  # locked by the caller
        quotes, open_invoices = _standing_quotes(case_ids), _open_invoices(case_ids)
        for case_id in case_ids:
            case = cases[case_id]
            quote = quotes.get(case_id)
            refusal = _case_refusal(
                case, quote, invoice=locked, existing=open_invoices.get(case_id)
            )
            if refusal is None and not all(
                line.quote_id == quote.pk for line in lines if line.case_id == case_id
            ):
                refusal = DomainError(
                    "invoice_quote_changed",
                    _(
                        "The quote of case %(order_id)s changed since this draft was made: "
                        "discard the draft and make a new one."
                    )
                    % {"order_id": case.order_id},
                )
            if refusal is not None:
                raise refusal
        refusal = _rates_refusal(locked, taxes, issue_date)
        if refusal is not None:
            raise refusal
    else:
        credited = locked.credits
        if issue_date < credited.issue_date:
            raise DomainError(
                "issue_date_before_invoice",
                _("A credit note is dated on or after the invoice it credits (%(date)s).")
                % {"date": credited.issue_date.isoformat()},
            )
    insurer = locked.insurer
    locked.issue_date = issue_date
    locked.tax_point = issue_date
    locked.due_date = issue_date + dt.timedelta(days=locked.terms_days)
    locked.language = insurer.correspondence_language or locked.language or "en"
    locked.buyer_name = insurer.name
    locked.buyer_address = insurer_billing_address(insurer)  # finance's setting, as it is now
    locked.seller_name = settings.MEDWORKS_LEGAL_NAME
    locked.seller_address = "\n".join(
        part.strip() for part in settings.MEDWORKS_ADDRESS.split("|") if part.strip()
    )
    locked.seller_gst_hst_number = settings.MEDWORKS_GST_HST_NUMBER
    locked.seller_qst_number = (
        settings.MEDWORKS_QST_NUMBER if locked.place_of_supply == Province.QC else ""
    )
    locked.issued_by = actor.user
    locked.issued_at = timezone.now()
    missing = _missing_particulars(locked, lines)
    if missing:
        raise DomainError(
            "invoice_particulars_missing",
            _("An invoice of %(total)s must show %(missing)s: set it, then issue the invoice.")
            % {
                "total": f"{locked.total:.2f}",
                "missing": "; ".join(str(_PARTICULAR[name]) for name in missing),
            },
            fields={name: [str(_PARTICULAR[name])] for name in missing},
        )
    series = f"{SERIES_PREFIX[locked.kind]}-{issue_date.year}"
    number = number_take(series)
    # Numbers follow the dates within a series (the series row is held: no one issues now).
    later = Invoice.objects.filter(series=series, issue_date__gt=issue_date).order_by("-issue_date")
    if later.exists():
        raise DomainError(
            "issue_date_before_last",
            _("%(series)s already has an invoice dated %(date)s: issue on that day or later.")
            % {"series": series, "date": later.first().issue_date.isoformat()},
            fields={"issue_date": [_("Enter a later date.")]},
        )
    locked.series = series
    locked.number = number
    locked.display_number = display_number(series, number)
    locked.save(
        update_fields=[
            "series",
            "number",
            "display_number",
            "issue_date",
            "tax_point",
            "due_date",
            "language",
            "buyer_name",
            "buyer_address",
            "seller_name",
            "seller_address",
            "seller_gst_hst_number",
            "seller_qst_number",
            "issued_by",
            "issued_at",
        ]
    )
    issued = INVOICE_WORKFLOW.fire(
        record=locked,
        name="issue",
        actor=actor,
        payload={"issue_date": issue_date.isoformat(), "due_date": locked.due_date.isoformat()},
    )
    reverse = locked.kind == InvoiceKind.CREDIT_NOTE
    memo = (
        _("Credit note of %(invoice)s: %(reason)s")
        % {"invoice": locked.credits.display_number, "reason": locked.reason}
        if reverse
        else _("Invoice to %(insurer)s") % {"insurer": insurer.name}
    )
    ledger_post(
        kind=JournalKind.CREDIT_NOTE_ISSUED if reverse else JournalKind.INVOICE_ISSUED,
        date=issue_date,
        reference=locked.display_number,
        memo=memo,
        actor=actor,
        postings=_postings_issue(locked, lines, taxes, reverse=reverse),
        insurer=insurer,
        invoice=locked,
    )
    pdf = invoice_pdf.render(issued)
    InvoicePdf.objects.create(
        invoice=issued,
        sealed=seal(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        filename=f"{issued.display_number}.pdf",
    )
    invoice_emails.invoice_issued_email(issued)  # to the insurer, the PDF attached (outbox)
    return issued


def invoice_issue(*, invoice: Invoice, actor: Actor, issue_date: dt.date | None = None) -> Invoice:
    """Issue a draft: its number in the year's series taken now (INV-2026-000001, gap-free),
    dated `issue_date` (today by default; never in the future, nor before the series' last
    invoice), due `terms_days` later, the tax point its date; the seller's particulars (from
    the settings) and the buyer's snapshotted; posted to the ledger (Dr receivable total /
    Cr revenue per line / Cr tax payable per tax line); its PDF drawn in the insurer's language
    and stored; an `invoice_issued` event on each case it bills. One transaction.

    Refused: not a draft (`invoice_status_illegal`), a case no longer invoiceable or whose
    quote changed (`invoice_case_*`, `invoice_quote_*`), tax rates at the issue date that are
    not the quote's (`invoice_tax_rates_changed`), a particular the law requires at its amount
    missing from the settings (`invoice_particulars_missing`)."""
    _require_finance(actor)
    issue_date = _a_date(issue_date or _today(), field="issue_date")
    with transaction.atomic():
        # The one lock order: its cases (by id: they are checked again), then the invoice,
        # then its series. Lines never change, so they are read before any lock.
        case_ids = set(
            InvoiceLine.objects.filter(invoice=invoice, case__isnull=False).values_list(
                "case_id", flat=True
            )
        )
        list(
            BookingRequest.objects.select_for_update(of=("self",))
            .filter(pk__in=case_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        locked = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("insurer")
            .get(pk=invoice.pk)
        )
        if locked.kind != InvoiceKind.INVOICE:
            raise DomainError(
                "invoice_status_illegal", _("A credit note is issued with its reason.")
            )
        return _issue(locked, actor=actor, issue_date=issue_date)


def credit_note_issue(
    *, invoice: Invoice, actor: Actor, reason: str, issue_date: dt.date | None = None
) -> Invoice:
    """A credit note reversing `invoice` exactly (its lines, tax lines and total, as positive
    amounts on a document of kind credit_note), numbered in the year's CN series, posted the
    other way (Dr revenue, Dr tax payable, Cr receivable), its PDF stored; the invoice is
    voided. The correction of an issued invoice is this and a new invoice.

    Only an invoice issued or overdue with nothing paid on it: a partly paid or paid invoice
    is not voided (refunds are not handled yet). `reason` is required."""
    _require_finance(actor)
    reason = (reason or "").strip()
    refuse_card_numbers({"reason": reason})
    if not reason:
        raise DomainError(
            "note_required",
            _("Say why the invoice is credited."),
            fields={"reason": [_("Say why.")]},
        )
    issue_date = _a_date(issue_date or _today(), field="issue_date")
    with transaction.atomic():
        original = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("insurer")
            .get(pk=invoice.pk)
        )
        if original.kind != InvoiceKind.INVOICE:
            raise DomainError(
                "credit_note_of_credit_note", _("A credit note is not credited again.")
            )
        void = INVOICE_WORKFLOW["void"]
        if original.status not in void.sources:
            raise DomainError(
                "invoice_status_illegal", INVOICE_WORKFLOW.illegal_message(original, void)
            )
        if why := INVOICE_WORKFLOW.refusal(original, void, actor):
            raise DomainError(
                "invoice_paid_in_part",
                _("Cannot %(step)s: %(reason)s") % {"step": void.step, "reason": why},
            )
        if invoice_balance(original) != original.total:
            raise DomainError(
                "invoice_paid_in_part",
                _("%(invoice)s is not owed in full: it cannot be credited whole.")
                % {"invoice": invoice_label(original)},
            )
        note = Invoice.objects.create(
            kind=InvoiceKind.CREDIT_NOTE,
            credits=original,
            reason=reason,
            insurer=original.insurer,
            place_of_supply=original.place_of_supply,
            language=original.language,
            terms_days=0,
            statement_month=original.statement_month,
            subtotal=original.subtotal,
            tax_total=original.tax_total,
            total=original.total,
            created_by=actor.user,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=note,
                position=line.position,
                case_id=line.case_id,
                quote_id=line.quote_id,
                service_id=line.service_id,
                description=line.description,
                amount=line.amount,
            )
            for line in original.lines.all()
        )
        InvoiceTax.objects.bulk_create(
            InvoiceTax(invoice=note, position=t.position, name=t.name, rate=t.rate, amount=t.amount)
            for t in original.taxes.all()
        )
        issued = _issue(note, actor=actor, issue_date=issue_date)
        INVOICE_WORKFLOW.fire(
            record=original,
            name="void",
            actor=actor,
            note=reason,
            payload={"credit_note": issued.display_number, "credit_note_id": issued.pk},
        )
    return issued


def invoice_pdf_bytes(*, invoice: Invoice, actor: Actor) -> bytes:
    """The stored PDF of an issued invoice or credit note, for finance or its insurer
    (NotFound `invoice_not_found` for anyone else, and before it is issued)."""
    party = invoice_party_of(actor, invoice)
    stored = InvoicePdf.objects.filter(invoice=invoice).first()
    if party is None or stored is None:
        raise NotFound("invoice_not_found", _("No such invoice for you."))
    return unseal(bytes(stored.sealed))


# --- Payments received --------------------------------------------------------------------------


def _positive(value, *, field: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{field} must not be a float")
    try:
        amount = parse_money(value)
    except (TypeError, ValueError):
        amount = None
    if amount is None or amount <= 0:
        raise DomainError(
            f"{field}_invalid",
            _("An amount is more than zero, to the cent (%(value)s).") % {"value": value},
            fields={field: [_("Enter an amount such as 150.00.")]},
        )
    return amount


def _insurer_locked(insurer: Organisation) -> Organisation:
    """The insurer's row, locked: its payments and credit are applied one at a time (the
    lock order: the insurer, then its invoices by id). FOR NO KEY UPDATE: it serialises the
    insurer's payments without blocking the key-share locks of rows that point at the insurer
    (a new case, an audit row), which a plain FOR UPDATE deadlocked with under load."""
    locked = Organisation.objects.select_for_update(no_key=True).get(pk=insurer.pk)
    if locked.kind != OrganisationKind.INSURER:
        raise DomainError("invoice_not_an_insurer", _("Only insurers are invoiced."))
    return locked


def _invoices_locked(insurer: Organisation, invoices: Sequence[Invoice]) -> dict[int, Invoice]:
    ids = sorted({i.pk for i in invoices})
    found = {
        i.pk: i
        for i in Invoice.objects.select_for_update()
        .filter(pk__in=ids, insurer=insurer)
        .order_by("pk")
    }
    if len(found) != len(ids):
        raise NotFound("invoice_not_found", _("No such invoice of this insurer."))
    return found


def _plan(
    *,
    insurer: Organisation,
    amount: Decimal,
    on: dt.date,
    allocations: Sequence | None,
) -> list[tuple[Invoice, Decimal]]:
    """Which invoices `amount` pays, and how much of each: those named (an invoice, or an
    (invoice, amount) pair; in that order) or else the open ones issued by `on`, oldest
    first; each up to its balance. Whatever is left is the insurer's credit."""
    if allocations is None:
        targets = [(invoice, None) for invoice in invoices_open(insurer, on=on)]
    else:
        targets = [
            (item, None) if isinstance(item, Invoice) else (item[0], item[1])
            for item in allocations
        ]
        if len({invoice.pk for invoice, _amount in targets}) != len(targets):
            raise DomainError(
                "payment_allocation_repeated", _("Name each invoice once in a payment.")
            )
    locked = _invoices_locked(insurer, [invoice for invoice, _amount in targets])
    balances = invoice_balances(locked.values())
    plan, remaining = [], amount
    for named, wanted in targets:
        invoice = locked[named.pk]
        label = {"invoice": invoice_label(invoice)}
        if (
            invoice.kind != InvoiceKind.INVOICE
            or invoice.status not in INVOICE_OPEN_STATUSES
            or invoice.issue_date > on
        ):
            if allocations is None:
                continue  # voided since it was listed (a credit note): not the payer's choice
            raise DomainError(
                "payment_invoice_not_open",
                _("%(invoice)s is not open to a payment received on that day.") % label,
            )
        balance = balances[invoice.pk]
        if wanted is not None:
            wanted = _positive(wanted, field="allocation")
            if wanted > balance:
                raise DomainError(
                    "payment_allocation_exceeds_balance",
                    _("%(invoice)s has %(balance)s left to pay.")
                    % {**label, "balance": f"{balance:.2f}"},
                )
            if wanted > remaining:
                raise DomainError(
                    "payment_allocation_exceeds_payment",
                    _("The allocations add up to more than the payment."),
                )
        share = wanted if wanted is not None else min(balance, remaining)
        if share > 0:
            plan.append((invoice, share))
            remaining -= share
    return plan


def _settle(invoice: Invoice, *, actor: Actor, payload: dict) -> None:
    """Move an invoice after money was applied to it: paid when nothing is left, partly paid
    when it was issued; a partly paid or overdue invoice with something left stays as it is
    (late is late until paid)."""
    balance = invoice_balance(invoice)
    payload = {**payload, "balance": f"{balance:.2f}"}
    if balance == 0:
        INVOICE_WORKFLOW.fire(record=invoice, name="pay_full", actor=actor, payload=payload)
    elif invoice.status == InvoiceStatus.ISSUED:
        INVOICE_WORKFLOW.fire(record=invoice, name="pay_part", actor=actor, payload=payload)


def payment_record(
    *,
    insurer: Organisation,
    amount: Decimal | str,
    received_on: dt.date,
    method: str,
    reference: str,
    actor: Actor,
    allocations: Sequence | None = None,
) -> PaymentReceived:
    """Record money received from `insurer` (a card charge, an EFT or a cheque): its date,
    amount, method and reference (never a card number), numbered RCT-<year>-NNNNNN. It pays
    the invoices named in `allocations` (invoices, or (invoice, amount) pairs), else its open
    invoices issued by `received_on`, oldest first, each up to its balance; each moves to
    partly paid or paid. What is left over is the insurer's credit (`insurer_credit`).

    Posted: Dr bank (amount) / Cr receivable (each invoice's share, and the credit left on no
    invoice). Refused: an amount not above zero or not to the cent, a future date, an unknown
    method, no reference, an invoice named that is not this insurer's or not open, or
    allocations beyond a balance or the payment."""
    _require_finance(actor)
    amount = _positive(amount, field="amount")
    received_on = _a_date(received_on, field="received_on")
    if method not in PaymentMethod.values:
        raise DomainError(
            "payment_method_unknown",
            _("A payment is a card charge, an EFT or a cheque."),
            fields={
                "method": [_("One of: %(choices)s.") % {"choices": ", ".join(PaymentMethod.values)}]
            },
        )
    reference = (reference or "").strip()
    refuse_card_numbers({"reference": reference})
    if not reference:
        raise DomainError(
            "payment_reference_missing",
            _("Give the payment's reference (cheque number, EFT trace, card authorisation)."),
            fields={"reference": [_("Enter the reference.")]},
        )
    with transaction.atomic():
        locked_insurer = _insurer_locked(insurer)
        plan = _plan(insurer=locked_insurer, amount=amount, on=received_on, allocations=allocations)
        series = f"{RECEIPT_PREFIX}-{received_on.year}"
        payment = PaymentReceived.objects.create(
            insurer=locked_insurer,
            display_number=display_number(series, number_take(series)),
            received_on=received_on,
            amount=amount,
            method=method,
            reference=reference[:100],
            recorded_by=actor.user,
        )
        PaymentAllocation.objects.bulk_create(
            PaymentAllocation(
                payment=payment, invoice=invoice, amount=share, applied_on=received_on
            )
            for invoice, share in plan
        )
        left = amount - sum((share for _invoice, share in plan), ZERO)
        postings = [debit(LedgerAccount.CASH, amount, payment=payment)]
        postings += [
            credit(LedgerAccount.RECEIVABLE, share, invoice=invoice, payment=payment)
            for invoice, share in plan
        ]
        if left > 0:
            postings.append(credit(LedgerAccount.RECEIVABLE, left, payment=payment))
        ledger_post(
            kind=JournalKind.PAYMENT_RECEIVED,
            date=received_on,
            reference=payment.display_number,
            memo=f"{PaymentMethod(method).label} {reference}"[:255],
            actor=actor,
            postings=postings,
            insurer=locked_insurer,
            payment=payment,
        )
        for invoice, share in plan:
            _settle(
                invoice,
                actor=actor,
                payload={"payment": payment.display_number, "amount": f"{share:.2f}"},
            )
        audit_record(
            actor=actor,
            action="payment.recorded",
            obj=payment,
            summary=f"{payment.display_number} {amount:.2f} from {locked_insurer.name}",
            payload={
                "insurer_id": locked_insurer.pk,
                "amount": f"{amount:.2f}",
                "method": method,
                "received_on": received_on.isoformat(),
                "allocations": [[i.display_number, f"{s:.2f}"] for i, s in plan],
                "credit": f"{left:.2f}",
            },
        )
    return payment


def _unapplied_by_payment(insurer: Organisation) -> list[tuple[PaymentReceived, Decimal]]:
    """The insurer's payments with money not yet applied, oldest first, and how much: from
    the ledger (receivable rows on no invoice)."""
    rows = (
        LedgerEntry.objects.filter(
            account=LedgerAccount.RECEIVABLE, insurer=insurer, invoice__isnull=True
        )
        .values("payment")
        .annotate(left=Sum("credit") - Sum("debit"))
        .order_by()
    )
    left = {row["payment"]: to_money(row["left"]) for row in rows if row["payment"]}
    payments = PaymentReceived.objects.filter(pk__in=[pk for pk, v in left.items() if v > 0])
    return [(p, left[p.pk]) for p in payments.order_by("received_on", "pk")]


def insurer_credit_apply(
    *,
    insurer: Organisation,
    actor: Actor,
    on: dt.date | None = None,
    invoices: Sequence[Invoice] | None = None,
) -> list[PaymentAllocation]:
    """Use the insurer's credit (what its payments left over) on its open invoices: those
    named, else oldest first, each up to its balance; the oldest credit first. One journal per
    payment drawn on, dated `on` (today by default): Dr receivable on no invoice / Cr
    receivable on the invoice. `insurer_credit_none` when it has no credit."""
    _require_finance(actor)
    on = _a_date(on or _today(), field="on")
    with transaction.atomic():
        locked_insurer = _insurer_locked(insurer)
        sources = _unapplied_by_payment(locked_insurer)
        available = sum((left for _p, left in sources), ZERO)
        if available <= 0:
            raise DomainError(
                "insurer_credit_none", _("%(insurer)s has no credit.") % {"insurer": insurer.name}
            )
        plan = _plan(insurer=locked_insurer, amount=available, on=on, allocations=invoices)
        made: list[PaymentAllocation] = []
        queue = [[payment, left] for payment, left in sources]
        drawn: dict[int, list[tuple[Invoice, Decimal]]] = {}
        for invoice, share in plan:
            while share > 0:
                payment, left = queue[0]
                take = min(left, share)
                drawn.setdefault(payment.pk, []).append((invoice, take))
                made.append(
                    PaymentAllocation(payment=payment, invoice=invoice, amount=take, applied_on=on)
                )
                share -= take
                queue[0][1] -= take
                if queue[0][1] == 0:
                    queue.pop(0)
        PaymentAllocation.objects.bulk_create(made)
        payments = {p.pk: p for p, _left in sources}
        for payment_id, shares in drawn.items():
            payment = payments[payment_id]
            total = sum((take for _i, take in shares), ZERO)
            ledger_post(
                kind=JournalKind.CREDIT_APPLIED,
                date=on,
                reference=payment.display_number,
                memo=_("Credit of %(payment)s applied") % {"payment": payment.display_number},
                actor=actor,
                postings=[
                    debit(LedgerAccount.RECEIVABLE, total, payment=payment),
                    *(
                        credit(LedgerAccount.RECEIVABLE, take, invoice=invoice, payment=payment)
                        for invoice, take in shares
                    ),
                ],
                insurer=locked_insurer,
                payment=payment,
            )
        for invoice, share in plan:
            _settle(invoice, actor=actor, payload={"credit_applied": f"{share:.2f}"})
        audit_record(
            actor=actor,
            action="insurer_credit.applied",
            obj=locked_insurer,
            summary=f"Credit of {locked_insurer.name} applied",
            payload={"allocations": [[i.display_number, f"{s:.2f}"] for i, s in plan]},
        )
    return made


# --- The overdue sweep --------------------------------------------------------------------------


def invoices_remind_before_due(*, today: dt.date | None = None) -> int:
    """Queue one reminder (`invoice_emails.invoice_due_reminder`) for each invoice issued or
    partly paid, due in MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE days or fewer from `today`
    (and not yet past due), issued before today (the issue email has just given the due date);
    returns how many were queued. Never twice: the outbox row is the record, checked with the
    invoice's row locked. Off when the setting is 0. Run by the overdue sweep."""
    days = settings.MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE
    today = today or _today()
    if days <= 0:
        return 0
    soon = list(
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID],
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=days),
            issue_date__lt=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    queued = 0
    for pk in soon:
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update(of=("self",))
                .select_related("insurer", "credits")
                .get(pk=pk)
            )
            if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID):
                continue  # paid or credited meanwhile
            if invoice_emails.invoice_due_reminder(invoice) is not None:
                queued += 1
    return queued


def invoices_mark_overdue(*, today: dt.date | None = None) -> int:
    """Mark overdue every invoice issued or partly paid whose due date is before `today` (the
    local date by default) with something left to pay, as the system; returns how many.
    Idempotent: a second run finds none. A periodic job of `medworks worker`; it also queues
    the reminders of the invoices soon due (`invoices_remind_before_due`)."""
    today = today or _today()
    due = list(
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID],
            due_date__lt=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    marked = 0
    for pk in due:
        try:
            with transaction.atomic():
                overdue = INVOICE_WORKFLOW.fire(
                    record=Invoice(pk=pk),
                    name="mark_overdue",
                    actor=OVERDUE_SWEEP,
                    payload={"today": today.isoformat()},
                )
                invoice_emails.invoice_overdue_reminder(overdue)  # once per invoice
        except DomainError:
            continue  # paid or moved meanwhile: nothing to do
        marked += 1
    invoices_remind_before_due(today=today)
    return marked
