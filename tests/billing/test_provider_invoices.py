"""Providers' invoices (SOP case 3): recorded with their PDF by the booking team or the clinic,
flagged where they disagree with the desk's records, approved by finance (the payable), paid
in full or in part; every movement a balanced ledger journal."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from medworks.billing.models import (
    JournalKind,
    LedgerAccount,
    LedgerEntry,
    ProviderInvoice,
    ProviderInvoiceStatus,
)
from medworks.billing.payables import (
    payables,
    payment_plan_of,
    provider_invoice_balance,
    provider_invoice_flags,
)
from medworks.billing.provider_invoices import (
    LineIn,
    provider_invoice_approve,
    provider_invoice_record,
    provider_invoice_reject,
    provider_payment_record,
)
from medworks.billing.receivables import unbalanced_journals
from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError, PermissionDenied
from medworks.documents.models import DocumentKind, DocumentVersion
from medworks.network.models import BillingArrangement
from tests import factories
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.documents import samples
from tests.factories import act

D = Decimal
PI = ProviderInvoiceStatus


@pytest.fixture
def setting(db, booking_agent, finance_user):
    insurer = make_insurer(finance_user)
    location = clinic(prices={"XRAY": "120.00"})
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    return insurer, location, case


def _record(case, actor, *, number="A-100", amount="120.00", tax="0.00", total=None, **kw):
    provider = case.location.partner
    return provider_invoice_record(
        provider=provider,
        number=number,
        invoice_date=kw.pop("invoice_date", timezone.localdate()),
        lines=kw.pop("lines", None) or [LineIn(case=case, amount=amount)],
        tax_total=tax,
        total=total or f"{D(amount) + D(tax):.2f}",
        file=ContentFile(samples.pdf(kw.pop("content", f"Invoice {number}"))),
        filename=f"{number}.pdf",
        actor=act(actor),
        **kw,
    )


def test_an_invoice_at_the_agreed_cost_is_recorded_with_its_pdf_and_no_flag(setting, booking_agent):
    _insurer, _location, case = setting
    invoice = _record(case, booking_agent, tax="15.60", amount="120.00")
    assert invoice.status == PI.RECEIVED
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("120.00"),
        D("15.60"),
        D("135.60"),
    )
    # Due by the provider's terms (30 days by default).
    assert invoice.due_date == invoice.invoice_date + dt.timedelta(days=30)
    version = DocumentVersion.objects.get(pk=invoice.document_version_id)
    assert version.document.kind == DocumentKind.CLINIC_INVOICE
    assert version.document.request_id == case.pk
    assert provider_invoice_flags(invoice) == []
    assert BookingEvent.objects.filter(request=case, kind="provider_invoice_recorded").exists()
    # Nothing owed before finance approves it.
    assert provider_invoice_balance(invoice) == D("0.00")


def test_a_total_above_the_agreed_cost_is_flagged_with_the_difference(setting, booking_agent):
    _insurer, _location, case = setting
    invoice = _record(case, booking_agent, amount="150.00")
    (flag,) = provider_invoice_flags(invoice)
    assert flag.code == "cost_differs"
    assert (flag.invoiced, flag.agreed, flag.difference) == (D("150.00"), D("120.00"), D("30.00"))
    assert "+30.00" in flag.message and case.order_id in flag.message


def test_a_case_never_completed_is_flagged(db, booking_agent, finance_user):
    insurer = make_insurer(finance_user)
    location = clinic()
    case = factories.make_booking_request(insurer=insurer, services=["XRAY"])
    from medworks.billing.quotes import quote_confirm
    from medworks.billing.selectors import quote_current
    from medworks.bookings import services as bookings

    bookings.booking_request_take(case=case, actor=act(booking_agent))
    bookings.booking_request_select_clinic(case=case, location=location, actor=act(booking_agent))
    quote_confirm(quote=quote_current(case=case), actor=act(booking_agent), note="Phone.")
    case.refresh_from_db()
    invoice = _record(case, booking_agent)
    assert [flag.code for flag in provider_invoice_flags(invoice)] == ["not_completed"]


def test_the_same_number_twice_is_refused_unless_the_first_was_rejected(
    setting, booking_agent, finance_user
):
    _insurer, _location, case = setting
    first = _record(case, booking_agent, number="A-100")
    with pytest.raises(DomainError) as refused:
        _record(case, booking_agent, number=" a-1 00 ")  # the same number, typed differently
    assert refused.value.code == "provider_invoice_duplicate"
    assert "number" in refused.value.fields
    assert ProviderInvoice.objects.count() == 1
    provider_invoice_reject(invoice=first, actor=act(finance_user), note="Wrong amount.")
    again = _record(case, booking_agent, number="A-100", content="Invoice A-100 corrected")
    assert again.status == PI.RECEIVED
    # A second invoice of the same provider for the case says so.
    assert [flag.code for flag in provider_invoice_flags(again)] == []
    other = _record(case, booking_agent, number="A-101")
    assert "billed_twice" in [flag.code for flag in provider_invoice_flags(other)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total": "999.00"}, "total"),
        ({"number": ""}, "number"),
        ({"invoice_date": timezone.localdate() + dt.timedelta(days=2)}, "invoice_date"),
        ({"due_date": timezone.localdate() - dt.timedelta(days=1)}, "due_date"),
        ({"amount": "0"}, "lines"),
        ({"amount": "12.345"}, "lines"),
    ],
)
def test_bad_input_is_refused_with_a_field_error_and_nothing_written(
    setting, booking_agent, change, field
):
    _insurer, _location, case = setting
    kwargs = dict(change)
    amount = kwargs.pop("amount", "120.00")
    total = kwargs.pop("total", None)
    with pytest.raises(DomainError) as refused:
        _record(
            case,
            booking_agent,
            amount=amount,
            total=total or ("120.00" if amount in ("0", "12.345") else None),
            **kwargs,
        )
    assert field in refused.value.fields
    assert ProviderInvoice.objects.count() == 0
    assert not DocumentVersion.objects.filter(document__kind=DocumentKind.CLINIC_INVOICE).exists()


def test_a_case_of_another_provider_is_refused(setting, booking_agent):
    _insurer, _location, case = setting
    stranger = factories.make_partner(name="Stranger Clinic")
    with pytest.raises(DomainError) as refused:
        provider_invoice_record(
            provider=stranger,
            number="S-1",
            invoice_date=timezone.localdate(),
            lines=[LineIn(case=case, amount="120.00")],
            tax_total="0",
            total="120.00",
            file=ContentFile(samples.pdf()),
            filename="s.pdf",
            actor=act(booking_agent),
        )
    assert refused.value.code == "provider_invoice_foreign_case"
    assert case.order_id in refused.value.message


def test_who_records_and_who_approves(setting, booking_agent, finance_user, insurer_user):
    _insurer, _location, case = setting
    with pytest.raises(PermissionDenied):
        _record(case, finance_user)  # finance approves; the booking team records
    with pytest.raises(PermissionDenied):
        _record(case, insurer_user)
    invoice = _record(case, booking_agent)
    with pytest.raises(PermissionDenied):
        provider_invoice_approve(invoice=invoice, actor=act(booking_agent))
    with pytest.raises(PermissionDenied):
        provider_payment_record(
            invoice=invoice,
            amount="1.00",
            paid_on=timezone.localdate(),
            method="eft",
            reference="T1",
            actor=act(booking_agent),
        )


def test_the_clinic_records_its_own_invoice_in_its_portal(setting, clinic_user):
    _insurer, location, case = setting
    partner = location.partner
    partner.organisation = clinic_user.organisation
    partner.save(update_fields=["organisation"])
    case.refresh_from_db()
    invoice = _record(case, clinic_user, number="H-7")
    assert invoice.recorded_by_party == "clinic"
    assert invoice.recorded_by == clinic_user


def test_approval_posts_the_payable_and_payments_settle_it(setting, booking_agent, finance_user):
    _insurer, _location, case = setting
    invoice = _record(case, booking_agent, amount="150.00", tax="19.50")
    with pytest.raises(DomainError) as refused:
        provider_invoice_approve(invoice=invoice, actor=act(finance_user))
    assert refused.value.code == "provider_invoice_flags_unanswered"
    provider_invoice_approve(
        invoice=invoice, actor=act(finance_user), note="The clinic added a contrast view."
    )
    assert invoice.status == PI.APPROVED
    assert provider_invoice_balance(invoice) == D("169.50")
    journal_rows = LedgerEntry.objects.filter(journal__kind=JournalKind.PROVIDER_INVOICE)
    by_account = {(row.account, row.debit, row.credit) for row in journal_rows}
    assert by_account == {
        (LedgerAccount.COST_OF_SERVICES, D("150.00"), D("0.00")),
        (LedgerAccount.TAX_RECOVERABLE, D("19.50"), D("0.00")),
        (LedgerAccount.PAYABLE, D("0.00"), D("169.50")),
    }
    assert journal_rows.get(account=LedgerAccount.COST_OF_SERVICES).case_id == case.pk

    today = timezone.localdate()
    (owed,) = payables(today=today)
    assert owed.owed == D("169.50") and owed.overdue == D("0.00")
    assert owed.next_due == invoice.due_date
    # Once the due date has passed, what is owed is overdue.
    (late,) = payables(today=invoice.due_date + dt.timedelta(days=1))
    assert late.overdue == D("169.50")

    with pytest.raises(DomainError) as too_much:
        provider_payment_record(
            invoice=invoice,
            amount="200.00",
            paid_on=today,
            method="eft",
            reference="EFT-1",
            actor=act(finance_user),
        )
    assert too_much.value.code == "provider_payment_too_much"
    provider_payment_record(
        invoice=invoice,
        amount="100.00",
        paid_on=today,
        method="eft",
        reference="EFT-1",
        actor=act(finance_user),
    )
    assert invoice.status == PI.PARTLY_PAID
    assert provider_invoice_balance(invoice) == D("69.50")
    provider_payment_record(
        invoice=invoice,
        amount="69.50",
        paid_on=today,
        method="cheque",
        reference="CHQ 2041",
        actor=act(finance_user),
    )
    assert invoice.status == PI.PAID
    assert provider_invoice_balance(invoice) == D("0.00")
    assert payables(today=today) == []
    assert list(unbalanced_journals()) == []
    kinds = list(BookingEvent.objects.filter(request=case).values_list("kind", flat=True))
    assert {
        "provider_invoice_approved",
        "provider_invoice_partly_paid",
        "provider_invoice_paid",
    } <= set(kinds)


def test_a_rejected_invoice_posts_nothing_and_cannot_be_paid(setting, booking_agent, finance_user):
    _insurer, _location, case = setting
    invoice = _record(case, booking_agent)
    with pytest.raises(DomainError) as no_reason:
        provider_invoice_reject(invoice=invoice, actor=act(finance_user), note="")
    assert no_reason.value.code == "note_required"
    provider_invoice_reject(invoice=invoice, actor=act(finance_user), note="Not our patient.")
    assert not LedgerEntry.objects.filter(provider_invoice=invoice).exists()
    with pytest.raises(DomainError) as refused:
        provider_payment_record(
            invoice=invoice,
            amount="10.00",
            paid_on=timezone.localdate(),
            method="eft",
            reference="X",
            actor=act(finance_user),
        )
    assert refused.value.code == "provider_invoice_not_payable"


def test_the_payment_plan_prefers_direct_billing(db):
    partner = factories.make_partner(
        billing_arrangements=[BillingArrangement.EFT, BillingArrangement.DIRECT_BILLING],
        accepts_prepayment=True,
        payment_terms_days=45,
    )
    location = factories.make_location(partner=partner)
    case = factories.make_booking_request()
    assert payment_plan_of(case) is None  # no clinic chosen yet
    case.location = location
    plan = payment_plan_of(case)
    assert plan.is_direct_billing and not plan.prepaid and plan.terms_days == 45
    # Pre-paid: the first pre-payment method it accepts, in the SOP's order.
    partner.billing_arrangements = [BillingArrangement.INSURER_CARD, BillingArrangement.EFT]
    plan = payment_plan_of(case)
    assert plan.prepaid and plan.arrangement == BillingArrangement.EFT
    partner.billing_arrangements = [BillingArrangement.INSURER_CARD]
    assert payment_plan_of(case).arrangement == BillingArrangement.INSURER_CARD
    partner.billing_arrangements = []
    assert payment_plan_of(case).arrangement == ""
    assert partner.name in payment_plan_of(case).label
    # A provider found outside the network is pre-paid, whatever it says it accepts.
    partner.is_affiliate = False
    partner.billing_arrangements = [BillingArrangement.DIRECT_BILLING, BillingArrangement.EFT]
    assert payment_plan_of(case).arrangement == BillingArrangement.EFT


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_never_pay_more_than_owed(booking_agent, finance_user):
    insurer = make_insurer(finance_user)
    case = ready_case(insurer=insurer, location=clinic(), agent=booking_agent)
    invoice = _record(case, booking_agent)
    provider_invoice_approve(invoice=invoice, actor=act(finance_user))
    results = []

    def pay(reference):
        try:
            provider_payment_record(
                invoice=invoice,
                amount="120.00",
                paid_on=timezone.localdate(),
                method="eft",
                reference=reference,
                actor=act(finance_user),
            )
            results.append("paid")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(f"EFT-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["paid", "provider_invoice_not_payable"]
    assert provider_invoice_balance(invoice) == D("0.00")


def test_the_journal_csv_carries_the_providers_journals(setting, booking_agent, finance_user):
    import csv
    import io

    from medworks.billing.receivables import ledger_journal_csv, ledger_rows

    _insurer, location, case = setting
    invoice = _record(case, booking_agent, number="HC-9", amount="120.00", tax="15.60")
    provider_invoice_approve(invoice=invoice, actor=act(finance_user))
    provider_payment_record(
        invoice=invoice,
        amount="135.60",
        paid_on=timezone.localdate(),
        method="cheque",
        reference="CHQ 77",
        actor=act(finance_user),
    )
    out = io.StringIO()
    ledger_journal_csv(ledger_rows(), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    mine = [row for row in rows if location.partner.name in row["memo"]]
    codes = {(row["account_code"], row["debit"], row["credit"]) for row in mine}
    assert codes == {
        ("5000", "120.00", ""),  # cost of services
        ("1300", "15.60", ""),  # sales tax recoverable
        ("2000", "", "135.60"),  # payable, on approval
        ("2000", "135.60", ""),  # payable, paid
        ("1000", "", "135.60"),  # bank
    }
