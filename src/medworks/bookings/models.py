"""Booking requests (the SOP's orders), their patients, availability offers and appointments.

A BookingRequest moves through the states of `workflow.py`; every move writes a BookingEvent,
which is both the case's timeline and its audit trail. Status is never written directly: only
the booking workflow's door (`workflow.transition()`) changes it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from medworks.core.actor import Actor
from medworks.core.cards import refuse_card_numbers

from .events import CASE_EVENTS

# One appointment length when none is given, for the agent, the clinic and the API alike.
DEFAULT_APPOINTMENT_MINUTES = 30


class BookingStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # submitted; nobody has started on it
    SOURCING = "sourcing", _("Sourcing")  # an agent is finding a clinic
    ESCALATED = "escalated", _("Escalated")  # no affiliate in the area: management finds a provider
    AWAITING_AVAILABILITY = "awaiting_availability", _("Awaiting dates")  # clinic asked for dates
    DATES_OFFERED = "dates_offered", _("Dates offered")  # the insurer is choosing a date
    BOOKED = "booked", _("Booked")  # an appointment is confirmed
    COMPLETED = "completed", _("Completed")  # the patient was seen
    READY_FOR_BILLING = "ready_for_billing", _("Ready for billing")  # paperwork back, can be billed
    CLOSED = "closed", _("Closed")  # billed and reconciled
    NO_SHOW = "no_show", _("No-show")  # the patient did not attend
    CANCELLED = "cancelled", _("Cancelled")  # stopped by the insurer, clinic or patient


OPEN_STATUSES = frozenset(
    {
        BookingStatus.RECEIVED,
        BookingStatus.SOURCING,
        BookingStatus.ESCALATED,
        BookingStatus.AWAITING_AVAILABILITY,
        BookingStatus.DATES_OFFERED,
        BookingStatus.BOOKED,
        BookingStatus.NO_SHOW,
    }
)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Insurer portal")
    API = "api", _("API")
    EMAIL = "email", _("Email (entered by an agent)")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    SOON = "soon", _("Within a week")
    URGENT = "urgent", _("Urgent (48 hours)")


class ResultsDelivery(models.TextChoices):
    DIRECT_TO_PATIENT = "direct_to_patient", _("Directly to the patient")
    VIA_PAPERWORK = "via_paperwork", _("Through the paperwork, to the insurer")


class TimeWindow(models.TextChoices):
    ANY = "any", _("Any time")
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class Language(models.TextChoices):
    # Each language named in its own words, in every interface (not translated).
    EN = "en", "English"
    FR = "fr", "Français"


class OrderSequence(models.Model):
    """The last Order Id number given in a year; locked while the next one is taken."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Patient(models.Model):
    """The insurer's client. Personal health information: read through scoped selectors only."""

    insurer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="patients"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255)
    city = models.CharField(max_length=100)
    province = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=7)
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.EN
    )
    # Flags the clinics that meet it when choosing one (network.Location.wheelchair_accessible).
    needs_wheelchair_access = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Patient {self.pk}"  # never the name: __str__ ends up in logs

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class BookingRequestQuerySet(models.QuerySet):
    def for_user(self, user) -> BookingRequestQuerySet:
        """What a user may see: staff everything, an insurer its own, a clinic its own cases."""
        from medworks.accounts.permissions import Capability, user_can

        if user_can(user, Capability.BOOKING_VIEW):
            return self
        if user_can(user, Capability.INSURER_PORTAL):
            return self.filter(insurer_id=user.organisation_id)
        if user_can(user, Capability.CLINIC_PORTAL):
            return self.filter(location__partner__organisation_id=user.organisation_id)
        return self.none()

    def open(self) -> BookingRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class BookingRequest(models.Model):
    order_id = models.CharField(_("Order Id"), max_length=20, unique=True, editable=False)
    insurer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="booking_requests"
    )
    insurer_reference = models.CharField(_("Insurer case/claim reference"), max_length=100)
    policy_number = models.CharField(max_length=100, blank=True)
    insurer_contact_name = models.CharField(max_length=200)
    insurer_contact_email = models.EmailField()
    insurer_contact_phone = models.CharField(max_length=40, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="requests")
    services = models.ManyToManyField("network.Service", related_name="booking_requests")
    symptoms = models.TextField(blank=True)
    summary = models.TextField(_("What is required"), blank=True)
    preferred_dates = models.JSONField(default=list, blank=True)  # ISO dates, earliest first
    preferred_time_window = models.CharField(
        max_length=16, choices=TimeWindow.choices, default=TimeWindow.ANY
    )
    scheduling_notes = models.CharField(max_length=500, blank=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    paperwork_required = models.BooleanField(default=False)
    results_delivery = models.CharField(
        max_length=20, choices=ResultsDelivery.choices, default=ResultsDelivery.DIRECT_TO_PATIENT
    )
    notify_patient = models.BooleanField(
        default=False, help_text=_("The insurer allows MedWorks to send the patient confirmations.")
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # The original email (pasted text or the .eml/.msg file) for requests entered by an agent.
    source_filename = models.CharField(max_length=255, blank=True)
    source_content = models.BinaryField(blank=True, default=b"", editable=False)
    status = models.CharField(
        max_length=32, choices=BookingStatus.choices, default=BookingStatus.RECEIVED, db_index=True
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_requests",
    )
    # The manager who owns the case's escalation (SOP: management finds the provider); kept
    # after the case returns to the booking flow, as who found its provider.
    escalation_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_escalations",
    )
    # The clinic location chosen while sourcing; the offers and the appointment are there.
    location = models.ForeignKey(
        "network.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booking_requests",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "status_changed_at"]),
            # The dashboard's requests per month: the window's cases by their creation.
            models.Index(fields=["created_at"], name="booking_created"),
        ]

    def __str__(self) -> str:
        return self.order_id


