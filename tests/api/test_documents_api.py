"""Documents and GOPs through the JSON API, as an insurer's system and staff see them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from medworks.bookings import services as bookings
from medworks.documents.models import DocumentAccess, DocumentVersion, Gop, GopStatus
from medworks.documents.services import document_upload
from tests import factories
from tests.documents import samples
from tests.factories import act

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def document_store(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    return tmp_path / "documents"


@pytest.fixture
def paper_case(insurer_key, booking_agent, clinic_location):
    """A Maple Assist case that needs paperwork, at Harbour Clinic awaiting its dates."""
    case = factories.make_booking_request(
        insurer=insurer_key.organisation, channel="api", paperwork_required=True
    )
    bookings.booking_request_take(case=case, actor=act(booking_agent))
    return bookings.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )


def documents_url(order_id: str) -> str:
    return f"/api/v1/booking-requests/{order_id}/documents"


def gops_url(order_id: str) -> str:
    return f"/api/v1/booking-requests/{order_id}/gops"


def post_file(client, url, *, key=None, data=None, filename="form.pdf", **fields):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    payload = {
        "kind": "insurer_form",
        "file": SimpleUploadedFile(filename, samples.pdf() if data is None else data),
        **fields,
    }
    return client.post(url, payload, headers=headers)


def gop_terms(**overrides) -> dict:
    today = timezone.localdate()
    return {
        "authorised_services": ["XRAY"],
        "valid_from": today.isoformat(),
        "valid_to": (today + dt.timedelta(days=30)).isoformat(),
        "max_amount": "450.00",
        **overrides,
    }


# --- uploading --------------------------------------------------------------------------------


def test_an_insurer_system_uploads_a_form_and_gets_the_version(client, insurer_key, paper_case):
    data = samples.pdf("claim form")
    response = post_file(
        client,
        documents_url(paper_case.order_id),
        key=insurer_key.secret,
        data=data,
        filename="../claim form.pdf",
        title="Claim form",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    version = DocumentVersion.objects.get()
    assert body["id"] == version.pk
    assert body["number"] == 1
    assert body["kind"] == "insurer_form" and body["title"] == "Claim form"
    assert body["original_name"] == "claim form.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["uploaded_by"] == "insurer"
    assert body["links"]["download"] == f"/api/v1/documents/{version.pk}/download"
    assert version.api_key == insurer_key.key and version.uploaded_by is None


def test_a_second_upload_naming_the_document_is_its_version_2(client, insurer_key, paper_case):
    url = documents_url(paper_case.order_id)
    first = post_file(client, url, key=insurer_key.secret, data=samples.pdf("1")).json()
    second = post_file(
        client,
        url,
        key=insurer_key.secret,
        data=samples.png(),
        filename="scan.png",
        document_id=first["document_id"],
    )
    assert second.status_code == 201
    assert second.json()["number"] == 2
    assert second.json()["document_id"] == first["document_id"]


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"MZ\x90\x00 this is a program", "invoice.pdf", 422, "file_type_refused"),
        (b"", "empty.pdf", 422, "file_empty"),
        (samples.pdf()[:-20], "cut.pdf", 422, "file_truncated"),
    ],
)
def test_a_bad_file_is_refused_with_the_error_shape_and_the_file_field(
    client, insurer_key, paper_case, data, filename, status, code
):
    response = post_file(
        client,
        documents_url(paper_case.order_id),
        key=insurer_key.secret,
        data=data,
        filename=filename,
    )
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["fields"]["file"] and body["detail"]
    assert not DocumentVersion.objects.exists()


def test_a_file_over_the_limit_is_413(client, insurer_key, paper_case, settings):
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 100
    response = post_file(client, documents_url(paper_case.order_id), key=insurer_key.secret)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_an_insurer_system_may_not_upload_a_signed_form_for_the_clinic(
    client, insurer_key, paper_case
):
    response = post_file(
        client,
        documents_url(paper_case.order_id),
        key=insurer_key.secret,
        kind="completed_form",
        signed_by="Dr. X",
        signed_on=timezone.localdate().isoformat(),
        attested="true",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "document_kind_forbidden"


def test_another_insurers_case_is_404_for_every_documents_endpoint(
    client, other_insurer_key, paper_case, insurer_user
):
    version = document_upload(
        case=paper_case,
        kind="gop",
        file=SimpleUploadedFile("gop.pdf", samples.pdf()),
        filename="gop.pdf",
        actor=act(insurer_user),
    )
    headers = {"Authorization": f"Bearer {other_insurer_key.secret}"}
    url = documents_url(paper_case.order_id)

    assert post_file(client, url, key=other_insurer_key.secret).status_code == 404
    assert client.get(url, headers=headers).status_code == 404
    download = client.get(f"/api/v1/documents/{version.pk}/download", headers=headers)
    assert download.status_code == 404
    assert download.json()["code"] == "document_not_found"
    gop = client.post(
        gops_url(paper_case.order_id),
        gop_terms(),
        content_type="application/json",
        headers=headers,
    )
    assert gop.status_code == 404
    assert not DocumentAccess.objects.exists()
    assert DocumentVersion.objects.count() == 1


def test_without_a_key_the_documents_endpoints_are_401(client, paper_case):
    assert client.get(documents_url(paper_case.order_id)).status_code == 401
    assert post_file(client, documents_url(paper_case.order_id)).status_code == 401
    assert client.get("/api/v1/documents/1/download").status_code == 401


def test_a_signed_in_outsider_is_403(client, outsider, paper_case):
    client.force_login(outsider)
    response = client.get(documents_url(paper_case.order_id))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- listing and downloading ------------------------------------------------------------------


def test_the_list_shows_each_document_with_all_its_versions_but_not_the_clinics_invoice(
    client, insurer_key, paper_case, clinic_user
):
    url = documents_url(paper_case.order_id)
    first = post_file(client, url, key=insurer_key.secret, data=samples.pdf("a")).json()
    post_file(
        client, url, key=insurer_key.secret, data=samples.pdf("b"), document_id=first["document_id"]
    )
    document_upload(
        case=paper_case,
        kind="clinic_invoice",
        file=SimpleUploadedFile("inv.pdf", samples.pdf("invoice")),
        filename="inv.pdf",
        actor=act(clinic_user),
    )

    body = client.get(url, headers={"Authorization": f"Bearer {insurer_key.secret}"}).json()
    (document,) = body["documents"]
    assert body["order_id"] == paper_case.order_id
    assert document["kind"] == "insurer_form"
    assert document["current"]["number"] == 2
    assert [v["number"] for v in document["versions"]] == [2, 1]
    assert not DocumentAccess.objects.exists()  # a list shows no content


def test_a_download_returns_the_bytes_and_records_the_read_with_origin_api(
    client, insurer_key, paper_case, booking_agent
):
    data = samples.jpeg()
    uploaded = post_file(
        client,
        documents_url(paper_case.order_id),
        key=insurer_key.secret,
        data=data,
        filename="scan.jpeg",
    ).json()

    client.force_login(booking_agent)
    response = client.get(uploaded["links"]["download"])
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="scan.jpeg"'
    assert "no-store" in response["Cache-Control"]
    access = DocumentAccess.objects.get()
    assert (access.actor, access.action, access.origin) == (booking_agent, "downloaded", "api")
    assert access.request == paper_case and access.patient == paper_case.patient


def test_an_insurer_systems_download_is_recorded_against_its_key(client, insurer_key, paper_case):
    uploaded = post_file(client, documents_url(paper_case.order_id), key=insurer_key.secret)
    url = uploaded.json()["links"]["download"]
    response = client.get(url, headers={"Authorization": f"Bearer {insurer_key.secret}"})
    assert response.status_code == 200
    access = DocumentAccess.objects.get()
    assert access.actor is None and access.api_key == insurer_key.key


# --- GOPs -------------------------------------------------------------------------------------


def test_an_insurer_system_issues_a_gop_then_amends_it(client, insurer_key, paper_case):
    headers = {"Authorization": f"Bearer {insurer_key.secret}"}
    url = gops_url(paper_case.order_id)
    issued = client.post(url, gop_terms(), content_type="application/json", headers=headers)

    assert issued.status_code == 201, issued.json()
    body = issued.json()
    assert (body["version"], body["status"]) == (1, "issued")
    assert body["max_amount"] == "450.00" and body["currency"] == "CAD"
    assert body["authorised_services"] == ["XRAY"]
    assert body["insurer_reference"] == paper_case.insurer_reference
    assert body["provider"] == "Harbour Clinic King West"
    assert "patient_name" not in body  # the caller sent it; the API does not echo patients

    again = client.post(url, gop_terms(), content_type="application/json", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "gop_exists"

    amended = client.post(
        f"{url}/{body['id']}/amend",
        {"max_amount": "600.00"},
        content_type="application/json",
        headers=headers,
    )
    assert amended.status_code == 201
    assert (amended.json()["version"], amended.json()["supersedes_id"]) == (2, body["id"])
    listed = client.get(url, headers=headers).json()
    assert [(g["version"], g["status"]) for g in listed] == [(2, "issued"), (1, "amended")]
    assert Gop.objects.get(pk=body["id"]).status == GopStatus.AMENDED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_amount": 450.5}, "max_amount"),  # a JSON number: money is never a float
        ({"max_amount": "-3"}, "max_amount"),
        ({"valid_to": "2001-01-01"}, "valid_to"),
        ({"authorised_services": ["MRI"]}, "authorised_services"),
        ({"maximum": "1"}, "maximum"),
    ],
)
def test_bad_gop_terms_are_422_with_the_field(client, insurer_key, paper_case, overrides, field):
    response = client.post(
        gops_url(paper_case.order_id),
        gop_terms(**overrides),
        content_type="application/json",
        headers={"Authorization": f"Bearer {insurer_key.secret}"},
    )
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert not Gop.objects.exists()


def test_the_documents_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/booking-requests/{order_id}/documents" in paths
    assert "/api/v1/documents/{version_id}/download" in paths
    assert "post" in paths["/api/v1/booking-requests/{order_id}/gops"]


def test_an_overlong_id_is_a_422_not_a_500(api, insurer_key):
    response = api("get", f"/api/v1/documents/{'9' * 25}/download", key=insurer_key.secret)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
