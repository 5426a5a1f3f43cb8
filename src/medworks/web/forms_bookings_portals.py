"""Forms of the insurer and clinic portals and the signed email links.

They parse what people type into what the booking use cases take (aware datetimes, notes);
the rules of the domain (a slot in the past, a hold already expired, a note required) stay in
`bookings.services`, whose field errors are put back on these forms.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from medworks.bookings.models import BookingStatus
from medworks.bookings.services import MAX_SLOTS_PER_OFFER

# Rows shown to a clinic entering dates; empty rows are ignored.
SLOT_ROWS = 5


class PortalFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *BookingStatus.choices]
    )


class NoteForm(forms.Form):
    """A reason: declining dates, cancelling. Required: the other side needs to know why."""

    note = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
    )


class SlotForm(forms.Form):
    """One date a clinic can give, typed in the clinic's own time zone (see `to_slot`)."""

    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label="Minutes",
        required=False,
        min_value=5,
        max_value=480,
        initial=30,
        widget=forms.NumberInput(attrs={"step": 5}),
    )
    practitioner = forms.CharField(required=False, max_length=200)
    hold_until = forms.DateTimeField(
        label="Held until",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Blank: 24 hours before the appointment.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.is_blank():
            return cleaned
        if cleaned.get("date") is None and "date" not in self.errors:
            self.add_error("date", "Give the date.")
        if cleaned.get("time") is None and "time" not in self.errors:
            self.add_error("time", "Give the time.")
        return cleaned

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(f) for f in ("date", "time", "practitioner", "hold_until"))

    def to_slot(self, zone: dt.tzinfo) -> dict:
        """The slot as availability_offer_record takes it: aware datetimes.

        A clinic types its own wall-clock time, so the times are read in the clinic's zone
        (the emails print them back in that zone too): 10:00 in Vancouver is 10:00 PST.
        """
        data = self.cleaned_data
        starts_at = timezone.make_aware(dt.datetime.combine(data["date"], data["time"]), zone)
        hold = data.get("hold_until")
        if hold is not None:
            hold = timezone.make_aware(timezone.make_naive(hold), zone)
        return {
            "starts_at": starts_at,
            "expires_at": hold,
            "duration_minutes": data.get("duration_minutes") or 30,
            "practitioner": data.get("practitioner", ""),
        }


class _SlotFormSet(forms.BaseFormSet):
    def slots(self, zone: dt.tzinfo) -> tuple[list[dict], list[int]]:
        """The filled rows as slots, and each slot's row number (to put errors back)."""
        slots, rows = [], []
        for index, form in enumerate(self.forms):
            if form.is_blank():
                continue
            slots.append(form.to_slot(zone))
            rows.append(index)
        return slots, rows


SlotFormSet = forms.formset_factory(
    SlotForm,
    formset=_SlotFormSet,
    extra=SLOT_ROWS,
    max_num=MAX_SLOTS_PER_OFFER,
    validate_max=True,
)
