"""Forms of the staff booking pages: queue filters, case actions, email intake.

They parse what people type; the rules live in bookings.services (a refusal comes back as a
DomainError and is shown on the form by `add_domain_errors`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django import forms
from django.utils import timezone

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.bookings.models import BookingStatus, Urgency
from medworks.bookings.selectors import OWNER_FILTERS, QUEUE_STATES
from medworks.bookings.services import CANCELLED_BY

MAX_SLOTS = 5
MAX_SOURCE_BYTES = 10 * 1024 * 1024
SOURCE_SUFFIXES = {".eml", ".msg", ".txt"}


class QueueFilterForm(forms.Form):
    """GET filters. Only states, owners, insurer, urgency, age and an Order Id/reference: a
    patient's name never goes in a URL (it would sit in history and server logs)."""

    state = forms.ChoiceField(
        required=False,
        choices=[("", "All open states"), *((s, BookingStatus(s).label) for s in QUEUE_STATES)],
    )
    owner = forms.ChoiceField(
        required=False,
        choices=[("anyone", "Anyone"), ("mine", "Mine"), ("unassigned", "Unassigned")],
    )
    insurer = forms.ModelChoiceField(
        required=False, queryset=Organisation.objects.none(), empty_label="All insurers"
    )
    urgency = forms.ChoiceField(required=False, choices=[("", "Any urgency"), *Urgency.choices])
    overdue = forms.BooleanField(required=False, label="Waiting too long only")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Order Id or insurer reference",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "MW-2026-000123"}),
    )

    def __init__(self, *args, insurers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if insurers is not None:
            self.fields["insurer"].queryset = insurers

    def queue_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        owner = data.get("owner") or "anyone"
        insurer = data.get("insurer")
        return {
            "state": data.get("state", ""),
            "owner": owner if owner in OWNER_FILTERS else "anyone",
            "insurer_id": insurer.pk if insurer else None,
            "urgency": data.get("urgency", ""),
            "overdue": bool(data.get("overdue")),
            "q": data.get("q", ""),
        }


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalateForm(forms.Form):
    note = forms.CharField(
        label="Why escalate, and what management should know",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SelectClinicForm(forms.Form):
    location = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=2000)


class LocationSearchForm(forms.Form):
    find = forms.CharField(
        label="Any location: partner or clinic name, city, or postal code",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class SlotForm(forms.Form):
    """One date the clinic gave. Blank rows are skipped."""

    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(
        label="Minutes", required=False, min_value=5, max_value=480, initial=60
    )
    practitioner = forms.CharField(required=False, max_length=200)
    hold_until = forms.DateTimeField(
        label="Clinic holds it until",
        required=False,
        help_text="Blank: the day before.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean(self):
        cleaned = super().clean()
        day, at = cleaned.get("date"), cleaned.get("time")
        if bool(day) != bool(at) and not self.errors:
            raise forms.ValidationError("Give both the date and the time.")
        return cleaned

    def slot(self, tz: dt.tzinfo) -> dict | None:
        """The use case's slot dict, or None if blank.

        Times are the clinic's wall-clock times, read in the clinic's zone `tz` (as the clinic
        portal reads them, and as the emails print them back).
        """
        data = self.cleaned_data
        if not data.get("date") or not data.get("time"):
            return None
        hold = data.get("hold_until")
        if hold is not None:  # the form made it aware in the desk's zone: re-read in the clinic's
            hold = timezone.make_aware(timezone.make_naive(hold), tz)
        return {
            "starts_at": timezone.make_aware(dt.datetime.combine(data["date"], data["time"]), tz),
            "expires_at": hold,
            "duration_minutes": data.get("duration_minutes") or 60,
            "practitioner": data.get("practitioner") or "",
        }


SlotFormSet = forms.formset_factory(SlotForm, extra=MAX_SLOTS, max_num=MAX_SLOTS)


class ApproveSlotForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label="How the insurer confirmed",
        max_length=500,
        help_text="For example: by phone with J. Smith, 14:05; or by email of 3 March.",
    )


class DeclineForm(forms.Form):
    note = forms.CharField(
        label="Why the insurer declined", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(
        label="Who cancelled",
        choices=[
            ("", "Choose…"),
            *((c, c.title() if c != "medworks" else "MedWorks") for c in sorted(CANCELLED_BY)),
        ],
    )
    note = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EmailSourceForm(forms.Form):
    """The insurer and the original message of a request that came by email."""

    insurer = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), empty_label="Choose the insurance partner…"
    )
    source_file = forms.FileField(
        label="Original email (.eml or .msg)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".eml,.msg,.txt"}),
    )
    source_text = forms.CharField(
        label="…or paste the email",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # The message read on the first step, carried to the second (the agent's own upload).
    carried_name = forms.CharField(required=False, widget=forms.HiddenInput)
    carried_b64 = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurer"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.INSURER, is_active=True
        )

    def clean_source_file(self):
        upload = self.cleaned_data.get("source_file")
        if upload is None:
            return None
        if upload.size > MAX_SOURCE_BYTES:
            raise forms.ValidationError("The email is larger than 10 MB.")
        if Path(upload.name).suffix.lower() not in SOURCE_SUFFIXES:
            raise forms.ValidationError("Attach an .eml or .msg file (or paste the text).")
        return upload
