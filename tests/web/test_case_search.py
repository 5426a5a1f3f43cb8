"""Every case findable (users' trials): staff find any case in any state by Order Id, insurer
reference, patient name or date of birth; insurers search their own by patient, claim, policy
or Order Id; the queue's state filter offers every state. Searches are POSTs (a name never sits
in a URL) and each case listed is recorded as read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.services import booking_request_cancel
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

SEARCH = reverse("web:staff_booking_search")
PORTAL_SEARCH = reverse("web:portal_search")


@pytest.fixture
def cases(insurer_user, booking_agent):
    mine = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_first_name="Éloïse",
        patient_last_name="Bouchard-Nguyen",
        patient_date_of_birth="1971-09-30",
        insurer_reference="CLM-77001",
        policy_number="POL-4242",
    )
    booking_request_cancel(
        case=mine, actor=act(booking_agent), cancelled_by="insurer", note="Claim withdrawn"
    )
    other = factories.make_booking_request(
        patient_first_name="Marc", patient_last_name="Bouchard", insurer_reference="CLM-9"
    )
    return BookingRequest.objects.get(pk=mine.pk), other


def found(response) -> list[str]:
    return [c.order_id for c in response.context["cases"]]


@pytest.mark.parametrize(
    "query",
    ["bouchard-nguyen", "Éloïse Bouchard", "1971-09-30", "30/09/1971", "clm-77001"],
)
def test_staff_find_a_cancelled_case_by_name_date_of_birth_or_reference(
    client, booking_agent, cases, query
):
    cancelled, _other = cases
    client.force_login(booking_agent)
    response = client.post(SEARCH, {"q": query})
    assert cancelled.order_id in found(response)
    page = response.content.decode()
    assert "Bouchard-Nguyen" in page and "Cancelled" in page


def test_staff_search_by_order_id_and_a_shared_last_name_lists_both(client, booking_agent, cases):
    cancelled, other = cases
    client.force_login(booking_agent)
    assert found(client.post(SEARCH, {"q": cancelled.order_id})) == [cancelled.order_id]
    assert set(found(client.post(SEARCH, {"q": "bouchard"}))) == {
        cancelled.order_id,
        other.order_id,
    }


def test_each_case_found_is_recorded_as_read_and_the_name_is_not_in_the_url(
    client, booking_agent, cases
):
    cancelled, _other = cases
    client.force_login(booking_agent)
    response = client.post(SEARCH, {"q": "Bouchard-Nguyen"})
    assert response.request["PATH_INFO"] == SEARCH
    assert "Bouchard" not in response.request.get("QUERY_STRING", "")
    event = AuditEvent.objects.get(action="booking_request.listed")
    assert event.object_id == str(cancelled.pk) and event.payload["list"] == "search"
    assert event.actor == booking_agent


def test_an_empty_search_is_a_field_error_and_a_get_shows_the_form(client, booking_agent):
    client.force_login(booking_agent)
    assert client.get(SEARCH).status_code == 200
    response = client.post(SEARCH, {"q": "  "})
    assert response.context["cases"] is None
    assert "This field is required." in response.content.decode()


def test_an_insurer_searches_only_its_own_cases_by_policy_number_or_name(
    client, insurer_user, cases
):
    cancelled, other = cases
    client.force_login(insurer_user)
    assert found(client.post(PORTAL_SEARCH, {"q": "POL-4242"})) == [cancelled.order_id]
    assert found(client.post(PORTAL_SEARCH, {"q": "Bouchard"})) == [cancelled.order_id]
    assert found(client.post(PORTAL_SEARCH, {"q": other.order_id})) == []
    page = client.post(PORTAL_SEARCH, {"q": "bouchard"}).content.decode()
    assert "Marc" not in page


def test_the_queue_state_filter_offers_every_state_and_lists_closed_ones(
    client, booking_agent, cases
):
    cancelled, _other = cases
    client.force_login(booking_agent)
    queue = reverse("web:staff_booking_queue")
    choices = {value for value, _label in client.get(queue).context["form"].fields["state"].choices}
    assert set(BookingStatus.values) <= choices
    response = client.get(queue, {"state": "cancelled"})
    assert [row.case.order_id for row in response.context["rows"]] == [cancelled.order_id]
    assert cancelled.order_id not in [
        row.case.order_id for row in client.get(queue).context["rows"]
    ]


def test_the_queue_names_services_not_codes(client, booking_agent, cases):
    client.force_login(booking_agent)
    response = client.get(reverse("web:staff_booking_queue"))
    assert response.context["rows"][0].services == ["X-ray"]
