"""Paperwork end to end in a real browser (SOP case 1 steps 4-5): on a booked case that needs
paperwork, the insurer uploads its GOP (a real PDF) in the portal; the clinic downloads it,
acknowledges it, marks the appointment completed and uploads the signed form with the
physician's name, the date and the attestation; the agent sees the paperwork complete and
moves the case to ready for billing.

The case is booked through the use cases (the booking itself is test_booking_flow.py's)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medworks.bookings import services as bookings
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.documents.models import DocumentAccess, DocumentKind, DocumentVersion, Gop, GopStatus
from tests import factories
from tests.documents import samples
from tests.factories import act

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in(browser, live_server, user):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def booked_paper_case(*, insurer_user, clinic_user, agent) -> BookingRequest:
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    factories.make_offering(location=location, service_code="XRAY")
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=location,
        agent=agent,
        paperwork_required=True,
        results_delivery="via_paperwork",
    )
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=2)], actor=act(agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))
    case.refresh_from_db()
    return case


def test_a_gop_goes_to_the_clinic_and_the_signed_form_comes_back_for_billing(
    browser, live_server, settings, tmp_path, insurer_user, clinic_user, booking_agent
):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    case = booked_paper_case(
        insurer_user=insurer_user, clinic_user=clinic_user, agent=booking_agent
    )
    gop_pdf = samples.pdf("Guarantee of payment MW")
    signed_pdf = samples.pdf("Signed by Dr. Roy")
    today = timezone.localdate()
    insurer_context, insurer = sign_in(browser, live_server, insurer_user)
    clinic_context, clinic = sign_in(browser, live_server, clinic_user)
    agent_context, agent = sign_in(browser, live_server, booking_agent)

    # The insurer uploads its GOP, with the guarantee's terms, on the booked case.
    insurer.goto(f"/portal/requests/{case.order_id}/")
    insurer.get_by_role("link", name="Upload paperwork").click()
    insurer.locator('input[name="file"]').set_input_files(
        {"name": "gop.pdf", "mimeType": "application/pdf", "buffer": gop_pdf}
    )
    insurer.get_by_label("Valid from").fill(today.isoformat())
    insurer.get_by_label("Valid to").fill((today + dt.timedelta(days=30)).isoformat())
    insurer.get_by_label("Maximum amount").fill("650.00")
    insurer.get_by_role("button", name="Upload").click()
    expect(insurer.get_by_text("gop.pdf sent to MedWorks.")).to_be_visible()
    expect(insurer.get_by_test_id("gop-status")).to_have_text("Issued")

    # The clinic finds it with the appointment, downloads it and acknowledges it.
    clinic.goto("/clinic/")
    paperwork = clinic.get_by_test_id("paperwork")
    with clinic.expect_download() as download:
        paperwork.get_by_role("link", name="GOP version 1").click()
    assert download.value.suggested_filename == "gop.pdf"
    with open(download.value.path(), "rb") as fetched:
        assert fetched.read() == gop_pdf
    paperwork.get_by_role("button", name="Acknowledge GOP").click()
    expect(clinic.get_by_text("GOP version 1 acknowledged.")).to_be_visible()

    # The day comes and the patient is seen; the physician signs; the clinic uploads the form.
    factories.appointment_time_passes(case)
    clinic.goto("/clinic/")
    clinic.get_by_role("button", name="Completed").click()
    expect(clinic.get_by_text(f"{case.order_id} completed.")).to_be_visible()
    clinic.goto(f"/clinic/requests/{case.order_id}/")
    form = clinic.get_by_test_id("signed-form")
    form.locator('input[type="file"]').set_input_files(
        {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": signed_pdf}
    )
    form.get_by_label("Signing physician").fill("Dr. Anne Roy")
    form.get_by_label("Date signed").fill(today.isoformat())
    form.get_by_label("I attest that the physician named above signed these documents.").check()
    form.get_by_role("button", name="Upload signed documents").click()
    expect(clinic.get_by_text("signed.pdf uploaded. MedWorks is told.")).to_be_visible()
    expect(clinic.get_by_test_id("paperwork-status")).to_contain_text("Paperwork complete")

    # The agent sees the paperwork complete and moves the case to billing.
    agent.goto(f"/staff/bookings/{case.order_id}/")
    expect(agent.get_by_test_id("paperwork-status")).to_have_text("Paperwork complete")
    expect(agent.get_by_test_id("documents")).to_contain_text("Signed by Dr. Anne Roy")
    agent.get_by_role("button", name="Ready for billing").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Ready for billing")

    case.refresh_from_db()
    assert case.status == BookingStatus.READY_FOR_BILLING
    assert Gop.objects.get(request=case).status == GopStatus.ACKNOWLEDGED
    signed = DocumentVersion.objects.get(document__kind=DocumentKind.COMPLETED_FORM)
    assert (signed.signed_by, signed.signed_on, signed.attested) == ("Dr. Anne Roy", today, True)
    assert DocumentAccess.objects.filter(actor=clinic_user, version__document__kind="gop").exists()
    for context in (insurer_context, clinic_context, agent_context):
        context.close()
