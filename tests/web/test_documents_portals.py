"""Paperwork in the portals: the insurer uploads a GOP with its details or another paper and
downloads its case's documents; the clinic retrieves the paperwork, acknowledges the GOP, and
sends back the signed documents (signer, date, attestation) and its invoice."""

from __future__ import annotations

from decimal import Decimal as D

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from medworks.documents.models import (
    Document,
    DocumentAccess,
    DocumentKind,
    DocumentVersion,
    Gop,
    GopStatus,
)
from tests.documents import samples
from tests.factories import act

from .documents_world import gop_post, upload


def portal_url(case) -> str:
    return reverse("web:portal_request", args=[case.order_id])


def clinic_url(case) -> str:
    return reverse("web:clinic_request", args=[case.order_id])


# --- Insurer ----------------------------------------------------------------------------------


def test_an_insurer_uploads_a_gop_with_its_details(client, insurer_user, booked_case):
    client.force_login(insurer_user)
    url = reverse("web:portal_document_new", args=[booked_case.order_id])

    form_page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "kind": DocumentKind.GOP,
            "file": upload(samples.pdf("GOP"), "guarantee.pdf"),
            **gop_post(booked_case, max_amount="$1,200.00"),
        },
    )

    assert booked_case.insurer_reference in form_page  # prefilled from the case
    assert response.status_code == 302 and response["Location"].endswith("#paperwork")
    gop = Gop.objects.get(request=booked_case)
    assert (gop.status, gop.max_amount, gop.created_by) == (GopStatus.ISSUED, 1200, insurer_user)
    assert gop.document.current.original_name == "guarantee.pdf"
    page = client.get(portal_url(booked_case)).content.decode()
    version = gop.document.current
    assert reverse("web:portal_document_download", args=[booked_case.order_id, version.pk]) in page


def test_an_insurer_form_needs_no_gop_details(client, insurer_user, booked_case):
    client.force_login(insurer_user)

    response = client.post(
        reverse("web:portal_document_new", args=[booked_case.order_id]),
        {"kind": DocumentKind.INSURER_FORM, "title": "Claim form", "file": upload(samples.docx())},
    )

    assert response.status_code == 302
    document = Document.objects.get(request=booked_case)
    assert (document.kind, document.title) == (DocumentKind.INSURER_FORM, "Claim form")
    assert not Gop.objects.exists()


