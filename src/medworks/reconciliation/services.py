"""The reconciliation's use cases, each one transaction: refresh an order's checks (the
worker's sweep does it for every order not reconciled yet), reconcile, reopen, close and
reopen a month."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.locks import lock_case
from medworks.bookings.models import AppointmentStatus, BookingRequest, BookingStatus
from medworks.bookings.workflow import BOOKING_WORKFLOW
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, PermissionDenied

from .checks import Evaluation, evaluate
from .models import (
    CheckName,
    Reconciliation,
    ReconciliationMonth,
    ReconciliationStatus,
)
from .selectors import counts_by_status
from .workflow import MONTH_WORKFLOW, RECONCILIATION_WORKFLOW

logger = logging.getLogger(__name__)
S = ReconciliationStatus
# An order is reconciled once it was booked: from then on it has a clinic cost and a price.
RECONCILED_CASE_STATUSES = frozenset(
    {
        BookingStatus.BOOKED,
        BookingStatus.COMPLETED,
        BookingStatus.READY_FOR_BILLING,
        BookingStatus.CLOSED,
        BookingStatus.NO_SHOW,
    }
)
SWEEP_BATCH = 200


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _appointment_at(case: BookingRequest):
    """The appointment that was kept (the latest neither cancelled nor moved), as the SOP
    table's Appointment Date."""
    appointment = (
        case.appointments.exclude(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED]
        )
        .order_by("-starts_at")
        .first()
    )
    return appointment.starts_at if appointment is not None else None


def _snapshot(row: Reconciliation, case: BookingRequest, evaluation: Evaluation) -> None:
    figures = evaluation.figures
    location = case.location
    row.insurer_id = case.insurer_id
    row.provider_id = location.partner_id if location else None
    row.order_date = timezone.localdate(case.created_at)
    row.month = month_of(row.order_date)
    row.appointment_at = _appointment_at(case)
    row.location = f"{location.name}, {location.address}, {location.city}"[:300] if location else ""
    row.services = ", ".join(s.name_en for s in case.services.order_by("name_en"))[:500]
    row.clinic_cost = figures.clinic_cost
    row.medworks_cost = figures.medworks_cost
    row.total_to_bill = figures.total_to_bill
    row.tax = figures.tax
    row.total_with_tax = figures.total_with_tax
    row.payment_method = figures.payment_method
    for check in evaluation.checks:
        setattr(row, check.name, check.state)
    row.details = {check.name: check.as_detail() for check in evaluation.checks}
    row.checked_at = timezone.now()


def _refresh_locked(case: BookingRequest, actor: Actor) -> Reconciliation | None:
    row = Reconciliation.objects.filter(case=case).first()
    if row is not None and row.status == S.RECONCILED:
        return row  # what was reconciled stays as it was; a correction reopens it first
    if row is None and case.status not in RECONCILED_CASE_STATUSES:
        return None
    evaluation = evaluate(case)
    if row is None:
        row = Reconciliation(case=case)
    _snapshot(row, case, evaluation)
    row.save()
    payload = {
        "checks": {c.name: c.state for c in evaluation.checks},
        "discrepancies": {c.name: c.as_detail() for c in evaluation.discrepancies},
    }
    if evaluation.has_discrepancy and row.status == S.OPEN:
        RECONCILIATION_WORKFLOW.fire(record=row, name="flag", actor=actor, payload=payload)
    elif not evaluation.has_discrepancy and row.status == S.DISCREPANCY:
        RECONCILIATION_WORKFLOW.fire(record=row, name="clear", actor=actor, payload=payload)
    row.refresh_from_db()
    return row


def reconciliation_refresh(*, case: BookingRequest, actor: Actor) -> Reconciliation | None:
    """Evaluate the order's four checks now and store them with the table's figures; flag or
    clear a discrepancy. None for a case never booked. A reconciled order is left as it was."""
    with transaction.atomic():
        locked = lock_case(case.pk)
        return _refresh_locked(
            BookingRequest.objects.select_related("location").get(pk=locked.pk), actor
        )


