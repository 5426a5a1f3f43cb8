"""The insurer's one-click email links in a real browser: the page's own form posts (a browser
sends "Origin: null" under a no-referrer policy, which CSRF refuses: this is its regression)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from medworks.billing.links import quote_link_url
from medworks.billing.models import Quote, QuoteStatus
from medworks.bookings.links import offer_link_url
from medworks.bookings.models import BookingRequest, BookingStatus
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_emailed_links_confirm_the_charges_and_approve_a_date(page, live_server, insurer_user):
    case, offer = factories.make_case_with_offer(insurer=insurer_user.organisation)
    quote = Quote.objects.get(case=case)
    slot = offer.slots.order_by("starts_at").first()

    page.goto(live_server.url + urlparse(quote_link_url(kind="confirm", pk=quote.pk)).path)
    page.get_by_role("button", name="Confirm these charges").click()
    expect(page.locator("main")).to_contain_text("confirmed")
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.CONFIRMED

    page.goto(live_server.url + urlparse(offer_link_url(kind="approve", pk=slot.pk)).path)
    page.get_by_role("button", name="Approve this date").click()
    expect(page.locator("main")).to_contain_text(re.compile("booked", re.I))
    assert BookingRequest.objects.get(pk=case.pk).status == BookingStatus.BOOKED