def test_a_gop_without_dates_is_refused_field_by_field_with_the_input_kept(
    client, insurer_user, booked_case
):
    client.force_login(insurer_user)

    response = client.post(
        reverse("web:portal_document_new", args=[booked_case.order_id]),
        {
            "kind": DocumentKind.GOP,
            "file": upload(samples.pdf()),
            **gop_post(booked_case, valid_from="", valid_to="", billing_instructions="Fax us"),
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert page.split('for="id_valid_from"', 1)[1].split("</div>", 1)[0].count("required") >= 1
    assert "Fax us" in page
    assert not DocumentVersion.objects.exists()


def test_a_text_file_renamed_pdf_is_refused_on_the_file_field(client, insurer_user, booked_case):
    client.force_login(insurer_user)

    response = client.post(
        reverse("web:portal_document_new", args=[booked_case.order_id]),
        {
            "kind": DocumentKind.OTHER,
            "title": "Notes",
            "file": upload(b"just some text, not a PDF\n", "notes.pdf"),
        },
    )

    assert response.status_code == 400
    file_field = response.content.decode().split('for="id_file"', 1)[1].split("</div>", 1)[0]
    assert "This file is named .pdf but is not a PDF" in file_field
    assert not DocumentVersion.objects.exists()


def test_an_insurer_downloads_its_gop_but_never_sees_the_clinic_invoice(
    client, insurer_user, clinic_user, booked_case, issued_gop
):
    from medworks.documents.services import document_upload

    invoice = document_upload(
        case=booked_case,
        kind=DocumentKind.CLINIC_INVOICE,
        file=upload(samples.pdf("Invoice")),
        filename="invoice.pdf",
        actor=act(clinic_user),
    )
    client.force_login(insurer_user)

    page = client.get(portal_url(booked_case)).content.decode()
    gop_file = client.get(
        reverse(
            "web:portal_document_download",
            args=[booked_case.order_id, issued_gop.document.current.pk],
        )
    )
    invoice_file = client.get(
        reverse("web:portal_document_download", args=[booked_case.order_id, invoice.pk])
    )

    assert "invoice.pdf" not in page and "gop.pdf" in page
    assert gop_file.status_code == 200
    assert gop_file["Content-Disposition"].startswith("attachment;")
    assert invoice_file.status_code == 404
    assert DocumentAccess.objects.filter(actor=insurer_user).count() == 1


# --- Clinic -----------------------------------------------------------------------------------


def test_the_clinic_home_lists_the_paperwork_to_retrieve_and_acknowledges_the_gop(
    client, clinic_user, booked_case, issued_gop
):
    client.force_login(clinic_user)

    home = client.get(reverse("web:clinic_home")).content.decode()
    response = client.post(
        reverse("web:clinic_gop_acknowledge", args=[booked_case.order_id, issued_gop.pk]),
        {"next": "home"},
    )

    cell = home.split('data-testid="paperwork"', 1)[1].split("</td>", 1)[0]
    version = issued_gop.document.current
    assert reverse("web:clinic_document_download", args=[booked_case.order_id, version.pk]) in cell
    assert "Acknowledge GOP" in cell
    assert response["Location"] == reverse("web:clinic_home")
    issued_gop.refresh_from_db()
    assert issued_gop.status == GopStatus.ACKNOWLEDGED
    again = client.get(reverse("web:clinic_home")).content.decode()
    assert "Acknowledge GOP" not in again.split('data-testid="paperwork"', 1)[1].split("</td>")[0]


def test_the_clinic_uploads_signed_documents_and_staff_see_paperwork_complete(
    client, clinic_user, booking_agent, booked_case
):
    client.force_login(clinic_user)

    response = client.post(
        reverse("web:clinic_document_signed", args=[booked_case.order_id]),
        {
            "signed-file": upload(samples.pdf("Signed"), "signed forms.pdf"),
            "signed-signed_by": "Dr. Anne Roy",
            "signed-signed_on": timezone.localdate().isoformat(),
            "signed-attested": "on",
        },
    )

    assert response.status_code == 302 and response["Location"].endswith("#paperwork")
    version = DocumentVersion.objects.get(document__kind=DocumentKind.COMPLETED_FORM)
    assert (version.signed_by, version.attested) == ("Dr. Anne Roy", True)
    client.force_login(booking_agent)
    staff_page = client.get(reverse("web:staff_booking_detail", args=[booked_case.order_id]))
    assert "Paperwork complete" in staff_page.content.decode()


def test_signed_documents_without_the_attestation_are_refused_with_the_signer_kept(
    client, clinic_user, booked_case
):
    client.force_login(clinic_user)

    response = client.post(
        reverse("web:clinic_document_signed", args=[booked_case.order_id]),
        {
            "signed-file": upload(samples.pdf("Signed")),
            "signed-signed_by": "Dr. Anne Roy",
            "signed-signed_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Tick the attestation to upload signed documents." in page
    assert 'value="Dr. Anne Roy"' in page
    assert not DocumentVersion.objects.exists()


def test_a_signing_date_in_the_future_is_refused_on_its_field(client, clinic_user, booked_case):
    client.force_login(clinic_user)
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)

    response = client.post(
        reverse("web:clinic_document_signed", args=[booked_case.order_id]),
        {
            "signed-file": upload(samples.pdf("Signed")),
            "signed-signed_by": "Dr. Anne Roy",
            "signed-signed_on": tomorrow.isoformat(),
            "signed-attested": "on",
        },
    )

    assert response.status_code == 400
    field = response.content.decode().split('for="id_signed-signed_on"', 1)[1].split("</div>")[0]
    assert "The signing date cannot be in the future." in field


def _invoice_post(case, **change):
    service = case.services.get()
    data = {
        "invoice-file": upload(samples.pdf("Invoice INV-2041"), "invoice.pdf"),
        "invoice-number": "INV-2041",
        "invoice-invoice_date": timezone.localdate().isoformat(),
        "invoice-due_date": "",
        f"invoice-amount_{service.pk}": "95.00",
        "invoice-tax_total": "12.35",
        "invoice-total": "107.35",
    }
    data.update(change)
    return data


def test_the_clinic_sends_its_invoice_as_data_with_its_file(client, clinic_user, booked_case):
    from medworks.billing.models import ProviderInvoice
    from medworks.billing.payables import provider_invoice_flags

    client.force_login(clinic_user)
    page = client.get(clinic_url(booked_case)).content.decode()
    service = booked_case.services.get()
    # The amount starts at the clinic's own agreed price for the service.
    assert f'name="invoice-amount_{service.pk}"' in page and 'value="95.00"' in page

    response = client.post(
        reverse("web:clinic_document_invoice", args=[booked_case.order_id]),
        _invoice_post(booked_case),
    )

    assert response.status_code == 302
    invoice = ProviderInvoice.objects.get()
    assert (invoice.number, invoice.subtotal, invoice.tax_total, invoice.total) == (
        "INV-2041",
        95,
        D("12.35"),
        D("107.35"),
    )
    assert invoice.recorded_by_party == "clinic"
    line = invoice.lines.get()
    assert (line.case, line.service) == (booked_case, service)
    document = Document.objects.get(request=booked_case)
    assert (document.kind, document.title) == (DocumentKind.CLINIC_INVOICE, "Invoice INV-2041")
    assert "Invoice INV-2041" in client.get(clinic_url(booked_case)).content.decode()
    # Seen, not completed yet: finance is told.
    assert [flag.code for flag in provider_invoice_flags(invoice)] == ["not_completed"]


def test_the_clinic_is_told_what_is_wrong_with_its_invoice(client, clinic_user, booked_case):
    from medworks.billing.models import ProviderInvoice

    client.force_login(clinic_user)
    url = reverse("web:clinic_document_invoice", args=[booked_case.order_id])
    client.post(url, _invoice_post(booked_case))

    twice = client.post(
        url,
        _invoice_post(booked_case, **{"invoice-file": upload(samples.pdf("Another"), "again.pdf")}),
    )
    wrong_total = client.post(
        url, _invoice_post(booked_case, **{"invoice-number": "INV-2042", "invoice-total": "1.00"})
    )

    assert twice.status_code == 400
    assert "already recorded" in twice.content.decode()
    assert wrong_total.status_code == 400
    assert "make 107.35, not 1.00" in wrong_total.content.decode()
    assert ProviderInvoice.objects.count() == 1


def test_the_clinic_sees_no_paperwork_before_the_case_is_booked_there(
    client, clinic_user, clinic_location, insurer_user, document_store
):
    from tests import factories

    awaiting = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=clinic_location, paperwork_required=True
    )
    client.force_login(clinic_user)

    page = client.get(clinic_url(awaiting)).content.decode()

    assert 'data-testid="paperwork"' not in page
    assert "Upload signed documents" not in page


def _book_with_paperwork(*, insurer_user, clinic_location, booking_agent, days: int):
    """One more of Maple Assist's cases booked at Harbour Clinic, with an issued GOP and an
    insurer form in two versions: every kind of row the home's paperwork cell reads."""
    from medworks.bookings import services as bookings
    from medworks.documents import gops
    from medworks.documents import services as documents
    from tests import factories

    from .documents_world import gop_terms

    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=clinic_location,
        agent=booking_agent,
        paperwork_required=True,
        results_delivery="via_paperwork",
    )
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=days)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    case.refresh_from_db()
    gops.gop_issue(
        case=case,
        data=gop_terms(),
        actor=act(insurer_user),
        file=upload(samples.pdf(f"GOP {days}")),
        filename="gop.pdf",
    )
    first = documents.document_upload(
        case=case,
        kind=DocumentKind.INSURER_FORM,
        file=upload(samples.pdf(f"Form {days} v1")),
        filename="form.pdf",
        actor=act(insurer_user),
    )
    documents.document_upload(
        case=case,
        kind=DocumentKind.INSURER_FORM,
        file=upload(samples.pdf(f"Form {days} v2")),
        filename="form.pdf",
        actor=act(insurer_user),
        document=first.document,
    )
    return case


