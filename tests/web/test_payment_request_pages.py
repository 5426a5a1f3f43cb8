"""The pre-payment pages: the booking team prepares a request from a case, the Chief of Staff
and the CEO find it in their queues and take their steps, the booking team records the
payment. The SOP's table names patients: only those who take part read it, each view
recorded."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.core.models import AuditEvent
from medworks.payments.models import PaymentRequest, PaymentRequestStatus
from medworks.payments.requests import payment_request_prepare, payment_request_step
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "chief",
    "ceo",
    "insurer_user",
    "clinic_user",
    "outsider",
]
READERS = {"booking_agent", "coordinator", "finance_user", "chief", "ceo"}
PREPARERS = {"booking_agent", "coordinator"}

# url name -> (target, {method: personas allowed}); tests/web/test_permissions.py reads it.
PAYMENT_ROUTES = {
    "payment_request_list": (None, {"get": READERS}),
    "payment_request_new": (None, {"get": PREPARERS, "post": PREPARERS}),
    "payment_request_detail": ("request", {"get": READERS}),
    "payment_request_step": ("step", {"post": READERS}),
    "payment_request_change": ("request", {"post": PREPARERS}),
    "payment_made": ("request", {"post": PREPARERS}),
}


@pytest.fixture
def chief(db):
    return factories.make_user(
        roles=[RoleCode.CHIEF_OF_STAFF], username="chief", email="chief@medworks.example"
    )


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


@pytest.fixture
def prepaid_case(finance_user, booking_agent):
    from medworks.network.models import BillingArrangement
    from tests.billing.invoicing import make_insurer, ready_case

    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.CREDIT_CARD, BillingArrangement.EFT],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    insurer = make_insurer(finance_user, name="Maple Assist Travel")
    return ready_case(insurer=insurer, location=location, agent=booking_agent)


def _url(name, target, payment_request):
    if target is None:
        return reverse(f"web:{name}")
    if target == "step":
        return reverse(f"web:{name}", args=[payment_request.pk, "submit"])
    return reverse(f"web:{name}", args=[payment_request.pk])


def _text(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in PAYMENT_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_payment_route_admits_only_its_roles(
    client, request, prepaid_case, booking_agent, name, method, persona
):
    payment_request = payment_request_prepare(
        cases=[prepaid_case], method="medworks_card", actor=act(booking_agent)
    )
    target, methods = PAYMENT_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, payment_request)
    before = sorted(PaymentRequest.objects.values_list("pk", "status"))
    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested below
        response = client.post(url, {"new-order_ids": prepaid_case.order_id})
    else:
        response = client.get(url)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert sorted(PaymentRequest.objects.values_list("pk", "status")) == before


@pytest.mark.parametrize("name", list(PAYMENT_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_payment_pages(
    client, prepaid_case, booking_agent, name
):
    payment_request = payment_request_prepare(
        cases=[prepaid_case], method="medworks_card", actor=act(booking_agent)
    )
    target, methods = PAYMENT_ROUTES[name]
    response = getattr(client, next(iter(methods)))(_url(name, target, payment_request))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_from_the_case_to_a_paid_request(client, prepaid_case, booking_agent, chief, ceo):
    client.force_login(booking_agent)
    case_page = _text(client.get(reverse("web:staff_booking_detail", args=[prepaid_case.order_id])))
    assert "Prepare the payment request" in case_page
    new = reverse("web:payment_request_new") + f"?case={prepaid_case.order_id}"
    assert prepaid_case.order_id in client.get(new).content.decode()
    made = client.post(new, {"new-order_ids": prepaid_case.order_id, "new-method": "medworks_card"})
    payment_request = PaymentRequest.objects.get()
    assert made["Location"] == reverse("web:payment_request_detail", args=[payment_request.pk])
    page = _text(client.get(made["Location"]))
    # The SOP's table, with the patient's name: a recorded read of the case.
    assert prepaid_case.patient.full_name in page
    assert "Total Cost to bill the insurer (Clinic Cost + MedWorks Cost)" in page
    assert "$120.00" in page and "$60.00" in page and "$180.00" in page
    assert AuditEvent.objects.filter(
        action="booking_request.listed",
        payload__list=f"payment request {payment_request.display_number}",
    ).exists()
    step = lambda name: reverse("web:payment_request_step", args=[payment_request.pk, name])  # noqa: E731
    client.post(step("submit"))

    client.force_login(chief)
    queue = _text(client.get(reverse("web:payment_request_list")))
    assert payment_request.display_number in queue.split("Every request")[0]
    client.post(step("review"))
    client.force_login(ceo)
    refused = client.post(step("reject"), {"reject-note": ""})
    assert refused.status_code == 400
    client.post(step("approve"))
    payment_request.refresh_from_db()
    assert payment_request.status == PaymentRequestStatus.APPROVED

    client.force_login(booking_agent)
    paid = client.post(
        reverse("web:payment_made", args=[payment_request.pk]),
        {
            "paid-paid_on": timezone.localdate().isoformat(),
            "paid-amount": "120.00",
            "paid-participants": "Alex, Chris (Chief of Staff), Dana at the clinic",
            "paid-confirmation": "AUTH-5521",
        },
    )
    assert paid.status_code == 302
    payment_request.refresh_from_db()
    assert payment_request.status == PaymentRequestStatus.PAID
    assert "confirmation AUTH-5521" in _text(client.get(paid["Location"]))


def test_the_preparer_sees_why_they_cannot_review_their_own(client, prepaid_case):
    everyone = factories.make_user(
        roles=[RoleCode.BOOKING_COORDINATOR, RoleCode.CHIEF_OF_STAFF], username="both"
    )
    payment_request = payment_request_prepare(
        cases=[prepaid_case], method="medworks_card", actor=act(everyone)
    )
    payment_request_step(request=payment_request, name="submit", actor=act(everyone))
    client.force_login(everyone)
    page = _text(client.get(reverse("web:payment_request_detail", args=[payment_request.pk])))
    assert "you prepared this request: someone else reviews and approves it." in page
    response = client.post(
        reverse("web:payment_request_step", args=[payment_request.pk, "review"]), follow=True
    )
    assert "you prepared this request" in _text(response)
    payment_request.refresh_from_db()
    assert payment_request.status == PaymentRequestStatus.AWAITING_REVIEW


def test_bad_order_ids_are_shown_on_the_form(client, booking_agent, prepaid_case):
    client.force_login(booking_agent)
    response = client.post(
        reverse("web:payment_request_new"),
        {"new-order_ids": "MW-1999-000001", "new-method": "medworks_card"},
    )
    assert response.status_code == 400
    assert "No case with the Order Id MW-1999-000001." in _text(response)
    assert not PaymentRequest.objects.exists()
