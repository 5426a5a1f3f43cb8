"""The insurer portal's invoices: its issued invoices and credit notes (never a draft), newest
first with status and balance; one invoice with its lines, taxes and the payments received;
its PDF, each download recorded. Another insurer's invoice is 404."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from medworks.billing.invoices import invoice_draft_for_case, payment_record
from medworks.core.models import AuditEvent
from tests.billing.invoicing import clinic, issued_invoice, ready_case
from tests.factories import act
from tests.test_translations import _english_words

pytestmark = pytest.mark.django_db

NOV_10, NOV_20, NOV_25 = dt.date(2026, 11, 10), dt.date(2026, 11, 20), dt.date(2026, 11, 25)


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $180.00 + HST $23.40 = $203.40 an invoice


@pytest.fixture
def invoices(insurer_user, toronto, booking_agent, finance_user):
    """Maple Assist's two issued invoices (Nov. 10 and Nov. 20), the older partly paid, and a
    draft of a third case."""
    insurer = insurer_user.organisation
    older_case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    newer_case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    draft_case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    older = issued_invoice(case=older_case, finance_user=finance_user, issue_date=NOV_10)
    newer = issued_invoice(case=newer_case, finance_user=finance_user, issue_date=NOV_20)
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
    return {"older": older, "newer": newer, "draft": draft, "older_case": older_case}


def _page(client, name, *args) -> str:
    response = client.get(reverse(f"web:{name}", args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_the_insurer_lists_its_issued_invoices_newest_first_with_their_balance(
    client, insurer_user, invoices
):
    client.force_login(insurer_user)
    page = _page(client, "portal_invoices")
    older, newer = invoices["older"].display_number, invoices["newer"].display_number
    assert newer in page and older in page
    assert page.index(newer) < page.index(older)
    assert "Partly paid" in page and "Issued" in page
    assert "$203.40" in page and "$103.40" in page
    assert reverse("web:portal_invoice", args=[invoices["draft"].pk]) not in page


def test_the_list_takes_as_many_queries_for_one_more_invoice(
    client, insurer_user, invoices, toronto, booking_agent, finance_user
):
    client.force_login(insurer_user)
    with CaptureQueriesContext(connection) as before:
        _page(client, "portal_invoices")
    case = ready_case(insurer=insurer_user.organisation, location=toronto, agent=booking_agent)
    issued_invoice(case=case, finance_user=finance_user)
    with CaptureQueriesContext(connection) as after:
        _page(client, "portal_invoices")
    assert len(after) == len(before)


def test_the_invoice_shows_its_lines_taxes_balance_and_the_payment_received(
    client, insurer_user, invoices
):
    client.force_login(insurer_user)
    page = _page(client, "portal_invoice", invoices["older"].pk)
    case = invoices["older_case"]
    assert reverse("web:portal_request", args=[case.order_id]) in page
    assert "$180.00" in page and "$23.40" in page and "$203.40" in page
    assert "HST" in page and "13%" in page
    assert "$103.40" in page
    assert "Electronic funds transfer" in page and "TRACE-778" in page and "$100.00" in page
    assert reverse("web:portal_invoice_pdf", args=[invoices["older"].pk]) in page


def test_the_pdf_downloads_names_the_insurer_and_the_download_is_recorded(
    client, insurer_user, invoices
):
    client.force_login(insurer_user)
    invoice = invoices["older"]
    response = client.get(reverse("web:portal_invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{invoice.display_number}.pdf" in response["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Maple Assist" in text
    event = AuditEvent.objects.get(action="invoice.pdf_downloaded")
    assert event.actor == insurer_user
    assert event.object_id == str(invoice.pk)
    assert event.payload["origin"] == "portal"


def test_a_draft_is_never_shown(client, insurer_user, invoices):
    client.force_login(insurer_user)
    draft = invoices["draft"]
    assert client.get(reverse("web:portal_invoice", args=[draft.pk])).status_code == 404
    assert client.get(reverse("web:portal_invoice_pdf", args=[draft.pk])).status_code == 404


def test_another_insurer_gets_404_and_nothing_is_recorded(client, other_insurer_user, invoices):
    client.force_login(other_insurer_user)
    invoice = invoices["older"]
    before = AuditEvent.objects.count()
    assert client.get(reverse("web:portal_invoice", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("web:portal_invoice_pdf", args=[invoice.pk])).status_code == 404
    assert AuditEvent.objects.count() == before
    assert invoice.display_number not in _page(client, "portal_invoices")


def test_the_insurers_credit_is_shown_beside_its_invoices(
    client, insurer_user, invoices, finance_user
):
    payment_record(
        insurer=insurer_user.organisation,
        amount=Decimal("250.00"),
        received_on=NOV_25,
        method="cheque",
        reference="CHQ-1",
        allocations=[invoices["newer"]],
        actor=act(finance_user),
    )
    client.force_login(insurer_user)
    page = _page(client, "portal_invoices")
    assert "Your credit with MedWorks" in page and "$46.60" in page


def test_the_case_page_shows_its_invoice_and_balance(client, insurer_user, invoices):
    client.force_login(insurer_user)
    page = _page(client, "portal_request", invoices["older_case"].order_id)
    assert invoices["older"].display_number in page
    assert reverse("web:portal_invoice", args=[invoices["older"].pk]) in page
    assert "Balance: $103.40" in page


def test_the_portal_links_to_the_invoices(client, insurer_user):
    client.force_login(insurer_user)
    assert reverse("web:portal_invoices") in _page(client, "portal_home")


def test_the_invoices_read_in_french(client, insurer_user, invoices):
    client.cookies["django_language"] = "fr"
    client.force_login(insurer_user)
    for name, args in (("portal_invoices", []), ("portal_invoice", [invoices["older"].pk])):
        response = client.get(reverse(f"web:{name}", args=args))
        assert response.status_code == 200, name
        assert response["Content-Language"] == "fr"
        page = response.content.decode()
        assert _english_words(page, allowed=set()) == {}, name
        assert "Payée en partie" in page and "103,40" in page
    assert "Virement électronique de fonds" in page
    # The case page's invoice line (the case's own data, typed in English here, is not checked).
    case_page = _page(client, "portal_request", invoices["older_case"].order_id)
    [section] = re.findall(r'(?s)<section[^>]*data-testid="case-invoice".*?</section>', case_page)
    assert _english_words(section, allowed=set()) == {}
    assert "Solde : " in section


# --- The statement of account ----------------------------------------------------------------


def test_the_insurer_downloads_its_own_statement_of_account_from_its_invoices(
    client, insurer_user, other_insurer_user, invoices, toronto, booking_agent, finance_user
):
    theirs = issued_invoice(
        case=ready_case(
            insurer=other_insurer_user.organisation, location=toronto, agent=booking_agent
        ),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    client.force_login(insurer_user)
    page = _page(client, "portal_invoices")
    assert f'href="{reverse("web:portal_statement_pdf")}"' in page

    response = client.get(reverse("web:portal_statement_pdf"), {"as_of": "2026-11-30"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "statement-" in response["Content-Disposition"]
    text = " ".join(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "Statement of account" in text and "Maple Assist" in text
    assert invoices["older"].display_number in text and invoices["newer"].display_number in text
    assert "$100.00 $103.40" in text  # the part payment on the older one
    assert "Total owed $306.80" in text
    assert theirs.display_number not in text
    event = AuditEvent.objects.get(action="statement.pdf_downloaded")
    assert (event.actor, event.payload["origin"]) == (insurer_user, "portal")
    # Another insurer's user gets its own statement, never Maple's.
    client.force_login(other_insurer_user)
    other = client.get(reverse("web:portal_statement_pdf"))
    other_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(other.content)).pages)
    assert theirs.display_number in other_text
    assert invoices["older"].display_number not in other_text


def test_a_bad_statement_date_is_400(client, insurer_user):
    client.force_login(insurer_user)
    for value in ("soon", "2999-01-01"):
        response = client.get(reverse("web:portal_statement_pdf"), {"as_of": value})
        assert response.status_code == 400, value
    assert not AuditEvent.objects.filter(action="statement.pdf_downloaded").exists()


# --- Who may open what ------------------------------------------------------------------------

INVOICE_ROUTES = ["portal_invoices", "portal_invoice", "portal_invoice_pdf", "portal_statement_pdf"]


def _url(name, invoice):
    if name in {"portal_invoices", "portal_statement_pdf"}:
        return reverse(f"web:{name}")
    return reverse(f"web:{name}", args=[invoice.pk])


@pytest.mark.parametrize("persona", ["booking_agent", "finance_user", "clinic_user", "outsider"])
@pytest.mark.parametrize("name", INVOICE_ROUTES)
def test_only_insurer_users_get_into_the_portals_invoices(client, request, invoices, persona, name):
    client.force_login(request.getfixturevalue(persona))
    before = AuditEvent.objects.count()
    assert client.get(_url(name, invoices["older"])).status_code == 403
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", INVOICE_ROUTES)
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_invoices(client, invoices, name):
    response = client.get(_url(name, invoices["older"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")