def reconciliation_sweep(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """The worker's job: the orders booked with no reconciliation yet, then those not
    reconciled, least recently checked first, `limit` at a time. Returns how many it checked."""
    system = Actor.system("reconciliation sweep")
    new = list(
        BookingRequest.objects.filter(
            status__in=RECONCILED_CASE_STATUSES, reconciliation__isnull=True
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    stale = list(
        Reconciliation.objects.exclude(status=S.RECONCILED)
        .exclude(case_id__in=new)
        .order_by("checked_at", "pk")
        .values_list("case_id", flat=True)[: max(limit - len(new), 0)]
    )
    checked = 0
    for pk in [*new, *stale]:
        try:
            reconciliation_refresh(case=BookingRequest(pk=pk), actor=system)
            checked += 1
        except Exception:
            # One order's failure (its own transaction rolled back) must not stop the others.
            logger.exception("reconciliation sweep: case %s could not be checked", pk)
    return checked


def _require(actor: Actor, capability: Capability, message: str) -> None:
    if not actor_can(actor, capability):
        raise PermissionDenied("reconciliation_forbidden", message)


def reconciliation_reconcile(
    *, case: BookingRequest, actor: Actor, note: str = ""
) -> Reconciliation:
    """The coordinator reconciles the order, its checks evaluated again first. A discrepancy
    is accepted only with a note saying why (kept with the amounts accepted). A case ready for
    billing is then closed, in the same transaction."""
    _require(actor, Capability.RECONCILE, _("Only the booking coordinator reconciles orders."))
    note = (note or "").strip()
    with transaction.atomic():
        locked = lock_case(case.pk)
        row = _refresh_locked(
            BookingRequest.objects.select_related("location").get(pk=locked.pk), actor
        )
        if row is None:
            raise DomainError(
                "reconciliation_not_booked",
                _("%(order)s was never booked: there is nothing to reconcile.")
                % {"order": locked.order_id},
            )
        discrepancies = {
            name: row.details.get(name, {})
            for name, state in row.checks()
            if state == "discrepancy"
        }
        if discrepancies and not note and row.status != S.RECONCILED:
            raise DomainError(
                "note_required",
                _("Say why you accept the discrepancy (%(checks)s).")
                % {
                    "checks": ", ".join(
                        str(CheckName(name).label).lower() for name in discrepancies
                    )
                },
                fields={"note": [_("Say why you accept the discrepancy.")]},
            )
        RECONCILIATION_WORKFLOW.fire(
            record=row,
            name="reconcile",
            actor=actor,
            note=note,
            payload={"accepted": discrepancies},
        )
        Reconciliation.objects.filter(pk=row.pk).update(
            accepted=discrepancies,
            note=note,
            reconciled_by=actor.user,
            reconciled_at=timezone.now(),
        )
        if "close" in BOOKING_WORKFLOW.allowed_names(locked, actor):
            BOOKING_WORKFLOW.fire(record=locked, name="close", actor=actor)
        row.refresh_from_db()
        return row


def reconciliation_reopen(*, case: BookingRequest, actor: Actor, note: str) -> Reconciliation:
    """Reopen a reconciled order for a correction (a reason required; not in a closed month).
    Its checks are evaluated again at once."""
    with transaction.atomic():
        locked = lock_case(case.pk)
        row = Reconciliation.objects.filter(case=locked).first()
        if row is None:
            raise DomainError(
                "reconciliation_not_booked",
                _("%(order)s has no reconciliation.") % {"order": locked.order_id},
            )
        RECONCILIATION_WORKFLOW.fire(record=row, name="reopen", actor=actor, note=note)
        Reconciliation.objects.filter(pk=row.pk).update(
            accepted={}, reconciled_by=None, reconciled_at=None
        )
        return _refresh_locked(
            BookingRequest.objects.select_related("location").get(pk=locked.pk), actor
        )


# --- Months ------------------------------------------------------------------------------------


def month_counts(month: dt.date) -> dict[str, int]:
    """How many of the month's orders are in each state."""
    return counts_by_status(Reconciliation.objects.filter(month=month))


def month_close(*, month: dt.date, actor: Actor, note: str = "") -> ReconciliationMonth:
    """Finance closes the month: its reconciled orders are locked. Orders not reconciled stay
    open (the counts are kept with the step), so a late order never holds a month open."""
    _require(actor, Capability.MONTH_CLOSE, _("Only finance closes a month."))
    month = month_of(month)
    if month >= month_of(timezone.localdate()):
        raise DomainError(
            "month_not_over",
            _("%(month)s is not over yet: only a past month is closed.")
            % {"month": f"{month:%Y-%m}"},
        )
    with transaction.atomic():
        record, _created = ReconciliationMonth.objects.get_or_create(month=month)
        MONTH_WORKFLOW.fire(
            record=record, name="close", actor=actor, note=note, payload=month_counts(month)
        )
        ReconciliationMonth.objects.filter(pk=record.pk).update(
            closed_by=actor.user, closed_at=timezone.now()
        )
        record.refresh_from_db()
        return record


def month_reopen(*, month: dt.date, actor: Actor, note: str) -> ReconciliationMonth:
    """Finance reopens a closed month for a correction, with the reason (audited)."""
    _require(actor, Capability.MONTH_CLOSE, _("Only finance reopens a month."))
    month = month_of(month)
    with transaction.atomic():
        record = ReconciliationMonth.objects.filter(month=month).first()
        if record is None:
            raise DomainError(
                "month_not_closed",
                _("%(month)s was never closed.") % {"month": f"{month:%Y-%m}"},
            )
        MONTH_WORKFLOW.fire(
            record=record, name="reopen", actor=actor, note=note, payload=month_counts(month)
        )
        record.refresh_from_db()
        return record
