"""Each insurer's invoicing settings (finance's, beside its pricing): invoiced per case or by a
monthly statement, its payment terms, its billing email and the billing address printed on
its invoices; and `medworks draft-statements`, which drafts the month's statement of every
insurer invoiced monthly."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from medworks.billing.invoices import (
    invoice_draft_for_case,
    invoice_draft_statement,
    invoice_issue,
    invoices_mark_overdue,
)
from medworks.billing.models import Invoice, InvoiceStatus, InvoicingCycle
from medworks.billing.selectors import insurer_pricing_of
from medworks.billing.services import insurer_invoicing_update
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.notifications.models import OutboxMessage
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, pdf_text, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
NOV_20 = dt.date(2026, 11, 20)
MEDWORKS = Path(sys.executable).parent / "medworks"


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist")


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $180.00 with the fee, HST 13%: $203.40


@pytest.fixture
def case(insurer, toronto, booking_agent):
    return ready_case(insurer=insurer, location=toronto, agent=booking_agent)


def invoicing(finance_user, insurer, **data):
    return insurer_invoicing_update(actor=act(finance_user), insurer=insurer, data=data)


def emails(invoice, template):
    return list(
        OutboxMessage.objects.filter(
            template=template, related_type="billing.invoice", related_id=str(invoice.pk)
        )
    )


# --- The settings ------------------------------------------------------------------------------


def test_an_insurer_without_settings_is_invoiced_per_case_at_the_default_terms(insurer):
    pricing = insurer_pricing_of(insurer)
    assert pricing.invoicing == InvoicingCycle.PER_CASE
    assert pricing.payment_terms_days is None
    assert (pricing.billing_email, pricing.billing_address) == ("", "")


def test_finance_sets_the_invoicing_and_it_is_audited_with_old_and_new(finance_user, insurer):
    pricing = invoicing(
        finance_user,
        insurer,
        invoicing="monthly",
        payment_terms_days="45",
        billing_email="  AP@Maple.example ",
        billing_address="Maple Assist, Accounts payable\n\n  200 Bay Street \nToronto ON M5J 2J5",
    )

    assert pricing.invoicing == InvoicingCycle.MONTHLY
    assert pricing.payment_terms_days == 45
    assert pricing.billing_email == "ap@maple.example"
    assert pricing.billing_address == (
        "Maple Assist, Accounts payable\n200 Bay Street\nToronto ON M5J 2J5"
    )
    event = AuditEvent.objects.get(action="insurer_invoicing.updated")
    assert event.actor == finance_user
    assert event.payload["changes"]["invoicing"] == ["per_case", "monthly"]
    assert event.payload["changes"]["payment_terms_days"] == ["", "45"]

    # The same values again change nothing and write no audit row.
    invoicing(finance_user, insurer, invoicing="monthly", payment_terms_days=45)
    assert AuditEvent.objects.filter(action="insurer_invoicing.updated").count() == 1
    # Blank terms are the default again.
    assert invoicing(finance_user, insurer, payment_terms_days="").payment_terms_days is None


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"payment_terms_days": -1}, "payment_terms_days_invalid", "payment_terms_days"),
        ({"payment_terms_days": 366}, "payment_terms_days_invalid", "payment_terms_days"),
        ({"payment_terms_days": "30.5"}, "payment_terms_days_invalid", "payment_terms_days"),
        ({"payment_terms_days": True}, "payment_terms_days_invalid", "payment_terms_days"),
        ({"billing_email": "accounts at maple"}, "billing_email_invalid", "billing_email"),
        ({"billing_address": "x" * 501}, "billing_address_too_long", "billing_address"),
        ({"billing_address": "Card 4111 1111 1111 1111"}, "card_number", "billing_address"),
        ({"invoicing": "weekly"}, "invoicing_unknown", "invoicing"),
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_nothing_changes(
    finance_user, insurer, data, code, field
):
    with pytest.raises(DomainError) as refused:
        invoicing(finance_user, insurer, **data)

    assert refused.value.code == code
    assert field in refused.value.fields
    assert not AuditEvent.objects.filter(action="insurer_invoicing.updated").exists()
    assert insurer_pricing_of(insurer).pk is None  # no row written


def test_only_finance_changes_the_invoicing(booking_agent, coordinator, insurer):
    for person in (booking_agent, coordinator):
        with pytest.raises(PermissionDenied):
            invoicing(person, insurer, invoicing="monthly")
    assert insurer_pricing_of(insurer).invoicing == InvoicingCycle.PER_CASE


# --- Terms, address and recipients on the invoices ---------------------------------------------


def test_the_draft_takes_the_insurers_terms_else_the_setting(
    finance_user, insurer, toronto, booking_agent, settings
):
    settings.MEDWORKS_INVOICE_TERMS_DAYS = 30
    default = invoice_draft_for_case(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        actor=act(finance_user),
    )
    invoicing(finance_user, insurer, payment_terms_days=45)
    own = invoice_draft_for_case(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        actor=act(finance_user),
    )

    assert default.terms_days == 30
    assert own.terms_days == 45
    issued = invoice_issue(invoice=own, actor=act(finance_user), issue_date=NOV_20)
    assert issued.due_date == dt.date(2027, 1, 4)  # 45 days after 20 November
    assert "Net 45 days" in pdf_text(issued, finance_user)


def test_the_billing_address_is_printed_as_the_buyers_and_kept_as_issued(
    finance_user, insurer, case
):
    invoicing(finance_user, insurer, billing_address="Accounts payable\n200 Bay Street")

    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)

    assert invoice.buyer_address == "Accounts payable\n200 Bay Street"
    text = pdf_text(invoice, finance_user)
    bill_to = text.split("Bill to", 1)[1]
    assert bill_to.index("Maple Assist") < bill_to.index("Accounts payable")
    assert "200 Bay Street" in bill_to
    # A later change is not printed on what was issued.
    invoicing(finance_user, insurer, billing_address="1 New Road")
    invoice.refresh_from_db()
    assert invoice.buyer_address == "Accounts payable\n200 Bay Street"


def test_without_a_billing_address_the_invoice_shows_the_name_only(finance_user, case):
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    assert invoice.buyer_address == ""


def test_invoice_emails_go_to_the_billing_email_when_set(finance_user, insurer, case, toronto):
    invoicing(finance_user, insurer, billing_email="ap@maple.example")

    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    invoices_mark_overdue(today=dt.date(2026, 12, 21))

    (issued,) = emails(invoice, "invoice_issued")
    assert issued.to == ["ap@maple.example"]
    (overdue,) = emails(invoice, "invoice_overdue")
    assert overdue.to == ["ap@maple.example"]


def test_without_a_billing_email_the_case_contact_gets_the_invoice(finance_user, case):
    invoice = issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)
    (issued,) = emails(invoice, "invoice_issued")
    assert issued.to == [case.insurer_contact_email.lower()]


# --- Per case or monthly -----------------------------------------------------------------------


def test_an_insurer_invoiced_monthly_gets_no_invoice_of_one_case(finance_user, insurer, case):
    invoicing(finance_user, insurer, invoicing="monthly")

    with pytest.raises(DomainError) as refused:
        invoice_draft_for_case(case=case, actor=act(finance_user))

    assert refused.value.code == "invoice_insurer_invoiced_monthly"
    assert "monthly statement" in refused.value.message
    assert case.order_id in refused.value.message
    assert not Invoice.objects.exists()


def test_an_insurer_invoiced_monthly_is_billed_by_its_statement_at_its_terms(
    finance_user, insurer, toronto, booking_agent
):
    invoicing(finance_user, insurer, invoicing="monthly", payment_terms_days=15)
    ready_case(insurer=insurer, location=toronto, agent=booking_agent, seen_on=dt.date(2026, 11, 3))

    run = invoice_draft_statement(
        insurer=insurer, month=dt.date(2026, 11, 1), actor=act(finance_user)
    )

    (statement,) = run.invoices
    assert statement.terms_days == 15
    assert statement.total == D("203.40")


def test_the_case_page_says_the_case_goes_on_the_statement_instead_of_the_button(
    client, finance_user, insurer, case
):
    invoicing(finance_user, insurer, invoicing="monthly")
    client.force_login(finance_user)

    page = client.get(reverse("web:staff_booking_detail", args=[case.order_id])).content.decode()

    panel = page.split('data-testid="invoice-panel"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="invoice-draft"' not in panel
    assert 'data-testid="invoice-monthly"' in panel
    assert "is invoiced by a monthly statement" in panel
    assert reverse("web:invoice_draft_statement") in panel
    # Posted all the same (an old page), the refusal is the message, and no invoice.
    response = client.post(reverse("web:invoice_draft_for_case", args=[case.order_id]))
    assert response.status_code == 302
    followed = client.get(response["Location"]).content.decode()
    assert "is invoiced by a monthly statement" in followed
    assert not Invoice.objects.exists()


def test_a_per_case_insurers_panel_still_offers_the_draft(client, finance_user, case):
    client.force_login(finance_user)
    page = client.get(reverse("web:staff_booking_detail", args=[case.order_id])).content.decode()
    assert 'data-testid="invoice-draft"' in page
    assert 'data-testid="invoice-monthly"' not in page


def test_the_statements_page_names_the_insurers_invoiced_monthly(client, finance_user, insurer):
    client.force_login(finance_user)
    page = client.get(reverse("web:invoice_draft_statement")).content.decode()
    assert "No insurer is invoiced by monthly statement" in page

    invoicing(finance_user, insurer, invoicing="monthly")

    page = client.get(reverse("web:invoice_draft_statement")).content.decode()
    line = page.split('data-testid="monthly-insurers"', 1)[1].split("</p>", 1)[0]
    assert "Maple Assist" in line
    assert reverse("web:insurer_settings", args=[insurer.pk]) + "#invoicing" in line


# --- medworks draft-statements -----------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("draft_statements", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_drafts_the_month_of_every_insurer_invoiced_monthly_once(
    finance_user, insurer, toronto, booking_agent
):
    invoicing(finance_user, insurer, invoicing="monthly")
    birch = make_insurer(finance_user, name="Birch Cover")
    invoicing(finance_user, birch, invoicing="monthly")
    per_case = make_insurer(finance_user, name="Cedar Per Case")
    for who in (insurer, insurer, per_case):
        ready_case(insurer=who, location=toronto, agent=booking_agent, seen_on=NOV_20)
    ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, seen_on=NOV_20, confirm=False
    )

    out, err = run_command("--month", "2026-11")

    lines = out.strip().splitlines()
    assert err == ""
    assert len(lines) == 2  # one per insurer invoiced monthly, by name
    assert lines[0] == "Birch Cover: nothing to invoice."
    assert lines[1].startswith("Maple Assist: 1 statement drafted, $406.80")
    assert "1 case left out" in lines[1]
    (statement,) = Invoice.objects.filter(insurer=insurer)
    assert statement.status == InvoiceStatus.DRAFT
    assert statement.statement_month == dt.date(2026, 11, 1)
    assert f"draft {statement.pk}" in lines[1]
    assert not Invoice.objects.filter(insurer=per_case).exists()
    drafted = AuditEvent.objects.get(action="invoice.drafted", object_id=str(statement.pk))
    assert drafted.actor is None and drafted.actor_detail == "medworks draft-statements"

    again, _err = run_command("--month", "2026-11")

    assert Invoice.objects.filter(insurer=insurer).count() == 1
    assert again.splitlines() == [
        "Birch Cover: nothing to invoice.",
        "Maple Assist: nothing to invoice.",
    ]


@pytest.mark.parametrize(
    "args",
    [[], ["--month", "2026-13"], ["--month", "November"], ["--month", "2999-01"], ["--nope"]],
)
def test_bad_input_is_one_line_and_status_2(args):
    with pytest.raises(CommandError) as caught:
        run_command(*args)
    assert caught.value.returncode == 2
    assert len(str(caught.value).strip().splitlines()) == 1


def test_the_real_script_prints_one_line_on_stderr_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="medworks.settings")
    subprocess.run(
        [str(MEDWORKS), "migrate", "--noinput", "--skip-checks", "-v0"],
        env=env,
        check=True,
        timeout=120,
    )
    for args in (["--month", "2026/11"], ["--month"], []):
        bad = subprocess.run(
            [str(MEDWORKS), "draft-statements", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2, bad.stderr
        assert bad.stdout == ""
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert "--month" in bad.stderr
        assert "Traceback" not in bad.stderr
    good = subprocess.run(
        [str(MEDWORKS), "draft-statements", "--month", "2026-11"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "No insurer is invoiced by monthly statement."
