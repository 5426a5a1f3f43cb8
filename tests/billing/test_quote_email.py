"""The quote email: each new version goes to the insurer's contact, in their language, with
the charges as the insurer's setting shows them and two signed one-click links (confirm,
dispute). Never the clinic's cost unless the setting says full breakdown; never a patient."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from medworks.billing.links import quote_link_read
from medworks.billing.models import InsurerPricing, InsurerView, Quote
from medworks.billing.quotes import quote_prepare
from medworks.billing.selectors import quote_current
from medworks.bookings.models import BookingRequest
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db


def _emails(case) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(template="insurer_quote", related_id=str(case.pk)).order_by(
            "pk"
        )
    )


def _links(message: OutboxMessage) -> list[tuple[str, int]]:
    urls = re.findall(r"https?://\S+/links/quote/\S+", message.body)
    return [quote_link_read(url.rstrip("/").rsplit("/", 1)[-1]) for url in urls]


@pytest.fixture
def toronto(db):
    """A Toronto clinic that charges $120.00 for an X-ray."""
    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return location


def _priced(insurer, toronto, agent) -> BookingRequest:
    return factories.make_case_awaiting_dates(insurer=insurer, location=toronto, agent=agent)


def test_a_new_version_emails_the_insurer_contact_its_prices_and_two_signed_links(
    insurer_user, booking_agent, toronto
):
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    quote = quote_current(case=case)
    (message,) = _emails(case)
    assert message.to == [case.insurer_contact_email]
    assert message.language == "en"
    assert case.order_id in message.subject and case.insurer_reference in message.subject
    assert message.subject.startswith("Charges to confirm for ")
    # The default view: each service's price (120.00 + 50%), the HST and the total.
    assert "X-ray: $180.00" in message.body
    assert "HST (13%): $23.40" in message.body
    assert "Total: $203.40" in message.body
    assert "$120.00" not in message.body and "$60.00" not in message.body
    assert "clinic cost" not in message.body.lower()
    assert _links(message) == [("confirm", quote.pk), ("dispute", quote.pk)]
    assert "expire in 72 hours, on " in message.body
    assert reverse("web:portal_request", args=[case.order_id]) in message.body
    assert "{{" not in message.body and "{%" not in message.body


def test_the_email_carries_no_patient_details(insurer_user, booking_agent, toronto):
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    (message,) = _emails(case)
    text = message.subject + message.body
    patient = case.patient
    for detail in (patient.first_name, patient.last_name, patient.postal_code, patient.phone):
        if detail:
            assert detail not in text, detail
    assert "wrist" not in text.lower()  # the symptoms stay in the portal


def test_the_email_is_in_french_for_a_french_speaking_insurer(insurer_user, booking_agent, toronto):
    insurer = insurer_user.organisation
    insurer.correspondence_language = "fr"
    insurer.save(update_fields=["correspondence_language"])
    case = _priced(insurer, toronto, booking_agent)
    (message,) = _emails(case)
    assert message.language == "fr"
    assert message.subject.startswith("Frais à confirmer")
    assert "Radiographie : 180,00\xa0$" in message.body
    assert "TVH (13\xa0%) : 23,40\xa0$" in message.body
    assert "Total : 203,40\xa0$" in message.body
    assert "soumission" in message.body.lower()
    assert "Confirm these charges" not in message.body
    assert len(_links(message)) == 2


def test_the_contacts_own_language_wins_over_the_insurers(insurer_user, booking_agent, toronto):
    insurer_user.email = "adjuster@maple-assist.example"
    insurer_user.preferred_language = "fr"
    insurer_user.save(update_fields=["email", "preferred_language"])
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    assert case.insurer_contact_email == insurer_user.email
    (message,) = _emails(case)
    assert message.language == "fr"


def test_a_full_breakdown_insurer_sees_the_clinic_cost_and_the_fee(
    insurer_user, booking_agent, toronto
):
    InsurerPricing.objects.create(
        insurer=insurer_user.organisation, insurer_view=InsurerView.FULL_BREAKDOWN
    )
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    (message,) = _emails(case)
    assert "X-ray: clinic cost $120.00, MedWorks fee $60.00, price $180.00" in message.body
    assert "Subtotal before tax: $180.00" in message.body
    assert "Total: $203.40" in message.body


def test_a_total_only_insurer_sees_one_amount(insurer_user, booking_agent, toronto):
    InsurerPricing.objects.create(
        insurer=insurer_user.organisation, insurer_view=InsurerView.TOTAL_ONLY
    )
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    (message,) = _emails(case)
    assert "Total, taxes included: $203.40" in message.body
    # The links' random tokens may spell anything: look at the words, not the URLs.
    words = re.sub(r"https?://\S+", " ", message.body)
    for hidden in ("$180.00", "$120.00", "$23.40", "HST"):
        assert hidden not in words, hidden


def test_one_email_per_new_version_and_none_for_the_unchanged_standing_quote(
    insurer_user, booking_agent, toronto
):
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    first = quote_current(case=case)
    assert len(_emails(case)) == 1

    same = quote_prepare(case=case, actor=act(booking_agent))
    assert same.pk == first.pk
    assert len(_emails(case)) == 1  # nothing changed: no new version, no email

    xray = case.services.get()
    second = quote_prepare(
        case=case, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("150.00")}
    )
    assert second.version == 2
    emails = _emails(case)
    assert len(emails) == 2
    assert _links(emails[1]) == [("confirm", second.pk), ("dispute", second.pk)]
    assert "version 2" in emails[1].body
    assert "X-ray: $225.00" in emails[1].body  # 150.00 + 50%


def test_the_email_commits_with_the_version_or_not_at_all(insurer_user, booking_agent, toronto):
    case = _priced(insurer_user.organisation, toronto, booking_agent)
    xray = case.services.get()
    before = (Quote.objects.count(), len(_emails(case)))
    with pytest.raises(RuntimeError), transaction.atomic():
        quote_prepare(
            case=case, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("150.00")}
        )
        raise RuntimeError("the caller's transaction fails after the quote")
    assert (Quote.objects.count(), len(_emails(case))) == before
