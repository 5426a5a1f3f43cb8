"""Documents of a case (paperwork, GOPs, signed forms, results, clinic invoices) and who read them.

A Document is one paper of one booking request; each upload is a new DocumentVersion (never an
overwrite), stored encrypted under `<clinic>/<order id>/<kind>/<version uuid>` (storage.py).
A Gop is the insurer's guarantee of payment as data: an amendment is a new row that supersedes
the old one, so every version stays. DocumentAccess records every view and download.

Rows are written only by services.py; reads that pages and the API share are in selectors.py.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from medworks.bookings.models import BookingStatus
from medworks.core.money import CURRENCY, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class DocumentKind(models.TextChoices):
    GOP = "gop", _("Guarantee of payment (GOP)")  # the insurer's written promise to pay
    INSURER_FORM = "insurer_form", _("Insurer form")  # paperwork the physician fills in
    COMPLETED_FORM = "completed_form", _("Completed, signed form")  # back from the clinic
    RESULTS = "results", _("Results")  # the clinic's results, when they go through paperwork
    CLINIC_INVOICE = "clinic_invoice", _("Clinic invoice")  # what the clinic bills MedWorks
    OTHER = "other", _("Other")
    # The order billing.orders sent to finance for a pre-paid provider (its PDF): staff only.
    ORDER = "order", _("Order sent to finance")


class DocumentQuerySet(models.QuerySet):
    def for_user(self, user) -> DocumentQuerySet:
        """Documents a user may see: those of cases the user may see, less some kinds.

        An insurer never sees a clinic's invoice: it shows the clinic's price, on which
        MedWorks adds its fee (DESIGN.md, quotes), and that price is between MedWorks and the
        clinic. Neither the insurer nor the clinic sees a staff-only kind (STAFF_ONLY_KINDS:
        the order sent to finance, with both the clinic's cost and MedWorks' fee).
        """
        from medworks.accounts.permissions import Capability, user_can
        from medworks.bookings.models import BookingRequest

        cases = BookingRequest.objects.for_user(user)
        documents = self.filter(request__in=cases.values("pk"))
        if user_can(user, Capability.BOOKING_VIEW):
            return documents
        if user_can(user, Capability.INSURER_PORTAL):
            return documents.exclude(kind__in=HIDDEN_FROM_INSURER)
        # A clinic: only once the appointment is booked with it (need to know, RULES.md).
        return documents.filter(request__status__in=CLINIC_PAPERWORK_STATUSES).exclude(
            kind__in=STAFF_ONLY_KINDS
        )


# Kinds only MedWorks' staff ever see: written by the desk itself, never uploaded.
STAFF_ONLY_KINDS = frozenset({DocumentKind.ORDER})
HIDDEN_FROM_INSURER = frozenset({DocumentKind.CLINIC_INVOICE}) | STAFF_ONLY_KINDS
# A clinic sees a case's paperwork (and GOP, and the patient's details) only once the
# appointment is booked with it; before that it sees what it needs to give dates.
_B = BookingStatus
CLINIC_PAPERWORK_STATUSES = frozenset(
    {_B.BOOKED, _B.COMPLETED, _B.NO_SHOW, _B.READY_FOR_BILLING, _B.CLOSED}
)


class Document(models.Model):
    request = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "kind"])]

    def __str__(self) -> str:
        return f"Document {self.pk} ({self.kind}) of request {self.request_id}"

    @property
    def current(self) -> DocumentVersion | None:
        """The latest version (from prefetched versions when they are there: no query)."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "versions" in cache:
            versions = list(cache["versions"])
            return max(versions, key=lambda v: v.number) if versions else None
        return self.versions.order_by("-number").first()


