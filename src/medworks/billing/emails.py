"""The quote email to the insurer's contact (SOP case 2 step 4): the charges to confirm.

Sent by `quotes.quote_prepare` inside its transaction each time it makes a new version (never
when it returns the standing quote unchanged), through the outbox (`email_queue`), in the
contact's language, as the "dates offered" email is (`bookings.emails`).

What travels: the Order Id, the insurer's reference, the services and the amounts as the
insurer's setting shows them (`InsurerPricing.insurer_view`: by default each service's price,
the tax lines and the total; the clinic's cost only for a full breakdown), and two signed
one-click links (confirm; dispute, which asks why). Never a patient's details, never a card.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from medworks.bookings.emails import case_url, insurer_contact_language
from medworks.core.money import format_money
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import email_queue

from .links import quote_link_url
from .models import InsurerView, Quote
from .selectors import insurer_pricing_of

TEMPLATE = "insurer_quote"


def _language(language: str) -> str:
    """The email's language as email_queue settles it: en or fr."""
    language = (language or "en")[:2].lower()
    return language if language in {"en", "fr"} else "en"


def _percent(rate: Decimal, language: str) -> str:
    """Decimal('0.09975') -> '9.975%' (English) or '9,975 %' (French)."""
    text = format(Decimal(rate) * 100, "f").rstrip("0").rstrip(".")
    return text.replace(".", ",") + "\xa0%" if language == "fr" else text + "%"


def insurer_charges(quote: Quote, *, view: str, language: str) -> dict:
    """The quote's figures as the insurer is shown them (`view`, an InsurerView), the amounts
    written for `language`. The clinic's cost and MedWorks' fee appear only in the full
    breakdown; the total only view has one amount, taxes included."""
    money = lambda amount: format_money(amount, language)  # noqa: E731
    full = view == InsurerView.FULL_BREAKDOWN
    lines = [
        {
            "service": line.service,
            "clinic_cost": money(line.clinic_cost) if full else "",
            "medworks_fee": money(line.medworks_fee) if full else "",
            "price": money(line.amount),
        }
        for line in quote.lines.all()
    ]
    taxes = [
        {
            "tax": tax,  # its name is written in the email's language when rendered
            "rate": _percent(tax.rate, language),
            "amount": money(tax.amount),
        }
        for tax in quote.taxes.all()
    ]
    total_only = view == InsurerView.TOTAL_ONLY
    return {
        "view": view,
        "full_breakdown": full,
        "total_only": total_only,
        "lines": [] if total_only else lines,
        "taxes": [] if total_only else taxes,
        "subtotal": money(quote.subtotal),
        "total": money(quote.total),
    }


def insurer_quote(quote: Quote) -> OutboxMessage:
    """Queue the quote email to the case's insurer contact. Call inside the transaction that
    made the version: the email commits with it, or not at all."""
    case = quote.case
    language = _language(insurer_contact_language(case))
    view = insurer_pricing_of(case.insurer).insurer_view
    hours = settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS
    return email_queue(
        to=[case.insurer_contact_email],
        template=TEMPLATE,
        language=language,
        context={
            "order_id": case.order_id,
            "insurer_reference": case.insurer_reference,
            "version": quote.version,
            "replaces": quote.supersedes_id is not None,
            "charges": insurer_charges(quote, view=view, language=language),
            "confirm_url": quote_link_url(kind="confirm", pk=quote.pk),
            "dispute_url": quote_link_url(kind="dispute", pk=quote.pk),
            "link_hours": hours,
            "links_expire_at": timezone.now() + dt.timedelta(hours=hours),
            # The expiry is written in the clinic's time zone, as the other links' are.
            "expiry_zone": quote.location.province,
            "case_url": case_url(case, audience="insurer"),
        },
        related=case,
    )