def _home_queries(queries) -> tuple[int, int]:
    """(reads, access-record inserts) among one page's queries."""
    inserts = sum(1 for q in queries if q["sql"].startswith('INSERT INTO "core_auditevent"'))
    return len(queries) - inserts, inserts


def test_the_clinic_home_costs_the_same_reads_for_one_or_five_appointments_with_paperwork(
    client,
    clinic_user,
    insurer_user,
    clinic_location,
    booking_agent,
    document_store,
    django_assert_num_queries,
):
    # Each appointment shown names its patient, so the privacy rules want one access record
    # (an INSERT) per case shown: those, and only those, grow with the appointments. Every
    # read (cases, patients, services, documents, versions, GOPs) is done once for all.
    world = {
        "insurer_user": insurer_user,
        "clinic_location": clinic_location,
        "booking_agent": booking_agent,
    }
    client.force_login(clinic_user)
    _book_with_paperwork(**world, days=3)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("web:clinic_home")).status_code == 200
    reads_one, inserts_one = _home_queries(one.captured_queries)
    for days in (1, 2, 4, 5):  # the home's week: today and the next six days
        _book_with_paperwork(**world, days=days)

    with django_assert_num_queries(len(one) + 4) as five:
        home = client.get(reverse("web:clinic_home")).content.decode()

    assert _home_queries(five.captured_queries) == (reads_one, inserts_one + 4)
    assert inserts_one == 1
    assert home.count("Acknowledge GOP") == 5
    assert home.count("(Insurer form, v2)") == 5  # the current version of each form
