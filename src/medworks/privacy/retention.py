"""The retention job: what has passed its period (MEDWORKS_RETENTION_DAYS) is deleted or
anonymised, never what billing or an open case still needs, and what it did is recorded.

`retention_run(now=None, dry_run=False)` runs on MEDWORKS_PERIODIC_JOBS (through
`retention_periodic`, which returns a count as every periodic job does; the worker calls it
every minute) and behind `medworks retention [--dry-run]`. It runs at most once a day: a run
that finds the last real run under 24 hours old returns at once (one indexed query), so the
worker's minute costs nothing. A dry run counts what a run would do and writes nothing at all.

Per record type (privacy/README.md has the table):

- **Patients of finished cases** (`closed_case_patient_data`, `cancelled_case_patient_data`):
  a patient whose every case is closed (or cancelled) longer ago than its period is
  anonymised, never deleted (invoices, payments and the ledger PROTECT the rows): names
  "Anonymised", date of birth 1900-01-01, contact, street, city and needs cleared, the postal
  code cut to its first three characters (the forward sortation area) and the province kept,
  for statistics; billing reads neither (the place of supply is the insurer's, the tax the
  clinic's province). Their cases lose the clinical and free text (symptoms, what is
  required, scheduling notes, policy number) and the original email; their GOPs' copy of the
  name and date of birth goes too. The Order Id, the insurer's reference, the services, the
  dates, the amounts and every event stay: billing and the audit trail need them.
  Held back: a patient with a case still open or recent, or a case an invoice to the
  insurer is not fully paid for, a provider's invoice not settled, or a pre-payment in
  progress. Each anonymised patient gets a PatientAnonymisation row (so it is done once).
- **The original email kept on a case** (`case_source_emails`): removed from cases closed or
  cancelled longer ago than the period (the case no longer needs its original).
- **Messages read from the mailbox** (`inbound_email_sources`): the original (sealed) and
  what the reader guessed from it are emptied on messages handled (a case made, filed,
  dismissed) longer ago than the period; the row, its sender, subject and checksum stay.
  One waiting for an agent is never touched.
- **The outbox** (`email_outbox_bodies`): the body and attachments of messages sent or given
  up longer ago than the period are emptied; who, when, which template and case stay.
- **Webhook deliveries** (`webhook_deliveries`): rows delivered or given up longer ago than
  the period are deleted (their payload holds no patient data, but they are only a log).
- **Card data**: `payments.vault.cards_sweep` (security codes past their deadline, cards past
  their expiry month), also on the worker's minute; counted here too.
- **Sessions**: those past their expiry are deleted (what `clearsessions` does).

Never touched: the audit trail (`core.AuditEvent`, the document access records, the cases'
events), invoices, payments and the ledger (tax records, 6 years and more), and the breach
register (kept at least 24 months after each entry's last change; deleting one is a person's
decision, which the model refuses before then).

mailbox and webhooks sit beside privacy in the layers, so their models are reached through
the app registry (`apps.get_model`), not imported; their state values are written here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from medworks.billing.models import (
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    ProviderInvoiceLine,
    ProviderInvoiceStatus,
)
from medworks.bookings.models import BookingRequest, BookingStatus, Patient
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.documents.models import Gop
from medworks.documents.storage import seal
from medworks.payments.models import PaymentRequestLine, PaymentRequestStatus, StoredCard
from medworks.payments.vault import cards_sweep

from .models import PatientAnonymisation, RetentionRun

logger = logging.getLogger(__name__)

JOB = "retention"
# A real run at most this often; the worker asks every minute.
RUN_EVERY = dt.timedelta(hours=24)
# Patients anonymised per transaction (a long backlog is done in several short ones).
BATCH = 200

ANONYMISED_NAME = "Anonymised"
ANONYMISED_BIRTH_DATE = dt.date(1900, 1, 1)

# The record types of the report, in the order it prints them.
RECORD_TYPES = (
    "closed_case_patients",
    "cancelled_case_patients",
    "kept_open_or_recent_case",
    "kept_for_billing",
    "case_source_emails",
    "inbound_email_sources",
    "email_outbox_bodies",
    "webhook_deliveries",
    "card_data",
    "sessions",
)

# Billing still needs a case while one of these is in progress.
_INVOICE_OPEN = (
    InvoiceStatus.DRAFT,
    InvoiceStatus.ISSUED,
    InvoiceStatus.PARTLY_PAID,
    InvoiceStatus.OVERDUE,
)
_PROVIDER_INVOICE_OPEN = (
    ProviderInvoiceStatus.RECEIVED,
    ProviderInvoiceStatus.APPROVED,
    ProviderInvoiceStatus.PARTLY_PAID,
)
_PAYMENT_REQUEST_OPEN = (
    PaymentRequestStatus.DRAFT,
    PaymentRequestStatus.AWAITING_REVIEW,
    PaymentRequestStatus.AWAITING_APPROVAL,
    PaymentRequestStatus.APPROVED,
)
# mailbox.InboundStatus values of a message that is handled; webhooks.DeliveryStatus values of
# a delivery that is over; notifications.OutboxStatus values of a message that is over.
_INBOUND_HANDLED = ("case_created", "filed", "dismissed")
_DELIVERY_OVER = ("delivered", "failed")
_OUTBOX_OVER = ("sent", "failed")


@dataclass
class RetentionReport:
    started_at: dt.datetime
    dry_run: bool
    skipped: bool = False  # the last run is under RUN_EVERY old: nothing done
    last_run_at: dt.datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    @property
    def total(self) -> int:
        return sum(n for name, n in self.counts.items() if not name.startswith("kept_"))


def period(name: str) -> dt.timedelta:
    return dt.timedelta(days=settings.MEDWORKS_RETENTION_DAYS[name])


# --- Patients --------------------------------------------------------------------------------


def _expired_case_q(now: dt.datetime) -> Q:
    return Q(
        status=BookingStatus.CLOSED,
        status_changed_at__lt=now - period("closed_case_patient_data"),
    ) | Q(
        status=BookingStatus.CANCELLED,
        status_changed_at__lt=now - period("cancelled_case_patient_data"),
    )


def _billing_needs_q() -> Q:
    """Cases billing still needs: an invoice to the insurer not fully paid, a provider's
    invoice not settled, a pre-payment in progress."""
    return (
        Q(
            Exists(
                InvoiceLine.objects.filter(
                    case=OuterRef("pk"),
                    invoice__kind=InvoiceKind.INVOICE,
                    invoice__status__in=_INVOICE_OPEN,
                )
            )
        )
        | Q(
            Exists(
                ProviderInvoiceLine.objects.filter(
                    case=OuterRef("pk"), invoice__status__in=_PROVIDER_INVOICE_OPEN
                )
            )
        )
        | Q(
            Exists(
                PaymentRequestLine.objects.filter(
                    case=OuterRef("pk"), request__status__in=_PAYMENT_REQUEST_OPEN
                )
            )
        )
    )


def _patients_due(now: dt.datetime):
    """(patients to anonymise, held back for an open or recent case, held back for billing)
    as querysets of patient ids. Only patients with a case past its period are considered."""
    expired = _expired_case_q(now)
    not_done = ~Q(Exists(PatientAnonymisation.objects.filter(patient=OuterRef("pk"))))
    with_expired = Patient.objects.filter(
        not_done, Exists(BookingRequest.objects.filter(expired, patient=OuterRef("pk")))
    )
    live_case = Exists(BookingRequest.objects.filter(~expired, patient=OuterRef("pk")))
    billing = Exists(BookingRequest.objects.filter(_billing_needs_q(), patient=OuterRef("pk")))
    kept_case = with_expired.filter(live_case)
    kept_billing = with_expired.filter(~live_case).filter(billing)
    due = with_expired.filter(~live_case).filter(~billing)
    return due, kept_case, kept_billing


def _anonymise(patient_ids: list[int], *, now: dt.datetime, run: RetentionRun) -> None:
    with transaction.atomic():
        patients = list(
            Patient.objects.select_for_update().filter(pk__in=patient_ids).order_by("pk")
        )
        for patient in patients:
            Patient.objects.filter(pk=patient.pk).update(
                first_name=ANONYMISED_NAME,
                last_name=ANONYMISED_NAME,
                date_of_birth=ANONYMISED_BIRTH_DATE,
                phone="",
                email="",
                address="",
                city="",
                postal_code=(patient.postal_code or "").replace(" ", "")[:3].upper(),
                needs_wheelchair_access=False,
            )
        ids = [p.pk for p in patients]
        BookingRequest.objects.filter(patient_id__in=ids).update(
            symptoms="",
            summary="",
            scheduling_notes="",
            policy_number="",
            source_filename="",
            source_content=b"",
        )
        Gop.objects.filter(request__patient_id__in=ids).update(
            patient_name=ANONYMISED_NAME, patient_date_of_birth=ANONYMISED_BIRTH_DATE
        )
        PatientAnonymisation.objects.bulk_create(
            PatientAnonymisation(patient_id=pk, anonymised_at=now, run=run) for pk in ids
        )


def _patients_step(now: dt.datetime, *, dry_run: bool, run: RetentionRun | None) -> dict:
    due, kept_case, kept_billing = _patients_due(now)
    closed_only = ~Q(
        Exists(
            BookingRequest.objects.filter(patient=OuterRef("pk"), status=BookingStatus.CANCELLED)
        )
    )
    due_ids = list(due.values_list("pk", flat=True).order_by("pk"))
    closed_ids = set(due.filter(closed_only).values_list("pk", flat=True))
    counts = {
        "closed_case_patients": len(closed_ids),
        "cancelled_case_patients": len(due_ids) - len(closed_ids),
        "kept_open_or_recent_case": kept_case.count(),
        "kept_for_billing": kept_billing.count(),
    }
    if not dry_run:
        for start in range(0, len(due_ids), BATCH):
            _anonymise(due_ids[start : start + BATCH], now=now, run=run)
    return counts


# --- The other record types ------------------------------------------------------------------


def _finished_cases(now: dt.datetime, name: str):
    return BookingRequest.objects.filter(
        status__in=(BookingStatus.CLOSED, BookingStatus.CANCELLED),
        status_changed_at__lt=now - period(name),
    )


def _case_sources(now: dt.datetime, *, dry_run: bool) -> int:
    cases = _finished_cases(now, "case_source_emails").filter(~Q(source_filename=""))
    if dry_run:
        return cases.count()
    return cases.update(source_filename="", source_content=b"")


def _inbound_sources(now: dt.datetime, *, dry_run: bool) -> int:
    inbound = apps.get_model("mailbox", "InboundEmail").objects.filter(
        status__in=_INBOUND_HANDLED,
        received_at__lt=now - period("inbound_email_sources"),
        raw_size__gt=0,
    )
    if dry_run:
        return inbound.count()
    # Sealed empty, not emptied: the case page's download of a filed reply still opens it.
    return inbound.update(raw_sealed=seal(b""), raw_size=0, guess={})


def _outbox_bodies(now: dt.datetime, *, dry_run: bool) -> int:
    messages = (
        apps.get_model("notifications", "OutboxMessage")
        .objects.filter(status__in=_OUTBOX_OVER, created_at__lt=now - period("email_outbox_bodies"))
        .filter(~Q(body="") | ~Q(attachments=[]))
    )
    if dry_run:
        return messages.count()
    return messages.update(body="", attachments=[])


def _webhook_deliveries(now: dt.datetime, *, dry_run: bool) -> int:
    deliveries = apps.get_model("webhooks", "WebhookDelivery").objects.filter(
        status__in=_DELIVERY_OVER, created_at__lt=now - period("webhook_deliveries")
    )
    if dry_run:
        return deliveries.count()
    return deliveries.delete()[0]


def _card_data(now: dt.datetime, *, dry_run: bool) -> int:
    if not dry_run:
        return cards_sweep(now=now)
    today = timezone.localdate(now)
    late_code = Q(security_code_sealed__isnull=False, security_code_expires_at__lte=now)
    expired = (Q(number_sealed__isnull=False) | Q(security_code_sealed__isnull=False)) & (
        Q(expiry_year__lt=today.year) | Q(expiry_year=today.year, expiry_month__lt=today.month)
    )
    return StoredCard.objects.filter(late_code | expired).count()


def _sessions(now: dt.datetime, *, dry_run: bool) -> int:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    expired = store.get_model_class().objects.filter(expire_date__lt=now)
    if dry_run:
        return expired.count()
    return expired.delete()[0]


# --- The run ---------------------------------------------------------------------------------


def last_run() -> RetentionRun | None:
    return RetentionRun.objects.filter(dry_run=False).order_by("-started_at", "-pk").first()


def retention_run(
    *, now: dt.datetime | None = None, dry_run: bool = False, force: bool = False
) -> RetentionReport:
    """One pass of the retention job (see the module's docstring). Cheap when the last run
    is under a day old: it returns a skipped report after one query (unless `force`)."""
    now = now or timezone.now()
    previous = last_run()
    report = RetentionReport(started_at=now, dry_run=dry_run)
    if previous is not None:
        report.last_run_at = previous.started_at
        if not (dry_run or force) and now - previous.started_at < RUN_EVERY:
            report.skipped = True
            return report
    run = None if dry_run else RetentionRun.objects.create(started_at=now, dry_run=False)
    counts: dict[str, int] = {}
    counts.update(_patients_step(now, dry_run=dry_run, run=run))
    counts["case_source_emails"] = _case_sources(now, dry_run=dry_run)
    counts["inbound_email_sources"] = _inbound_sources(now, dry_run=dry_run)
    counts["email_outbox_bodies"] = _outbox_bodies(now, dry_run=dry_run)
    counts["webhook_deliveries"] = _webhook_deliveries(now, dry_run=dry_run)
    counts["card_data"] = _card_data(now, dry_run=dry_run)
    counts["sessions"] = _sessions(now, dry_run=dry_run)
    report.counts = {name: counts.get(name, 0) for name in RECORD_TYPES}
    if run is not None:
        with transaction.atomic():
            RetentionRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), counts=report.counts
            )
            audit_record(
                actor=Actor.system(JOB),
                action="privacy.retention_run",
                obj=run,
                summary=f"retention run: {report.total} records deleted or anonymised",
                payload={
                    "counts": report.counts,
                    "periods": dict(settings.MEDWORKS_RETENTION_DAYS),
                },
            )
        report.run_id = run.pk
        logger.info("retention run %s: %s", run.pk, report.counts)
    return report


def retention_periodic() -> int:
    """The worker's entry (MEDWORKS_PERIODIC_JOBS: no arguments, returns a count, as every
    periodic job does): a run when a day has passed, else nothing. How many records it
    deleted or anonymised."""
    return retention_run().total
