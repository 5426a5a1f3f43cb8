"""The order to finance on the staff case page: whether a pre-payment is needed, the button,
the last order sent with its PDF; who may send it; the order never shown to the insurer or the
clinic, on their pages, by a download link or through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from medworks.billing.quotes import quote_confirm, quote_dispute, quote_prepare
from medworks.billing.selectors import quote_current
from medworks.bookings import services as bookings
from medworks.documents.models import Document, DocumentKind
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act


@pytest.fixture
def prepaid_case(document_store, insurer_user, clinic_user, booking_agent):
    """Maple Assist's X-ray booked with a provider outside the network, paid by card in
    advance; the provider's clinic users are the clinic_user persona's organisation."""
    partner = factories.make_partner(
        name="Northern Imaging",
        is_affiliate=False,
        accepts_prepayment=True,
        billing_arrangements=["credit_card"],
        organisation=clinic_user.organisation,
    )
    location = factories.make_location(partner=partner, name="Northern Imaging Sudbury")
    factories.make_offering(location=location, service_code="XRAY", price="200.00")
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )
    quote_confirm(quote=quote_current(case=case), actor=act(insurer_user))
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    case.refresh_from_db()
    return case


def page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("web:staff_booking_detail", args=[case.order_id]))
    assert response.status_code == 200
    return response.content.decode()


def send_url(case) -> str:
    return reverse("web:staff_order_send", args=[case.order_id])


def order_emails() -> int:
    return OutboxMessage.objects.filter(template="order_to_finance").count()


def the_order(case):
    return Document.objects.get(request=case, kind=DocumentKind.ORDER).current


def test_the_case_page_says_a_prepayment_is_needed_and_offers_the_button(
    client, booking_agent, prepaid_case
):
    html = page(client, booking_agent, prepaid_case)

    assert 'data-testid="order"' in html
    assert "A pre-payment will be needed: Northern Imaging is paid in advance" in html
    assert f'action="{send_url(prepaid_case)}"' in html
    assert "Send the order to finance" in html
    assert "No order sent to finance yet." in html


def test_sending_from_the_page_stores_the_order_and_shows_it_with_its_pdf(
    client, booking_agent, prepaid_case
):
    client.force_login(booking_agent)

    response = client.post(send_url(prepaid_case))

    assert response.status_code == 302
    assert response["Location"].endswith(
        reverse("web:staff_booking_detail", args=[prepaid_case.order_id]) + "#order"
    )
    assert order_emails() == 1
    version = the_order(prepaid_case)
    html = page(client, booking_agent, prepaid_case)
    assert "The order is sent to finance, with its PDF (version 1)." in html
    assert "Last order sent: version 1" in html and "by agent" in html
    download = reverse("web:staff_document_download", args=[prepaid_case.order_id, version.pk])
    assert f'href="{download}"' in html
    assert "Send the order to finance again" in html
    pdf = client.get(download)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_a_refusal_is_said_and_nothing_is_sent(client, booking_agent, insurer_user, prepaid_case):
    xray = factories.service("XRAY")
    revised = quote_prepare(
        case=prepaid_case, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("250.00")}
    )
    quote_dispute(quote=revised, actor=act(insurer_user), note="No.")

    html = page(client, booking_agent, prepaid_case)
    assert 'data-testid="order-waits"' in html and "prepare a new version" in html
    assert f'action="{send_url(prepaid_case)}"' not in html

    client.post(send_url(prepaid_case))
    html = page(client, booking_agent, prepaid_case)
    assert "prepare a new version before sending the order" in html
    assert order_emails() == 0


def test_a_clinic_that_bills_directly_needs_no_prepayment_and_has_no_button(
    client, booking_agent, document_store, insurer_user, clinic_location
):
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=clinic_location, agent=booking_agent
    )

    html = page(client, booking_agent, case)

    assert "No pre-payment: Harbour Clinic bills MedWorks directly." in html
    assert f'action="{send_url(case)}"' not in html


def test_finance_reads_the_panel_but_does_not_send(client, finance_user, prepaid_case):
    html = page(client, finance_user, prepaid_case)
    assert "A pre-payment will be needed" in html
    assert f'action="{send_url(prepaid_case)}"' not in html

    response = client.post(send_url(prepaid_case))

    assert response.status_code == 403
    assert order_emails() == 0


@pytest.mark.parametrize("persona", ["insurer_user", "clinic_user", "outsider"])
def test_insurers_and_clinics_cannot_send_the_order(client, request, prepaid_case, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(send_url(prepaid_case))

    assert response.status_code == 403
    assert order_emails() == 0
    assert not Document.objects.filter(request=prepaid_case, kind=DocumentKind.ORDER).exists()


@pytest.fixture
def sent(client, booking_agent, prepaid_case):
    client.force_login(booking_agent)
    client.post(send_url(prepaid_case))
    client.logout()
    return the_order(prepaid_case)


@pytest.mark.parametrize(
    ("persona", "route", "status"),
    [
        ("insurer_user", "portal_document_download", 404),
        ("clinic_user", "clinic_document_download", 404),
        ("insurer_user", "staff_document_download", 403),
        ("clinic_user", "staff_document_download", 403),
    ],
)
def test_the_insurer_and_the_clinic_cannot_download_the_order(
    client, request, prepaid_case, sent, persona, route, status
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(f"web:{route}", args=[prepaid_case.order_id, sent.pk]))

    assert response.status_code == status


@pytest.mark.parametrize("persona", ["insurer_user", "clinic_user"])
def test_nor_see_it_on_their_pages_or_through_the_api(client, request, prepaid_case, sent, persona):
    client.force_login(request.getfixturevalue(persona))
    own_page = "web:portal_request" if persona == "insurer_user" else "web:clinic_request"

    html = client.get(reverse(own_page, args=[prepaid_case.order_id])).content.decode()
    listed = client.get(f"/api/v1/booking-requests/{prepaid_case.order_id}/documents")
    download = client.get(f"/api/v1/documents/{sent.pk}/download")

    assert sent.original_name not in html and "Order sent to finance" not in html
    assert listed.status_code == 200
    assert sent.document_id not in [d["id"] for d in listed.json()["documents"]]
    assert download.status_code == 404


def test_the_panel_reads_in_french(client, booking_agent, prepaid_case):
    client.cookies["django_language"] = "fr"

    html = page(client, booking_agent, prepaid_case)

    assert "Bon de commande aux finances" in html
    assert "Un prépaiement sera nécessaire : Northern Imaging est payé d'avance" in html
    assert "Envoyer le bon de commande aux finances" in html
    assert "A pre-payment will be needed" not in html and "Send the order" not in html
