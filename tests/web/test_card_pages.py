"""The insurer's card pages (SOP case 4 steps 4-5; RULES.md, cards): the insurer enters its
card in its portal (or the booking team on the phone), every page after shows only its brand
and last four digits, the Chief of Staff or the corporate booking coordinator shows it whole
for the payment call (a reason, on that answer only, recorded), finance charges it from the
invoice page once per idempotency key. Pages that hold card data are never cached."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.billing.models import PaymentReceived
from medworks.billing.receivables import invoice_balance
from medworks.core.cards import contains_card_number
from medworks.core.models import AuditEvent
from medworks.network.models import BillingArrangement
from medworks.payments.gateway import OfflineGateway
from medworks.payments.models import CardCharge, ChargeStatus, StoredCard
from medworks.payments.vault import card_store
from tests import factories
from tests.billing.invoicing import issued_invoice, ready_case
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
READERS = {"booking_agent", "coordinator", "finance_user", "chief", "ceo"}  # PAYMENT_VIEW
ENTERERS = {"booking_agent", "coordinator"}  # CARD_ENTER: the booking team
REVEALERS = {"chief", "coordinator"}  # CARD_REVEAL
FINANCE = {"finance_user"}  # INVOICING
INSURER = {"insurer_user"}  # the case's insurer, in its portal

# url name -> (target, {method: personas allowed}); tests/web/test_permissions.py reads it.
CARD_ROUTES = {
    "staff_card": ("case", {"get": READERS}),
    "staff_card_enter": ("case", {"post": ENTERERS}),
    "staff_card_reveal": ("case", {"post": REVEALERS}),
    "invoice_card_charge": ("invoice", {"post": FINANCE}),
    "portal_card": ("case", {"get": INSURER, "post": INSURER}),
}

VISA = "4111 1111 1111 1111"
VISA_DIGITS = "4111111111111111"
MASKED = "Visa ending in 1111"
CODE = "919"


@pytest.fixture(autouse=True)
def _fresh_gateway():
    OfflineGateway.reset()
    yield
    OfflineGateway.reset()


@pytest.fixture
def chief(db):
    return factories.make_user(
        roles=[RoleCode.CHIEF_OF_STAFF], username="chief", email="chief@medworks.example"
    )


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


@pytest.fixture
def card_case(insurer_user, booking_agent):
    """The insurer user's case at a pre-paid clinic, seen and ready for billing (clinic cost
    120.00, MedWorks cost 60.00, HST 13%: 203.40 to bill)."""
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[
            BillingArrangement.CREDIT_CARD,
            BillingArrangement.EFT,
            BillingArrangement.INSURER_CARD,
        ],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return ready_case(insurer=insurer_user.organisation, location=location, agent=booking_agent)


@pytest.fixture
def invoice(card_case, finance_user):
    return issued_invoice(case=card_case, finance_user=finance_user)


def card_data(number=VISA, code=CODE, month="08", year=None, name="Isabel Insurer") -> dict:
    year = year or str(timezone.localdate().year + 2)
    return {
        "card-number": number,
        "card-name_on_card": name,
        "card-expiry_month": month,
        "card-expiry_year": year,
        "card-security_code": code,
    }


def _store(case, user, number=VISA):
    return card_store(
        case=case,
        number=number,
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(timezone.localdate().year + 2),
        security_code=CODE,
        actor=act(user),
    )


def _url(name, target, case, invoice):
    if target == "invoice":
        return reverse(f"web:{name}", args=[invoice.pk])
    return reverse(f"web:{name}", args=[case.order_id])


def _html(response) -> str:
    return response.content.decode()


def _without_csrf(html: str) -> str:
    """The page without its CSRF tokens (random text, in which three digits may occur)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _key_of(html: str) -> str:
    section = html.split('data-testid="invoice-card-charge"', 1)[1]
    return re.search(r'name="idempotency_key" value="([^"]+)"', section).group(1)


def _holds_no_card(html: str) -> None:
    assert VISA_DIGITS not in html and VISA not in html
    assert not contains_card_number(html)


# --- Route x persona -------------------------------------------------------------------------


