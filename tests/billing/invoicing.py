"""Shared setup of the invoicing tests: an insurer whose cases went the whole way (the clinic
chosen, the quote confirmed, the appointment seen, ready for billing), and the figures to
expect. Each case goes through the real use cases of bookings and billing."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

from django.utils import timezone
from pypdf import PdfReader

from medworks.accounts.models import OrganisationKind
from medworks.billing import services as finance_settings
from medworks.billing.invoices import invoice_draft_for_case, invoice_issue, invoice_pdf_bytes
from medworks.billing.quotes import quote_confirm
from medworks.billing.selectors import quote_current
from medworks.bookings import services as bookings
from medworks.bookings.models import Appointment, AppointmentStatus
from tests import factories
from tests.factories import act

D = Decimal


def make_insurer(finance_user, *, name=None, language="en", **pricing):
    """An insurer; `pricing`: its settings, through finance's own door (place_of_supply,
    tax_treatment, markup_percent...)."""
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER, name=name)
    if language != "en":
        insurer.correspondence_language = language
        insurer.save(update_fields=["correspondence_language"])
    if pricing:
        finance_settings.insurer_pricing_update(
            actor=act(finance_user), insurer=insurer, data=pricing
        )
    return insurer


def clinic(*, prices: dict[str, str] | None = None):
    """A clinic in Toronto, near the factories' patient, at these clinic prices."""
    location = factories.make_location()
    for code, price in (prices or {"XRAY": "120.00"}).items():
        factories.make_offering(location=location, service_code=code, price=price)
    return location


def ready_case(
    *,
    insurer,
    location,
    agent,
    services=("XRAY",),
    seen_on: dt.date | None = None,
    confirm: bool = True,
    ready: bool = True,
):
    """A case of `insurer` at `location`: quoted at the directory's prices, the charges
    confirmed (staff recording the insurer's answer), booked, seen (on `seen_on`, else two
    hours ago), completed and ready for billing."""
    case = factories.make_booking_request(insurer=insurer, services=list(services))
    bookings.booking_request_take(case=case, actor=act(agent))
    bookings.booking_request_select_clinic(case=case, location=location, actor=act(agent))
    quote = quote_current(case=case)
    if confirm:
        quote_confirm(quote=quote, actor=act(agent), note="By phone with the adjuster.")
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(agent), note="By phone.")
    appointment = Appointment.objects.get(request=case, status=AppointmentStatus.BOOKED)
    if seen_on is not None:
        starts = dt.datetime.combine(
            seen_on, dt.time(10, 0), tzinfo=timezone.get_current_timezone()
        )
    else:
        starts = timezone.now() - dt.timedelta(hours=2)
    appointment.starts_at = starts
    appointment.save(update_fields=["starts_at"])
    bookings.appointment_complete(case=case, actor=act(agent))
    if ready:
        bookings.booking_request_step(case=case, name="mark_ready_for_billing", actor=act(agent))
    case.refresh_from_db()
    return case


def issued_invoice(*, case, finance_user, issue_date: dt.date | None = None):
    """The case invoiced and issued (on `issue_date`, else today)."""
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    return invoice_issue(invoice=draft, actor=act(finance_user), issue_date=issue_date)


def pdf_text(invoice, finance_user) -> str:
    """The text of the invoice's stored PDF, read back with pypdf, its spaces made plain."""
    data = invoice_pdf_bytes(invoice=invoice, actor=act(finance_user))
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def money_text(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text)
