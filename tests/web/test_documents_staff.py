"""Paperwork on the staff case page: the documents panel, attaching documents and versions,
recording and amending a GOP, its status, downloads, the readiness gate, access history."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from medworks.bookings.models import BookingStatus
from medworks.bookings.services import appointment_complete
from medworks.core.models import AuditEvent
from medworks.documents import gops
from medworks.documents import services as documents
from medworks.documents.models import Document, DocumentAccess, DocumentKind, Gop, GopStatus
from tests.documents import samples
from tests.factories import act

from .documents_world import gop_post, gop_terms, upload


def case_url(case) -> str:
    return reverse("web:staff_booking_detail", args=[case.order_id])


def attach(client, case, data: bytes, name: str = "form.pdf", **fields):
    post = {"doc-kind": DocumentKind.INSURER_FORM, "doc-title": "Intake form", **fields}
    post["doc-file"] = upload(data, name)
    return client.post(reverse("web:staff_document_new", args=[case.order_id]), post)


# --- The panel --------------------------------------------------------------------------------


def test_the_case_page_lists_the_gop_with_its_current_version_and_download_link(
    client, booking_agent, booked_case, issued_gop
):
    client.force_login(booking_agent)

    page = client.get(case_url(booked_case)).content.decode()

    version = issued_gop.document.current
    panel = page.split('data-testid="documents"', 1)[1].split("</section>", 1)[0]
    assert "GOP version 1" in panel
    assert f"version {version.number}" in panel
    assert reverse("web:staff_document_download", args=[booked_case.order_id, version.pk]) in panel
    assert "Issued" in panel and "500.00 CAD" in panel
    assert "Paperwork outstanding" in panel


def test_an_agent_attaches_a_document_and_then_a_new_version_of_it(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)

    first = attach(client, booked_case, samples.pdf("v1"))
    document = Document.objects.get(request=booked_case)
    second = client.post(
        reverse("web:staff_document_new", args=[booked_case.order_id]),
        {
            "doc-kind": DocumentKind.INSURER_FORM,
            "doc-title": "",
            "doc-document": document.pk,
            "doc-file": upload(samples.png(), "scan.png"),
        },
    )

    assert first.status_code == second.status_code == 302
    assert second["Location"].endswith("#documents")
    assert [v.number for v in document.versions.order_by("number")] == [1, 2]
    page = client.get(case_url(booked_case)).content.decode()
    assert "scan.png" in page and "version 2" in page
    first_version = document.versions.get(number=1)
    older = reverse("web:staff_document_download", args=[booked_case.order_id, first_version.pk])
    assert older in page  # the first version stays listed and downloadable


def test_a_disguised_file_is_refused_on_the_file_field_with_the_title_kept(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)

    response = attach(client, booked_case, b"MZ\x90\x00 not a pdf at all", "form.pdf")

    assert response.status_code == 400
    page = response.content.decode()
    file_field = page.split('for="id_doc-file"', 1)[1].split("</div>", 1)[0]
    assert "is named .pdf but is not a PDF" in file_field
    assert 'value="Intake form"' in page
    assert not Document.objects.filter(request=booked_case).exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(
    client, booking_agent, booked_case, settings
):
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1024
    client.force_login(booking_agent)

    response = attach(client, booked_case, samples.pdf() + b"\n" * 2048)

    assert response.status_code == 400
    assert "the largest accepted is 1.0\xa0KB" in response.content.decode()
    assert not Document.objects.exists()


def test_an_agent_records_a_gop_limited_to_the_cases_services(client, booking_agent, booked_case):
    client.force_login(booking_agent)
    url = reverse("web:staff_gop_new", args=[booked_case.order_id])

    form_page = client.get(url).content.decode()
    refused = client.post(url, gop_post(booked_case, authorised_services=["MRI"]))
    accepted = client.post(
        url, {**gop_post(booked_case), "file": upload(samples.pdf("GOP"), "gop.pdf")}
    )

    assert 'value="XRAY"' in form_page and 'value="MRI"' not in form_page
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert accepted.status_code == 302
    gop = Gop.objects.get(request=booked_case)
    assert gop.status == GopStatus.ISSUED
    assert gop.max_amount == 500 and [s.code for s in gop.authorised_services.all()] == ["XRAY"]
    assert gop.document.current.original_name == "gop.pdf"


def test_a_gop_the_domain_refuses_shows_its_field_errors_with_the_input_kept(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)

    response = client.post(
        reverse("web:staff_gop_new", args=[booked_case.order_id]),
        gop_post(booked_case, currency="USD", copay_exclusions="20% co-pay"),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Guarantees are in CAD." in page.split('for="id_currency"', 1)[1]
    assert "20% co-pay" in page
    assert not Gop.objects.exists()


def test_amending_a_gop_keeps_the_old_version_as_amended(
    client, booking_agent, booked_case, issued_gop
):
    client.force_login(booking_agent)
    url = reverse("web:staff_gop_amend", args=[booked_case.order_id, issued_gop.pk])

    form_page = client.get(url).content.decode()
    response = client.post(url, gop_post(booked_case, max_amount="750.00"))

    assert 'value="500.00"' in form_page  # starts from the standing terms
    assert response.status_code == 302
    versions = list(Gop.objects.filter(request=booked_case).order_by("version"))
    assert [(g.version, g.status) for g in versions] == [
        (1, GopStatus.AMENDED),
        (2, GopStatus.ISSUED),
    ]
    assert versions[1].max_amount == 750
    page = client.get(case_url(booked_case)).content.decode()
    assert "Amended" in page and "750.00 CAD" in page


def test_staff_mark_a_gop_service_rendered_and_an_illegal_move_says_why(
    client, booking_agent, booked_case, issued_gop
):
    client.force_login(booking_agent)
    url = reverse("web:staff_gop_status", args=[booked_case.order_id, issued_gop.pk])

    client.post(url, {"gop-status": "service_rendered", "gop-note": "Seen"})
    again = client.post(url, {"gop-status": "expired"}, follow=True)

    issued_gop.refresh_from_db()
    assert issued_gop.status == GopStatus.SERVICE_RENDERED
    assert "Cannot make GOP version 1 expired: it is service rendered." in again.content.decode()


def test_a_download_is_an_attachment_never_sniffed_nor_cached_and_is_recorded(
    client, finance_user, booked_case, issued_gop
):
    client.force_login(finance_user)
    version = issued_gop.document.current

    response = client.get(
        reverse("web:staff_document_download", args=[booked_case.order_id, version.pk]),
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf("GOP")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="gop.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    access = DocumentAccess.objects.get()
    assert (access.actor, access.version, access.origin) == (finance_user, version, "10.1.2.3")


def test_a_version_of_another_case_is_not_found_under_this_case(
    client, booking_agent, booked_case, issued_gop, insurer_user
):
    from tests import factories

    other = factories.make_booking_request(insurer=insurer_user.organisation)
    client.force_login(booking_agent)

    response = client.get(
        reverse(
            "web:staff_document_download", args=[other.order_id, issued_gop.document.current.pk]
        )
    )

    assert response.status_code == 404
    assert not DocumentAccess.objects.exists()


def test_finance_reads_the_panel_without_any_upload_or_gop_button(
    client, finance_user, booked_case, issued_gop
):
    client.force_login(finance_user)

    page = client.get(case_url(booked_case)).content.decode()

    version = issued_gop.document.current
    assert reverse("web:staff_document_download", args=[booked_case.order_id, version.pk]) in page
    assert "Attach a document" not in page
    assert reverse("web:staff_gop_amend", args=[booked_case.order_id, issued_gop.pk]) not in page


# --- Paperwork and the readiness gate ---------------------------------------------------------


def test_ready_for_billing_waits_for_the_signed_paperwork_then_goes(
    client, booking_agent, clinic_user, booked_case
):
    appointment_complete(case=booked_case, actor=act(booking_agent))
    client.force_login(booking_agent)
    step = reverse("web:staff_booking_step", args=[booked_case.order_id, "mark_ready_for_billing"])

    waiting = client.get(case_url(booked_case)).content.decode()
    refused = client.post(step, follow=True).content.decode()
    from medworks.documents.services import document_upload

    document_upload(
        case=booked_case,
        kind=DocumentKind.COMPLETED_FORM,
        file=upload(samples.pdf("Signed")),
        filename="signed.pdf",
        actor=act(clinic_user),
        signed_by="Dr. Anne Roy",
        signed_on=timezone.localdate(),
        attested=True,
    )
    complete = client.get(case_url(booked_case)).content.decode()
    client.post(step)

    assert "Paperwork outstanding" in waiting
    assert "Ready for billing waits: the signed paperwork is not back yet." in waiting
    assert "the signed paperwork is not back yet" in refused
    assert "Paperwork complete" in complete and "Signed by Dr. Anne Roy" in complete
    booked_case.refresh_from_db()
    assert booked_case.status == BookingStatus.READY_FOR_BILLING


def test_no_paperwork_indicator_when_the_insurer_requires_none(client, booking_agent, insurer_user):
    from tests import factories

    case = factories.make_booking_request(insurer=insurer_user.organisation)
    client.force_login(booking_agent)

    page = client.get(case_url(case)).content.decode()

    assert 'data-testid="documents"' in page
    assert "Paperwork outstanding" not in page and "Paperwork complete" not in page


# --- Access history ---------------------------------------------------------------------------


def test_the_case_access_history_lists_document_downloads_and_case_views(
    client, booking_agent, clinic_user, booked_case, issued_gop
):
    version = issued_gop.document.current
    client.force_login(clinic_user)
    client.get(
        reverse("web:clinic_document_download", args=[booked_case.order_id, version.pk]),
        REMOTE_ADDR="192.0.2.7",
    )
    client.get(reverse("web:clinic_request", args=[booked_case.order_id]), REMOTE_ADDR="192.0.2.7")
    client.force_login(booking_agent)

    page = client.get(
        reverse("web:staff_case_access", args=[booked_case.order_id])
    ).content.decode()

    table = page.split('data-testid="access-history"', 1)[1]
    assert "Downloaded guarantee of payment (gop) “GOP version 1” (version 1, gop.pdf)" in table
    assert "Case opened (viewed)" in table
    assert "clinic (Harbour Clinic)" in table
    assert table.count("192.0.2.7") == 2


def test_the_patient_access_history_lists_reads_of_their_cases_and_names_no_patient(
    client, booking_agent, booked_case
):
    client.force_login(booking_agent)
    client.get(case_url(booked_case), REMOTE_ADDR="198.51.100.4")

    response = client.get(reverse("web:staff_patient_access", args=[booked_case.patient_id]))

    page = response.content.decode()
    assert response.status_code == 200
    assert booked_case.order_id in page
    assert "198.51.100.4" in page
    assert booked_case.patient.last_name not in page
    reads = AuditEvent.objects.filter(action__startswith="booking_request.").count()
    client.get(reverse("web:staff_patient_access", args=[booked_case.patient_id]))
    assert AuditEvent.objects.filter(action__startswith="booking_request.").count() == reads


def test_an_unknown_patient_has_no_access_page(client, booking_agent, db):
    client.force_login(booking_agent)

    assert client.get(reverse("web:staff_patient_access", args=[999999])).status_code == 404


def test_a_file_past_the_upload_cap_is_dropped_as_it_arrives_and_said_too_large(
    client, booking_agent, booked_case, settings
):
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1024
    settings.MEDWORKS_IMPORT_MAX_BYTES = 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # past it, Django would write a temporary file
    client.force_login(booking_agent)

    response = attach(client, booked_case, samples.pdf() + b"\n" * 200_000)

    assert response.status_code == 400
    file_field = response.content.decode().split('for="id_doc-file"', 1)[1].split("</div>")[0]
    assert "This file is larger than 1.0\xa0KB, the largest accepted." in file_field
    assert "This field is required" not in file_field
    assert not Document.objects.exists()


def _paper_in_two_versions(case, user, n: int) -> None:
    """Document n of the case, uploaded by `user`, then a second version of it."""
    first = documents.document_upload(
        case=case,
        kind=DocumentKind.INSURER_FORM,
        file=upload(samples.pdf(f"Paper {n}, version 1")),
        filename=f"paper-{n}.pdf",
        actor=act(user),
        title=f"Paper {n}",
    )
    documents.document_upload(
        case=case,
        kind=DocumentKind.INSURER_FORM,
        file=upload(samples.pdf(f"Paper {n}, version 2")),
        filename=f"paper-{n}.pdf",
        actor=act(user),
        document=first.document,
    )


def test_the_case_page_costs_the_same_queries_for_one_or_four_documents_of_two_versions(
    client, booking_agent, insurer_user, booked_case, issued_gop, django_assert_num_queries
):
    client.force_login(booking_agent)
    _paper_in_two_versions(booked_case, booking_agent, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(case_url(booked_case)).status_code == 200
    for n in (2, 3, 4):  # other uploaders, and a GOP amended: more rows of every kind
        _paper_in_two_versions(booked_case, insurer_user, n)
    gops.gop_amend(gop=issued_gop, data=gop_terms(max_amount="750.00"), actor=act(insurer_user))

    with django_assert_num_queries(len(one)):
        page = client.get(case_url(booked_case)).content.decode()

    panel = page.split('data-testid="documents"', 1)[1].split("</section>", 1)[0]
    assert panel.count(">version 1</a>") == 4  # each paper's older version
    assert "GOP version 2" in panel
