"""In French, in a real browser: a French-speaking insurer's case manager submits a request and
approves a date without meeting a word of English; a clinic receptionist switches the page to
French from the header.

The words are looked up in the French catalogue (and checked to differ from the English), so the
test follows the catalogue rather than a copy of it.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import expect

from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.services import (
    availability_offer_record,
    booking_request_select_clinic,
    booking_request_take,
)
from tests import factories
from tests.factories import act

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def fr(text: str) -> str:
    with translation.override("fr"):
        french = gettext(text)
    # A few words are the same in both languages ("Services"); every other must differ.
    assert french != text or text in SAME_IN_FRENCH, f"not translated: {text!r}"
    return french


SAME_IN_FRENCH = {"Services"}


def test_a_french_speaking_insurer_submits_a_request_and_approves_a_date_in_french(
    browser, live_server, insurer_user, clinic_user
):
    insurer_user.preferred_language = "fr"
    insurer_user.save(update_fields=["preferred_language"])
    context = browser.new_context(base_url=live_server.url, locale="fr-CA")
    context.set_default_timeout(10_000)
    page = context.new_page()

    # The login page follows the browser's language (fr-CA) before anyone is known.
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    page.locator("input[name=username]").fill(insurer_user.username)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    expect(page.get_by_label(re.compile("Mot de passe"))).to_be_visible()
    page.get_by_role("button", name=fr("Sign in")).click()

    page.get_by_role("link", name=fr("New booking request")).first.click()
    data = factories.booking_request_data()
    page.get_by_label(fr("Your case / claim reference")).fill("DOS-77")
    for label, key in [
        ("Contact name", "insurer_contact_name"),
        ("Contact email", "insurer_contact_email"),
        ("Patient first name", "patient_first_name"),
        ("Patient last name", "patient_last_name"),
        ("Street address", "patient_address"),
        ("City", "patient_city"),
        ("Postal code", "patient_postal_code"),
    ]:
        page.get_by_role("textbox", name=fr(label)).fill(data[key])
    page.get_by_label(fr("Date of birth")).fill("1980-04-12")
    xray = factories.service("XRAY")
    assert xray.name_fr and xray.name_fr != xray.name_en
    page.get_by_label(xray.name_fr).check()
    page.get_by_role("button", name=fr("Send the request to MedWorks")).click()

    sent = re.escape(fr("Request %(order)s sent to MedWorks.")).replace(
        re.escape("%(order)s"), r"MW-\d{4}-\d{6}"
    )
    expect(page.get_by_text(re.compile(sent))).to_be_visible()
    case = BookingRequest.objects.get(insurer_reference="DOS-77")

    # The booking team and the clinic do their part (in English, as they choose).
    partner = factories.make_partner(name="Imagerie du Port", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Imagerie du Port, rue King")
    factories.make_offering(location=location)
    agent = factories.make_user(roles=["booking_agent"])
    booking_request_take(case=case, actor=act(agent))
    booking_request_select_clinic(case=case, location=location, actor=act(agent))
    availability_offer_record(case=case, slots=[factories.slot_data(days=6)], actor=act(agent))

    page.goto("/portal/")
    with translation.override("fr"):
        waiting = ngettext(
            "%(counter)s request with dates to approve.",
            "%(counter)s requests with dates to approve.",
            1,
        ) % {"counter": 1}
    expect(page.get_by_text(waiting)).to_be_visible()
    page.get_by_role("link", name=fr("Dates to approve")).click()
    page.get_by_role("button", name=fr("Approve this date")).click()
    booked = re.escape(fr("Booked for %(when)s. Thank you.")).replace(re.escape("%(when)s"), ".+")
    expect(page.get_by_text(re.compile(booked))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    context.close()

    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED


def test_a_clinic_user_switches_the_page_to_french_from_the_header(page, log_in, clinic_user):
    log_in(clinic_user)
    expect(page.locator("html")).to_have_attribute("lang", "en-CA")
    page.get_by_test_id("language-switch").get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("button", name=fr("Sign out"))).to_be_visible()
    clinic_user.refresh_from_db()
    assert clinic_user.preferred_language == "fr"
    # And back: the switch names the other language in its own words.
    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
