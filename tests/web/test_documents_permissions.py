"""Every paperwork route, every persona: who gets in, who gets the 403 page, who is sent to
log in, and that another insurer or another clinic finds nothing (404), never a document."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.documents.models import DocumentAccess, DocumentKind, DocumentVersion, Gop
from tests.documents import samples

from .documents_world import upload

STAFF_READERS = {"booking_agent", "coordinator", "finance_user"}
WORKERS = {"booking_agent", "coordinator"}
INSURER = {"insurer_user"}
CLINIC = {"clinic_user"}
PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "insurer_user",
    "clinic_user",
    "outsider",
]

# name: (methods, what the URL names besides the Order Id, personas allowed)
DOCUMENT_ROUTES = {
    "staff_document_new": (("get", "post"), None, WORKERS),
    "staff_document_download": (("get",), "version", STAFF_READERS),
    "staff_gop_new": (("get", "post"), None, WORKERS),
    "staff_gop_request": (("post",), None, WORKERS),
    "staff_gop_amend": (("get", "post"), "gop", WORKERS),
    "staff_gop_status": (("post",), "gop", WORKERS),
    "staff_case_access": (("get",), None, STAFF_READERS),
    "staff_patient_access": (("get",), "patient", STAFF_READERS),
    "portal_document_new": (("get", "post"), None, INSURER),
    "portal_document_download": (("get",), "version", INSURER),
    "clinic_document_download": (("get",), "version", CLINIC),
    "clinic_gop_acknowledge": (("post",), "gop", CLINIC),
    "clinic_document_signed": (("get", "post"), None, CLINIC),
    "clinic_document_invoice": (("get", "post"), None, CLINIC),
}
# What a refused POST would have written if the check were missing.
POST_DATA = {
    "staff_gop_status": {"gop-status": "cancelled"},
    "clinic_document_signed": {"signed-signed_by": "Dr. X", "signed-attested": "on"},
}


def route_url(name: str, case, gop) -> str:
    _, target, _ = DOCUMENT_ROUTES[name]
    if target == "patient":
        return reverse(f"web:{name}", args=[case.patient_id])
    if target == "version":
        return reverse(f"web:{name}", args=[case.order_id, gop.document.current.pk])
    if target == "gop":
        return reverse(f"web:{name}", args=[case.order_id, gop.pk])
    return reverse(f"web:{name}", args=[case.order_id])


def state() -> tuple:
    """What any refused request must leave as it was."""
    return (
        DocumentVersion.objects.count(),
        DocumentAccess.objects.count(),
        list(Gop.objects.values_list("status", flat=True)),
    )


CASES = [
    pytest.param(name, method, persona, persona in allowed, id=f"{method}-{name}-{persona}")
    for name, (methods, _, allowed) in DOCUMENT_ROUTES.items()
    for method in methods
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "method", "persona", "allowed"), CASES)
def test_each_paperwork_route_admits_only_the_roles_that_hold_its_capability(
    client, request, booked_case, issued_gop, name, method, persona, allowed
):
    client.force_login(request.getfixturevalue(persona))
    url = route_url(name, booked_case, issued_gop)
    before = state()

    response = getattr(client, method)(url, POST_DATA.get(name, {}))

    if allowed:
        assert response.status_code in (200, 302, 400)
    else:
        assert response.status_code == 403
        assert state() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, m) for name, (methods, _, _) in DOCUMENT_ROUTES.items() for m in methods],
)
def test_an_anonymous_visitor_is_sent_to_log_in_from_paperwork_routes(
    client, booked_case, issued_gop, name, method
):
    before = state()

    response = getattr(client, method)(route_url(name, booked_case, issued_gop))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")
    assert state() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        (name, m)
        for name, (methods, _, allowed) in DOCUMENT_ROUTES.items()
        if allowed == INSURER
        for m in methods
    ],
)
def test_another_insurer_finds_no_case_and_no_document(
    client, other_insurer_user, booked_case, issued_gop, name, method
):
    client.force_login(other_insurer_user)
    before = state()

    response = getattr(client, method)(
        route_url(name, booked_case, issued_gop),
        {"kind": DocumentKind.INSURER_FORM, "file": upload(samples.pdf())}
        if method == "post"
        else None,
    )

    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        (name, m)
        for name, (methods, _, allowed) in DOCUMENT_ROUTES.items()
        if allowed == CLINIC
        for m in methods
    ],
)
def test_another_clinic_finds_no_case_and_no_document(
    client, other_clinic_user, booked_case, issued_gop, name, method
):
    client.force_login(other_clinic_user)
    before = state()

    response = getattr(client, method)(
        route_url(name, booked_case, issued_gop),
        {"invoice-file": upload(samples.pdf()), "invoice-number": "X-1"}
        if method == "post"
        else None,
    )

    assert response.status_code == 404
    assert state() == before


def test_a_clinic_cannot_fetch_its_own_case_document_under_another_cases_order_id(
    client, clinic_user, booked_case, issued_gop, insurer_user, clinic_location
):
    from tests import factories

    other_case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=clinic_location
    )
    client.force_login(clinic_user)

    response = client.get(
        reverse(
            "web:clinic_document_download",
            args=[other_case.order_id, issued_gop.document.current.pk],
        )
    )

    assert response.status_code == 404
    assert not DocumentAccess.objects.exists()


def test_finance_downloads_but_cannot_upload(client, finance_user, booked_case, issued_gop):
    client.force_login(finance_user)

    download = client.get(route_url("staff_document_download", booked_case, issued_gop))
    attach = client.post(
        reverse("web:staff_document_new", args=[booked_case.order_id]),
        {"doc-kind": DocumentKind.OTHER, "doc-file": upload(samples.pdf("x"))},
    )

    assert download.status_code == 200
    assert attach.status_code == 403
    assert DocumentVersion.objects.count() == 1