def _allowed_post(client, name, url, case, invoice):
    """What an allowed POST does, in one line each: it is let in and does its work."""
    if name == "staff_card_enter" or name == "portal_card":
        response = client.post(url, card_data())
        assert response.status_code == 302, response.content[:2000]
        assert StoredCard.objects.filter(case=case, replaced_at__isnull=True).count() == 1
    elif name == "staff_card_reveal":
        response = client.post(url, {"reveal-reason": "Payment call with the clinic"})
        assert response.status_code == 200
        assert VISA_DIGITS in _html(response)
    elif name == "invoice_card_charge":
        response = client.post(url, {"idempotency_key": "k" * 32})
        assert response.status_code == 302
        assert CardCharge.objects.get().status == ChargeStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        pytest.param(name, method, persona, id=f"{method}-{name}-{persona}")
        for name, (_target, methods) in CARD_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_card_route_admits_only_its_roles(
    client, request, card_case, invoice, booking_agent, name, method, persona
):
    _store(card_case, booking_agent)
    target, methods = CARD_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, card_case, invoice)
    before = (
        sorted(StoredCard.objects.values_list("pk", "replaced_at")),
        CardCharge.objects.count(),
        AuditEvent.objects.filter(action__startswith="card.").count(),
    )
    if method == "post" and allowed:
        _allowed_post(client, name, url, card_case, invoice)
        return
    response = client.post(url, card_data()) if method == "post" else client.get(url)
    if allowed:
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert MASKED in _html(response)
        _holds_no_card(_html(response))
    else:
        assert response.status_code == 403, response.status_code
        _holds_no_card(_html(response))
        after = (
            sorted(StoredCard.objects.values_list("pk", "replaced_at")),
            CardCharge.objects.count(),
            AuditEvent.objects.filter(action__startswith="card.").count(),
        )
        assert after == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        pytest.param(name, method, id=f"{method}-{name}")
        for name, (_target, methods) in CARD_ROUTES.items()
        for method in methods
    ],
)
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_card_pages(
    client, card_case, invoice, name, method
):
    target, _methods = CARD_ROUTES[name]
    url = _url(name, target, card_case, invoice)
    response = client.post(url, card_data()) if method == "post" else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")
    assert not StoredCard.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_insurer_gets_404_on_the_case_card_page(
    client, card_case, other_insurer_user, method
):
    client.force_login(other_insurer_user)
    url = reverse("web:portal_card", args=[card_case.order_id])
    response = client.post(url, card_data()) if method == "post" else client.get(url)
    assert response.status_code == 404
    assert not StoredCard.objects.exists()


# --- The insurer enters its card in its portal -----------------------------------------------


def _inputs(html: str) -> dict[str, str]:
    """Each card input's whole tag, by its name."""
    return {
        name: tag
        for tag in re.findall(r"<input[^>]*>", html)
        for name in re.findall(r'name="(card-[a-z_]+)"', tag)
    }


def test_the_insurer_enters_its_card_and_a_refused_form_never_shows_the_number_again(
    client, card_case, insurer_user, booking_agent
):
    client.force_login(insurer_user)
    url = reverse("web:portal_card", args=[card_case.order_id])
    case_page = _html(client.get(reverse("web:portal_request", args=[card_case.order_id])))
    assert url in case_page  # "Enter your corporate card", from the case page
    page = client.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert 'autocomplete="cc-number"' in _html(page)

    # A good number with a bad expiry, then a bad number: each comes back without the number
    # or the security code typed, in any shape (the name typed stays, to correct the rest).
    for number, month, refusal in (
        (VISA, "13", "Give the expiry month as a number from 1 to 12."),
        ("4111-1111-1111-1112", "08", "This card number is not valid: check the digits."),
        ("4111 1111 1111 111", "08", "Visa card numbers have 13, 16 or 19 digits"),
    ):
        refused = client.post(url, card_data(number=number, month=month))
        assert refused.status_code == 400
        assert refused["Cache-Control"] == "no-store"
        html = _html(refused)
        assert refusal in html
        for shape in (number, re.sub(r"\D", "", number), number.replace(" ", "&#32;")):
            assert shape not in html
        assert CODE not in _without_csrf(html)
        _holds_no_card(html)
        inputs = _inputs(html)
        assert "value=" not in inputs["card-number"]
        assert "value=" not in inputs["card-security_code"]
        assert 'value="Isabel Insurer"' in inputs["card-name_on_card"]
    assert not StoredCard.objects.exists()

    done = client.post(url, card_data())
    assert done.status_code == 302
    assert done["Location"] == reverse("web:portal_request", args=[card_case.order_id])
    after = _html(client.get(done["Location"]))
    assert f"{MASKED} is on file for {card_case.order_id}" in after
    assert f"On file: {MASKED}." in after
    _holds_no_card(after)
    card = StoredCard.objects.get()
    assert (card.entered_via, card.entered_by, card.masked) == ("portal", insurer_user, MASKED)

    again = client.get(url)
    assert again["Cache-Control"] == "no-store"
    assert f"On file: {MASKED}, expires 8/" in _html(again)
    _holds_no_card(_html(again))
    assert CODE not in _without_csrf(_html(again))

    # Staff see the same: brand and last four, nothing more.
    client.force_login(booking_agent)
    staff_case = _html(client.get(reverse("web:staff_booking_detail", args=[card_case.order_id])))
    assert f"Insurer's card: {MASKED}" in staff_case
    _holds_no_card(staff_case)
    staff_page = client.get(reverse("web:staff_card", args=[card_case.order_id]))
    assert staff_page["Cache-Control"] == "no-store"
    html = _html(staff_page)
    assert MASKED in html and "Entered by the insurer in its portal" in html
    assert "Encrypted in the vault." in html
    _holds_no_card(html)
    assert CODE not in _without_csrf(html)
    assert 'data-testid="card-reveal-form"' not in html  # an agent does not reveal


