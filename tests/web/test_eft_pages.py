"""The EFT pages: finance records a provider's bank account from the partner's page (shown
masked, the account number never sent back), sees the approved EFT requests waiting with
whether each provider's account is on file, makes the CPA-005 file and downloads it. Finance
only: every other persona gets the 403 page and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from medworks.accounts.models import RoleCode
from medworks.core.models import AuditEvent
from medworks.network.models import BillingArrangement
from medworks.payments.cpa005 import cpa005_parse
from medworks.payments.eft import bank_account_set, eft_file_create
from medworks.payments.models import (
    EftFile,
    PaymentMethod,
    PaymentRequestStatus,
    ProviderBankAccount,
)
from medworks.payments.requests import payment_request_prepare, payment_request_step
from tests import factories
from tests.billing.invoicing import make_insurer, ready_case
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
FINANCE = {"finance_user"}
ACCOUNT = "987654321"

# url name -> (target, {method: personas allowed}); tests/web/test_permissions.py reads it.
EFT_ROUTES = {
    "provider_bank_account": ("partner", {"get": FINANCE, "post": FINANCE}),
    "eft_files": (None, {"get": FINANCE}),
    "eft_file_create": (None, {"post": FINANCE}),
    "eft_file_download": ("file", {"get": FINANCE}),
}


@pytest.fixture
def chief(db):
    return factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF], username="chief")


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo")


@pytest.fixture
def approved(finance_user, booking_agent, chief, ceo):
    """An approved EFT pre-payment of 120.00 to Lakeview Physio, no bank account yet."""
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.EFT],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    insurer = make_insurer(finance_user, name="Maple Assist Travel")
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    request = payment_request_prepare(
        cases=[case], method=PaymentMethod.EFT, actor=act(booking_agent)
    )
    payment_request_step(request=request, name="submit", actor=act(booking_agent))
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_step(request=request, name="approve", actor=act(ceo))
    return request


def _bank(provider, finance_user):
    return bank_account_set(
        provider=provider,
        account_holder="Lakeview Physio Inc.",
        institution="001",
        transit="12345",
        account=ACCOUNT,
        actor=act(finance_user),
    )


def _text(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", response.content.decode())


def _url(name, target, *, provider, eft_file):
    if target is None:
        return reverse(f"web:{name}")
    if target == "partner":
        return reverse(f"web:{name}", args=[provider.pk])
    return reverse(f"web:{name}", args=[eft_file.pk])


@pytest.fixture
def world(approved, finance_user, prepaid_second):
    """One file made (for the download route), and a second approved request waiting."""
    _bank(approved.provider, finance_user)
    eft_file = eft_file_create(actor=act(finance_user))
    return approved.provider, eft_file


@pytest.fixture
def prepaid_second(approved, finance_user, booking_agent, chief, ceo):
    location = approved.provider.locations.get()
    insurer = approved.lines.get().case.insurer
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    request = payment_request_prepare(
        cases=[case], method=PaymentMethod.EFT, actor=act(booking_agent)
    )
    for name, who in (("submit", booking_agent), ("review", chief)):
        payment_request_step(request=request, name=name, actor=act(who))
    return request


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in EFT_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_eft_route_admits_only_finance(client, request, world, ceo, name, method, persona):
    provider, eft_file = world
    second = request.getfixturevalue("prepaid_second")
    payment_request_step(request=second, name="approve", actor=act(ceo))
    target, methods = EFT_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, provider=provider, eft_file=eft_file)
    before = (
        sorted(EftFile.objects.values_list("pk", flat=True)),
        list(ProviderBankAccount.objects.values_list("pk", "account_last_digits")),
        AuditEvent.objects.count(),
    )
    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested below
        response = client.post(
            url,
            {
                "request": [second.pk],
                "bank-account_holder": "Mallory",
                "bank-institution": "999",
                "bank-transit": "99999",
                "bank-account": "11111111",
            },
        )
    else:
        response = client.get(url)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert (
            sorted(EftFile.objects.values_list("pk", flat=True)),
            list(ProviderBankAccount.objects.values_list("pk", "account_last_digits")),
            AuditEvent.objects.count(),
        ) == before


@pytest.mark.parametrize("name", list(EFT_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_eft_pages(client, world, name):
    provider, eft_file = world
    target, methods = EFT_ROUTES[name]
    response = getattr(client, next(iter(methods)))(
        _url(name, target, provider=provider, eft_file=eft_file)
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_finance_records_the_bank_account_from_the_partner_page(client, approved, finance_user):
    provider = approved.provider
    client.force_login(finance_user)
    partner_page = client.get(reverse("web:partner_detail", args=[provider.pk])).content.decode()
    url = reverse("web:provider_bank_account", args=[provider.pk])
    assert url in partner_page
    assert "No bank account is on file" in _text(client.get(url))

    refused = client.post(
        url,
        {
            "bank-account_holder": "Lakeview Physio Inc.",
            "bank-institution": "1",
            "bank-transit": "12345",
            "bank-account": ACCOUNT,
        },
    )
    assert refused.status_code == 400
    assert "The institution number is 3 digits" in _text(refused)
    assert ACCOUNT not in refused.content.decode()  # not sent back in the form
    assert refused["Cache-Control"] == "no-store"
    assert not ProviderBankAccount.objects.exists()

    saved = client.post(
        url,
        {
            "bank-account_holder": "Lakeview Physio Inc.",
            "bank-institution": "001",
            "bank-transit": "12345",
            "bank-account": ACCOUNT,
        },
        follow=True,
    )
    page = _text(saved)
    assert "Institution 001, transit 12345, account ••••4321" in page
    assert ACCOUNT not in saved.content.decode()
    assert ProviderBankAccount.objects.get(provider=provider).account_last_digits == "4321"


@pytest.mark.parametrize("persona", ["booking_agent", "coordinator"])
def test_the_partner_page_offers_the_bank_account_to_finance_only(
    client, request, approved, persona
):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("web:partner_detail", args=[approved.provider.pk])).content.decode()
    assert reverse("web:provider_bank_account", args=[approved.provider.pk]) not in page


def test_finance_makes_the_file_from_the_eft_page_and_downloads_it(client, approved, finance_user):
    client.force_login(finance_user)
    page = _text(client.get(reverse("web:eft_files")))
    waiting = page.split('data-testid="eft-files"')[0]
    assert approved.display_number in waiting and "$120.00" in waiting
    assert "Missing" in waiting and "Record it" in waiting
    assert "0 payments ready" in waiting

    _bank(approved.provider, finance_user)
    page = _text(client.get(reverse("web:eft_files")))
    assert "On file, ending 4321" in page and "1 payment ready, $120.00." in page
    assert ACCOUNT not in page

    made = client.post(reverse("web:eft_file_create"), {"request": [approved.pk]}, follow=True)
    page = _text(made)
    assert "EFT file 0001 made: 1 payment, 120.00." in page
    approved.refresh_from_db()
    assert approved.status == PaymentRequestStatus.PAID
    eft_file = EftFile.objects.get()
    files = page.split('data-testid="eft-files"')[1]
    assert "0001" in files and "$120.00" in files
    assert eft_file.created_on.isoformat() in files
    assert "No approved EFT payment waits." in page

    download = client.get(reverse("web:eft_file_download", args=[eft_file.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="eft-0001-{eft_file.created_on:%Y%m%d}.txt"'
    )
    assert "no-store" in download["Cache-Control"]
    parsed = cpa005_parse(download.content.decode("ascii"))
    (credit,) = parsed.credits
    assert (credit.amount, credit.account, credit.cross_reference) == (
        approved.clinic_cost,
        ACCOUNT,
        approved.display_number,
    )
    assert AuditEvent.objects.filter(action="eft_file.downloaded", actor=finance_user).exists()


def test_a_refusal_is_shown_on_the_eft_page_and_nothing_is_made(client, approved, finance_user):
    client.force_login(finance_user)
    refused = client.post(reverse("web:eft_file_create"), {"request": [approved.pk]}, follow=True)
    assert "Lakeview Physio has no bank account" in _text(refused)
    nothing = client.post(reverse("web:eft_file_create"), {}, follow=True)
    assert "No approved EFT payment request waits to be paid." in _text(nothing)
    assert not EftFile.objects.exists()


def test_the_eft_page_is_in_french(client, approved, finance_user):
    finance_user.preferred_language = "fr"
    finance_user.save(update_fields=["preferred_language"])
    client.force_login(finance_user)
    page = _text(client.get(reverse("web:eft_files")))
    assert "Fichiers TEF" in page
    assert "Créer le fichier TEF" in page


def test_the_eft_page_takes_no_more_queries_for_more_rows(
    client, world, prepaid_second, finance_user, booking_agent, chief, ceo
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    provider, _file = world
    payment_request_step(request=prepaid_second, name="approve", actor=act(ceo))
    client.force_login(finance_user)
    with CaptureQueriesContext(connection) as one_each:
        assert client.get(reverse("web:eft_files")).status_code == 200
    eft_file_create(actor=act(finance_user))
    location = provider.locations.get()
    insurer = prepaid_second.lines.get().case.insurer
    for _ in range(3):
        case = ready_case(insurer=insurer, location=location, agent=booking_agent)
        more = payment_request_prepare(
            cases=[case], method=PaymentMethod.EFT, actor=act(booking_agent)
        )
        for name, who in (("submit", booking_agent), ("review", chief), ("approve", ceo)):
            payment_request_step(request=more, name=name, actor=act(who))
    with CaptureQueriesContext(connection) as more_of_each:
        page = _text(client.get(reverse("web:eft_files")))
    assert "3 payments ready" in page and page.count('data-testid="eft-file-row"') == 2
    assert len(more_of_each.captured_queries) <= len(one_each.captured_queries)
