"""The order to finance of a booking with a pre-paid provider (SOP case 2 step 3).

"At time of booking, the Booking Department will prepare an order/invoice in email form for the
service [...] and forward it" to finance, with the insurance partner's contact details, the
confirmation of charges, the card details if provided, the patient's name and Canadian address,
and a brief summary of what is required with the symptoms the insurer gave. Here:

- `order_send(*, case, actor) -> OrderSent`, one transaction: the order sheet (`OrderSheet`,
  what the order says, written once for both the email and the PDF), its PDF
  (`order_pdf.render`, ReportLab), stored on the case as a version of its one `order`
  document (documents' own writer: encrypted, sha256, a `document_uploaded` event), the email
  to `settings.MEDWORKS_FINANCE_EMAIL` through the outbox with that version attached by
  reference (read and decrypted at send time: the PDF is stored once), an `order_sent` event
  on the timeline (staff only) and an audit row. Sending again (the quote changed, finance
  lost it) makes the next version of the same document and a new email; each stays, as the
  evidence the coordinator reconciles (SOP case 4 step 6).
- `order_refusal(case, quote=...)`: why an order cannot be sent now, or None; the use case
  raises it and the case page shows it instead of the button, so the rule is written once.
- `card_reference(case)`: the card on file, masked, read from the payments app's vault.
- `order_last(case)`: the order's latest stored version, for the case page.

Decisions (and why):

- **Who**: staff with BOOKING_WORK (the booking team prepares the order); finance reads the
  case and receives the email but does not send it to itself.
- **When**: the case is booked or after (completed, no-show, ready for billing): "at time of
  booking", and later for a re-send. Not before booking (no appointment to pay), not when
  cancelled, and not once closed (billed and reconciled: the stored orders stay downloadable).
- **Which provider**: `selectors.prepayment_needed(case)`; a provider that bills MedWorks
  directly gets no order.
- **Which charges**: the standing quote (`quote_current`), awaiting the insurer's confirmation
  (the SOP sends the order at booking, before step 4's confirmation; the order says the quote's
  status) or confirmed. A disputed quote is refused: its charges are known to be wrong, so a
  new version is prepared first. A quote for another clinic than the case's is refused too.
- **Language**: English (finance is internal, like the team's inbox), in `ORDER_LANGUAGE`;
  every text is still marked for translation, so a French order is one setting away.
- **Cards**: never a number or a security code (RULES.md, cards): the sheet holds only
  `card_reference`, masked, and every text put into the PDF is scanned before rendering
  (`order_pdf.render`), as `email_queue` scans the email's text; either refuses with
  `email_contains_card_number`, and nothing is stored or queued.
- **What the email carries**: the SOP's list, which includes the patient's name, address and
  symptoms. RULES.md keeps emails to shared inboxes to the minimum; the SOP asks for these
  for finance, so they go to finance's address only, never to a wider list.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.emails import case_url
from medworks.bookings.locks import lock_case
from medworks.bookings.models import (
    AppointmentStatus,
    BookingEvent,
    BookingRequest,
    BookingStatus,
)
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.money import format_money
from medworks.documents.models import Document, DocumentKind, DocumentVersion
from medworks.documents.services import document_storage, document_store_generated
from medworks.network.models import BillingArrangement
from medworks.notifications.formatting import address_line, format_when
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import attachment_ref, email_queue

from . import order_pdf
from .emails import _percent
from .models import Quote, QuoteStatus
from .selectors import prepayment_needed, quote_current

logger = logging.getLogger(__name__)

TEMPLATE = "order_to_finance"
ORDER_LANGUAGE = "en"
PDF_TYPE = "application/pdf"
_B = BookingStatus
# Booked, or after it and not over: "at time of booking", and a re-send later.
ORDER_STATUSES = frozenset({_B.BOOKED, _B.COMPLETED, _B.NO_SHOW, _B.READY_FOR_BILLING})


# --- What the order says ----------------------------------------------------------------------


@dataclass(frozen=True)
class CardOnFile:
    """The insurer's card as the order may show it: brand and last four, and the page where
    the card is kept. Never the number, never the security code."""

    masked: str  # e.g. "Visa ending in 1111"
    url: str  # the secure card page


# Filled in by the payments app (PaymentsConfig.ready): billing, below it, never imports it.
_CARD_REFERENCE: list = []


def card_reference_register(reader) -> None:
    """`reader(case) -> CardOnFile | None`: the card vault's masked reference."""
    _CARD_REFERENCE[:] = [reader]


