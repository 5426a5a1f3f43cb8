"""The insurer's invoices through the API: its issued invoices and credit notes (never a
draft), filtered by status and issue date, one with its lines, taxes, totals and payments as
decimal strings, and its PDF (recorded). Another insurer's number is 404; no key is 401."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from medworks.billing.invoices import credit_note_issue, invoice_draft_for_case, payment_record
from medworks.core.models import AuditEvent
from tests.billing.invoicing import clinic, issued_invoice, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

NOV_10, NOV_20, NOV_25 = dt.date(2026, 11, 10), dt.date(2026, 11, 20), dt.date(2026, 11, 25)


@pytest.fixture
def invoices(insurer_key, booking_agent, finance_user):
    """Maple Assist's invoices of Nov. 10 (partly paid) and Nov. 20, a credit note of Nov. 25
    voiding a third one issued that day, and a draft."""
    insurer = insurer_key.organisation
    toronto = clinic(prices={"XRAY": "120.00"})  # $180.00 + HST $23.40 = $203.40

    def case():
        return ready_case(insurer=insurer, location=toronto, agent=booking_agent)

    older_case, newer_case, voided_case, draft_case = case(), case(), case(), case()
    older = issued_invoice(case=older_case, finance_user=finance_user, issue_date=NOV_10)
    newer = issued_invoice(case=newer_case, finance_user=finance_user, issue_date=NOV_20)
    voided = issued_invoice(case=voided_case, finance_user=finance_user, issue_date=NOV_25)
    credit_note = credit_note_issue(
        invoice=voided, actor=act(finance_user), reason="Billed twice.", issue_date=NOV_25
    )
    draft = invoice_draft_for_case(case=draft_case, actor=act(finance_user))
    payment_record(
        insurer=insurer,
        amount=Decimal("100.00"),
        received_on=NOV_25,
        method="eft",
        reference="TRACE-778",
        allocations=[older],
        actor=act(finance_user),
    )
    return {
        "older": older,
        "newer": newer,
        "voided": voided,
        "credit_note": credit_note,
        "draft": draft,
        "older_case": older_case,
    }


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_the_list_is_the_insurers_issued_invoices_and_credit_notes_newest_first(
    api, insurer_key, invoices
):
    response = api("get", "/api/v1/invoices", key=insurer_key.secret)
    body = response.json()
    older, newer = invoices["older"].display_number, invoices["newer"].display_number
    numbers = _numbers(response)
    assert numbers[-2:] == [newer, older]
    assert set(numbers[:2]) == {
        invoices["voided"].display_number,
        invoices["credit_note"].display_number,
    }
    assert body["count"] == 4 and body["page"] == 1 and body["pages"] == 1
    assert body["credit"] == "0.00"
    row = body["results"][-1]
    assert row["status"] == "partly_paid" and row["status_label"] == "Partly paid"
    assert row["total"] == "203.40" and row["balance"] == "103.40"
    assert row["links"]["pdf"] == f"/api/v1/invoices/{older}/pdf"


def test_the_list_filters_by_status_and_issue_date(api, insurer_key, invoices):
    key = insurer_key.secret
    get = lambda **params: _numbers(api("get", "/api/v1/invoices", key=key, **params))  # noqa: E731
    assert get(status="partly_paid") == [invoices["older"].display_number]
    assert get(status="voided") == [invoices["voided"].display_number]
    assert get(issued_from="2026-11-15", issued_to="2026-11-21") == [
        invoices["newer"].display_number
    ]
    assert get(issued_to="2026-11-10") == [invoices["older"].display_number]
    assert get(page=2) == []


def test_a_filter_that_is_no_date_or_status_is_refused(api, insurer_key, invoices):
    for params in ({"issued_from": "0"}, {"issued_to": "2026-13-01"}, {"status": "draft"}):
        response = api("get", "/api/v1/invoices", key=insurer_key.secret, **params)
        assert response.status_code == 422, params
        assert response.json()["code"] == "invalid_input"


def test_the_detail_has_its_lines_taxes_totals_and_payments_as_decimal_strings(
    api, insurer_key, invoices
):
    number = invoices["older"].display_number
    body = api("get", f"/api/v1/invoices/{number}", key=insurer_key.secret).json()
    assert body["number"] == number and body["kind"] == "invoice"
    assert body["issue_date"] == "2026-11-10" and body["due_date"] == "2026-12-10"
    assert body["lines"] == [
        {
            "order_id": invoices["older_case"].order_id,
            "service": "XRAY",
            "description": body["lines"][0]["description"],
            "amount": "180.00",
        }
    ]
    [tax] = body["taxes"]
    assert (tax["name"], tax["amount"]) == ("HST", "23.40")
    assert Decimal(tax["rate"]) == Decimal("0.13")
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("180.00", "23.40", "203.40")
    assert body["balance"] == "103.40" and body["status"] == "partly_paid"
    [payment] = body["payments"]
    assert payment["amount"] == "100.00" and payment["method"] == "eft"
    assert payment["reference"] == "TRACE-778" and payment["applied_on"] == "2026-11-25"


def test_a_credit_note_names_the_invoice_it_credits(api, insurer_key, invoices):
    number = invoices["credit_note"].display_number
    body = api("get", f"/api/v1/invoices/{number}", key=insurer_key.secret).json()
    assert body["kind"] == "credit_note"
    assert body["credits"] == invoices["voided"].display_number
    assert body["reason"] == "Billed twice." and body["balance"] == "0.00"


def test_the_pdf_is_the_invoice_as_issued_and_its_download_is_recorded(api, insurer_key, invoices):
    number = invoices["older"].display_number
    response = api("get", f"/api/v1/invoices/{number}/pdf", key=insurer_key.secret)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Maple Assist" in text
    event = AuditEvent.objects.get(action="invoice.pdf_downloaded")
    assert event.object_id == str(invoices["older"].pk)
    assert event.payload["origin"] == "api"
    assert event.actor_detail == insurer_key.key.prefix


def test_a_draft_is_never_listed(api, insurer_key, invoices):
    rows = api("get", "/api/v1/invoices", key=insurer_key.secret).json()["results"]
    assert len(rows) == 4
    assert all(row["number"] and row["status"] != "draft" for row in rows)


def test_another_insurer_gets_404_and_an_empty_list(api, other_insurer_key, invoices):
    number = invoices["older"].display_number
    key = other_insurer_key.secret
    for url in (f"/api/v1/invoices/{number}", f"/api/v1/invoices/{number}/pdf"):
        response = api("get", url, key=key)
        assert response.status_code == 404, url
        assert response.json()["code"] == "invoice_not_found"
    assert _numbers(api("get", "/api/v1/invoices", key=key)) == []
    assert not AuditEvent.objects.filter(action="invoice.pdf_downloaded").exists()


def test_without_a_key_it_is_401(api, invoices):
    number = invoices["older"].display_number
    for url in ("/api/v1/invoices", f"/api/v1/invoices/{number}", f"/api/v1/invoices/{number}/pdf"):
        response = api("get", url)
        assert response.status_code == 401, url
        assert response.json()["code"] == "not_authenticated"


def test_staff_sessions_are_refused_invoices_are_the_insurers(client, api, finance_user, invoices):
    client.force_login(finance_user)
    assert api("get", "/api/v1/invoices").status_code == 403
