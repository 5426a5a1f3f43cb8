"""The breach register and the retention job's own record (privacy/README.md).

A BreachRecord is written through `services.py` only, each create and change an audit row; it
is kept at least BREACH_KEEP_MONTHS after its last change (RULES.md: "each entry kept 24
months"), so deleting one earlier raises. A RetentionRun is one pass of the retention job:
what it found past its period and what it did, per record type.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# RULES.md (personal health information): each entry of the breach register kept 24 months.
BREACH_KEEP_MONTHS = 24


def months_after(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` later (the month's last day when it has fewer days)."""
    import calendar

    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class RealRisk(models.TextChoices):
    """The decision PIPEDA asks for: is there a real risk of significant harm (RROSH)?"""

    YES = "yes", _("Yes: a real risk of significant harm")  # report and notify
    NO = "no", _("No real risk of significant harm")  # recorded, no notification required
    UNDETERMINED = "undetermined", _("Not yet determined")  # still being assessed


class BreachRecordQuerySet(models.QuerySet):
    def delete(self):  # one at a time, each checked against its keeping period
        raise TypeError("breach records are deleted one at a time (BreachRecord.delete)")


class BreachRecord(models.Model):
    """One breach of security safeguards involving personal information, as the register
    keeps it (RULES.md, PIPEDA's breach record)."""

    found_on = models.DateField(_("date found"))
    occurred_from = models.DateField(_("occurred from"), null=True, blank=True)
    occurred_to = models.DateField(_("occurred until"), null=True, blank=True)
    circumstances = models.TextField(_("circumstances"))
    information_involved = models.TextField(_("information involved"))
    people_affected_count = models.PositiveIntegerField(_("number of people affected"), null=True)
    people_affected = models.TextField(_("people affected"), blank=True)
    real_risk = models.CharField(
        _("real risk of significant harm"),
        max_length=16,
        choices=RealRisk.choices,
        default=RealRisk.UNDETERMINED,
    )
    risk_reasoning = models.TextField(_("why (the decision's reasoning)"), blank=True)
    commissioner_notified_at = models.DateTimeField(
        _("Privacy Commissioner notified"), null=True, blank=True
    )
    individuals_notified_at = models.DateTimeField(_("individuals notified"), null=True, blank=True)
    organisations_notified = models.TextField(_("organisations notified (who, when)"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BreachRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-found_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(occurred_from__isnull=True)
                | models.Q(occurred_to__isnull=True)
                | models.Q(occurred_to__gte=models.F("occurred_from")),
                name="breach_occurred_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Breach {self.pk} found {self.found_on}"

    @property
    def reference(self) -> str:
        return f"BR-{self.pk:05d}" if self.pk else ""

    @property
    def keep_until(self) -> dt.datetime:
        """The earliest moment it may be deleted: 24 months after its last change."""
        return months_after(self.updated_at, BREACH_KEEP_MONTHS)

    def delete(self, *args, **kwargs):
        if timezone.now() < self.keep_until:
            raise TypeError(
                f"breach record {self.pk} is kept until {self.keep_until:%Y-%m-%d} "
                f"({BREACH_KEEP_MONTHS} months after its last change)"
            )
        return super().delete(*args, **kwargs)


class RetentionRun(models.Model):
    """One pass of the retention job (`retention.retention_run`): when, whether it only
    counted (dry run), and per record type how many rows it changed or would change."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    # {"closed_case_patients": 3, "case_source_emails": 1, ...}; "kept_*" for what was held back.
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Retention run {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"


class PatientAnonymisation(models.Model):
    """A patient the retention job anonymised (once: the row says it is done), and when."""

    patient = models.OneToOneField(
        "bookings.Patient", on_delete=models.PROTECT, related_name="anonymisation"
    )
    anonymised_at = models.DateTimeField(default=timezone.now)
    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="anonymisations")

    class Meta:
        ordering = ["-anonymised_at", "-id"]

    def __str__(self) -> str:
        return f"Patient {self.patient_id} anonymised {self.anonymised_at:%Y-%m-%d}"