class BookingEventManager(models.Manager):
    def record(
        self,
        *,
        request: BookingRequest,
        kind: str,
        actor: Actor,
        from_status: str = "",
        to_status: str = "",
        note: str = "",
        payload: dict | None = None,
    ) -> BookingEvent:
        """Write one event on the case's timeline, naming who acted (a user, or which API key,
        signed link or job). A note holding a card number is refused (RULES.md, cards), as
        every workflow step's note is: events that are no step (a clinic's request) too."""
        refuse_card_numbers({"note": note})
        return self.create(
            request=request,
            kind=kind,
            actor=actor.user,
            actor_kind=actor.kind.value,
            actor_detail=actor.detail[:64],
            from_status=from_status,
            to_status=to_status,
            note=note,
            payload=payload or {},
        )


class BookingEvent(models.Model):
    """One row per thing that happened to a case: the timeline and the audit trail. Append-only.

    `kind` is one of bookings.events.CASE_EVENTS (a transition's name, "created", or a kind
    another app declared there, such as "gop_issued"); an undeclared kind is refused."""

    request = models.ForeignKey(BookingRequest, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted when it was not a user (core.actor.Actor): "api_client" and the key's prefix,
    # "signed_link" and its purpose, "system" and the job's name. "user" for a person.
    actor_kind = models.CharField(max_length=16, blank=True)
    actor_detail = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects = BookingEventManager()

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on request {self.request_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("booking events are append-only")
        CASE_EVENTS.require(self.kind)
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """The staff timeline's words for this event (never the raw code)."""
        return CASE_EVENTS.staff_label(self.kind)


class OfferStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("offer status", "Waiting for the insurer")
    ACCEPTED = "accepted", pgettext_lazy("offer status", "Accepted")
    DECLINED = "declined", pgettext_lazy("offer status", "Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("offer status", "Withdrawn")


class AvailabilityOffer(models.Model):
    """Dates a clinic can give, presented to the insurer for approval."""

    request = models.ForeignKey(BookingRequest, on_delete=models.PROTECT, related_name="offers")
    location = models.ForeignKey("network.Location", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    decline_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Offer {self.pk} for request {self.request_id}"


class SlotStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("offered date status", "Open")
    TAKEN = "taken", pgettext_lazy("offered date status", "Taken")
    # Released: another slot was chosen, or the offer was declined.
    RELEASED = "released", pgettext_lazy("offered date status", "Released")


class OfferSlot(models.Model):
    offer = models.ForeignKey(AvailabilityOffer, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=DEFAULT_APPOINTMENT_MINUTES)
    practitioner = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(help_text=_("The clinic holds the slot until then."))
    status = models.CharField(max_length=16, choices=SlotStatus.choices, default=SlotStatus.OPEN)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"Slot {self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"

    def is_available(self, now=None) -> bool:
        return self.status == SlotStatus.OPEN and self.expires_at > (now or timezone.now())


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Rescheduled")


class Appointment(models.Model):
    request = models.ForeignKey(
        BookingRequest, on_delete=models.PROTECT, related_name="appointments"
    )
    # One slot, one appointment: the database refuses a second booking of the same slot.
    slot = models.OneToOneField(OfferSlot, on_delete=models.PROTECT, related_name="appointment")
    location = models.ForeignKey("network.Location", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=DEFAULT_APPOINTMENT_MINUTES)
    practitioner = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"Appointment {self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(models.Model):
    """An API client's Idempotency-Key: a retried POST returns the case the first one created."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)  # sha256 of the JSON body
    booking_request = models.ForeignKey(BookingRequest, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.key}"
