"""The privacy office's forms: a breach's record, finding whose access trail, an export's reason.

The forms parse what was typed; the use cases in `privacy.services` decide (required fields,
dates in order, the reasons a decision needs, card numbers refused) and their refusals are put
on the fields (`web.forms.add_domain_errors`).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from medworks.privacy.models import BreachRecord, RealRisk
from medworks.privacy.services import breach_errors

_DATE = {"type": "date"}
_DATETIME = {"type": "datetime-local"}


def _date(label, **kwargs):
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"), **kwargs
    )


def _datetime(label, **kwargs):
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs=_DATETIME, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        **kwargs,
    )


def _text(label, *, rows=3, required=False, **kwargs):
    return forms.CharField(
        label=label,
        required=required,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class BreachForm(forms.Form):
    """What the register keeps of a breach (RULES.md; PIPEDA's record of breaches)."""

    found_on = _date(gettext_lazy("Date found"))
    occurred_from = _date(gettext_lazy("Occurred from"), required=False)
    occurred_to = _date(
        gettext_lazy("Occurred until"),
        required=False,
        help_text=gettext_lazy("Blank when it happened on one day or is not known."),
    )
    circumstances = _text(
        gettext_lazy("Circumstances"),
        rows=4,
        required=True,
        help_text=gettext_lazy("What happened, how it was found and what was done to contain it."),
    )
    information_involved = _text(
        gettext_lazy("Information involved"),
        required=True,
        help_text=gettext_lazy("Which personal information: never the information itself."),
    )
    people_affected_count = forms.IntegerField(
        label=gettext_lazy("Number of people affected"), required=False, min_value=0
    )
    people_affected = _text(
        gettext_lazy("People affected"),
        rows=2,
        help_text=gettext_lazy("Who they are (patients of an insurer, clinic staff…)."),
    )
    real_risk = forms.ChoiceField(
        label=gettext_lazy("Real risk of significant harm"), choices=RealRisk.choices
    )
    risk_reasoning = _text(
        gettext_lazy("Why (the decision's reasoning)"),
        rows=4,
        help_text=gettext_lazy(
            "The sensitivity of the information and the probability of its misuse."
        ),
    )
    commissioner_notified_at = _datetime(gettext_lazy("Privacy Commissioner notified"))
    individuals_notified_at = _datetime(gettext_lazy("Individuals notified"))
    organisations_notified = _text(
        gettext_lazy("Organisations notified"),
        rows=2,
        help_text=gettext_lazy("Which organisations (the insurer, the police…), and when."),
    )
    notes = _text(gettext_lazy("Notes"), rows=3)

    def clean(self):
        """The register's own rules (privacy.services.breach_errors) on what parsed, so that
        every error shows at once; the use case checks them again."""
        data = super().clean()
        if self.errors.keys() & {"found_on", "occurred_from", "occurred_to"}:
            data = {**data, "found_on": None, "occurred_from": None, "occurred_to": None}
        _values, errors = breach_errors(data)
        for name, messages in errors.items():
            if name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        return data

    @classmethod
    def of(cls, breach: BreachRecord, data=None) -> BreachForm:
        initial = {name: getattr(breach, name) for name in cls.base_fields}
        return cls(data, initial=initial)


class PatientTrailSearchForm(forms.Form):
    """A patient by a case's Order Id, or by name and date of birth (posted, never in a URL)."""

    order_id = forms.CharField(label=gettext_lazy("Order Id"), required=False, max_length=20)
    name = forms.CharField(label=gettext_lazy("Patient's name"), required=False, max_length=200)
    date_of_birth = _date(gettext_lazy("Date of birth"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("order_id", "").strip():
            return data
        if not data.get("name", "").strip() and not data.get("date_of_birth"):
            raise forms.ValidationError(
                gettext_lazy("Enter an Order Id, or the patient's name and date of birth.")
            )
        if not data.get("name", "").strip():
            self.add_error("name", gettext_lazy("Enter the name with the date of birth."))
        elif not data.get("date_of_birth") and "date_of_birth" not in self.errors:
            self.add_error("date_of_birth", gettext_lazy("Enter the date of birth with the name."))
        return data


class UserTrailSearchForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)


class TrailExportForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why (for the record)"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("An access request's reference, an audit…"),
    )