def test_staff_enter_the_card_on_the_phone_and_a_refusal_comes_back_empty(
    client, card_case, booking_agent
):
    client.force_login(booking_agent)
    url = reverse("web:staff_card_enter", args=[card_case.order_id])
    refused = client.post(url, card_data(number="5555 5555 5555 4444", code="12"))
    assert refused.status_code == 400 and refused["Cache-Control"] == "no-store"
    html = _html(refused)
    assert "The security code is the 3 digits printed on the back of the card." in html
    assert "5555 5555 5555 4444" not in html and "5555555555554444" not in html
    assert not contains_card_number(html)
    done = client.post(url, card_data(number="5555 5555 5555 4444", code="321"))
    assert done.status_code == 302
    page = _html(client.get(done["Location"]))
    assert "Mastercard ending in 4444 is on file." in page
    assert "Entered by staff during a phone call" in page
    assert "5555555555554444" not in page and not contains_card_number(page)


# --- The reveal -------------------------------------------------------------------------------


def test_the_chief_shows_the_card_with_a_reason_on_that_answer_only(
    client, card_case, insurer_user, chief
):
    card = _store(card_case, insurer_user)
    client.force_login(chief)
    page = _html(client.get(reverse("web:staff_card", args=[card_case.order_id])))
    assert 'data-testid="card-reveal-form"' in page
    _holds_no_card(page)
    url = reverse("web:staff_card_reveal", args=[card_case.order_id])

    # Without a reason: 400, no number, the refusal recorded.
    for reason in ("", "   ", "ok"):
        refused = client.post(url, {"reveal-reason": reason})
        assert refused.status_code == 400
        assert refused["Cache-Control"] == "no-store"
        _holds_no_card(_html(refused))
        assert 'data-testid="card-revealed"' not in _html(refused)
        assert "Say why" in _html(refused)
    refusals = AuditEvent.objects.filter(action="card.reveal_refused")
    assert refusals.count() == 3
    assert {e.payload["result"] for e in refusals} == {"no_reason"}
    assert not AuditEvent.objects.filter(action="card.revealed").exists()

    shown = client.post(url, {"reveal-reason": "Payment call with Lakeview Physio"})
    assert shown.status_code == 200
    assert shown["Cache-Control"] == "no-store"
    html = _html(shown)
    revealed = html.split('data-testid="card-revealed"', 1)[1].split("</section>", 1)[0]
    assert VISA_DIGITS in revealed and CODE in revealed and "Isabel Insurer" in revealed
    granted = AuditEvent.objects.get(action="card.revealed")
    assert granted.actor == chief
    assert granted.payload["reason"] == "Payment call with Lakeview Physio"
    assert granted.payload["card_id"] == card.pk and granted.payload["result"] == "granted"
    assert granted.payload["origin"] == "127.0.0.1"
    assert VISA_DIGITS not in str(granted.payload) and VISA_DIGITS not in granted.summary

    # The next page, and every other, has it masked again.
    after = _html(client.get(reverse("web:staff_card", args=[card_case.order_id])))
    assert MASKED in after
    _holds_no_card(after)


def test_the_coordinator_reveals_but_an_agent_cannot(
    client, card_case, insurer_user, coordinator, booking_agent
):
    _store(card_case, insurer_user)
    url = reverse("web:staff_card_reveal", args=[card_case.order_id])
    client.force_login(booking_agent)
    assert client.post(url, {"reveal-reason": "Payment call"}).status_code == 403
    client.force_login(coordinator)
    shown = client.post(url, {"reveal-reason": "Payment call"})
    assert shown.status_code == 200 and VISA_DIGITS in _html(shown)
    assert AuditEvent.objects.get(action="card.revealed").actor == coordinator


def test_a_reveal_without_a_card_on_file_goes_back_to_the_page(client, card_case, chief):
    client.force_login(chief)
    response = client.post(
        reverse("web:staff_card_reveal", args=[card_case.order_id]),
        {"reveal-reason": "Payment call"},
        follow=True,
    )
    assert "No card is on file for this case." in _html(response)