def card_reference(case: BookingRequest) -> CardOnFile | None:
    """The card on file for the case's pre-payment, masked (brand and last four digits only,
    and the link to the secure card page), or None: no card yet, or no vault installed."""
    return _CARD_REFERENCE[0](case) if _CARD_REFERENCE else None


@dataclass(frozen=True)
class Charge:
    """One row of the SOP's table: the service, what the clinic is paid, MedWorks' fee, and
    the total to bill the insurer (clinic cost + MedWorks cost), each written as money."""

    service: str
    clinic_cost: str
    medworks_fee: str
    total: str


@dataclass(frozen=True)
class TaxCharge:
    name: str
    rate: str
    amount: str


@dataclass(frozen=True)
class OrderSheet:
    """Everything the order says, as text already written for its language: the email's
    template and the PDF both read this, so they never disagree."""

    order_id: str
    order_date: str
    sent_at: str
    sent_by: str
    case_url: str
    # The insurance partner and its contact
    insurer: str
    insurer_reference: str
    policy_number: str
    contact_name: str
    contact_email: str
    contact_phone: str
    # The confirmation of charges: the standing quote
    quote_version: int
    quote_status: str
    quote_confirmed: str  # "Confirmed by the insurer: $203.40, ..." or ""
    charges: tuple[Charge, ...]
    subtotal: Charge
    taxes: tuple[TaxCharge, ...]
    total: str
    rule: str
    # The card (masked), or None
    card: CardOnFile | None
    card_line: str
    # The patient
    patient_name: str
    patient_address: tuple[str, ...]
    # What is required
    services: tuple[str, ...]
    summary: str
    symptoms: str
    # The appointment and the provider to pre-pay
    appointment: str
    provider: str
    provider_address: str
    provider_contact: str
    arrangements: str


def _appointment(case: BookingRequest):
    """The appointment the order pays for: the latest one not cancelled nor rescheduled."""
    return (
        case.appointments.exclude(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED]
        )
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )


def _arrangements(partner) -> str:
    labels = [
        str(BillingArrangement(value).label)
        for value in partner.billing_arrangements or []
        if value in BillingArrangement.values
    ]
    if not partner.is_affiliate:
        labels.insert(0, _("Provider outside the network"))
    return "; ".join(labels) or _("Pre-payment (no arrangement recorded)")


def _card_line(card: CardOnFile | None) -> str:
    if card is None:
        return _(
            "Card on file: none yet. The insurer enters its card on the secure card page of "
            "its portal (coming with pre-payment); a card number or security code is never "
            "sent by email."
        )
    return _("Card on file: %(card)s (secure card page: %(url)s)") % {
        "card": card.masked,
        "url": card.url,
    }