class UploaderParty(models.TextChoices):
    STAFF = "staff", _("MedWorks")
    INSURER = "insurer", _("Insurer")
    CLINIC = "clinic", _("Clinic")


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()  # 1, 2, ... within its document
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original_name = models.CharField(max_length=150)  # sanitised; the download name
    content_type = models.CharField(max_length=100)  # detected from the content, not the name
    size = models.PositiveBigIntegerField()  # of the plaintext
    sha256 = models.CharField(max_length=64, db_index=True)  # of the plaintext
    storage_name = models.CharField(max_length=255, unique=True)  # in the "documents" storage
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who uploaded, as a party: an insurer's API key has no user, and the readiness gate needs
    # to know the signed form came from the clinic.
    uploaded_by_party = models.CharField(max_length=10, choices=UploaderParty.choices)
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # A completed form: the physician who signed it, when, and the uploader's attestation.
    signed_by = models.CharField(max_length=200, blank=True)
    signed_on = models.DateField(null=True, blank=True)
    attested = models.BooleanField(default=False)

    class Meta:
        ordering = ["document_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_unique")
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of document {self.document_id}"


class GopStatus(models.TextChoices):
    # Requested: MedWorks asked the insurer for a guarantee.
    REQUESTED = "requested", pgettext_lazy("GOP status", "Requested")
    # Issued: the insurer guarantees payment on these terms.
    ISSUED = "issued", pgettext_lazy("GOP status", "Issued")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("GOP status", "Acknowledged by the clinic")
    # Service rendered: used, the patient was seen.
    SERVICE_RENDERED = "service_rendered", pgettext_lazy("GOP status", "Service rendered")
    # Amended: replaced by a newer version (kept, never edited).
    AMENDED = "amended", pgettext_lazy("GOP status", "Amended")
    EXPIRED = "expired", pgettext_lazy("GOP status", "Expired")  # its validity ended unused
    CANCELLED = "cancelled", pgettext_lazy("GOP status", "Cancelled")  # withdrawn


# A GOP in one of these stands for the case; a new one is an amendment, not a second issue.
GOP_LIVE_STATUSES = frozenset(
    {GopStatus.REQUESTED, GopStatus.ISSUED, GopStatus.ACKNOWLEDGED, GopStatus.SERVICE_RENDERED}
)


class Gop(models.Model):
    """One version of a case's guarantee of payment (RULES.md, GOP). Never edited once issued:
    `gop_amend` writes version + 1 and marks this one amended."""

    request = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="gops"
    )
    version = models.PositiveIntegerField()  # 1, 2, ... within the case
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Born requested; every other state through GOP_WORKFLOW (documents/workflow.py).
    status = models.CharField(
        max_length=20, choices=GopStatus.choices, default=GopStatus.REQUESTED, db_index=True
    )
    insurer_reference = models.CharField(max_length=100, blank=True)
    patient_name = models.CharField(max_length=200, blank=True)
    patient_date_of_birth = models.DateField(null=True, blank=True)
    policy_number = models.CharField(max_length=100, blank=True)
    provider = models.ForeignKey(
        "network.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorised_services = models.ManyToManyField("network.Service", blank=True, related_name="+")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    max_amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, default=CURRENCY)
    copay_exclusions = models.TextField(blank=True)
    billing_instructions = models.TextField(blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="gops"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["request", "version"], name="gop_version_unique"),
            models.CheckConstraint(
                condition=models.Q(max_amount__isnull=True) | models.Q(max_amount__gte=0),
                name="gop_max_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="gop_validity_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"GOP {self.pk} v{self.version} of request {self.request_id}"


class DocumentAccessAction(models.TextChoices):
    VIEWED = "viewed", _("Viewed")
    DOWNLOADED = "downloaded", _("Downloaded")


class DocumentAccessQuerySet(models.QuerySet):
    def update(self, **kwargs):  # append-only: the access history is never rewritten
        raise TypeError("document access records are append-only")

    def delete(self):
        raise TypeError("document access records are append-only")


class DocumentAccess(models.Model):
    """Who read which document of which case and patient, when, from where and why.

    Append-only (RULES.md: every read of patient information leaves a record).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_key = models.ForeignKey(  # when an insurer's system read it (no user)
        "accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=16, choices=DocumentAccessAction.choices)
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="accesses")
    request = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="document_accesses"
    )
    patient = models.ForeignKey(
        "bookings.Patient", on_delete=models.PROTECT, related_name="document_accesses"
    )
    origin = models.CharField(max_length=100, blank=True)  # client IP, or "api"
    purpose = models.CharField(max_length=200, blank=True)

    objects = DocumentAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} version {self.version_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("document access records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("document access records are append-only")
