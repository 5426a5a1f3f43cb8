"""Retention: what has passed its period is anonymised or deleted, never what billing or an
open case still needs; a dry run changes nothing; a run is recorded and done once a day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from medworks.bookings import services as bookings
from medworks.bookings.models import BookingRequest, BookingStatus, Patient
from medworks.core.models import AuditEvent
from medworks.notifications.models import OutboxMessage, OutboxStatus
from medworks.payments.models import StoredCard
from medworks.payments.vault import card_store
from medworks.privacy.models import PatientAnonymisation, RetentionRun
from medworks.privacy.retention import ANONYMISED_NAME, retention_run
from tests import factories
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

YEAR = dt.timedelta(days=365)


def _closed(case, agent, *, ago: dt.timedelta):
    factories.mark_reconciled(case)
    bookings.booking_request_step(case=case, name="close", actor=act(agent))
    BookingRequest.objects.filter(pk=case.pk).update(status_changed_at=timezone.now() - ago)
    case.refresh_from_db()
    assert case.status == BookingStatus.CLOSED
    return case


def _cancelled(case, agent, *, ago: dt.timedelta):
    bookings.booking_request_cancel(
        case=case, actor=act(agent), cancelled_by="insurer", note="No longer needed."
    )
    BookingRequest.objects.filter(pk=case.pk).update(status_changed_at=timezone.now() - ago)
    case.refresh_from_db()
    return case


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist Travel")


@pytest.fixture
def location():
    return clinic(prices={"XRAY": "120.00"})


@pytest.fixture
def old_closed(insurer, location, booking_agent):
    """Closed eight years ago, nothing owed."""
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    BookingRequest.objects.filter(pk=case.pk).update(
        source_filename="request.eml", source_content=b"From: adjuster\r\n\r\nJean Tremblay"
    )
    return _closed(case, booking_agent, ago=8 * YEAR)


def _patient(case) -> Patient:
    return Patient.objects.get(pk=case.patient_id)


def test_a_closed_case_past_its_period_has_its_patient_anonymised(old_closed):
    report = retention_run()
    patient = _patient(old_closed)
    assert patient.first_name == patient.last_name == ANONYMISED_NAME
    assert patient.date_of_birth == dt.date(1900, 1, 1)
    assert (patient.phone, patient.email, patient.address, patient.city) == ("", "", "", "")
    assert patient.postal_code == "M5V" and patient.province == "ON"
    case = BookingRequest.objects.get(pk=old_closed.pk)
    assert case.symptoms == "" and case.summary == "" and case.policy_number == ""
    assert bytes(case.source_content) == b"" and case.source_filename == ""
    # What billing and the audit trail need stays.
    assert case.order_id == old_closed.order_id
    assert case.insurer_reference == old_closed.insurer_reference
    assert case.status == BookingStatus.CLOSED
    assert report.counts["closed_case_patients"] == 1
    assert PatientAnonymisation.objects.filter(patient=patient).exists()


def test_a_closed_case_within_its_period_is_left_alone(insurer, location, booking_agent):
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    _closed(case, booking_agent, ago=5 * YEAR)
    retention_run()
    assert _patient(case).last_name == "Tremblay"


def test_a_cancelled_case_past_its_period_is_anonymised_and_a_recent_one_is_not(booking_agent):
    old = _cancelled(factories.make_booking_request(), booking_agent, ago=3 * YEAR)
    recent = _cancelled(factories.make_booking_request(), booking_agent, ago=YEAR)
    report = retention_run()
    assert _patient(old).first_name == ANONYMISED_NAME
    assert _patient(recent).first_name == "Jean"
    assert report.counts["cancelled_case_patients"] == 1


def test_a_patient_with_an_unpaid_invoice_is_kept(insurer, location, booking_agent, finance_user):
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)
    issued_invoice(case=case, finance_user=finance_user)
    _closed(case, booking_agent, ago=8 * YEAR)
    report = retention_run()
    assert _patient(case).last_name == "Tremblay"
    assert BookingRequest.objects.get(pk=case.pk).symptoms != ""
    assert report.counts["kept_for_billing"] == 1
    assert report.counts["closed_case_patients"] == 0


def test_a_patient_with_another_case_still_open_is_kept(old_closed, booking_agent):
    other = factories.make_booking_request(insurer=old_closed.insurer)
    BookingRequest.objects.filter(pk=other.pk).update(patient=old_closed.patient)
    report = retention_run()
    assert _patient(old_closed).last_name == "Tremblay"
    assert report.counts["kept_open_or_recent_case"] == 1
    # Its original email is past its own period (a year after the case ended): removed.
    assert BookingRequest.objects.get(pk=old_closed.pk).source_filename == ""


def test_a_dry_run_counts_and_changes_nothing(old_closed):
    before_audit = AuditEvent.objects.count()
    report = retention_run(dry_run=True)
    assert report.counts["closed_case_patients"] == 1
    assert report.counts["case_source_emails"] == 1
    assert _patient(old_closed).last_name == "Tremblay"
    assert BookingRequest.objects.get(pk=old_closed.pk).source_filename == "request.eml"
    assert not RetentionRun.objects.exists()
    assert not PatientAnonymisation.objects.exists()
    assert AuditEvent.objects.count() == before_audit


def test_the_run_is_recorded_with_its_counts(old_closed):
    report = retention_run()
    run = RetentionRun.objects.get()
    assert run.pk == report.run_id and not run.dry_run and run.finished_at is not None
    assert run.counts["closed_case_patients"] == 1
    audit = AuditEvent.objects.get(action="privacy.retention_run")
    assert audit.actor is None and audit.actor_kind == "system"
    assert audit.payload["counts"] == run.counts
    assert audit.object_id == str(run.pk)


def test_a_second_run_within_a_day_does_nothing(
    old_closed, booking_agent, django_assert_max_num_queries
):
    now = timezone.now()
    retention_run(now=now)
    later = _cancelled(factories.make_booking_request(), booking_agent, ago=3 * YEAR)
    with django_assert_max_num_queries(1):
        report = retention_run(now=now + dt.timedelta(hours=23))
    assert report.skipped and report.counts == {}
    assert RetentionRun.objects.count() == 1
    assert _patient(later).first_name == "Jean"
    retention_run(now=now + dt.timedelta(hours=25))
    assert _patient(later).first_name == ANONYMISED_NAME
    assert RetentionRun.objects.count() == 2


def test_card_data_is_purged(booking_agent):
    case = factories.make_booking_request()
    card = card_store(
        case=case,
        number="4111 1111 1111 1111",
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(timezone.localdate().year + 2),
        security_code="123",
        actor=act(booking_agent),
    )
    assert StoredCard.objects.get(pk=card.pk).security_code_sealed is not None
    report = retention_run(now=timezone.now() + dt.timedelta(hours=73))
    assert StoredCard.objects.get(pk=card.pk).security_code_sealed is None
    assert report.counts["card_data"] == 1


def test_old_email_bodies_and_expired_sessions_go(booking_agent, client):
    factories.make_booking_request()
    message = OutboxMessage.objects.order_by("pk").first()
    assert message is not None and message.body
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT, created_at=timezone.now() - dt.timedelta(days=91)
    )
    client.force_login(booking_agent)
    from medworks.accounts.models import UserSession

    UserSession.objects.update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    report = retention_run()
    message.refresh_from_db()
    assert message.body == "" and message.attachments == []
    assert message.subject  # who was told what, when: kept
    assert not UserSession.objects.exists()
    assert report.counts["email_outbox_bodies"] >= 1 and report.counts["sessions"] == 1


def test_the_staff_page_of_an_anonymised_case_still_renders(client, old_closed, booking_agent):
    retention_run()
    client.force_login(booking_agent)
    response = client.get(reverse("web:staff_booking_detail", args=[old_closed.order_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert ANONYMISED_NAME in page and "Tremblay" not in page


def test_the_command_prints_what_a_dry_run_would_do(old_closed, capsys):
    call_command("retention", "--dry-run")
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "Patients of closed cases anonymised: 1" in out
    assert _patient(old_closed).last_name == "Tremblay"
    call_command("retention")
    assert "Retention run" in capsys.readouterr().out
    assert _patient(old_closed).last_name == ANONYMISED_NAME
    call_command("retention")
    assert "Nothing done" in capsys.readouterr().out


def test_old_mailbox_originals_and_webhook_deliveries_go_and_waiting_ones_stay():
    from medworks.documents.storage import seal, unseal
    from medworks.mailbox.models import InboundEmail, InboundStatus
    from medworks.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

    old = timezone.now() - 2 * YEAR

    def inbound(status, n):
        return InboundEmail.objects.create(
            message_id=f"<m{n}@example>",
            raw_sealed=seal(b"From: a@b\r\n\r\nJean Tremblay, born 1980-04-12"),
            raw_sha256="0" * 64,
            raw_size=40,
            guess={"patient_last_name": "Tremblay"},
            status=status,
            received_at=old,
        )

    handled, waiting = inbound(InboundStatus.DISMISSED, 1), inbound(InboundStatus.NEEDS_AGENT, 2)
    endpoint = WebhookEndpoint.objects.create(
        insurer=factories.make_organisation(),
        url="https://hooks.example/medworks",
        contact_email="it@example.com",
        secret_sealed=seal(b"whsec_x"),
    )

    def delivery(status, created_at, n):
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=f"evt_{n}",
            kind="test",
            payload={},
            status=status,
            give_up_at=created_at + dt.timedelta(days=1),
            created_at=created_at,
        )

    gone = delivery(DeliveryStatus.DELIVERED, old, 1)
    recent = delivery(DeliveryStatus.DELIVERED, timezone.now(), 2)
    pending = delivery(DeliveryStatus.PENDING, old, 3)
    report = retention_run()
    handled.refresh_from_db()
    waiting.refresh_from_db()
    assert unseal(bytes(handled.raw_sealed)) == b"" and handled.guess == {}
    assert handled.raw_sha256 == "0" * 64
    assert b"Tremblay" in unseal(bytes(waiting.raw_sealed))
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not WebhookDelivery.objects.filter(pk=gone.pk).exists()
    assert report.counts["inbound_email_sources"] == 1
    assert report.counts["webhook_deliveries"] == 1


def test_the_worker_runs_it_daily_and_is_told_how_many_records_it_changed(old_closed, settings):
    from medworks.notifications.management.commands.worker import run_periodic_jobs

    path = "medworks.privacy.retention.retention_periodic"
    assert path in settings.MEDWORKS_PERIODIC_JOBS
    first = run_periodic_jobs([path])[path]
    assert first >= 1  # the patient anonymised (and the case's original email)
    assert run_periodic_jobs([path]) == {path: 0}  # within the day: nothing
    assert _patient(old_closed).first_name == ANONYMISED_NAME
