"""Every error of the API is JSON of one shape, {"detail", "code", "fields"}, with its status,
in the caller's language: whether an operation refused it, Django Ninja did (a body that is
not JSON, a CSRF failure), or Django did before the API saw it (an unknown address, a method a
path does not take, an unexpected exception)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from medworks.api.errors import csrf_failure
from medworks.documents.models import DocumentVersion
from medworks.documents.services import document_upload
from tests.documents import samples
from tests.factories import act

pytestmark = pytest.mark.django_db

SUBMIT = "/api/v1/booking-requests"
FRENCH = {"Accept-Language": "fr"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"detail", "code", "fields"}
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["fields"], dict)
    return body


@pytest.fixture
def key_headers(insurer_key):
    return {"Authorization": f"Bearer {insurer_key.secret}"}


@pytest.fixture
def document_store(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    return tmp_path / "documents"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "The body is not valid JSON."), (FRENCH, "Le corps de la requête n'est pas du JSON")],
)
def test_a_malformed_json_body_is_422_json_invalid(client, key_headers, headers, detail):
    response = client.post(
        SUBMIT,
        '{"insurer_reference": ',
        content_type="application/json",
        headers={**key_headers, **headers},
    )
    assert assert_error(response, 422, "json_invalid")["detail"].startswith(detail)


def test_a_form_encoded_body_sent_to_a_json_operation_is_422_json_invalid(client, key_headers):
    response = client.post(
        SUBMIT,
        "insurer_reference=CLM-1",
        content_type="application/x-www-form-urlencoded",
        headers=key_headers,
    )
    assert_error(response, 422, "json_invalid")


def test_a_body_that_is_not_multipart_sent_to_an_upload_is_422(client, key_headers, offered_case):
    response = client.post(
        f"/api/v1/booking-requests/{offered_case.case.order_id}/documents",
        b"not a form",
        content_type="multipart/form-data",  # no boundary: nothing can be read
        headers=key_headers,
    )
    assert_error(response, 422, "form_invalid")


@pytest.mark.parametrize(
    ("headers", "words"), [({}, "CSRF token is missing"), (FRENCH, "jeton CSRF est absent")]
)
def test_a_signed_in_session_posting_without_the_csrf_token_is_403_csrf_failed(
    booking_agent, offered_case, headers, words
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(booking_agent)
    response = browser.post(
        f"/api/v1/booking-requests/{offered_case.case.order_id}/cancel",
        {"note": "Duplicate"},
        content_type="application/json",
        headers=headers,
    )
    assert words in assert_error(response, 403, "csrf_failed")["detail"]


def test_the_same_session_with_its_csrf_token_gets_past_the_check(insurer_user, offered_case):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(insurer_user)
    browser.get("/api/v1/docs")  # the docs page hands out the CSRF cookie, as any page does
    response = browser.post(
        f"/api/v1/booking-requests/{offered_case.case.order_id}/cancel",
        {"note": "Duplicate"},
        content_type="application/json",
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_a_caller_with_neither_key_nor_session_is_told_401_not_a_csrf_refusal():
    response = Client(enforce_csrf_checks=True).post(SUBMIT, {}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")


def test_django_csrf_failure_view_answers_json_under_the_api_and_its_page_elsewhere(settings):
    assert settings.CSRF_FAILURE_VIEW == "medworks.api.errors.csrf_failure"
    factory = RequestFactory()
    api_answer = csrf_failure(factory.post("/api/v1/booking-requests"), reason="no cookie")
    assert_error(api_answer, 403, "csrf_failed")
    page = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "There is nothing at this address of the API."), (FRENCH, "rien à cette adresse de l")],
)
def test_an_unknown_api_address_is_a_json_404_not_the_html_page(
    client, key_headers, headers, detail
):
    for path in (
        "/api/v1/no-such-thing",
        "/api/v2/booking-requests",
        "/api/v1/booking-requests/MW-2026-000001/nothing",
    ):
        response = client.get(path, headers={**key_headers, **headers})
        assert detail in assert_error(response, 404, "not_found")["detail"]


def test_another_insurers_case_is_a_json_404(client, other_insurer_key, offered_case):
    response = client.get(
        f"/api/v1/booking-requests/{offered_case.case.order_id}",
        headers={"Authorization": f"Bearer {other_insurer_key.secret}", **FRENCH},
    )
    assert_error(response, 404, "request_not_found")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "This address does not take DELETE requests."),
        (FRENCH, "accepte pas les requêtes DELETE"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_json_405_naming_the_allowed_ones(
    client, key_headers, headers, detail
):
    response = client.delete(SUBMIT, headers={**key_headers, **headers})
    assert detail in assert_error(response, 405, "method_not_allowed")["detail"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "The request is larger than the API accepts."), (FRENCH, "La requête dépasse")],
)
def test_a_body_over_the_request_limit_is_413(client, key_headers, settings, headers, detail):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"insurer_reference": "' + "x" * 2048 + '"}'
    response = client.post(
        SUBMIT, body, content_type="application/json", headers={**key_headers, **headers}
    )
    assert assert_error(response, 413, "request_too_large")["detail"].startswith(detail)


def test_an_upload_over_the_document_limit_is_413_file_too_large(
    client, key_headers, offered_case, settings, document_store
):
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1024 * 1024
    url = f"/api/v1/booking-requests/{offered_case.case.order_id}/documents"
    big = samples.pdf() + b"\n" * (1024 * 1024)
    response = client.post(
        url,
        {"kind": "insurer_form", "file": SimpleUploadedFile("big.pdf", big)},
        headers={**key_headers, **FRENCH},
    )
    body = assert_error(response, 413, "file_too_large")
    assert body["fields"]["file"] == ["Le fichier dépasse 1 Mo."]


def test_an_upload_so_large_it_was_dropped_as_it_arrived_is_413_not_required(
    client, key_headers, offered_case, settings, document_store
):
    # Past the upload cap (the largest limit + 64 KB) the handler keeps nothing of the file.
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1024 * 1024
    settings.MEDWORKS_IMPORT_MAX_BYTES = 1024 * 1024
    url = f"/api/v1/booking-requests/{offered_case.case.order_id}/documents"
    huge = samples.pdf() + b"\n" * (1024 * 1024 + 128 * 1024)
    response = client.post(
        url,
        {"kind": "insurer_form", "file": SimpleUploadedFile("huge.pdf", huge)},
        headers=key_headers,
    )
    body = assert_error(response, 413, "file_too_large")
    assert body["fields"] == {"file": ["The file is larger than 1 MB."]}
    assert not DocumentVersion.objects.filter(document__request=offered_case.case).exists()


@pytest.mark.parametrize(("headers", "required"), [({}, "Required."), (FRENCH, "Obligatoire.")])
def test_a_refused_field_is_422_with_the_field_named(client, key_headers, headers, required):
    response = client.post(
        SUBMIT,
        {"services": ["XRAY"]},
        content_type="application/json",
        headers={**key_headers, **headers},
    )
    body = assert_error(response, 422, "invalid_input")
    assert body["fields"]["insurer_reference"] == [required]


def test_a_value_outside_its_choices_is_422_naming_the_choices_in_french(client, key_headers):
    response = client.get(SUBMIT, {"status": "lost"}, headers={**key_headers, **FRENCH})
    body = assert_error(response, 422, "invalid_input")
    message = body["fields"]["status"][0]
    assert message.startswith("Donnez") and "'received'" in message and "'cancelled'" in message


def test_a_staff_refusal_of_the_domain_without_a_status_of_its_own_is_422(client, booking_agent):
    client.force_login(booking_agent)
    response = client.get("/api/v1/matches", {"postal_code": "ZZZ", "service": "XRAY"})
    body = assert_error(response, 422, "postal_code_invalid")
    assert "postal_code" in body["fields"]


def test_a_document_that_cannot_be_read_is_a_json_500_saying_so(
    client, key_headers, insurer_user, offered_case, document_store
):
    version = document_upload(
        case=offered_case.case,
        kind="insurer_form",
        file=SimpleUploadedFile("form.pdf", samples.pdf()),
        filename="form.pdf",
        actor=act(insurer_user),
    )
    for stored in document_store.rglob("*"):
        if stored.is_file():
            stored.write_bytes(b"not the encrypted form any more")
    response = client.get(f"/api/v1/documents/{version.pk}/download", headers=key_headers)
    assert_error(response, 500, "document_unreadable")


@pytest.mark.urls("tests.api.crashing_urls")
@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Something went wrong on our side"), (FRENCH, "de notre côté")],
)
def test_an_unexpected_exception_is_a_json_500_that_tells_nothing_of_it(headers, detail):
    response = Client(raise_request_exception=False).get("/api/v1/crash", headers=headers)
    body = assert_error(response, 500, "server_error")
    assert detail in body["detail"]
    assert "RuntimeError" not in response.content.decode()
    assert "secret internals" not in response.content.decode()
    assert body["fields"] == {}


@pytest.mark.urls("tests.api.crashing_urls")
def test_an_unexpected_exception_on_a_page_is_still_the_html_page():
    response = Client(raise_request_exception=False).get("/crash")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
