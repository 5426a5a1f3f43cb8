"""No webhook carries patient data: every delivery body of whole cases is scanned."""

from __future__ import annotations

import pytest

from medworks.bookings import services as bookings
from medworks.webhooks import services
from medworks.webhooks.models import DeliveryStatus, WebhookDelivery
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

PATIENT = {
    "patient_first_name": "Genevieve",
    "patient_last_name": "Ouellette-Sirois",
    "patient_date_of_birth": "1971-09-23",
    "patient_phone": "514-555-0147",
    "patient_email": "genevieve.o@example.org",
    "patient_address": "4820 Rue Saint-Denis",
    "patient_postal_code": "M5V 3L9",
    "symptoms": "Recurring migraine with aura",
    "summary": "Brain MRI without contrast",
}
NOTE = "Patient Genevieve cannot come: migraine"


def test_every_delivery_of_whole_cases_holds_only_ids_references_and_links(
    insurer, insurer_admin, endpoint, receiver, booking_agent
):
    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY")
    booked = factories.make_booking_request(insurer=insurer, **PATIENT)
    bookings.booking_request_take(case=booked, actor=act(booking_agent))
    bookings.booking_request_select_clinic(case=booked, location=location, actor=act(booking_agent))
    offer = bookings.availability_offer_record(
        case=booked, slots=[factories.slot_data(days=3)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_admin))
    factories.appointment_time_passes(booked)
    bookings.appointment_complete(case=booked, actor=act(booking_agent), note=NOTE)
    cancelled = factories.make_booking_request(insurer=insurer, **PATIENT)
    bookings.booking_request_cancel(
        case=cancelled, actor=act(insurer_admin), cancelled_by="insurer", note=NOTE
    )

    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    kinds = [d.kind for d in deliveries]
    assert {
        "created",
        "start_sourcing",
        "offer_dates",
        "approve_date",
        "complete",
        "cancel",
    } <= set(kinds), kinds
    for delivery in deliveries:
        assert services.webhook_delivery_deliver(delivery_id=delivery.pk) == "delivered"
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }
    assert len(receiver.received) == len(deliveries)
    for request in receiver.received:
        body = request.body.decode()
        for value in [*PATIENT.values(), NOTE, "Genevieve", "1971", "migraine", "M5V"]:
            assert value.lower() not in body.lower(), (value, body)
        assert set(request.json) == {"id", "type", "timestamp", "data"}
        assert set(request.json["data"]) == {"order_id", "insurer_reference", "url"}
