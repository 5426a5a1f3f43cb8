"""The payables pages: the booking team records a provider's invoice from the case (its lines
start at the agreed clinic cost), finance sees the flags, approves (a note for a flagged one)
or rejects, records the payments, and the payables page shows what is owed. Every member of
staff reads; only the booking team records and only finance acts."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from medworks.billing.models import ProviderInvoice, ProviderInvoiceStatus, ProviderPayment
from medworks.billing.provider_invoices import LineIn, provider_invoice_record
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.documents import samples
from tests.factories import act

pytestmark = pytest.mark.django_db

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "insurer_user",
    "clinic_user",
    "outsider",
]
STAFF_READERS = {"booking_agent", "coordinator", "finance_user"}
BOOKING_TEAM = {"booking_agent", "coordinator"}
FINANCE = {"finance_user"}

# The route x persona table of the payables pages (tests/web/test_permissions.py reads its
# names): url name -> (target, {method: personas allowed}). Targets: "invoice", "case", none.
PAYABLES_ROUTES = {
    "payables": (None, {"get": STAFF_READERS}),
    "provider_invoice_detail": ("invoice", {"get": STAFF_READERS}),
    "provider_invoice_approve": ("invoice", {"post": FINANCE}),
    "provider_invoice_reject": ("invoice", {"post": FINANCE}),
    "provider_payment": ("invoice", {"post": FINANCE}),
    "provider_invoice_new": ("case", {"get": BOOKING_TEAM, "post": BOOKING_TEAM}),
}


@pytest.fixture
def case(finance_user, booking_agent):
    insurer = make_insurer(finance_user, name="Maple Assist Insurance")
    return ready_case(
        insurer=insurer, location=clinic(prices={"XRAY": "120.00"}), agent=booking_agent
    )


def _recorded(case, booking_agent, *, amount="120.00", number="HC-1"):
    return provider_invoice_record(
        provider=case.location.partner,
        number=number,
        invoice_date=timezone.localdate(),
        lines=[LineIn(case=case, amount=amount)],
        tax_total="0.00",
        total=amount,
        file=SimpleUploadedFile(f"{number}.pdf", samples.pdf(number)),
        filename=f"{number}.pdf",
        actor=act(booking_agent),
    )


def _url(name, target, *, case, invoice):
    if target is None:
        return reverse(f"web:{name}")
    if target == "case":
        return reverse(f"web:{name}", args=[case.order_id])
    return reverse(f"web:{name}", args=[invoice.pk])


def _text(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in PAYABLES_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_payables_route_admits_only_its_roles(
    client, request, case, booking_agent, name, method, persona
):
    invoice = _recorded(case, booking_agent)
    target, methods = PAYABLES_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, case=case, invoice=invoice)
    before = sorted(ProviderInvoice.objects.values_list("pk", "status"))
    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested below
        response = client.post(url, {"reject-note": "No.", "approve-note": "Fine."})
    else:
        response = client.get(url)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (403, 404)
        assert sorted(ProviderInvoice.objects.values_list("pk", "status")) == before
        assert not ProviderPayment.objects.exists()


@pytest.mark.parametrize("name", list(PAYABLES_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_payables_pages(
    client, case, booking_agent, name
):
    invoice = _recorded(case, booking_agent)
    target, methods = PAYABLES_ROUTES[name]
    method = next(iter(methods))
    response = getattr(client, method)(_url(name, target, case=case, invoice=invoice))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def _form_data(case, **change):
    data = {
        "pi-number": "HC-2041",
        "pi-invoice_date": timezone.localdate().isoformat(),
        "pi-due_date": "",
        "pi-tax_total": "0.00",
        "pi-total": "150.00",
        "pi-file": SimpleUploadedFile("HC-2041.pdf", samples.pdf("HC-2041")),
        "line-TOTAL_FORMS": "2",
        "line-INITIAL_FORMS": "0",
        "line-0-order_id": case.order_id,
        "line-0-service": "",
        "line-0-description": "X-ray, two views",
        "line-0-amount": "150.00",
        "line-1-order_id": "",
        "line-1-amount": "",
    }
    data.update(change)
    return data


def test_the_booking_team_records_the_invoice_from_the_case(client, case, booking_agent):
    client.force_login(booking_agent)
    url = reverse("web:provider_invoice_new", args=[case.order_id])
    page = client.get(url)
    assert page.status_code == 200
    # The first line starts at the agreed clinic cost of the case's service.
    assert 'value="120.00"' in page.content.decode()
    assert case.order_id in page.content.decode()

    response = client.post(url, _form_data(case))
    invoice = ProviderInvoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:provider_invoice_detail", args=[invoice.pk])
    detail = _text(client.get(response["Location"]))
    assert "HC-2041" in detail and "+30.00" in detail  # flagged with the difference
    assert "Approve for payment" not in detail  # the booking team does not approve


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pi-total": "999.00"}, "make 150.00, not 999.00"),
        ({"line-0-order_id": "MW-2000-999999"}, "No case with this Order Id."),
        ({"line-0-amount": ""}, "Enter the amount of this line."),
        ({"pi-number": ""}, "This field is required."),
    ],
)
def test_bad_input_shows_the_form_again_with_its_error(
    client, case, booking_agent, change, message
):
    client.force_login(booking_agent)
    url = reverse("web:provider_invoice_new", args=[case.order_id])
    response = client.post(url, _form_data(case, **change))
    assert response.status_code == 400
    assert message in _text(response)
    assert not ProviderInvoice.objects.exists()
    # What was typed is kept.
    assert "X-ray, two views" in response.content.decode()


def test_finance_approves_a_flagged_invoice_with_a_note_and_pays_it(
    client, case, booking_agent, finance_user
):
    invoice = _recorded(case, booking_agent, amount="150.00")
    client.force_login(finance_user)
    detail = reverse("web:provider_invoice_detail", args=[invoice.pk])
    page = _text(client.get(detail))
    assert "Approve for payment" in page and "difference +30.00" in page

    refused = client.post(reverse("web:provider_invoice_approve", args=[invoice.pk]), {})
    assert refused.status_code == 400
    assert "Say why the flagged differences are accepted." in _text(refused)
    invoice.refresh_from_db()
    assert invoice.status == ProviderInvoiceStatus.RECEIVED

    done = client.post(
        reverse("web:provider_invoice_approve", args=[invoice.pk]),
        {"approve-note": "A second view was needed."},
    )
    assert done.status_code == 302
    owed = _text(client.get(reverse("web:payables")))
    assert "$150.00" in owed

    too_much = client.post(
        reverse("web:provider_payment", args=[invoice.pk]),
        {
            "pay-amount": "151.00",
            "pay-paid_on": timezone.localdate().isoformat(),
            "pay-method": "eft",
            "pay-reference": "EFT 88",
        },
    )
    assert too_much.status_code == 400
    assert "At most 150.00." in _text(too_much)
    paid = client.post(
        reverse("web:provider_payment", args=[invoice.pk]),
        {
            "pay-amount": "150.00",
            "pay-paid_on": timezone.localdate().isoformat(),
            "pay-method": "eft",
            "pay-reference": "EFT 88",
        },
    )
    assert paid.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == ProviderInvoiceStatus.PAID
    assert "Nothing is owed to a provider" in _text(client.get(reverse("web:payables")))


def test_finance_rejects_with_a_reason(client, case, booking_agent, finance_user):
    invoice = _recorded(case, booking_agent)
    client.force_login(finance_user)
    url = reverse("web:provider_invoice_reject", args=[invoice.pk])
    assert client.post(url, {"reject-note": ""}).status_code == 400
    assert client.post(url, {"reject-note": "Wrong patient."}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == ProviderInvoiceStatus.REJECTED


def test_the_case_page_shows_how_the_provider_is_paid_and_its_invoices(
    client, case, booking_agent, finance_user
):
    client.force_login(booking_agent)
    url = reverse("web:staff_booking_detail", args=[case.order_id])
    page = _text(client.get(url))
    provider = case.location.partner.name
    # The factories' partner bills MedWorks directly (no pre-payment): 30 days by default.
    assert f"{provider}: Direct billing." in page
    assert "payable in 30 days" in page and "No invoice from the provider yet." in page
    assert reverse("web:provider_invoice_new", args=[case.order_id]) in page
    invoice = _recorded(case, booking_agent)
    page = _text(client.get(url))
    assert reverse("web:provider_invoice_detail", args=[invoice.pk]) in page
    assert "HC-1" in page and "Received" in page
    assert 'data-testid="case-payable">$0.00<' in page  # not approved yet: nothing owed
    client.force_login(finance_user)  # finance reads the case; it does not record invoices
    assert reverse("web:provider_invoice_new", args=[case.order_id]) not in _text(client.get(url))
