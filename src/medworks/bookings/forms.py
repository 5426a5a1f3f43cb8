"""The fields of a booking request and their rules, shared by the portal, the API and email intake.

One form validates every door's input, so a rule is written once. Pages render it; the API
and services feed it a dict. No field, whatever its type, takes a card number (RULES.md, cards):
it is refused on that field before anything else looks at the value, so it is never stored,
and no error message (an unknown service, a choice not offered) repeats it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.core.cards import reject_card_number
from medworks.core.ids import looks_like_id, parse_id
from medworks.network import geo
from medworks.network.models import Province, Service

from .models import Language, ResultsDelivery, TimeWindow, Urgency

# Limits on one request, whatever the door: a request is for a few services on a few dates.
MAX_SERVICES = 10
MAX_PREFERRED_DATES = 10
# A preferred date is at most this far ahead; a date of birth at most this far back.
MAX_DAYS_AHEAD = 2 * 366
MAX_AGE_YEARS = 125
# The longest free text of a request (symptoms, what is required).
MAX_TEXT = 4000


class DateListWidget(forms.MultiWidget):
    """Up to three of the browser's date pickers for one field of comma-separated ISO dates.

    A door that sends the field itself (the API, email intake: "2026-12-03,2026-12-05") is
    read as it is; the portal's pickers (`<name>_0`, `_1`, `_2`) are joined into that form."""

    PICKERS = 3

    def __init__(self, attrs=None):
        super().__init__([forms.DateInput(attrs={"type": "date"})] * self.PICKERS, attrs)

    def decompress(self, value):
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        parts = [p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip()]
        return (parts + [""] * self.PICKERS)[: self.PICKERS]

    def value_from_datadict(self, data, files, name):
        if name in data:
            return data[name]
        picked = super().value_from_datadict(data, files, name)
        return ",".join(p.strip() for p in picked if p and p.strip())

    def value_omitted_from_data(self, data, files, name):
        return name not in data and super().value_omitted_from_data(data, files, name)


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    """Services by id, catalogue code or name (the API and emails use codes and names)."""

    def clean(self, value):
        from medworks.core.errors import DomainError
        from medworks.network.selectors import service_resolve

        if value in self.empty_values:
            raise forms.ValidationError(_("Choose at least one service."), code="required")
        if isinstance(value, str):
            value = [value]
        if len(value) > MAX_SERVICES:
            raise forms.ValidationError(
                _("At most %(count)s services per request.") % {"count": MAX_SERVICES},
                code="too_many",
            )
        resolved = []
        for item in value:
            if isinstance(item, Service):
                resolved.append(item)
                continue
            if isinstance(item, bool):  # JSON's true is the int 1: never read as an id
                raise forms.ValidationError(_("Name a service by its code."), code="invalid")
            text = str(item).strip()
            if looks_like_id(text):
                number = parse_id(text)
                found = number and Service.objects.filter(pk=number, is_active=True).first()
                if found is None:
                    raise forms.ValidationError(
                        _("Unknown service %(service)s.") % {"service": text}
                    )
                resolved.append(found)
                continue
            try:
                resolved.append(service_resolve(name_or_code=text))
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return resolved


def _one_line(value) -> None:
    """A single-line field never holds a line break or another control character: such a value
    would break an email header (an Order's reference is in the subject)."""
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise forms.ValidationError(_("Keep this on one line."), code="control_character")


def forget_values(form: forms.BaseForm, names) -> None:
    """Leave the fields `names` of a bound form empty when it is shown again: a value refused
    because it holds a card number is not sent back to the browser in the page."""
    names = [name for name in names if name in form.fields]
    if not names or not form.is_bound:
        return
    data = form.data.copy()
    for name in names:
        widget = form.fields[name].widget
        keys = [form.add_prefix(name)]
        if isinstance(widget, forms.MultiWidget):
            keys += [f"{keys[0]}{suffix}" for suffix in widget.widgets_names]
        for key in keys:
            if key in data:
                data[key] = ""
    form.data = data


def card_number_fields(form: forms.BaseForm) -> list[str]:
    """The fields of a validated form refused for holding a card number."""
    return [
        name
        for name, errors in form.errors.as_data().items()
        if any(error.code == "card_number" for error in errors)
    ]


def _refusing_card_numbers(clean):
    """A field's clean() that first refuses a card number in the value (code "card_number")."""

    def checked(value):
        reject_card_number(value)
        return clean(value)

    return checked