# --- Finance charges the card from the invoice page ----------------------------------------------


def test_finance_charges_the_card_from_the_invoice_page_once_per_key(
    client, card_case, invoice, insurer_user, finance_user
):
    _store(card_case, insurer_user)
    client.force_login(finance_user)
    detail = reverse("web:invoice_detail", args=[invoice.pk])
    page = _html(client.get(detail))
    assert f"Charge $203.40 to {MASKED}" in page
    _holds_no_card(page)
    key = _key_of(page)
    assert 16 <= len(key) <= 64
    assert _key_of(_html(client.get(detail))) != key  # each page its own key

    url = reverse("web:invoice_card_charge", args=[invoice.pk])
    first = client.post(url, {"idempotency_key": key})
    assert first.status_code == 302 and first["Location"] == detail
    # The double click: the same key again is the same charge, and the same payment.
    again = client.post(url, {"idempotency_key": key}, follow=True)
    assert CardCharge.objects.count() == 1 and PaymentReceived.objects.count() == 1
    assert OfflineGateway.calls == [key]
    charge = CardCharge.objects.get()
    assert (charge.status, str(charge.amount)) == (ChargeStatus.SUCCEEDED, "203.40")
    assert charge.idempotency_key == key and charge.requested_by == finance_user
    payment = PaymentReceived.objects.get()
    assert payment.method == "card" and charge.gateway_reference in payment.reference
    assert MASKED in payment.reference and VISA_DIGITS not in payment.reference
    assert invoice_balance(invoice) == 0
    html = _html(again)
    assert f"{MASKED} charged 203.40" in html
    assert 'data-testid="invoice-card-charge"' not in html  # nothing left to charge
    _holds_no_card(html)
    card = StoredCard.objects.get()
    assert card.number_sealed is None and card.security_code_sealed is None


def test_a_charge_without_a_key_or_without_a_card_is_refused_on_the_page(
    client, card_case, invoice, insurer_user, finance_user
):
    client.force_login(finance_user)
    url = reverse("web:invoice_card_charge", args=[invoice.pk])
    no_card = client.post(url, {"idempotency_key": "n" * 32}, follow=True)
    assert f"No card is on file for {card_case.order_id}." in _html(no_card)
    _store(card_case, insurer_user)
    no_key = client.post(url, {"idempotency_key": ""}, follow=True)
    assert "The charge has no valid idempotency key." in _html(no_key)
    assert not CardCharge.objects.exists() and not PaymentReceived.objects.exists()


def test_a_declined_charge_says_so_and_the_invoice_still_owes(
    client, card_case, invoice, insurer_user, finance_user
):
    _store(card_case, insurer_user, number="4000 0000 0000 0002")
    client.force_login(finance_user)
    page = _html(client.get(reverse("web:invoice_detail", args=[invoice.pk])))
    response = client.post(
        reverse("web:invoice_card_charge", args=[invoice.pk]),
        {"idempotency_key": _key_of(page)},
        follow=True,
    )
    html = _html(response)
    assert "Visa ending in 0002 was declined" in html and "insufficient funds" in html
    assert str(invoice_balance(invoice)) == "203.40"
    assert 'data-testid="invoice-card-charge"' in html  # a retry, with a new key
    assert not PaymentReceived.objects.exists()


# --- A card number typed in a free-text box of the card pages is refused and never said back ---
# (RULES.md: "refuse such a run in any free-text field where it is typed, so it is never
# stored"; a refused form does not render it again either: web/card_forms.CardFreeInput).


@pytest.mark.parametrize("door", ["portal_card", "staff_card_enter"])
def test_a_card_number_typed_in_the_name_is_not_said_back(
    client, card_case, insurer_user, booking_agent, door
):
    client.force_login(insurer_user if door == "portal_card" else booking_agent)
    response = client.post(
        reverse(f"web:{door}", args=[card_case.order_id]), card_data(name=f"Card {VISA}")
    )
    assert response.status_code == 400
    html = _html(response)
    assert "A card number goes in its own field, never in the name." in html
    assert not StoredCard.objects.exists()
    _holds_no_card(html)


def test_a_card_number_typed_in_the_reveal_reason_is_not_said_back(
    client, card_case, insurer_user, chief
):
    _store(card_case, insurer_user, number="5555 5555 5555 4444")
    client.force_login(chief)
    response = client.post(
        reverse("web:staff_card_reveal", args=[card_case.order_id]),
        {"reveal-reason": f"Payment call, card {VISA}"},
    )
    assert response.status_code == 400
    html = _html(response)
    assert "Card numbers are never typed here" in html
    assert "5555555555554444" not in html  # the card on file is not shown either
    _holds_no_card(html)
