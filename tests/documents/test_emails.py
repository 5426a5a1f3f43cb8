"""Paperwork emails link each reader to the case on their own page: the clinic to its portal,
the booking team to the staff case page, the insurer (asked for a GOP) to its portal; in
English and French, and with nothing about the patient."""

from __future__ import annotations

import io

import pytest
from django.template.loader import get_template
from django.utils import timezone

from medworks.documents.gops import gop_request
from medworks.documents.services import document_upload
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

from . import samples

pytestmark = pytest.mark.django_db

BASE = "https://desk.example"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.MEDWORKS_BASE_URL = BASE


def _upload(case, user, *, kind, **extra):
    return document_upload(
        case=case,
        kind=kind,
        file=io.BytesIO(samples.pdf()),
        filename="form.pdf",
        actor=act(user),
        **extra,
    )


@pytest.mark.parametrize(
    "name", ["clinic_paperwork", "team_paperwork_back", "insurer_gop_requested"]
)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_both_languages_of_a_paperwork_email_link_to_the_case(name, language):
    source = get_template(f"notifications/email/{name}.txt").template.source
    assert "{{ url }}" in source


def test_new_paperwork_sends_the_clinic_to_its_own_case_page(booked_case, insurer_user):
    OutboxMessage.objects.all().delete()
    _upload(booked_case, insurer_user, kind="insurer_form")
    (message,) = OutboxMessage.objects.filter(template="clinic_paperwork")
    assert f"{BASE}/clinic/requests/{booked_case.order_id}/" in message.body


def test_signed_paperwork_back_sends_the_team_to_the_staff_case_page(booked_case, clinic_user):
    factories.appointment_time_passes(booked_case)
    OutboxMessage.objects.all().delete()
    _upload(
        booked_case,
        clinic_user,
        kind="completed_form",
        signed_by="Dr. Amira Haddad",
        signed_on=timezone.localdate(),
        attested=True,
    )
    (message,) = OutboxMessage.objects.filter(template="team_paperwork_back")
    assert f"{BASE}/staff/bookings/{booked_case.order_id}/" in message.body


def test_a_gop_request_emails_the_insurers_contact_with_its_case_page_only(
    paper_case, booking_agent
):
    OutboxMessage.objects.all().delete()
    gop_request(case=paper_case, actor=act(booking_agent), note="Jean Tremblay, urgent.")
    (message,) = OutboxMessage.objects.filter(template="insurer_gop_requested")
    assert message.to == [paper_case.insurer_contact_email]
    assert message.language == "en"
    assert f"{BASE}/portal/requests/{paper_case.order_id}/" in message.body
    assert paper_case.insurer_reference in message.subject
    for secret in ("Jean", "Tremblay", "urgent", "1980"):
        assert secret not in message.subject + message.body