class BookingRequestForm(forms.Form):
    insurer_reference = forms.CharField(
        label=gettext_lazy("Your case / claim reference"), max_length=100
    )
    policy_number = forms.CharField(
        label=gettext_lazy("Policy number"), max_length=100, required=False
    )
    insurer_contact_name = forms.CharField(label=gettext_lazy("Contact name"), max_length=200)
    insurer_contact_email = forms.EmailField(label=gettext_lazy("Contact email"))
    insurer_contact_phone = forms.CharField(
        label=gettext_lazy("Contact phone"), max_length=40, required=False
    )

    patient_first_name = forms.CharField(label=gettext_lazy("Patient first name"), max_length=100)
    patient_last_name = forms.CharField(label=gettext_lazy("Patient last name"), max_length=100)
    patient_date_of_birth = forms.DateField(
        label=gettext_lazy("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    patient_phone = forms.CharField(
        label=gettext_lazy("Patient phone"), max_length=40, required=False
    )
    patient_email = forms.EmailField(label=gettext_lazy("Patient email"), required=False)
    patient_address = forms.CharField(label=gettext_lazy("Street address"), max_length=255)
    patient_city = forms.CharField(label=gettext_lazy("City"), max_length=100)
    patient_province = forms.ChoiceField(
        label=gettext_lazy("Province"), choices=[("", "—"), *list(Province.choices)], required=False
    )
    patient_postal_code = forms.CharField(label=gettext_lazy("Postal code"), max_length=10)
    patient_needs_wheelchair_access = forms.BooleanField(
        label=gettext_lazy("Needs wheelchair access"), required=False
    )
    patient_language = forms.ChoiceField(
        label=gettext_lazy("Preferred language"), choices=Language.choices, initial=Language.EN
    )

    services = ServiceChoiceField(
        label=gettext_lazy("Services"),
        queryset=Service.objects.filter(is_active=True).order_by("name_en"),
        widget=forms.CheckboxSelectMultiple,
    )
    symptoms = forms.CharField(
        label=gettext_lazy("Symptoms"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=MAX_TEXT,
    )
    summary = forms.CharField(
        label=gettext_lazy("What is required"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=MAX_TEXT,
    )
    preferred_dates = forms.CharField(
        label=gettext_lazy("Preferred dates"),
        required=False,
        max_length=MAX_PREFERRED_DATES * 40,  # the count is checked (and said) below
        widget=DateListWidget,
        help_text=gettext_lazy("Up to three dates the patient prefers, earliest first."),
    )
    preferred_time_window = forms.ChoiceField(
        label=gettext_lazy("Preferred time window"),
        choices=TimeWindow.choices,
        initial=TimeWindow.ANY,
    )
    scheduling_notes = forms.CharField(
        label=gettext_lazy("Scheduling notes"), max_length=500, required=False
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE
    )
    paperwork_required = forms.BooleanField(
        label=gettext_lazy("Paperwork or GOP required"), required=False
    )
    results_delivery = forms.ChoiceField(
        label=gettext_lazy("Results delivery"),
        choices=ResultsDelivery.choices,
        initial=ResultsDelivery.DIRECT_TO_PATIENT,
    )
    notify_patient = forms.BooleanField(
        label=gettext_lazy("MedWorks may send the patient the confirmation"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every field, free text or not, and any field added later: the card check runs
        # before the field's own rules, whose messages may quote the value.
        for field in self.fields.values():
            field.clean = _refusing_card_numbers(field.clean)
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.Textarea):
                field.validators.append(_one_line)

    def clean_patient_date_of_birth(self):
        dob = self.cleaned_data["patient_date_of_birth"]
        today = timezone.localdate()
        if dob > today:
            raise forms.ValidationError(_("The date of birth is in the future."))
        # The same day 125 years ago (a 29 February: the 28th, not an error page).
        oldest = dt.date(today.year - MAX_AGE_YEARS, today.month, min(today.day, 28))
        if dob < oldest:
            raise forms.ValidationError(_("The date of birth is more than 125 years ago."))
        return dob

    def clean_patient_postal_code(self):
        raw = self.cleaned_data["patient_postal_code"]
        try:
            code = geo.normalize_postal_code(raw)
            geo.geocode(code)
        except ValueError as exc:
            raise forms.ValidationError(geo.sentence_of(exc)) from None
        return code

    def clean_preferred_dates(self):
        raw = self.cleaned_data.get("preferred_dates")
        if isinstance(raw, list | tuple):
            items = [str(x) for x in raw]
        else:
            items = [part for part in (raw or "").replace(";", ",").split(",")]
        items = [item.strip() for item in items if item.strip()]
        if len(items) > MAX_PREFERRED_DATES:
            raise forms.ValidationError(
                _("At most %(count)s preferred dates.") % {"count": MAX_PREFERRED_DATES},
                code="too_many",
            )
        latest = timezone.localdate() + dt.timedelta(days=MAX_DAYS_AHEAD)
        dates = []
        for item in items:
            try:
                day = dt.date.fromisoformat(item)
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a date like 2026-12-01.") % {"value": repr(item)}
                ) from None
            if day < timezone.localdate():
                raise forms.ValidationError(_("%(date)s is in the past.") % {"date": item})
            if day > latest:
                raise forms.ValidationError(
                    _("%(date)s is more than two years ahead.") % {"date": item}
                )
            dates.append(day.isoformat())
        return sorted(set(dates))

    def clean(self):
        cleaned = super().clean()
        code = cleaned.get("patient_postal_code")
        province = cleaned.get("patient_province")
        if code:
            provinces = geo.provinces_for_postal_code(code)
            if not province:
                if len(provinces) == 1:
                    cleaned["patient_province"] = next(iter(provinces))
                else:
                    self.add_error("patient_province", _("Choose the province."))
            elif province not in provinces:
                self.add_error(
                    "patient_postal_code",
                    _("%(code)s is not a %(province)s postal code.")
                    % {"code": code, "province": Province(province).label},
                )
        forget_values(self, card_number_fields(self))
        return cleaned
