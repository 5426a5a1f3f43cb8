"""Staff ask the insurer for a GOP from the case page: the button shows only when the case needs
paperwork and has no GOP, the request is a requested GOP on the case, and the insurer's contact
gets an email naming the Order Id and its reference, nothing about the patient.
(Who may post it at all: tests/web/test_documents_permissions.py, staff_gop_request.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.bookings.models import BookingEvent
from medworks.documents.models import Gop, GopStatus
from medworks.notifications.models import OutboxMessage
from tests import factories

BUTTON = "Request a GOP from the insurer"


def case_page(client, case) -> str:
    response = client.get(reverse("web:staff_booking_detail", args=[case.order_id]))
    assert response.status_code == 200
    return response.content.decode().split('data-testid="documents"', 1)[1].split("</section>")[0]


def request_gop(client, case, note: str = ""):
    return client.post(
        reverse("web:staff_gop_request", args=[case.order_id]), {"gop-request-note": note}
    )


def test_an_agent_sees_the_request_button_on_a_case_that_needs_paperwork_and_has_no_gop(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)
    panel = case_page(client, booked_case)
    assert BUTTON in panel
    assert reverse("web:staff_gop_request", args=[booked_case.order_id]) in panel


def test_no_request_button_once_the_insurer_has_issued_a_gop(
    client, booking_agent, booked_case, issued_gop
):
    client.force_login(booking_agent)
    assert BUTTON not in case_page(client, booked_case)


def test_no_request_button_when_the_insurer_needs_no_paperwork(client, booking_agent, insurer_user):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    client.force_login(booking_agent)
    assert BUTTON not in case_page(client, case)


def test_finance_reads_the_panel_without_the_request_button(client, finance_user, booked_case):
    client.force_login(finance_user)
    assert BUTTON not in case_page(client, booked_case)


def test_requesting_a_gop_records_it_and_emails_the_insurers_contact_without_patient_data(
    client, booking_agent, booked_case, settings
):
    settings.MEDWORKS_BASE_URL = "https://desk.example"
    client.force_login(booking_agent)
    OutboxMessage.objects.all().delete()

    response = request_gop(client, booked_case, note="Tremblay's adjuster asked by phone.")

    assert response.status_code == 302
    assert response["Location"].endswith(
        reverse("web:staff_booking_detail", args=[booked_case.order_id]) + "#documents"
    )
    gop = Gop.objects.get(request=booked_case)
    assert gop.status == GopStatus.REQUESTED
    assert gop.insurer_reference == booked_case.insurer_reference
    event = BookingEvent.objects.get(request=booked_case, kind="gop_requested")
    assert event.actor == booking_agent
    assert event.note == "Tremblay's adjuster asked by phone."

    (message,) = OutboxMessage.objects.filter(template="insurer_gop_requested")
    assert message.to == [booked_case.insurer_contact_email]
    assert booked_case.order_id in message.subject
    assert booked_case.insurer_reference in message.subject
    assert f"https://desk.example/portal/requests/{booked_case.order_id}/" in message.body
    patient = booked_case.patient
    for secret in (patient.first_name, patient.last_name, "1980", "adjuster", "wrist"):
        assert secret not in message.subject + message.body
    # The button is gone: a GOP is asked for; the panel shows it as requested.
    panel = case_page(client, booked_case)
    assert BUTTON not in panel
    assert "Requested" in panel


def test_a_second_request_is_refused_with_the_reason_and_sends_nothing(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)
    request_gop(client, booked_case)
    OutboxMessage.objects.all().delete()

    response = request_gop(client, booked_case)

    assert response.status_code == 302
    assert Gop.objects.filter(request=booked_case).count() == 1
    assert not OutboxMessage.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "This case already has a GOP." in page


def test_the_request_is_post_only(client, booking_agent, booked_case):
    client.force_login(booking_agent)
    response = client.get(reverse("web:staff_gop_request", args=[booked_case.order_id]))
    assert response.status_code == 405
    assert not Gop.objects.exists()


@pytest.mark.parametrize("persona", ["finance_user", "insurer_user", "clinic_user"])
def test_finance_an_insurer_and_a_clinic_may_not_request_a_gop(
    client, request, booked_case, persona
):
    client.force_login(request.getfixturevalue(persona))
    OutboxMessage.objects.all().delete()

    response = request_gop(client, booked_case)

    assert response.status_code == 403
    assert not Gop.objects.exists()
    assert not OutboxMessage.objects.exists()
