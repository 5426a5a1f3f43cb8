"""The insurer's timeline tells the paperwork in its own words, in the portal and by API alike
(bookings.selectors.insurer_timeline): the GOP asked for, received, acknowledged by the clinic,
the signed paperwork back. Never the clinic's invoice (it shows the clinic's price), and never
a note staff wrote about a GOP."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.services import api_key_create
from medworks.bookings.events import CASE_EVENTS
from medworks.documents import gops
from medworks.documents import services as documents
from medworks.documents.events import INSURER_DOCUMENT_LABELS as INSURER_DOCUMENT_EVENTS
from medworks.documents.models import HIDDEN_FROM_INSURER, DocumentKind
from tests.factories import act

from .documents_world import gop_terms, upload

# The kinds an insurer is ever told of (each with insurer words in CASE_EVENTS).
INSURER_EVENTS = {k.code for k in CASE_EVENTS if k.insurer is not None}

PAPERWORK_LABELS = [
    "MedWorks asked you for a guarantee of payment (GOP)",
    "GOP document added",
    "Guarantee of payment (GOP) received",
    "The clinic acknowledged the GOP",
    "Signed paperwork received from the clinic",
]


@pytest.fixture
def paperwork_done(booked_case, booking_agent, insurer_user, clinic_user):
    """MedWorks asks for the GOP, the insurer issues it (with its PDF), the clinic acknowledges
    it, sends the signed form back, and invoices MedWorks."""
    gops.gop_request(
        case=booked_case, actor=act(booking_agent), note="Their adjuster is slow; chase Friday."
    )
    gop = gops.gop_issue(
        case=booked_case,
        data=gop_terms(),
        actor=act(insurer_user),
        file=upload(b"%PDF-1.4\n" + b"GOP " * 50 + b"\n%%EOF\n", "gop.pdf"),
        filename="gop.pdf",
    )
    gops.gop_acknowledge(gop=gop, actor=act(clinic_user))
    for kind, extra in [
        (
            DocumentKind.COMPLETED_FORM,
            {"signed_by": "Dr. Anne Roy", "signed_on": timezone.localdate(), "attested": True},
        ),
        (DocumentKind.CLINIC_INVOICE, {}),
    ]:
        documents.document_upload(
            case=booked_case,
            kind=kind,
            file=upload(b"%PDF-1.4\n" + kind.encode() * 20 + b"\n%%EOF\n", f"{kind}.pdf"),
            filename=f"{kind}.pdf",
            actor=act(clinic_user),
            **extra,
        )
    assert booked_case.events.filter(
        kind="document_uploaded", payload__kind=DocumentKind.CLINIC_INVOICE
    ).exists()
    return booked_case


def test_no_kind_of_paper_hidden_from_insurers_is_ever_told_on_their_timeline():
    assert not set(INSURER_DOCUMENT_EVENTS) & set(HIDDEN_FROM_INSURER)
    assert set(INSURER_DOCUMENT_EVENTS) <= set(DocumentKind.values)
    # MedWorks' own invoices to the insurer are its to read (billing/events.py); the clinic's
    # invoice to MedWorks never is.
    from medworks.billing.events import INVOICE_EVENTS

    ours = {kind.code for kind in INVOICE_EVENTS}
    assert not any("invoice" in kind for kind in INSURER_EVENTS - ours)


def test_the_portal_case_page_tells_the_paperwork_and_not_the_clinics_invoice(
    client, insurer_user, paperwork_done
):
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[paperwork_done.order_id]))
    assert page.status_code == 200
    timeline = page.content.decode().split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    positions = [timeline.index(label) for label in PAPERWORK_LABELS]
    assert positions == sorted(positions)  # in the order they happened
    assert (
        'Signed paperwork received from the clinic</strong> <span class="muted">— the clinic'
        in timeline
    )
    assert "invoice" not in timeline.lower()
    assert "chase Friday" not in page.content.decode()


def test_the_api_detail_tells_the_same_paperwork_and_not_the_clinics_invoice(
    client, insurer_user, paperwork_done
):
    _key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims system", actor=act(None)
    )
    response = client.get(
        f"/api/v1/booking-requests/{paperwork_done.order_id}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    timeline = response.json()["timeline"]
    kinds = [entry["kind"] for entry in timeline]
    for kind in ("gop_requested", "gop_issued", "gop_acknowledged"):
        assert kinds.count(kind) == 1, kinds
    # Two uploads told (the GOP's PDF, the signed form); the clinic's invoice is not.
    assert kinds.count("document_uploaded") == 2
    assert all(entry["note"] == "" for entry in timeline if entry["kind"].startswith("gop_"))
    assert "invoice" not in response.content.decode().lower()
    assert "chase Friday" not in response.content.decode()
