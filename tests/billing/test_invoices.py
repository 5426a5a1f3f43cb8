"""Invoicing the insurers (SOP case 3): a draft from the case's confirmed quote, or a monthly
statement of the month's cases; issued with a gap-free number, its dates, the particulars the
law asks at its amount and a PDF in the insurer's language; never edited once issued, only
reversed by a credit note (and a new invoice)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from medworks.billing.invoices import (
    credit_note_issue,
    invoice_draft_discard,
    invoice_draft_edit,
    invoice_draft_for_case,
    invoice_draft_statement,
    invoice_issue,
    invoice_pdf_bytes,
    invoice_required_fields,
    payment_record,
)
from medworks.billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    InvoiceTax,
    Journal,
    LedgerEntry,
)
from medworks.billing.quotes import quote_confirm, quote_prepare
from medworks.billing.receivables import invoice_balance, unbalanced_journals
from medworks.billing.selectors import quote_current
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingEvent
from medworks.bookings.selectors import insurer_timeline
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories
from tests.billing.invoicing import (
    clinic,
    issued_invoice,
    make_insurer,
    money_text,
    pdf_text,
    ready_case,
)
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
S = InvoiceStatus
NOV_20 = dt.date(2026, 11, 20)


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist")


@pytest.fixture
def toronto(db):
    """X-ray $120 and ultrasound $200 at the clinic: with the 50% fee, $180 and $300."""
    return clinic(prices={"XRAY": "120.00", "ULTRASOUND": "200.00"})


@pytest.fixture
def case(insurer, toronto, booking_agent):
    return ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, services=("XRAY", "ULTRASOUND")
    )


# --- Drafts ------------------------------------------------------------------------------------


def test_a_draft_bills_each_service_at_its_quoted_price_and_totals_the_confirmed_amount(
    case, finance_user
):
    quote = quote_current(case=case)
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))

    lines = list(draft.lines.all())
    assert [(line.service.code, line.amount) for line in lines] == [
        (q.service.code, q.amount) for q in quote.lines.all()
    ]
    assert sorted(line.amount for line in lines) == [D("180.00"), D("300.00")]
    assert all(line.case_id == case.pk and line.quote_id == quote.pk for line in lines)
    assert [(t.name, t.rate, t.amount) for t in draft.taxes.all()] == [
        ("HST", D("0.13000"), D("62.40"))
    ]
    # The totals are the lines', and the quote's: what the insurer confirmed.
    assert draft.subtotal == sum(line.amount for line in lines) == quote.subtotal
    assert draft.tax_total == D("62.40")
    assert draft.total == draft.subtotal + draft.tax_total == quote.confirmed_total == D("542.40")
    assert draft.status == S.DRAFT
    assert draft.number is None and draft.display_number == ""
    assert draft.place_of_supply == "ON" and draft.language == "en"
    assert draft.terms_days == 30
    assert case.order_id in lines[0].description
    assert AuditEvent.objects.filter(action="invoice.drafted", object_id=str(draft.pk)).exists()
    # A draft is nothing to the ledger yet.
    assert not LedgerEntry.objects.exists()
    assert invoice_balance(draft) == 0


def test_a_case_without_a_confirmed_quote_is_not_invoiced(
    insurer, toronto, booking_agent, finance_user
):
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent, confirm=False)
    with pytest.raises(DomainError) as refused:
        invoice_draft_for_case(case=case, actor=act(finance_user))
    assert refused.value.code == "invoice_quote_not_confirmed"
    assert not Invoice.objects.exists()


def test_a_case_not_yet_ready_for_billing_is_not_invoiced(
    insurer, toronto, booking_agent, finance_user
):
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent, ready=False)
    with pytest.raises(DomainError) as refused:
        invoice_draft_for_case(case=case, actor=act(finance_user))
    assert refused.value.code == "invoice_case_not_ready"
    assert "completed" in refused.value.message


def test_a_cancelled_case_is_not_invoiced(insurer, toronto, booking_agent, finance_user):
    case = factories.make_booking_request(insurer=insurer)
    bookings.booking_request_take(case=case, actor=act(booking_agent))
    bookings.booking_request_select_clinic(case=case, location=toronto, actor=act(booking_agent))
    bookings.booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="No longer needed."
    )
    with pytest.raises(DomainError) as refused:
        invoice_draft_for_case(case=case, actor=act(finance_user))
    assert refused.value.code == "invoice_case_cancelled"


def test_a_case_is_invoiced_once_until_its_draft_is_discarded(case, finance_user):
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    with pytest.raises(DomainError) as refused:
        invoice_draft_for_case(case=case, actor=act(finance_user))
    assert refused.value.code == "invoice_case_already_invoiced"
    assert f"Draft invoice {draft.pk}" in refused.value.message

    with pytest.raises(DomainError) as unexplained:
        invoice_draft_discard(invoice=draft, actor=act(finance_user), note="")
    assert unexplained.value.code == "note_required"
    invoice_draft_discard(invoice=draft, actor=act(finance_user), note="Wrong terms.")
    draft.refresh_from_db()
    assert draft.status == S.VOIDED and draft.number is None
    assert Invoice.objects.filter(pk=draft.pk).exists()  # kept, never deleted
    again = invoice_draft_for_case(case=case, actor=act(finance_user))
    assert again.pk != draft.pk


def test_only_finance_invoices(case, booking_agent, coordinator, finance_user):
    for person in (booking_agent, coordinator):
        with pytest.raises(PermissionDenied) as refused:
            invoice_draft_for_case(case=case, actor=act(person))
        assert refused.value.code == "invoicing_forbidden"
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    with pytest.raises(PermissionDenied):
        invoice_issue(invoice=draft, actor=act(booking_agent))
    with pytest.raises(PermissionDenied):
        invoice_issue(invoice=draft, actor=act(None))  # not even the system


# --- Issue -------------------------------------------------------------------------------------


def test_issuing_numbers_dates_snapshots_and_posts_a_balanced_journal(case, finance_user, settings):
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)

    assert invoice.status == S.ISSUED
    assert (invoice.series, invoice.number, invoice.display_number) == (
        "INV-2026",
        1,
        "INV-2026-000001",
    )
    assert invoice.issue_date == invoice.tax_point == NOV_20
    assert invoice.due_date == dt.date(2026, 12, 20)  # 30 days' terms
    assert invoice.issued_by == finance_user and invoice.issued_at is not None
    assert invoice.seller_name == settings.MEDWORKS_LEGAL_NAME
    assert invoice.seller_gst_hst_number == settings.MEDWORKS_GST_HST_NUMBER
    assert invoice.seller_qst_number == ""  # Ontario
    assert invoice.buyer_name == "Maple Assist"

    journal = Journal.objects.get(invoice=invoice)
    assert (journal.kind, journal.date, journal.reference) == (
        "invoice_issued",
        NOV_20,
        "INV-2026-000001",
    )
    rows = [(e.account_code, e.debit, e.credit, e.tax_name) for e in journal.entries.all()]
    assert rows == [
        ("1200", D("542.40"), D("0.00"), ""),
        ("4000", D("0.00"), D("300.00"), ""),  # the ultrasound (lines by service code)
        ("4000", D("0.00"), D("180.00"), ""),  # the X-ray
        ("2200", D("0.00"), D("62.40"), "HST"),
    ]
    assert unbalanced_journals() == []
    assert invoice_balance(invoice) == D("542.40")

    events = BookingEvent.objects.filter(request=case, kind="invoice_issued")
    assert events.count() == 1
    assert events.get().payload["number"] == "INV-2026-000001"
    assert "Invoice issued" in [entry.label for entry in insurer_timeline(case=case)]
    assert AuditEvent.objects.filter(action="invoice.issued", object_id=str(invoice.pk)).exists()


def test_numbers_follow_each_other_per_series_and_year(
    insurer, toronto, booking_agent, finance_user
):
    cases = [ready_case(insurer=insurer, location=toronto, agent=booking_agent) for _ in range(3)]
    first = issued_invoice(
        case=cases[0], finance_user=finance_user, issue_date=dt.date(2025, 12, 30)
    )
    second = issued_invoice(
        case=cases[1], finance_user=finance_user, issue_date=dt.date(2026, 1, 2)
    )
    third = issued_invoice(case=cases[2], finance_user=finance_user, issue_date=dt.date(2026, 1, 2))
    assert [first.display_number, second.display_number, third.display_number] == [
        "INV-2025-000001",
        "INV-2026-000001",
        "INV-2026-000002",
    ]
    assert InvoiceSequence.objects.get(series="INV-2026").next_number == 3


def test_an_issue_rolled_back_gives_its_number_back(insurer, toronto, booking_agent, finance_user):
    first, second = (
        ready_case(insurer=insurer, location=toronto, agent=booking_agent) for _ in range(2)
    )
    undone = invoice_draft_for_case(case=first, actor=act(finance_user))
    with pytest.raises(RuntimeError), transaction.atomic():
        assert invoice_issue(invoice=undone, actor=act(finance_user)).number == 1
        raise RuntimeError("the caller's transaction fails after the issue")
    undone.refresh_from_db()
    assert (undone.status, undone.number) == (S.DRAFT, None)
    assert not Journal.objects.exists() and not hasattr(undone, "pdf")

    assert issued_invoice(case=second, finance_user=finance_user).number == 1
    assert invoice_issue(invoice=undone, actor=act(finance_user)).number == 2


def test_an_issue_date_in_the_future_or_before_the_series_last_is_refused(
    insurer, toronto, booking_agent, finance_user
):
    late, early = (
        ready_case(insurer=insurer, location=toronto, agent=booking_agent) for _ in range(2)
    )
    issued_invoice(case=late, finance_user=finance_user, issue_date=NOV_20)
    draft = invoice_draft_for_case(case=early, actor=act(finance_user))
    with pytest.raises(DomainError) as before:
        invoice_issue(invoice=draft, actor=act(finance_user), issue_date=dt.date(2026, 11, 19))
    assert before.value.code == "issue_date_before_last"
    with pytest.raises(DomainError) as future:
        invoice_issue(invoice=draft, actor=act(finance_user), issue_date=dt.date(2099, 1, 1))
    assert future.value.code == "issue_date_future"
    # Refused, it took no number: the next one is still 2.
    assert invoice_issue(invoice=draft, actor=act(finance_user)).number == 2


def test_an_issued_invoice_is_never_edited(case, finance_user):
    invoice = issued_invoice(case=case, finance_user=finance_user)

    with pytest.raises(DomainError) as refused:
        invoice_draft_edit(invoice=invoice, actor=act(finance_user), terms_days=60)
    assert refused.value.code == "invoice_issued_frozen"
    assert "credit note" in refused.value.message
    with pytest.raises(DomainError) as again:
        invoice_issue(invoice=invoice, actor=act(finance_user))
    assert again.value.code == "invoice_status_illegal"

    # Below the use cases, the rows refuse it too.
    stored = Invoice.objects.get(pk=invoice.pk)
    stored.total = D("1.00")
    with pytest.raises(TypeError):
        stored.save()
    with pytest.raises(TypeError):
        stored.save(update_fields=["total", "status"])
    with pytest.raises(TypeError):
        Invoice.objects.filter(pk=invoice.pk).update(total=D("1.00"))
    with pytest.raises(TypeError):
        stored.delete()
    line = InvoiceLine.objects.filter(invoice=invoice).first()
    line.amount = D("1.00")
    with pytest.raises(TypeError):
        line.save()
    with pytest.raises(TypeError):
        InvoiceTax.objects.filter(invoice=invoice).delete()
    assert Invoice.objects.get(pk=invoice.pk).total == D("542.40")


def test_a_drafts_terms_can_change_and_set_the_due_date(case, finance_user):
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    invoice_draft_edit(invoice=draft, actor=act(finance_user), terms_days=45)
    with pytest.raises(DomainError) as refused:
        invoice_draft_edit(invoice=draft, actor=act(finance_user), terms_days=-1)
    assert refused.value.code == "invoice_terms_invalid"
    invoice = invoice_issue(invoice=draft, actor=act(finance_user), issue_date=NOV_20)
    assert invoice.due_date == dt.date(2027, 1, 4)


def test_a_quote_changed_since_the_draft_stops_the_issue(case, finance_user, booking_agent):
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    xray = factories.service("XRAY")
    newer = quote_prepare(case=case, actor=act(booking_agent), clinic_costs={xray.pk: D("130.00")})
    with pytest.raises(DomainError) as unconfirmed:
        invoice_issue(invoice=draft, actor=act(finance_user))
    assert unconfirmed.value.code == "invoice_quote_not_confirmed"
    quote_confirm(quote=newer, actor=act(booking_agent), note="By email.")
    with pytest.raises(DomainError) as changed:
        invoice_issue(invoice=draft, actor=act(finance_user))
    assert changed.value.code == "invoice_quote_changed"
    assert not InvoiceSequence.objects.filter(next_number__gt=1).exists()


def test_a_quote_made_at_another_rate_is_not_invoiced_at_the_tax_point_of_the_old_one(
    finance_user, toronto, booking_agent
):
    # Nova Scotia's HST went from 15% to 14% on 2025-04-01; the quote (today) is at 14%.
    insurer = make_insurer(finance_user, name="Bluenose Assist", place_of_supply="NS")
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    assert [(t.name, t.rate) for t in draft.taxes.all()] == [("HST", D("0.14000"))]
    with pytest.raises(DomainError) as refused:
        invoice_issue(invoice=draft, actor=act(finance_user), issue_date=dt.date(2025, 3, 31))
    assert refused.value.code == "invoice_tax_rates_changed"
    assert invoice_issue(invoice=draft, actor=act(finance_user), issue_date=dt.date(2025, 4, 1))


# --- Monthly statements ------------------------------------------------------------------------


def test_a_monthly_statement_has_a_line_per_case_of_the_month_and_totals_their_quotes(
    insurer, toronto, booking_agent, finance_user
):
    november = [
        ready_case(insurer=insurer, location=toronto, agent=booking_agent, seen_on=day)
        for day in (dt.date(2026, 11, 3), dt.date(2026, 11, 30))
    ]
    two_services = ready_case(
        insurer=insurer,
        location=toronto,
        agent=booking_agent,
        services=("XRAY", "ULTRASOUND"),
        seen_on=dt.date(2026, 11, 12),
    )
    november.append(two_services)
    ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, seen_on=dt.date(2026, 10, 31)
    )
    unconfirmed = ready_case(
        insurer=insurer,
        location=toronto,
        agent=booking_agent,
        seen_on=dt.date(2026, 11, 5),
        confirm=False,
    )
    other = make_insurer(finance_user, name="Other Assist")
    ready_case(insurer=other, location=toronto, agent=booking_agent, seen_on=dt.date(2026, 11, 5))

    run = invoice_draft_statement(
        insurer=insurer, month=dt.date(2026, 11, 17), actor=act(finance_user)
    )

    assert len(run.invoices) == 1
    statement = run.invoices[0]
    assert statement.statement_month == dt.date(2026, 11, 1)
    quotes = {c.pk: quote_current(case=c) for c in november}
    lines = list(statement.lines.all())
    assert sorted(line.case_id for line in lines) == sorted(c.pk for c in november)
    assert all(line.amount == quotes[line.case_id].subtotal for line in lines)
    assert statement.subtotal == sum(line.amount for line in lines) == D("840.00")
    taxes = list(statement.taxes.all())
    assert [(t.name, t.rate) for t in taxes] == [("HST", D("0.13000"))]
    assert taxes[0].amount == sum(q.taxes.get().amount for q in quotes.values())
    assert statement.total == sum(q.confirmed_total for q in quotes.values())
    assert statement.total == statement.subtotal + statement.tax_total
    assert [(c.pk, e.code) for c, e in run.left_out] == [
        (unconfirmed.pk, "invoice_quote_not_confirmed")
    ]
    assert "X-ray" in next(line.description for line in lines if line.case_id == two_services.pk)

    # Issued, each case's revenue is its own ledger row.
    issued = invoice_issue(
        invoice=statement, actor=act(finance_user), issue_date=dt.date(2026, 12, 1)
    )
    revenue = LedgerEntry.objects.filter(journal__invoice=issued, account="revenue")
    assert sorted(revenue.values_list("case_id", flat=True)) == sorted(c.pk for c in november)
    assert BookingEvent.objects.filter(kind="invoice_issued").count() == 3

    with pytest.raises(DomainError) as again:
        invoice_draft_statement(
            insurer=insurer, month=dt.date(2026, 11, 1), actor=act(finance_user)
        )
    assert again.value.code == "statement_nothing_to_invoice"


def test_a_statement_shows_one_rate_per_tax_so_two_places_of_supply_make_two(
    insurer, toronto, booking_agent, finance_user
):
    ontario = ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, seen_on=dt.date(2026, 11, 2)
    )
    from medworks.billing import services as finance_settings

    finance_settings.insurer_pricing_update(
        actor=act(finance_user), insurer=insurer, data={"place_of_supply": "QC"}
    )
    quebec = ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, seen_on=dt.date(2026, 11, 9)
    )

    run = invoice_draft_statement(
        insurer=insurer, month=dt.date(2026, 11, 1), actor=act(finance_user)
    )

    by_place = {i.place_of_supply: i for i in run.invoices}
    assert set(by_place) == {"ON", "QC"}
    assert [line.case_id for line in by_place["ON"].lines.all()] == [ontario.pk]
    assert [line.case_id for line in by_place["QC"].lines.all()] == [quebec.pk]
    assert [t.name for t in by_place["QC"].taxes.all()] == ["GST", "QST"]
    assert by_place["QC"].total == quote_current(case=quebec).confirmed_total


# --- What the PDF says -------------------------------------------------------------------------


def test_the_particulars_the_law_asks_grow_with_the_amount_tax_included():
    def required(total, place="ON"):
        return invoice_required_fields(total=D(total), place_of_supply=place)

    assert required("99.99") == {"seller_name", "issue_date", "total"}
    assert required("100.00") == {"seller_name", "issue_date", "total", "gst_hst_number", "tax"}
    assert required("499.99") == required("100.00")
    assert required("500.00") == required("100.00") | {"buyer_name", "description", "terms"}
    assert required("20.00", "QC") == required("20.00") | {"qst_number"}


def _flat_rate_insurer(finance_user, **extra):
    """Zero-rated and without markup: the total is the clinic's price to the cent."""
    return make_insurer(finance_user, tax_treatment="zero_rated", markup_percent="0", **extra)


