"""Finance's invoicing pages: from a case ready for billing finance drafts the invoice, issues
it, downloads its PDF, credits it or records the insurer's payment, and the case's invoice
panel shows what is left to pay. Every member of staff reads the invoices and the
receivables; only finance acts; an insurer has no access to the back office's pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from medworks.billing.invoices import invoice_draft_for_case
from medworks.billing.models import Invoice, InvoiceKind, InvoiceStatus, PaymentReceived
from medworks.billing.receivables import invoice_balance
from medworks.core.models import AuditEvent
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
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
FINANCE = {"finance_user"}

# The route x persona table of the invoicing pages (tests/web/test_permissions.py reads its
# names): url name -> {method: personas allowed}. The target: "invoice", "case" or none.
INVOICE_ROUTES = {
    "invoice_list": (None, {"get": STAFF_READERS}),
    "invoice_detail": ("invoice", {"get": STAFF_READERS}),
    "invoice_pdf_download": ("invoice", {"get": FINANCE}),
    "invoice_issue": ("draft", {"post": FINANCE}),
    "invoice_credit": ("invoice", {"post": FINANCE}),
    "invoice_discard": ("draft", {"post": FINANCE}),
    "invoice_draft_for_case": ("case", {"post": FINANCE}),
    "invoice_draft_statement": (None, {"get": FINANCE, "post": FINANCE}),
    "payment_record": (None, {"get": FINANCE, "post": FINANCE}),
    "receivables": (None, {"get": STAFF_READERS}),
    "receivables_statement_pdf": ("insurer", {"get": FINANCE}),
    "ledger_journal_csv": (None, {"get": FINANCE}),
}


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist Insurance")


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # with the 50% fee, $180.00; HST 13%: $203.40


@pytest.fixture
def case(insurer, toronto, booking_agent):
    return ready_case(insurer=insurer, location=toronto, agent=booking_agent)


def case_url(case):
    return reverse("web:staff_booking_detail", args=[case.order_id])


def detail_url(invoice):
    return reverse("web:invoice_detail", args=[invoice.pk])


def text_of(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", response.content.decode())


# --- Who gets in --------------------------------------------------------------------------------


@pytest.fixture
def targets(insurer, toronto, booking_agent, finance_user):
    issued = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
    )
    draft = invoice_draft_for_case(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        actor=act(finance_user),
    )
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    return {"invoice": issued, "draft": draft, "case": case, "insurer": insurer}


def route_url(name, target, targets):
    if target is None:
        return reverse(f"web:{name}")
    obj = targets[target]
    return reverse(f"web:{name}", args=[obj.order_id if target == "case" else obj.pk])


def state() -> tuple:
    return (
        sorted(Invoice.objects.values_list("pk", "status")),
        PaymentReceived.objects.count(),
    )


CASES = [
    pytest.param(name, method, persona, persona in allowed, id=f"{method}-{name}-{persona}")
    for name, (_target, methods) in INVOICE_ROUTES.items()
    for method, allowed in methods.items()
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "method", "persona", "allowed"), CASES)
def test_each_invoicing_route_admits_only_the_roles_that_hold_its_capability(
    client, request, targets, name, method, persona, allowed
):
    client.force_login(request.getfixturevalue(persona))
    url = route_url(name, INVOICE_ROUTES[name][0], targets)
    before = state()

    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested below
        response = client.post(url, {"credit-reason": "Wrong", "discard-note": "Wrong"})
    else:
        response = client.get(url)

    if allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        assert state() == before


@pytest.mark.parametrize("name", list(INVOICE_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_invoicing_pages(client, targets, name):
    target, methods = INVOICE_ROUTES[name]
    method = next(iter(methods))
    response = getattr(client, method)(route_url(name, target, targets))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


# --- The flow -----------------------------------------------------------------------------------


def test_finance_drafts_issues_downloads_and_is_paid_and_the_case_shows_balance_zero(
    client, finance_user, case, insurer
):
    client.force_login(finance_user)
    page = client.get(case_url(case))
    assert b'data-testid="invoice-draft"' in page.content

    drafted = client.post(reverse("web:invoice_draft_for_case", args=[case.order_id]))
    invoice = Invoice.objects.get(lines__case=case)
    assert drafted["Location"] == detail_url(invoice)
    assert invoice.status == InvoiceStatus.DRAFT
    detail = client.get(detail_url(invoice))
    assert b'data-testid="invoice-issue"' in detail.content
    assert b'data-testid="invoice-discard"' in detail.content
    assert case.order_id in text_of(detail)

    client.post(reverse("web:invoice_issue", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    year = timezone.localdate().year
    assert invoice.display_number == f"INV-{year}-000001"
    detail = text_of(client.get(detail_url(invoice)))
    assert f"Invoice INV-{year}-000001" in detail
    assert "$203.40" in detail
    assert f"INV-{year}-000001" in text_of(client.get(reverse("web:invoice_list")))

    pdf = client.get(reverse("web:invoice_pdf_download", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert f'filename="INV-{year}-000001.pdf"' in pdf["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"INV-{year}-000001" in text
    assert AuditEvent.objects.filter(action="invoice.pdf_downloaded").count() == 1

    paid = client.post(
        reverse("web:payment_record"),
        {
            "insurer": insurer.pk,
            "amount": "203.40",
            "received_on": timezone.localdate().isoformat(),
            "method": "eft",
            "reference": "EFT-7781",
        },
    )
    assert paid.status_code == 302
    result = text_of(client.get(paid["Location"]))
    assert f"INV-{year}-000001" in result
    assert "Left over from this payment: $0.00" in result
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice_balance(invoice) == 0

    panel = client.get(case_url(case)).content.decode()
    panel = panel.split('data-testid="invoice-panel"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="case-invoice-balance">$0.00<' in panel
    assert "invoice-draft" not in panel


def test_a_credit_note_voids_the_invoice_and_needs_a_reason(client, finance_user, case):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    client.force_login(finance_user)
    url = reverse("web:invoice_credit", args=[invoice.pk])

    refused = client.post(url, {"credit-reason": ""})
    assert refused.status_code == 422
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED

    client.post(url, {"credit-reason": "Billed the wrong service."})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOIDED
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE, credits=invoice)
    detail = text_of(client.get(detail_url(invoice)))
    assert note.display_number in detail
    assert "Billed the wrong service." in detail
    # The case is free again: its panel offers a new draft.
    assert b'data-testid="invoice-draft"' in client.get(case_url(case)).content


def test_a_draft_is_discarded_with_a_note(client, finance_user, case):
    draft = invoice_draft_for_case(case=case, actor=act(finance_user))
    client.force_login(finance_user)
    assert client.post(reverse("web:invoice_discard", args=[draft.pk]), {}).status_code == 422
    client.post(reverse("web:invoice_discard", args=[draft.pk]), {"discard-note": "Duplicate."})
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.VOIDED


def test_a_booking_agent_reads_the_invoices_without_any_action(
    client, booking_agent, finance_user, case
):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    client.force_login(booking_agent)

    detail = client.get(detail_url(invoice)).content.decode()
    assert invoice.display_number in detail
    assert "invoice-credit" not in detail
    assert "invoice-pdf" not in detail
    listing = client.get(reverse("web:invoice_list")).content.decode()
    assert invoice.display_number in listing
    assert client.post(reverse("web:invoice_credit", args=[invoice.pk]), {}).status_code == 403
    assert client.post(reverse("web:payment_record"), {}).status_code == 403
    panel = client.get(case_url(case)).content.decode()
    assert "invoice-panel" in panel and "invoice-draft" not in panel


def test_an_insurer_has_no_access_to_finance_pages(client, insurer_user, finance_user, case):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    client.force_login(insurer_user)
    for url in (reverse("web:invoice_list"), detail_url(invoice), reverse("web:receivables")):
        assert client.get(url).status_code == 403


def test_the_list_filters_by_insurer_and_status(
    client, finance_user, case, toronto, booking_agent, insurer
):
    issued = issued_invoice(case=case, finance_user=finance_user)
    other = make_insurer(finance_user, name="Harbour Assistance")
    draft = invoice_draft_for_case(
        case=ready_case(insurer=other, location=toronto, agent=booking_agent),
        actor=act(finance_user),
    )
    client.force_login(finance_user)
    url = reverse("web:invoice_list")

    by_insurer = client.get(url, {"insurer": insurer.pk}).content.decode()
    assert f'id="invoice-{issued.pk}"' in by_insurer
    assert f'id="invoice-{draft.pk}"' not in by_insurer
    drafts = client.get(url, {"status": "draft"}).content.decode()
    assert f'id="invoice-{draft.pk}"' in drafts
    assert f'id="invoice-{issued.pk}"' not in drafts


def test_the_statement_page_drafts_the_month_and_lists_the_cases_left_out(
    client, finance_user, insurer, toronto, booking_agent
):
    seen = dt.date(2026, 11, 10)
    ready_case(insurer=insurer, location=toronto, agent=booking_agent, seen_on=seen)
    left = ready_case(
        insurer=insurer, location=toronto, agent=booking_agent, seen_on=seen, confirm=False
    )
    client.force_login(finance_user)

    response = client.post(
        reverse("web:invoice_draft_statement"), {"insurer": insurer.pk, "month": "2026-11"}
    )

    assert response.status_code == 200
    page = text_of(response)
    assert Invoice.objects.filter(statement_month=dt.date(2026, 11, 1)).count() == 1
    assert left.order_id in page.split('data-testid="statement-left-out"', 1)[1]
    assert "has not confirmed the charges" in page


def test_the_receivables_page_ages_what_is_owed_and_the_journal_downloads(
    client, finance_user, case, insurer
):
    issued_invoice(case=case, finance_user=finance_user)
    client.force_login(finance_user)

    page = text_of(client.get(reverse("web:receivables")))
    assert insurer.name in page
    assert 'data-testid="receivables-owed">$203.40<' in page

    today = timezone.localdate().isoformat()
    response = client.get(reverse("web:ledger_journal_csv"), {"date_from": today, "date_to": today})
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["date", "journal", "account_code"]
    assert len(rows) == 4  # the header; Dr receivable, Cr revenue, Cr HST
    assert AuditEvent.objects.filter(action="ledger.journal_downloaded").count() == 1
    assert client.get(reverse("web:ledger_journal_csv"), {"date_from": "soon"}).status_code == 400


def test_finance_downloads_each_insurers_statement_of_account_from_the_receivables(
    client, finance_user, booking_agent, case, insurer
):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    url = reverse("web:receivables_statement_pdf", args=[insurer.pk])
    client.force_login(finance_user)

    page = client.get(reverse("web:receivables")).content.decode()
    row = page.split(f'id="insurer-{insurer.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="{url}"' in row

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert invoice.display_number in text
    assert "$203.40" in text
    event = AuditEvent.objects.get(action="statement.pdf_downloaded")
    assert (event.actor, event.payload["origin"]) == (finance_user, "back_office")
    assert client.get(url, {"as_of": "yesterday"}).status_code == 400
    # Every member of staff reads the receivables; the statements are finance's.
    client.force_login(booking_agent)
    page = client.get(reverse("web:receivables")).content.decode()
    assert insurer.name in page and 'data-testid="statement-pdf"' not in page
    assert client.get(url).status_code == 403


def test_a_statement_of_an_organisation_that_is_not_an_insurer_is_404(
    client, finance_user, clinic_user
):
    client.force_login(finance_user)
    url = reverse("web:receivables_statement_pdf", args=[clinic_user.organisation.pk])
    assert client.get(url).status_code == 404


def test_the_invoice_pages_read_in_french(client, finance_user, case):
    invoice = issued_invoice(case=case, finance_user=finance_user)
    finance_user.preferred_language = "fr"
    finance_user.save(update_fields=["preferred_language"])
    client.force_login(finance_user)
    client.cookies["django_language"] = "fr"

    detail = client.get(detail_url(invoice))
    assert detail["Content-Language"] == "fr"
    text = text_of(detail)
    assert "Télécharger" in text
    assert "203,40 $" in text
    listing = text_of(client.get(reverse("web:invoice_list")))
    assert "Factures" in listing
    assert "Comptes clients" in text_of(client.get(reverse("web:receivables")))


def test_the_invoice_list_costs_the_same_queries_whatever_the_count(
    client, finance_user, insurer, toronto, booking_agent
):
    def make(n):
        for _ in range(n):
            invoice_draft_for_case(
                case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
                actor=act(finance_user),
            )

    client.force_login(finance_user)
    make(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("web:invoice_list")).status_code == 200
    make(3)
    with CaptureQueriesContext(connection) as four:
        assert client.get(reverse("web:invoice_list")).status_code == 200
    assert len(four) == len(one)