def order_sheet(
    *, case: BookingRequest, quote: Quote, actor: Actor, sent_at: dt.datetime
) -> OrderSheet:
    """The order of `case` at its standing `quote`, written in the active language (the use
    case makes it under ORDER_LANGUAGE)."""
    language = (translation.get_language() or ORDER_LANGUAGE)[:2]

    def money(amount) -> str:
        return format_money(amount, language)

    patient = case.patient
    location = case.location
    partner = location.partner
    appointment = _appointment(case)
    user = actor.user
    card = card_reference(case)
    confirmed = ""
    if quote.status == QuoteStatus.CONFIRMED and quote.confirmed_total is not None:
        confirmed = _("Confirmed by the insurer: %(total)s, %(when)s.") % {
            "total": money(quote.confirmed_total),
            "when": format_when(quote.confirmed_at, location, language),
        }
    contact = [p for p in (location.phone, location.email) if p] or [
        p for p in (partner.contact_name, partner.contact_phone, partner.contact_email) if p
    ]
    return OrderSheet(
        order_id=case.order_id,
        order_date=formats.date_format(timezone.localtime(case.created_at), "DATE_FORMAT"),
        sent_at=format_when(sent_at, None, language),
        sent_by=(user.get_full_name() or user.username) if user is not None else actor.detail,
        case_url=case_url(case, audience="team"),
        insurer=case.insurer.name,
        insurer_reference=case.insurer_reference,
        policy_number=case.policy_number,
        contact_name=case.insurer_contact_name,
        contact_email=case.insurer_contact_email,
        contact_phone=case.insurer_contact_phone,
        quote_version=quote.version,
        quote_status=str(quote.get_status_display()),
        quote_confirmed=confirmed,
        charges=tuple(
            Charge(
                service=line.service.name,
                clinic_cost=money(line.clinic_cost),
                medworks_fee=money(line.medworks_fee),
                total=money(line.amount),
            )
            for line in quote.lines.all()
        ),
        subtotal=Charge(
            service=_("Subtotal"),
            clinic_cost=money(quote.clinic_cost),
            medworks_fee=money(quote.medworks_fee),
            total=money(quote.subtotal),
        ),
        taxes=tuple(
            TaxCharge(
                name=str(tax.get_name_display()),
                rate=_percent(tax.rate, language),
                amount=money(tax.amount),
            )
            for tax in quote.taxes.all()
        ),
        total=money(quote.total),
        rule=quote.rule_text,
        card=card,
        card_line=_card_line(card),
        patient_name=patient.full_name,
        patient_address=(
            patient.address,
            " ".join(p for p in (patient.city, patient.province, patient.postal_code) if p),
        ),
        services=tuple(line.service.name for line in quote.lines.all()),
        summary=case.summary,
        symptoms=case.symptoms,
        appointment=(
            format_when(appointment.starts_at, appointment.location, language)
            if appointment is not None
            else ""
        ),
        provider=partner.name,
        provider_address=address_line(location),
        provider_contact=", ".join(contact),
        arrangements=_arrangements(partner),
    )


# --- The rule -----------------------------------------------------------------------------------


def order_refusal(case: BookingRequest, *, quote: Quote | None) -> DomainError | None:
    """Why the order of `case` cannot be sent now (the error `order_send` raises, whose
    message the case page shows), or None when it can. `quote` is the case's standing quote
    (`quote_current`). Who may send is checked apart (BOOKING_WORK)."""
    order_id = case.order_id
    if case.status == BookingStatus.CANCELLED:
        return DomainError(
            "order_case_ended",
            _("Case %(order_id)s is cancelled: no order is sent to finance.")
            % {"order_id": order_id},
        )
    if case.status == BookingStatus.CLOSED:
        return DomainError(
            "order_case_ended",
            _(
                "Case %(order_id)s is closed (billed and reconciled): its orders are kept, "
                "no new one is sent."
            )
            % {"order_id": order_id},
        )
    if case.status not in ORDER_STATUSES:
        return DomainError(
            "order_not_booked",
            _(
                "Case %(order_id)s is not booked yet: the order goes to finance once the "
                "appointment is booked."
            )
            % {"order_id": order_id},
        )
    if not prepayment_needed(case):
        return DomainError(
            "order_not_prepaid",
            _(
                "The provider of case %(order_id)s is not paid in advance (it bills MedWorks "
                "directly): there is no order to send to finance."
            )
            % {"order_id": order_id},
        )
    if quote is None:
        return DomainError(
            "order_quote_missing",
            _(
                "Case %(order_id)s has no quote: enter the clinic's cost to prepare it, then "
                "send the order."
            )
            % {"order_id": order_id},
        )
    if quote.status == QuoteStatus.DISPUTED:
        return DomainError(
            "order_quote_disputed",
            _(
                "The insurer disputed version %(version)s of the quote of %(order_id)s: "
                "prepare a new version before sending the order."
            )
            % {"version": quote.version, "order_id": order_id},
        )
    if quote.location_id != case.location_id:
        return DomainError(
            "order_quote_stale",
            _(
                "The quote of %(order_id)s is for another clinic than the one booked: "
                "prepare it at this clinic before sending the order."
            )
            % {"order_id": order_id},
        )
    return None