@pytest.mark.parametrize("total", ["99.99", "100.00", "500.00"])
def test_the_pdf_carries_what_the_law_asks_at_each_amount(
    total, finance_user, booking_agent, settings
):
    insurer = _flat_rate_insurer(finance_user, name="Prairie Assist")
    location = clinic(prices={"XRAY": total})
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    assert invoice.total == D(total)

    text = pdf_text(invoice, finance_user)
    required = invoice_required_fields(total=invoice.total, place_of_supply="ON")
    printed = {
        "seller_name": settings.MEDWORKS_LEGAL_NAME,
        "issue_date": "Nov. 20, 2026",
        "total": f"${total}",
        "gst_hst_number": f"GST/HST registration number: {settings.MEDWORKS_GST_HST_NUMBER}",
        "tax": "No sales tax charged",
        "buyer_name": "Prairie Assist",
        "description": f"X-ray: case {case.order_id}",
        "terms": "Net 30 days: payable by Dec. 20, 2026.",
    }
    for name in required:
        assert printed[name] in text, name
    assert "Invoice INV-2026-000001" in text
    assert "QST" not in text  # Ontario


@pytest.mark.parametrize(("total", "issued"), [("99.99", True), ("100.00", False)])
def test_without_a_gst_hst_number_only_an_invoice_under_100_dollars_is_issued(
    total, issued, finance_user, booking_agent, settings
):
    settings.MEDWORKS_GST_HST_NUMBER = ""
    insurer = _flat_rate_insurer(finance_user)
    case = ready_case(insurer=insurer, location=clinic(prices={"XRAY": total}), agent=booking_agent)
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    if issued:
        invoice = invoice_issue(invoice=draft, actor=act(finance_user))
        assert "registration number" not in pdf_text(invoice, finance_user)
        return
    with pytest.raises(DomainError) as refused:
        invoice_issue(invoice=draft, actor=act(finance_user))
    assert refused.value.code == "invoice_particulars_missing"
    assert list(refused.value.fields) == ["gst_hst_number"]
    assert not InvoiceSequence.objects.filter(next_number__gt=1).exists()


