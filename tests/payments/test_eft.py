"""Paying providers by EFT (SOP case 4 step 5): finance records where a provider is paid (the
account number sealed, shown and audited masked), then makes one CPA-005 file of the approved
EFT requests; the file reads back with every amount, payee and account right, its creation
number is the next one and never reused, and each request is paid and posted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from medworks.billing.models import JournalKind, LedgerAccount, LedgerEntry
from medworks.billing.receivables import unbalanced_journals
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.network.models import BillingArrangement
from medworks.payments.cpa005 import cpa005_parse
from medworks.payments.eft import (
    bank_account_masked,
    bank_account_set,
    eft_file_create,
    eft_file_text,
    eft_files_reseal,
)
from medworks.payments.models import (
    EftCredit,
    EftFile,
    PaymentMethod,
    PaymentRequestStatus,
    ProviderBankAccount,
)
from medworks.payments.requests import payment_request_prepare, payment_request_step
from medworks.payments.vault_crypto import unseal
from tests import factories
from tests.billing.invoicing import ready_case
from tests.concurrency import run_at_once
from tests.factories import act

D = Decimal
S = PaymentRequestStatus
ACCOUNT = "987654321"


def _approved_eft(case, agent, chief, ceo):
    request = payment_request_prepare(cases=[case], method=PaymentMethod.EFT, actor=act(agent))
    payment_request_step(request=request, name="submit", actor=act(agent))
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_step(request=request, name="approve", actor=act(ceo))
    return request


def _bank(provider, finance_user, *, account=ACCOUNT, institution="001", transit="12345"):
    return bank_account_set(
        provider=provider,
        account_holder=provider.name[:30],
        institution=institution,
        transit=transit,
        account=account,
        actor=act(finance_user),
    )


@pytest.fixture
def second_clinic(db):
    partner = factories.make_partner(
        name="Clinique Médicale Côté",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.EFT],
    )
    location = factories.make_location(partner=partner, name="Clinique Côté")
    factories.make_offering(location=location, service_code="XRAY", price="95.50")
    return location


@pytest.fixture
def two_approved(prepaid_case, insurer, second_clinic, booking_agent, chief, ceo):
    other_case = ready_case(insurer=insurer, location=second_clinic, agent=booking_agent)
    return (
        _approved_eft(prepaid_case, booking_agent, chief, ceo),
        _approved_eft(other_case, booking_agent, chief, ceo),
    )


# --- Bank accounts ------------------------------------------------------------------------------


def test_finance_records_a_bank_account_sealed_and_shown_masked(prepaid_clinic, finance_user):
    provider = prepaid_clinic.partner
    saved = bank_account_set(
        provider=provider,
        account_holder="  Lakeview   Physio Inc. ",
        institution="001",
        transit="12345",
        account="9876-54321",  # dashes as typed: dropped
        actor=act(finance_user),
    )
    assert saved.account_holder == "Lakeview Physio Inc."
    assert saved.account_last_digits == "4321"
    assert ACCOUNT not in bytes(saved.details_sealed).decode("latin-1")
    assert unseal(saved.details_sealed, context=f"bank:{provider.pk}:details") == (
        f"001:12345:{ACCOUNT}"
    )
    assert bank_account_masked(provider) == "Institution 001, transit 12345, account ••••4321"
    event = AuditEvent.objects.get(action="bank_account.recorded")
    assert ACCOUNT not in str(event.payload) + event.summary
    assert "••••4321" in event.summary


def test_a_change_replaces_the_sealed_account_and_the_audit_shows_both_masked(
    prepaid_clinic, finance_user
):
    provider = prepaid_clinic.partner
    _bank(provider, finance_user)
    _bank(provider, finance_user, account="111222333444", institution="003", transit="00012")
    assert ProviderBankAccount.objects.count() == 1
    assert bank_account_masked(provider) == "Institution 003, transit 00012, account ••••3444"
    changed = AuditEvent.objects.get(action="bank_account.changed")
    assert changed.payload["before"].endswith("••••4321")
    assert "111222333444" not in str(changed.payload) + changed.summary


def test_a_short_account_never_shows_more_than_half_its_digits(prepaid_clinic, finance_user):
    assert _bank(prepaid_clinic.partner, finance_user, account="1234567").account_last_digits == (
        "567"
    )
    assert _bank(prepaid_clinic.partner, finance_user, account="12").account_last_digits == "2"


@pytest.mark.parametrize(
    ("field", "institution", "transit", "account"),
    [
        ("institution", "01", "12345", ACCOUNT),
        ("institution", "0001", "12345", ACCOUNT),
        ("transit", "001", "1234", ACCOUNT),
        ("transit", "001", "12a45", ACCOUNT),
        ("account", "001", "12345", ""),
        ("account", "001", "12345", "1234567890123"),
        ("account", "001", "12345", "12345x"),
    ],
)
def test_bad_bank_details_are_refused_per_field_and_nothing_is_stored(
    prepaid_clinic, finance_user, field, institution, transit, account
):
    with pytest.raises(DomainError) as refused:
        bank_account_set(
            provider=prepaid_clinic.partner,
            account_holder="Lakeview Physio",
            institution=institution,
            transit=transit,
            account=account,
            actor=act(finance_user),
        )
    assert list(refused.value.fields) == [field]
    assert not ProviderBankAccount.objects.exists()


@pytest.mark.parametrize("who", ["booking_agent", "coordinator", "chief", "ceo"])
def test_only_finance_keeps_the_bank_accounts(request, prepaid_clinic, who):
    with pytest.raises(PermissionDenied):
        _bank(prepaid_clinic.partner, request.getfixturevalue(who))
    assert not ProviderBankAccount.objects.exists()


def test_the_account_number_is_nowhere_in_the_database_but_ciphertext(two_approved, finance_user):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    eft_file = eft_file_create(actor=act(finance_user))
    eft_file_text(eft_file=eft_file, actor=act(finance_user))
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, str):
                        assert ACCOUNT not in value, table


# --- EFT files ----------------------------------------------------------------------------------


def test_an_eft_file_pays_two_approved_requests_and_reads_back(
    two_approved, finance_user, settings
):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user, account="55501234", institution="815", transit="20001")
    today = timezone.localdate()

    eft_file = eft_file_create(actor=act(finance_user))

    assert (eft_file.file_creation_number, eft_file.created_on) == (1, today)
    assert (eft_file.credit_count, eft_file.credit_total) == (2, D("215.50"))
    text = eft_file_text(eft_file=eft_file, actor=act(finance_user))
    parsed = cpa005_parse(text, transaction_code="460")
    assert parsed.originator_id == settings.MEDWORKS_EFT_ORIGINATOR_ID
    assert (parsed.file_creation_number, parsed.created_on) == (1, today)
    a, b = parsed.credits
    assert (a.amount, a.payee_name, a.institution, a.transit, a.account) == (
        D("120.00"),
        "LAKEVIEW PHYSIO",
        "001",
        "12345",
        ACCOUNT,
    )
    assert (b.amount, b.payee_name, b.institution, b.transit, b.account) == (
        D("95.50"),
        "CLINIQUE MEDICALE COTE",
        "815",
        "20001",
        "55501234",
    )
    assert (a.cross_reference, b.cross_reference) == (first.display_number, second.display_number)
    assert a.funds_available == b.funds_available == today
    assert (parsed.total_credit_count, parsed.total_credit_value) == (2, D("215.50"))
    assert parsed.record_count == 3  # header, one C record of two segments, trailer
    # In cents on the file: 12000 and 9550, the trailer's sum 21550.
    records = text.split("\r\n")
    assert records[1][24 + 3 : 24 + 13] == "0000012000"
    assert records[-2][46:60] == f"{21550:014d}"
    # Sealed for this file, and its download audited without the content.
    assert ACCOUNT not in bytes(EftFile.objects.get().content_sealed).decode("latin-1")
    downloaded = AuditEvent.objects.get(action="eft_file.downloaded")
    assert ACCOUNT not in str(downloaded.payload) + downloaded.summary


def test_the_requests_are_paid_through_the_workflow_and_posted_balanced(two_approved, finance_user):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user, account="55501234")
    eft_file = eft_file_create(actor=act(finance_user))
    for request in (first, second):
        request.refresh_from_db()
        assert request.status == S.PAID
        payment = request.payment
        assert (payment.method, payment.amount, payment.paid_on) == (
            PaymentMethod.EFT,
            request.clinic_cost,
            eft_file.created_on,
        )
        assert payment.participants == "EFT file 0001"
        assert payment.confirmation == request.display_number
        assert request.eft_credit.file == eft_file
    assert EftCredit.objects.count() == 2
    rows = LedgerEntry.objects.filter(journal__kind=JournalKind.PROVIDER_PREPAYMENT)
    assert sorted((r.account, r.debit, r.credit) for r in rows) == sorted(
        [
            (LedgerAccount.COST_OF_SERVICES, D("120.00"), D("0.00")),
            (LedgerAccount.CASH, D("0.00"), D("120.00")),
            (LedgerAccount.COST_OF_SERVICES, D("95.50"), D("0.00")),
            (LedgerAccount.CASH, D("0.00"), D("95.50")),
        ]
    )
    assert list(unbalanced_journals()) == []
    assert AuditEvent.objects.filter(action="payment_request.paid").count() == 2


def test_file_creation_numbers_go_one_then_two_and_a_request_is_never_paid_twice(
    two_approved, finance_user
):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    one = eft_file_create(actor=act(finance_user), requests=[first])
    two = eft_file_create(actor=act(finance_user))
    assert (one.file_creation_number, two.file_creation_number) == (1, 2)
    assert [c.request for c in two.credits.all()] == [second]
    with pytest.raises(DomainError) as again:
        eft_file_create(actor=act(finance_user), requests=[first])
    assert f"{first.display_number} is already in EFT file 0001" in again.value.message
    with pytest.raises(DomainError) as nothing:
        eft_file_create(actor=act(finance_user))
    assert nothing.value.code == "eft_nothing_to_pay"
    assert sorted(EftFile.objects.values_list("file_creation_number", flat=True)) == [1, 2]


def test_a_provider_without_a_bank_account_is_named_and_nothing_is_written(
    two_approved, finance_user
):
    first, second = two_approved
    _bank(first.provider, finance_user)
    with pytest.raises(DomainError) as refused:
        eft_file_create(actor=act(finance_user))
    assert refused.value.code == "eft_file_refused"
    assert "Clinique Médicale Côté has no bank account" in refused.value.message
    assert second.display_number in refused.value.message
    assert not EftFile.objects.exists()
    first.refresh_from_db()
    assert first.status == S.APPROVED


@pytest.mark.parametrize("who", ["booking_agent", "chief", "ceo"])
def test_only_finance_makes_and_downloads_eft_files(request, two_approved, finance_user, who):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    with pytest.raises(PermissionDenied):
        eft_file_create(actor=act(request.getfixturevalue(who)))
    assert not EftFile.objects.exists()
    eft_file = eft_file_create(actor=act(finance_user))
    with pytest.raises(PermissionDenied):
        eft_file_text(eft_file=eft_file, actor=act(request.getfixturevalue(who)))


def test_nothing_to_pay_and_requests_not_approved_or_not_by_eft_are_refused(
    prepaid_case, booking_agent, finance_user, chief, ceo
):
    with pytest.raises(DomainError) as nothing:
        eft_file_create(actor=act(finance_user))
    assert nothing.value.code == "eft_nothing_to_pay"
    _bank(prepaid_case.location.partner, finance_user)
    draft = payment_request_prepare(
        cases=[prepaid_case], method=PaymentMethod.EFT, actor=act(booking_agent)
    )
    with pytest.raises(DomainError) as not_approved:
        eft_file_create(actor=act(finance_user), requests=[draft])
    assert "not approved to be paid" in not_approved.value.message
    payment_request_step(request=draft, name="cancel", actor=act(booking_agent), note="Card.")
    by_card = payment_request_prepare(
        cases=[prepaid_case], method=PaymentMethod.MEDWORKS_CARD, actor=act(booking_agent)
    )
    payment_request_step(request=by_card, name="submit", actor=act(booking_agent))
    payment_request_step(request=by_card, name="review", actor=act(chief))
    payment_request_step(request=by_card, name="approve", actor=act(ceo))
    with pytest.raises(DomainError) as not_eft:
        eft_file_create(actor=act(finance_user), requests=[by_card])
    assert "is paid by medworks corporate card, not by EFT" in (not_eft.value.message)
    # Approved requests by card are not waiting for a file either.
    with pytest.raises(DomainError) as nothing_by_eft:
        eft_file_create(actor=act(finance_user))
    assert nothing_by_eft.value.code == "eft_nothing_to_pay"


def test_eft_export_is_refused_until_the_originator_is_set(two_approved, finance_user, settings):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    settings.MEDWORKS_EFT_ORIGINATOR_ID = ""
    with pytest.raises(DomainError) as unset:
        eft_file_create(actor=act(finance_user))
    assert unset.value.code == "eft_not_configured"
    assert "MEDWORKS_EFT_ORIGINATOR_ID" in unset.value.message
    settings.MEDWORKS_EFT_ORIGINATOR_ID = "MEDWORKS01"
    settings.MEDWORKS_EFT_RETURN_TRANSIT = "12"
    with pytest.raises(DomainError) as malformed:
        eft_file_create(actor=act(finance_user))
    assert "MEDWORKS_EFT_RETURN_TRANSIT" in malformed.value.message
    assert not EftFile.objects.exists()


def test_funds_are_made_available_today_or_soon_never_in_the_past(two_approved, finance_user):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    today = timezone.localdate()
    with pytest.raises(DomainError) as past:
        eft_file_create(actor=act(finance_user), created_on=today - dt.timedelta(days=1))
    assert past.value.code == "eft_file_date"
    later = eft_file_create(actor=act(finance_user), created_on=today + dt.timedelta(days=2))
    assert later.created_on == today + dt.timedelta(days=2)


def test_a_malformed_originator_id_stops_start_up(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import medworks.settings as module

    monkeypatch.setenv("MEDWORKS_EFT_ORIGINATOR_ID", "medworks 01")
    try:
        with pytest.raises(ImproperlyConfigured, match="MEDWORKS_EFT_ORIGINATOR_ID"):
            importlib.reload(module)
    finally:
        monkeypatch.delenv("MEDWORKS_EFT_ORIGINATOR_ID")
        importlib.reload(module)


def test_the_files_are_sealed_again_under_a_new_key(two_approved, finance_user, settings):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    eft_file = eft_file_create(actor=act(finance_user))
    before = eft_file_text(eft_file=eft_file, actor=act(finance_user))
    settings.MEDWORKS_CARD_KEYS = (("new", b"n" * 32), *settings.MEDWORKS_CARD_KEYS)
    assert eft_files_reseal() == 1
    eft_file.refresh_from_db()
    assert eft_file_text(eft_file=eft_file, actor=act(finance_user)) == before


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_files_made_at_once_take_two_numbers(two_approved, finance_user):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    made, errors = run_at_once(
        lambda: eft_file_create(actor=act(finance_user), requests=[first]),
        lambda: eft_file_create(actor=act(finance_user), requests=[second]),
    )
    assert errors == []
    assert sorted(f.file_creation_number for f in made) == [1, 2]
    assert EftCredit.objects.count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_on_every_request_waiting_make_one_file(two_approved, finance_user):
    first, second = two_approved
    _bank(first.provider, finance_user)
    _bank(second.provider, finance_user)
    made, errors = run_at_once(
        lambda: eft_file_create(actor=act(finance_user)),
        lambda: eft_file_create(actor=act(finance_user)),
    )
    assert [f.credit_count for f in made] == [2]
    assert [e.code for e in errors] == ["eft_nothing_to_pay"]
    assert EftCredit.objects.count() == 2
    assert list(unbalanced_journals()) == []
