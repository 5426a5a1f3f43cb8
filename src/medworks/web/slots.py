"""The one form for the dates a clinic gives, shared by the agent (staff case page) and the
clinic (its portal). Times are the clinic's wall-clock times: the form gives them naive and
the domain reads them in the clinic's zone (bookings.services.availability_offer_record).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.bookings.models import DEFAULT_APPOINTMENT_MINUTES
from medworks.bookings.services import MAX_SLOTS_PER_OFFER

# Rows shown for entering dates; empty rows are ignored.
SLOT_ROWS = 5
# An appointment's length when none is given.
DEFAULT_MINUTES = DEFAULT_APPOINTMENT_MINUTES


class SlotForm(forms.Form):
    """One date a clinic can give, in the clinic's own wall-clock time (see `to_slot`)."""

    date = forms.DateField(
        label=gettext_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"),
        required=False,
        min_value=5,
        max_value=480,
        initial=DEFAULT_MINUTES,
        widget=forms.NumberInput(attrs={"step": 5}),
    )
    practitioner = forms.CharField(
        label=gettext_lazy("Practitioner"), required=False, max_length=200
    )
    hold_until = forms.DateTimeField(
        label=gettext_lazy("Held until"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Blank: 24 hours before the appointment."),
    )

    def clean(self):
        cleaned = super().clean()
        if self.is_blank():
            return cleaned
        if cleaned.get("date") is None and "date" not in self.errors:
            self.add_error("date", _("Give the date."))
        if cleaned.get("time") is None and "time" not in self.errors:
            self.add_error("time", _("Give the time."))
        return cleaned

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(f) for f in ("date", "time", "practitioner", "hold_until"))

    def to_slot(self) -> dict:
        """The slot as availability_offer_record takes it: the clinic's wall-clock times, naive.

        A clinic (or the agent on the phone with it) gives its own local time; the domain reads
        it in the clinic's zone (10:00 in Vancouver is 10:00 Pacific), as the emails print it.
        """
        data = self.cleaned_data
        hold = data.get("hold_until")
        if hold is not None:  # the form made it aware in the desk's zone: keep the wall clock
            hold = timezone.make_naive(hold)
        return {
            "starts_at": dt.datetime.combine(data["date"], data["time"]),
            "expires_at": hold,
            "duration_minutes": data.get("duration_minutes") or DEFAULT_MINUTES,
            "practitioner": data.get("practitioner", ""),
        }


class _SlotFormSet(forms.BaseFormSet):
    def slots(self) -> tuple[list[dict], list[int]]:
        """The filled rows as slots, and each slot's row number (to put errors back)."""
        slots, rows = [], []
        for index, form in enumerate(self.forms):
            if form.is_blank():
                continue
            slots.append(form.to_slot())
            rows.append(index)
        return slots, rows


SlotFormSet = forms.formset_factory(
    SlotForm,
    formset=_SlotFormSet,
    extra=SLOT_ROWS,
    max_num=MAX_SLOTS_PER_OFFER,
    validate_max=True,
)