def test_a_quebec_invoice_shows_the_qst_number_and_both_taxes(
    finance_user, toronto, booking_agent, settings
):
    insurer = make_insurer(finance_user, name="Assurance Laurentide", place_of_supply="QC")
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    invoice = issued_invoice(case=case, finance_user=finance_user)
    # $120 + $60 fee = $180; GST 5% $9.00, QST 9.975% $17.96.
    assert [(t.name, t.amount) for t in invoice.taxes.all()] == [
        ("GST", D("9.00")),
        ("QST", D("17.96")),
    ]
    assert invoice.seller_qst_number == settings.MEDWORKS_QST_NUMBER
    text = pdf_text(invoice, finance_user)
    assert f"QST registration number: {settings.MEDWORKS_QST_NUMBER}" in text
    assert f"GST/HST registration number: {settings.MEDWORKS_GST_HST_NUMBER}" in text
    assert "GST (5%)" in text and "QST (9.975%)" in text and "$206.96" in text
    qst = LedgerEntry.objects.get(journal__invoice=invoice, tax_name="QST")
    assert (qst.account_code, qst.credit) == ("2210", D("17.96"))


def test_a_quebec_invoice_needs_the_qst_number_whatever_its_amount(
    finance_user, booking_agent, settings
):
    settings.MEDWORKS_QST_NUMBER = ""
    insurer = _flat_rate_insurer(finance_user, place_of_supply="QC")
    case = ready_case(
        insurer=insurer, location=clinic(prices={"XRAY": "20.00"}), agent=booking_agent
    )
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    with pytest.raises(DomainError) as refused:
        invoice_issue(invoice=draft, actor=act(finance_user))
    assert list(refused.value.fields) == ["qst_number"]