# --- The use case -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderSent:
    version: DocumentVersion  # the PDF stored on the case (version 1, 2, ... of its order)
    message: OutboxMessage  # the email to finance, queued with the PDF attached
    event: BookingEvent  # "order_sent" on the case's timeline


def order_send(*, case: BookingRequest, actor: Actor) -> OrderSent:
    """Send the order of `case` to finance: the PDF stored on the case, the email with it
    attached queued to MEDWORKS_FINANCE_EMAIL, the event and the audit row, in one
    transaction. Each call makes a new version of the case's order document and a new email.

    PermissionDenied `order_forbidden` without BOOKING_WORK; the refusals of `order_refusal`
    (`order_case_ended`, `order_not_booked`, `order_not_prepaid`, `order_quote_missing`,
    `order_quote_disputed`, `order_quote_stale`); `email_contains_card_number` when a text of
    the order holds a card number (nothing is stored nor queued then).
    """
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, Capability.BOOKING_WORK):
        raise PermissionDenied(
            "order_forbidden", _("Only the booking team sends an order to finance.")
        )
    with transaction.atomic():
        lock_case(case.pk)  # the one lock order: the case first
        locked = BookingRequest.objects.select_related(
            "location__partner", "patient", "insurer"
        ).get(pk=case.pk)
        quote = quote_current(case=locked)
        refusal = order_refusal(locked, quote=quote)
        if refusal is not None:
            raise refusal
        with translation.override(ORDER_LANGUAGE):
            sheet = order_sheet(case=locked, quote=quote, actor=actor, sent_at=timezone.now())
        # Scans every text it would draw for card numbers first (refused in the user's words).
        pdf = order_pdf.render(sheet, language=ORDER_LANGUAGE)
        document = Document.objects.filter(request=locked, kind=DocumentKind.ORDER).first()
        version = document_store_generated(
            case=locked,
            kind=DocumentKind.ORDER,
            data=pdf,
            filename=f"{locked.order_id}-order.pdf",
            actor=actor,
            title=_("Order %(order_id)s") % {"order_id": locked.order_id},
            document=document,
        )
        try:
            message = email_queue(
                to=[settings.MEDWORKS_FINANCE_EMAIL],
                template=TEMPLATE,
                language=ORDER_LANGUAGE,
                context={"sheet": sheet, "filename": version.original_name},
                related=locked,
                attachments=[
                    (
                        version.original_name,
                        PDF_TYPE,
                        attachment_ref(source="document_version", ref=str(version.uuid)),
                    )
                ],
            )
            payload = {
                "document_id": version.document_id,
                "version_id": version.pk,
                "version": version.number,
                "sha256": version.sha256,
                "quote_id": quote.pk,
                "quote_version": quote.version,
                "quote_status": quote.status,
                "total": str(quote.total),
                "outbox_id": message.pk,
                "to": list(message.to),
            }
            event = BookingEvent.objects.record(
                request=locked, actor=actor, kind="order_sent", payload=payload
            )
            audit_record(
                actor=actor,
                action="order.sent",
                obj=version,
                summary=f"{locked.order_id} order v{version.number} to finance",
                payload=payload,
            )
        except BaseException:
            # The rows roll back with the transaction; the sealed file must go too.
            _remove_file(version.storage_name)
            raise
    return OrderSent(version=version, message=message, event=event)


def _remove_file(name: str) -> None:
    try:
        document_storage().delete(name)
    except Exception:
        logger.exception("could not remove orphan order file %s", name)


# --- Reads for the case page ------------------------------------------------------------------


def order_last(case: BookingRequest) -> DocumentVersion | None:
    """The case's latest order sent to finance (its stored PDF version, with who sent it), or
    None. Staff only: the caller has checked the reader is staff."""
    return (
        DocumentVersion.objects.filter(
            document__request_id=case.pk, document__kind=DocumentKind.ORDER
        )
        .select_related("uploaded_by", "document")
        .order_by("-number")
        .first()
    )
