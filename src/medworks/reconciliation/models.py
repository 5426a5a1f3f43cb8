"""Reconciliation (SOP case 4 step 6): one row per order, its four checks and the SOP table's
figures as last evaluated, and the months finance closes.

The figures are a snapshot so the table, its totals and its exports read one table at any size
(100,000 orders): `services.reconciliation_refresh` writes them from what the other apps
recorded; a reconciled order's snapshot is what was reconciled and is not rewritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medworks.core.money import CURRENCY, money_field


def _money(verbose_name):
    return money_field(verbose_name, null=True, blank=True)  # empty until the order is priced


class ReconciliationStatus(models.TextChoices):
    OPEN = "open", _("Open")  # a check is still missing
    DISCREPANCY = "discrepancy", _("Discrepancy")  # a check disagrees with another record
    RECONCILED = "reconciled", _("Reconciled")  # the coordinator reconciled it


class CheckState(models.TextChoices):
    MET = "met", _("Met")
    NOT_NEEDED = "not_needed", _("Not needed")  # e.g. no order to finance for direct billing
    MISSING = "missing", _("Missing")
    DISCREPANCY = "discrepancy", _("Discrepancy")


class CheckName(models.TextChoices):
    """The four checks of SOP case 4 step 6, in its order."""

    ORDER_EMAIL = "order_email", _("Email details from the booking team")
    PAYMENT_PROCESS = "payment_process", _("Payment process reconfirmed")
    PROVIDER_INVOICE = "provider_invoice", _("Invoice received from the provider")
    INSURER_PAYMENT = "insurer_payment", _("Insurer's payment received")


class Reconciliation(models.Model):
    case = models.OneToOneField(
        "bookings.BookingRequest",
        on_delete=models.PROTECT,
        related_name="reconciliation",
        verbose_name=_("case"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReconciliationStatus.choices,
        default=ReconciliationStatus.OPEN,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    # The month the order belongs to (its order date's), the one finance closes.
    month = models.DateField(_("month"))

    # --- The SOP table's columns, as last evaluated -------------------------------------------
    insurer = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "network.AffiliatePartner",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    order_date = models.DateField(_("order date"))
    appointment_at = models.DateTimeField(_("appointment date"), null=True, blank=True)
    location = models.CharField(_("appointment location, clinic"), max_length=300, blank=True)
    services = models.CharField(_("service requested"), max_length=500, blank=True)
    currency = models.CharField(max_length=3, default=CURRENCY, editable=False)
    clinic_cost = _money(_("clinic cost"))
    medworks_cost = _money(_("MedWorks cost"))
    total_to_bill = _money(_("total cost to bill the insurer"))  # clinic + MedWorks cost
    tax = _money(_("tax"))
    total_with_tax = _money(_("total with tax"))
    payment_method = models.CharField(_("payment method"), max_length=32, blank=True)

    # --- The four checks --------------------------------------------------------------------
    order_email = models.CharField(max_length=16, choices=CheckState.choices)
    payment_process = models.CharField(max_length=16, choices=CheckState.choices)
    provider_invoice = models.CharField(max_length=16, choices=CheckState.choices)
    insurer_payment = models.CharField(max_length=16, choices=CheckState.choices)
    # Per check: its message and the amounts that disagree ({"order_email": {...}, ...}).
    details = models.JSONField(default=dict, blank=True)
    # What the coordinator accepted when reconciling with a discrepancy (the checks' details).
    accepted = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("reconciled by"),
    )
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        indexes = [
            # The table's keyset order, alone and under each filter.
            models.Index(fields=["-order_date", "-case"], name="recon_order"),
            models.Index(fields=["insurer", "-order_date", "-case"], name="recon_insurer"),
            models.Index(fields=["provider", "-order_date", "-case"], name="recon_provider"),
            models.Index(fields=["status", "-order_date", "-case"], name="recon_status"),
            models.Index(fields=["month", "status"], name="recon_month"),
            models.Index(fields=["status", "checked_at"], name="recon_sweep"),
        ]

    def __str__(self) -> str:
        return f"Reconciliation of case {self.case_id}"

    def checks(self) -> list[tuple[str, str]]:
        """(check name, state) in the SOP's order."""
        return [(name, getattr(self, name)) for name in CheckName.values]


class MonthStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReconciliationMonth(models.Model):
    """A month finance closed (born at its first close): its reconciled orders are locked
    until finance reopens it, with a reason."""

    month = models.DateField(_("month"), unique=True)  # its first day
    status = models.CharField(
        _("status"), max_length=8, choices=MonthStatus.choices, default=MonthStatus.OPEN
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
