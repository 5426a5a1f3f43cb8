"""Uploading documents to a case, opening them, and the record every opening leaves."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.utils import timezone

from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.documents.files import DOCX
from medworks.documents.models import (
    STAFF_ONLY_KINDS,
    Document,
    DocumentAccess,
    DocumentKind,
    DocumentVersion,
)
from medworks.documents.selectors import document_access_history, documents_for_case
from medworks.documents.services import document_open, document_upload
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

from . import samples

pytestmark = pytest.mark.django_db


def upload(case, user, data=None, *, kind="insurer_form", filename="form.pdf", **extra):
    return document_upload(
        case=case,
        kind=kind,
        file=io.BytesIO(samples.pdf() if data is None else data),
        filename=filename,
        actor=act(user),
        **extra,
    )


def stored_files(root):
    return [path for path in root.rglob("*") if path.is_file()]


def signed(**extra):
    return {
        "signed_by": "Dr. Amira Haddad",
        "signed_on": timezone.localdate(),
        "attested": True,
        **extra,
    }


# --- the round trip ---------------------------------------------------------------------------


def test_an_insurer_uploads_a_form_and_the_clinic_downloads_the_same_bytes(
    paper_case,
    booked_case,  # the clinic reads papers once booked with it (need to know)
    insurer_user,
    clinic_user,
    document_store,
):
    data = samples.pdf("Independent medical exam form")
    version = upload(paper_case, insurer_user, data, filename="IME form.pdf", title="IME form")

    assert version.number == 1
    assert version.document.title == "IME form"
    assert version.document.kind == DocumentKind.INSURER_FORM
    assert version.content_type == "application/pdf"
    assert version.original_name == "IME form.pdf"
    assert version.size == len(data)
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.uploaded_by == insurer_user
    assert version.uploaded_by_party == "insurer"

    on_disk = (document_store / version.storage_name).read_bytes()
    assert on_disk != data and b"Independent medical" not in on_disk

    content, content_type, name = document_open(
        version=version, actor=act(clinic_user), origin="1.2.3.4"
    )
    assert content == data
    assert hashlib.sha256(content).hexdigest() == version.sha256
    assert (content_type, name) == ("application/pdf", "IME form.pdf")


def test_the_file_is_stored_in_the_clinics_folder_by_order_id_and_kind_without_the_name(
    paper_case, insurer_user, clinic_location
):
    version = upload(paper_case, insurer_user, filename="Jean Tremblay GOP.pdf", kind="gop")
    folder = f"harbour-clinic-{clinic_location.partner.pk}"
    assert version.storage_name == f"{folder}/{paper_case.order_id}/gop/{version.uuid}"
    assert "Tremblay" not in version.storage_name


def test_a_case_without_a_clinic_yet_files_its_documents_as_unassigned(case, insurer_user):
    version = upload(case, insurer_user)
    assert version.storage_name.startswith(f"unassigned/{case.order_id}/insurer_form/")


def test_a_path_traversal_name_is_stored_under_the_case_and_downloaded_as_its_last_part(
    paper_case, insurer_user, document_store
):
    for given, kept in [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("..\\win.pdf", "win.pdf"),
    ]:
        version = upload(paper_case, insurer_user, samples.pdf(given), filename=given)
        assert version.original_name == kept
        stored = (document_store / version.storage_name).resolve()
        assert stored.is_relative_to(document_store.resolve())
    assert not (document_store.parent / "etc").exists()


def test_every_accepted_kind_of_file_is_stored_with_its_detected_type(paper_case, insurer_user):
    files = {
        "scan.png": (samples.png(), "image/png"),
        "scan.jpg": (samples.jpeg(), "image/jpeg"),
        "scan.tif": (samples.tiff(), "image/tiff"),
        "form.docx": (samples.docx(), DOCX.content_type),
    }
    for filename, (data, content_type) in files.items():
        version = upload(paper_case, insurer_user, data, filename=filename)
        assert version.content_type == content_type
        assert version.original_name == filename


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "empty.pdf", "file_empty"),
        (b"Please find the form attached.", "form.pdf", "file_type_refused"),
        (samples.windows_program(), "form.pdf", "file_type_refused"),
        (samples.pdf()[:-30], "form.pdf", "file_truncated"),
        (samples.png()[:-12], "scan.png", "file_truncated"),
    ],
    ids=["empty", "text-renamed-pdf", "program-renamed-pdf", "truncated-pdf", "truncated-png"],
)
def test_a_bad_file_is_refused_with_a_field_error_and_nothing_is_stored(
    paper_case, insurer_user, document_store, data, filename, code
):
    with pytest.raises(DomainError) as caught:
        upload(paper_case, insurer_user, data, filename=filename)
    assert caught.value.code == code
    assert caught.value.fields["file"]
    assert not Document.objects.exists()
    assert stored_files(document_store) == []


def test_a_file_over_the_size_limit_is_refused(paper_case, insurer_user, settings):
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1024 * 1024
    data = samples.pdf() + b"%" + b"x" * (1024 * 1024)
    with pytest.raises(DomainError) as caught:
        upload(paper_case, insurer_user, data)
    assert caught.value.code == "file_too_large"
    assert caught.value.fields == {"file": ["The file is larger than 1 MB."]}
    assert not DocumentVersion.objects.exists()


def test_a_file_just_under_the_limit_is_accepted(paper_case, insurer_user, settings):
    data = samples.pdf()
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = len(data)
    assert upload(paper_case, insurer_user, data).size == len(data)


def test_a_completed_form_needs_the_physician_the_date_and_the_attestation(
    booked_case, clinic_user
):
    with pytest.raises(DomainError) as caught:
        upload(booked_case, clinic_user, kind="completed_form")
    assert caught.value.code == "document_signature_missing"
    assert set(caught.value.fields) == {"signed_by", "signed_on", "attested"}

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(DomainError) as caught:
        upload(booked_case, clinic_user, kind="completed_form", **signed(signed_on=tomorrow))
    assert caught.value.fields == {"signed_on": ["The signing date cannot be in the future."]}

    # The appointment is in five days: forms signed today would predate the visit.
    with pytest.raises(DomainError) as caught:
        upload(booked_case, clinic_user, kind="completed_form", **signed())
    (problem,) = caught.value.fields["signed_on"]
    assert problem.startswith("The forms cannot be signed before the appointment")

    factories.appointment_time_passes(booked_case)
    version = upload(booked_case, clinic_user, kind="completed_form", **signed())
    assert (version.signed_by, version.attested) == ("Dr. Amira Haddad", True)


def test_an_unknown_kind_is_refused_on_the_kind_field(paper_case, insurer_user):
    with pytest.raises(DomainError) as caught:
        upload(paper_case, insurer_user, kind="x-ray")
    assert caught.value.code == "document_kind_invalid"
    assert "kind" in caught.value.fields


# --- who may upload what ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["completed_form", "results", "clinic_invoice"])
def test_an_insurer_may_not_upload_the_clinics_kinds(paper_case, insurer_user, kind):
    with pytest.raises(PermissionDenied) as caught:
        upload(paper_case, insurer_user, kind=kind, **signed())
    assert caught.value.code == "document_kind_forbidden"


@pytest.mark.parametrize("kind", ["gop", "insurer_form"])
def test_a_clinic_may_not_upload_the_insurers_kinds(paper_case, clinic_user, kind):
    with pytest.raises(PermissionDenied):
        upload(paper_case, clinic_user, kind=kind)


def test_an_agent_may_upload_any_kind_but_the_desks_own(paper_case, booking_agent):
    # The desk's own kinds (the order sent to finance) are written by their use case only.
    kinds = sorted(set(DocumentKind.values) - STAFF_ONLY_KINDS)
    assert DocumentKind.ORDER not in kinds
    for kind in kinds:
        version = upload(paper_case, booking_agent, samples.pdf(kind), kind=kind, **signed())
        assert version.uploaded_by_party == "staff"
    assert Document.objects.filter(request=paper_case).count() == len(kinds)


def test_another_insurer_cannot_upload_to_a_case_it_does_not_know_of(
    paper_case, other_insurer_user
):
    with pytest.raises(NotFound):
        upload(paper_case, other_insurer_user)


def test_another_clinic_cannot_upload_to_a_case_at_someone_elses_location(
    paper_case, other_clinic_user
):
    with pytest.raises(NotFound):
        upload(paper_case, other_clinic_user, kind="results")


def test_finance_reads_cases_but_does_not_upload(paper_case, finance_user):
    with pytest.raises(PermissionDenied):
        upload(paper_case, finance_user)


def test_an_insurer_cannot_add_papers_to_a_cancelled_case(paper_case, insurer_user):
    from medworks.bookings.services import booking_request_cancel

    booking_request_cancel(
        case=paper_case, actor=act(insurer_user), cancelled_by="insurer", note="Not needed."
    )
    with pytest.raises(DomainError) as caught:
        upload(paper_case, insurer_user)
    assert caught.value.code == "document_case_closed"


# --- versions ---------------------------------------------------------------------------------


def test_a_new_version_keeps_the_old_one_and_both_can_be_read(
    paper_case, insurer_user, booking_agent
):
    first = upload(paper_case, insurer_user, samples.pdf("v1"))
    second = upload(paper_case, insurer_user, samples.pdf("v2"), document=first.document)

    assert (first.number, second.number) == (1, 2)
    assert second.document == first.document
    assert first.document.current == second
    assert first.storage_name != second.storage_name
    assert document_open(version=first, actor=act(booking_agent))[0] == samples.pdf("v1")
    assert document_open(version=second, actor=act(booking_agent))[0] == samples.pdf("v2")


def test_the_same_bytes_again_are_refused_as_a_duplicate(paper_case, insurer_user):
    first = upload(paper_case, insurer_user, samples.pdf("once"))
    for document in (first.document, None):
        with pytest.raises(DomainError) as caught:
            upload(paper_case, insurer_user, samples.pdf("once"), document=document)
        assert caught.value.code == "document_duplicate"
    assert DocumentVersion.objects.count() == 1


def test_going_back_to_an_older_versions_bytes_is_a_new_version(paper_case, insurer_user):
    first = upload(paper_case, insurer_user, samples.pdf("a"))
    upload(paper_case, insurer_user, samples.pdf("b"), document=first.document)
    third = upload(paper_case, insurer_user, samples.pdf("a"), document=first.document)
    assert third.number == 3 and third.sha256 == first.sha256


def test_a_new_version_keeps_its_documents_kind(paper_case, booking_agent):
    first = upload(paper_case, booking_agent, kind="insurer_form")
    with pytest.raises(DomainError) as caught:
        upload(paper_case, booking_agent, samples.pdf("x"), kind="gop", document=first.document)
    assert caught.value.code == "document_kind_mismatch"


def test_a_version_of_another_cases_document_is_not_found(paper_case, case, insurer_user):
    other = upload(case, insurer_user)
    with pytest.raises(NotFound):
        upload(paper_case, insurer_user, samples.pdf("x"), document=other.document)


# --- the case's timeline, the audit trail, the emails ----------------------------------------


def test_an_upload_is_on_the_cases_timeline_and_in_the_audit_trail(paper_case, insurer_user):
    version = upload(paper_case, insurer_user, kind="gop")
    event = BookingEvent.objects.get(request=paper_case, kind="document_uploaded")
    assert event.actor == insurer_user
    assert event.payload["version_id"] == version.pk
    assert event.payload["kind"] == "gop"
    audit = AuditEvent.objects.get(action="document.uploaded")
    assert audit.object_id == str(version.pk)


def test_insurer_paperwork_before_the_appointment_tells_the_clinic_without_patient_data(
    booked_case, insurer_user
):
    OutboxMessage.objects.all().delete()
    upload(booked_case, insurer_user, kind="gop", filename="GOP Jean Tremblay.pdf")

    (message,) = OutboxMessage.objects.filter(template="clinic_paperwork")
    assert message.to == ["front@harbour.example"]
    assert booked_case.order_id in message.subject
    assert f"/clinic/requests/{booked_case.order_id}/" in message.body
    assert "acknowledge the GOP" in message.body
    for secret in ("Jean", "Tremblay", "1980", "wrist"):
        assert secret not in message.subject + message.body


def test_no_clinic_email_once_the_appointment_is_past_or_for_the_clinics_own_papers(
    booked_case, insurer_user, clinic_user
):
    booked_case.appointments.update(starts_at=timezone.now() - dt.timedelta(hours=1))
    OutboxMessage.objects.all().delete()
    upload(booked_case, insurer_user, kind="insurer_form")
    upload(booked_case, clinic_user, samples.pdf("results"), kind="results")
    assert not OutboxMessage.objects.filter(template="clinic_paperwork").exists()


def test_the_clinics_signed_forms_tell_the_booking_team(booked_case, clinic_user):
    factories.appointment_time_passes(booked_case)
    OutboxMessage.objects.all().delete()
    upload(booked_case, clinic_user, kind="completed_form", **signed())
    (message,) = OutboxMessage.objects.filter(template="team_paperwork_back")
    assert message.to == ["bookings@medworks.example"]
    assert booked_case.order_id in message.subject
    assert "Tremblay" not in message.body


def test_a_failed_upload_leaves_no_file_behind(paper_case, insurer_user, document_store):
    from unittest import mock

    with (
        mock.patch("medworks.documents.services.audit_record", side_effect=RuntimeError("db down")),
        pytest.raises(RuntimeError),
    ):
        upload(paper_case, insurer_user)
    assert not DocumentVersion.objects.exists()
    assert stored_files(document_store) == []


# --- reading and its record -------------------------------------------------------------------


def test_every_opening_writes_an_access_record_with_who_what_when_where_and_why(
    paper_case,
    booked_case,  # the clinic reads papers once booked with it (need to know)
    insurer_user,
    clinic_user,
):
    version = upload(paper_case, insurer_user)
    document_open(version=version, actor=act(clinic_user), origin="203.0.113.9", action="viewed")
    document_open(version=version, actor=act(clinic_user), origin="203.0.113.9")

    first, second = DocumentAccess.objects.order_by("pk")
    assert [first.action, second.action] == ["viewed", "downloaded"]
    assert first.actor == clinic_user
    assert first.version == version
    assert first.request == paper_case
    assert first.patient == paper_case.patient
    assert first.origin == "203.0.113.9"
    assert first.purpose == f"case {paper_case.order_id}"
    assert first.at is not None


def test_access_records_cannot_be_changed_or_deleted(paper_case, insurer_user):
    version = upload(paper_case, insurer_user)
    document_open(version=version, actor=act(insurer_user))
    record = DocumentAccess.objects.get()
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        DocumentAccess.objects.update(origin="forged")
    with pytest.raises(TypeError):
        DocumentAccess.objects.all().delete()
    assert DocumentAccess.objects.get().origin == ""


@pytest.mark.parametrize("who", ["other_insurer_user", "other_clinic_user", "outsider"])
def test_a_stranger_cannot_open_a_document_and_leaves_no_access_record(
    request, paper_case, insurer_user, who
):
    version = upload(paper_case, insurer_user)
    with pytest.raises(NotFound):
        document_open(version=version, actor=act(request.getfixturevalue(who)))
    assert not DocumentAccess.objects.exists()


def test_an_insurer_never_sees_the_clinics_invoice(booked_case, clinic_user, insurer_user):
    form = upload(booked_case, insurer_user)
    invoice = upload(booked_case, clinic_user, samples.pdf("invoice"), kind="clinic_invoice")

    assert documents_for_case(case=booked_case, user=insurer_user) == [form.document]
    with pytest.raises(NotFound):
        document_open(version=invoice, actor=act(insurer_user))
    assert len(documents_for_case(case=booked_case, user=clinic_user)) == 2


def test_the_case_list_shows_each_document_with_its_current_version_in_two_queries(
    paper_case, insurer_user, booking_agent, django_assert_num_queries
):
    first = upload(paper_case, insurer_user, samples.pdf("1"))
    upload(paper_case, insurer_user, samples.pdf("2"), document=first.document)
    upload(paper_case, insurer_user, samples.pdf("3"), kind="gop")
    booking_agent.role_codes  # noqa: B018 (roles are read once per request, as on a page)
    with django_assert_num_queries(2):
        documents = documents_for_case(case=paper_case, user=booking_agent)
        currents = [d.current.number for d in documents]
    assert currents == [2, 1]


def test_staff_list_the_access_history_of_a_case_and_of_a_patient(
    paper_case,
    booked_case,  # the clinic reads papers once booked with it (need to know)
    insurer_user,
    clinic_user,
    booking_agent,
):
    version = upload(paper_case, insurer_user)
    document_open(version=version, actor=act(clinic_user))
    document_open(version=version, actor=act(booking_agent), action="viewed")

    by_case = list(document_access_history(case=paper_case))
    assert [(a.actor, a.action) for a in by_case] == [
        (booking_agent, "viewed"),
        (clinic_user, "downloaded"),
    ]
    assert list(document_access_history(patient=paper_case.patient)) == by_case
    assert not document_access_history(patient=_another_patient(insurer_user)).exists()


def _another_patient(insurer_user):
    from tests import factories

    return factories.make_booking_request(insurer=insurer_user.organisation).patient
