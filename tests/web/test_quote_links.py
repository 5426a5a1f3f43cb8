"""The one-click links of the quote email: confirm the charges, or dispute them saying why.
No login; the signed token is the key. A GET never changes anything (mail scanners open every
link); the person's POST does, as the signed link. A link names one version: once a newer one
replaced it, or it was answered, the link says so and acts on nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from medworks.billing.links import quote_link_token
from medworks.billing.models import InsurerPricing, InsurerView, Quote, QuoteStatus
from medworks.billing.quotes import quote_confirm, quote_prepare
from medworks.billing.selectors import quote_confirmed_amount, quote_current
from medworks.bookings.models import BookingEvent
from medworks.core.models import AuditEvent
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act


@pytest.fixture
def priced(insurer_user, booking_agent):
    """Maple Assist's case sent to a Toronto clinic that charges $120.00 for an X-ray."""
    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )


def _url(kind: str, quote) -> str:
    return reverse("web:quote_link", args=[quote_link_token(kind=kind, pk=quote.pk)])


def _state(case):
    return (
        list(Quote.objects.filter(case=case).order_by("pk").values_list("status", flat=True)),
        BookingEvent.objects.count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def _csrf_post(url: str, data: dict | None = None):
    client = Client(enforce_csrf_checks=True)  # the page's own form carries the CSRF token
    page = client.get(url).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    return client.post(url, {"csrfmiddlewaretoken": token, **(data or {})})


def test_opening_a_confirm_link_shows_the_charges_and_changes_nothing(client, priced):
    quote = quote_current(case=priced)
    before = _state(priced)
    response = client.get(_url("confirm", quote))
    page = response.content.decode()
    assert response.status_code == 200
    assert priced.order_id in page and priced.insurer_reference in page
    assert "$180.00" in page and "$23.40" in page and "$203.40" in page
    assert "$120.00" not in page and "Clinic Cost" not in page  # the insurer's default view
    assert "Confirm these charges</button>" in page
    patient = priced.patient
    assert patient.last_name not in page and patient.first_name not in page
    assert response["Referrer-Policy"] == "same-origin"
    assert _state(priced) == before


def test_a_full_breakdown_insurer_sees_the_clinic_cost_on_the_page(client, insurer_user, priced):
    InsurerPricing.objects.create(
        insurer=insurer_user.organisation, insurer_view=InsurerView.FULL_BREAKDOWN
    )
    page = client.get(_url("confirm", quote_current(case=priced))).content.decode()
    assert "Clinic Cost" in page and "$120.00" in page and "$60.00" in page


def test_pressing_confirm_confirms_as_the_signed_link(priced):
    quote = quote_current(case=priced)
    response = _csrf_post(_url("confirm", quote))
    assert response.status_code == 200
    assert "Charges confirmed" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.CONFIRMED
    assert quote.confirmed_by is None
    assert quote.confirmed_by_party == "signed_link"
    assert quote.confirmed_by_detail == "quote link"
    assert quote_confirmed_amount(case=priced) == Decimal("203.40")
    event = priced.events.get(kind="quote_confirmed")
    assert event.actor is None and event.payload["party"] == "signed_link"


def test_a_post_without_the_csrf_token_is_refused(priced):
    quote = quote_current(case=priced)
    response = Client(enforce_csrf_checks=True).post(_url("confirm", quote))
    assert response.status_code == 403
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.AWAITING_CONFIRMATION


def test_opening_a_dispute_link_asks_why_and_changes_nothing(client, priced):
    quote = quote_current(case=priced)
    before = _state(priced)
    page = client.get(_url("dispute", quote)).content.decode()
    assert 'name="note"' in page and "Send the dispute</button>" in page
    assert "$203.40" in page
    assert _state(priced) == before


def test_disputing_by_link_needs_a_reason(client, priced):
    quote = quote_current(case=priced)
    before = _state(priced)
    response = client.post(_url("dispute", quote), {"note": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert _state(priced) == before


def test_disputing_by_link_records_the_reason(client, priced):
    quote = quote_current(case=priced)
    response = client.post(_url("dispute", quote), {"note": "Our contract price is $150."})
    assert response.status_code == 200
    assert "Charges disputed" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DISPUTED
    event = priced.events.get(kind="quote_disputed")
    assert event.note == "Our contract price is $150."
    assert event.payload["party"] == "signed_link"


def test_an_answered_quote_cannot_be_answered_again_by_link(client, insurer_user, priced):
    quote = quote_current(case=priced)
    quote_confirm(quote=quote, actor=act(insurer_user))
    page = client.get(_url("dispute", quote)).content.decode()
    assert "These charges have already been answered." in page
    assert "Send the dispute</button>" not in page
    before = _state(priced)
    for kind, data in (("confirm", {}), ("dispute", {"note": "Too much."})):
        response = client.post(_url(kind, quote), data)
        assert response.status_code == 409, kind
        assert "cannot be" in response.content.decode()
    assert _state(priced) == before


def test_an_old_versions_link_says_it_is_no_longer_current_and_changes_nothing(
    client, booking_agent, priced
):
    old = quote_current(case=priced)
    xray = priced.services.get()
    new = quote_prepare(
        case=priced, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("150.00")}
    )
    assert new.version == 2
    before = _state(priced)
    for kind, data in (("confirm", {}), ("dispute", {"note": "Why?"})):
        for method in ("get", "post"):
            response = getattr(client, method)(_url(kind, old), data)
            page = response.content.decode()
            assert response.status_code == 410, (kind, method)
            assert "This quote is no longer current" in page
            assert "$203.40" not in page  # the old figures are not shown as if they stood
    assert _state(priced) == before
    new.refresh_from_db()
    assert new.status == QuoteStatus.AWAITING_CONFIRMATION


def test_an_expired_link_is_refused_with_410(client, priced, settings):
    quote = quote_current(case=priced)
    url = _url("confirm", quote)
    settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS = -1  # every token is now older than allowed
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.AWAITING_CONFIRMATION


def test_a_tampered_link_is_refused_with_400(client, priced):
    from medworks.bookings.links import offer_link_token

    quote = quote_current(case=priced)
    token = quote_link_token(kind="confirm", pk=quote.pk)
    # Cut short, made up, or another link's token (signed with the offer links' salt).
    offer_token = offer_link_token(kind="approve", pk=quote.pk)
    for bad in (token[:-2] + "xx", "not-a-token", offer_token):
        response = client.post(reverse("web:quote_link", args=[bad]))
        assert response.status_code == 400, bad
        assert "This link is not valid" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.AWAITING_CONFIRMATION


def test_a_link_to_a_quote_that_does_not_exist_says_so(client, db):
    token = quote_link_token(kind="confirm", pk=99999)
    response = client.get(reverse("web:quote_link", args=[token]))
    assert response.status_code == 410
    assert "This quote no longer exists" in response.content.decode()


def test_the_email_links_open_these_pages(client, priced):
    """The quote email carries links this route accepts: confirm, then dispute."""
    message = OutboxMessage.objects.get(template="insurer_quote", related_id=str(priced.pk))
    paths = [part.split()[0] for part in message.body.split("/links/quote/")[1:]]
    assert len(paths) == 2
    confirm, dispute = (client.get("/links/quote/" + path) for path in paths)
    assert confirm.status_code == dispute.status_code == 200
    assert "Confirm these charges</button>" in confirm.content.decode()
    assert "Send the dispute</button>" in dispute.content.decode()


def test_the_page_is_in_french_for_a_french_reader(client, priced):
    quote = quote_current(case=priced)
    page = client.get(_url("confirm", quote), HTTP_ACCEPT_LANGUAGE="fr-CA").content.decode()
    assert "203,40" in page
    assert "Confirm these charges" not in page