def test_a_french_insurer_gets_its_invoice_in_french(finance_user, toronto, booking_agent):
    insurer = make_insurer(finance_user, name="Assistance Boréale", language="fr")
    case = ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, services=("XRAY", "ULTRASOUND")
    )
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    assert invoice.language == "fr"
    text = pdf_text(invoice, finance_user)
    for words in (
        "Facture INV-2026-000001",
        "Numéro d'inscription à la TPS/TVH",
        "Facturer à",
        "Assistance Boréale",
        "20 novembre 2026",
        "TVH (13 %)",
        "542,40 $",
        "Radiographie",
    ):
        assert money_text(words) in text, words
    assert "Invoice" not in text and "Bill to" not in text


def test_the_pdf_is_for_finance_and_the_invoices_insurer_only(case, finance_user, booking_agent):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    insurer_person = factories.make_user(roles=["insurer_user"], organisation=case.insurer)
    stranger = factories.make_user(roles=["insurer_user"])
    assert invoice_pdf_bytes(invoice=invoice, actor=act(insurer_person)).startswith(b"%PDF")
    for nobody in (stranger, booking_agent):
        with pytest.raises(NotFound):
            invoice_pdf_bytes(invoice=invoice, actor=act(nobody))
    stored = invoice.pdf
    assert stored.filename == "INV-2026-000001.pdf"
    assert not bytes(stored.sealed).startswith(b"%PDF")  # sealed at rest


