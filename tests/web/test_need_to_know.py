"""Need to know (RULES.md; issue 14): a clinic that was only asked for dates sees what it needs
to give them, not the case's papers, GOP or the patient's details: not on its page, not by a
download link, not through the API. Once the appointment is booked with it, it sees them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.documents import gops
from medworks.documents.selectors import gops_for_case
from medworks.documents.services import document_upload
from tests import factories
from tests.documents import samples
from tests.factories import act

from .documents_world import gop_terms, upload


@pytest.fixture
def asked_for_dates(document_store, insurer_user, clinic_location, booking_agent):
    """The insurer already sent its GOP and forms; the clinic is only asked for dates."""
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=clinic_location,
        agent=booking_agent,
        paperwork_required=True,
        policy_number="POL-SECRET-42",
    )
    gop = gops.gop_issue(
        case=case,
        data=gop_terms(),
        actor=act(insurer_user),
        file=upload(samples.pdf("GOP")),
        filename="gop.pdf",
    )
    form = document_upload(
        case=case,
        kind="insurer_form",
        file=upload(samples.pdf("Forms")),
        filename="forms.pdf",
        actor=act(insurer_user),
    )
    return case, gop, form


def test_a_clinic_asked_for_dates_cannot_open_the_gop_or_the_forms(
    client, clinic_user, asked_for_dates
):
    case, gop, form = asked_for_dates
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_request", args=[case.order_id])).content.decode()
    assert "POL-SECRET-42" not in page and case.patient.last_name not in page
    for version in (gop.document.current, form):
        url = reverse("web:clinic_document_download", args=[case.order_id, version.pk])
        assert client.get(url).status_code == 404
    assert gops_for_case(case=case, user=clinic_user) == []


def test_nor_through_the_api(client, clinic_user, asked_for_dates):
    case, _gop, form = asked_for_dates
    client.force_login(clinic_user)
    listed = client.get(f"/api/v1/booking-requests/{case.order_id}/documents")
    assert listed.status_code == 200
    assert listed.json()["documents"] == []
    download = client.get(f"/api/v1/documents/{form.pk}/download")
    assert download.status_code == 404
    gop_list = client.get(f"/api/v1/booking-requests/{case.order_id}/gops")
    assert gop_list.status_code == 200
    assert gop_list.json() == []


def test_once_booked_with_it_the_clinic_sees_them(
    client, clinic_user, booking_agent, asked_for_dates
):
    from medworks.bookings import services as bookings

    case, gop, form = asked_for_dates
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    case.refresh_from_db()
    client.force_login(clinic_user)
    url = reverse("web:clinic_document_download", args=[case.order_id, form.pk])
    assert client.get(url).status_code == 200
    assert [g.pk for g in gops_for_case(case=case, user=clinic_user)] == [gop.pk]