# --- Credit notes ------------------------------------------------------------------------------


def test_a_credit_note_reverses_the_invoice_exactly_and_voids_it(case, finance_user):
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    note = credit_note_issue(
        invoice=invoice, actor=act(finance_user), reason="Billed the wrong service."
    )

    assert note.kind == InvoiceKind.CREDIT_NOTE and note.credits_id == invoice.pk
    assert note.display_number == "CN-2026-000001" and note.status == S.ISSUED
    assert [(line.case_id, line.description, line.amount) for line in note.lines.all()] == [
        (line.case_id, line.description, line.amount) for line in invoice.lines.all()
    ]
    assert [(t.name, t.rate, t.amount) for t in note.taxes.all()] == [
        (t.name, t.rate, t.amount) for t in invoice.taxes.all()
    ]
    assert (note.subtotal, note.tax_total, note.total) == (
        invoice.subtotal,
        invoice.tax_total,
        invoice.total,
    )
    invoice.refresh_from_db()
    assert invoice.status == S.VOIDED
    assert invoice_balance(invoice) == 0

    issued = [
        (e.account, e.debit, e.credit) for e in Journal.objects.get(invoice=invoice).entries.all()
    ]
    reversed_ = [
        (e.account, e.credit, e.debit) for e in Journal.objects.get(invoice=note).entries.all()
    ]
    assert reversed_ == issued  # the same rows, each on the other side
    assert set(
        LedgerEntry.objects.filter(journal__invoice=note).values_list("invoice", flat=True)
    ) == {invoice.pk}
    assert unbalanced_journals() == []
    labels = [entry.label for entry in insurer_timeline(case=case)]
    assert "Credit note issued" in labels and "Invoice cancelled by a credit note" in labels
    text = pdf_text(note, finance_user)
    for words in ("Credit note CN-2026-000001", "Credit note date", "Credits invoice"):
        assert words in text
    assert "INV-2026-000001 of Nov. 20, 2026" in text
    assert "Billed the wrong service." in text and "Total credited (CAD)" in text

    # The correction: a new invoice for the same case.
    again = issued_invoice(case=case, finance_user=finance_user)
    assert again.display_number == "INV-2026-000002"


def test_a_credit_note_needs_a_reason_without_a_card_number(case, finance_user):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    with pytest.raises(DomainError) as blank:
        credit_note_issue(invoice=invoice, actor=act(finance_user), reason=" ")
    assert blank.value.code == "note_required"
    with pytest.raises(DomainError) as card:
        credit_note_issue(
            invoice=invoice, actor=act(finance_user), reason="Refund to 4111 1111 1111 1111"
        )
    assert card.value.code == "card_number"
    invoice.refresh_from_db()
    assert invoice.status == S.ISSUED
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_an_invoice_paid_in_part_is_not_voided(case, finance_user):
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    payment_record(
        insurer=case.insurer,
        amount="100.00",
        received_on=dt.date(2026, 11, 25),
        method="eft",
        reference="EFT-1",
        actor=act(finance_user),
    )
    with pytest.raises(DomainError) as refused:
        credit_note_issue(invoice=invoice, actor=act(finance_user), reason="Wrong.")
    assert refused.value.code == "invoice_status_illegal"
    assert "partly paid" in refused.value.message
    from medworks.billing.invoices import invoices_mark_overdue

    assert invoices_mark_overdue(today=dt.date(2027, 1, 15)) == 1
    with pytest.raises(DomainError) as overdue:
        credit_note_issue(invoice=invoice, actor=act(finance_user), reason="Wrong.")
    assert overdue.value.code == "invoice_paid_in_part"
    invoice.refresh_from_db()
    assert invoice.status == S.OVERDUE


def test_a_credit_note_is_not_credited_again(case, finance_user):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    note = credit_note_issue(invoice=invoice, actor=act(finance_user), reason="Duplicate.")
    with pytest.raises(DomainError) as refused:
        credit_note_issue(invoice=note, actor=act(finance_user), reason="Again.")
    assert refused.value.code == "credit_note_of_credit_note"
    with pytest.raises(DomainError) as voided:
        credit_note_issue(invoice=invoice, actor=act(finance_user), reason="Again.")
    assert voided.value.code == "invoice_status_illegal"
