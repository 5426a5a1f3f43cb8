"""Forms of the insurer portal (the request form itself is bookings.forms, shared by every door)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from medworks.bookings.models import BookingStatus
from medworks.documents.models import DocumentKind

from ..paperwork_forms import GopForm, UploadField


class PortalFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *BookingStatus.choices]
    )


class PortalSearchForm(forms.Form):
    """Posted, never in a URL: it may carry a patient's name or date of birth."""

    q = forms.CharField(
        label=_("Patient name, date of birth, claim or policy number, or Order Id"),
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


INSURER_KINDS = [
    (DocumentKind.GOP, _("Guarantee of payment (GOP)")),
    (DocumentKind.INSURER_FORM, _("Insurer form")),
    (DocumentKind.OTHER, _("Other")),
]


class InsurerUploadForm(GopForm):
    """The insurer's paperwork: a GOP (with its details) or another form.

    The GOP details are required only when the kind is GOP; otherwise they are ignored.
    """

    kind = forms.ChoiceField(label=_("What is it?"), choices=INSURER_KINDS)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = UploadField()
    field_order = ["kind", "title", "file"]

    GOP_FIELDS = (
        "insurer_reference",
        "patient_name",
        "patient_date_of_birth",
        "policy_number",
        "authorised_services",
        "valid_from",
        "valid_to",
        "max_amount",
        "currency",
        "copay_exclusions",
        "billing_instructions",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and self.data.get(self.add_prefix("kind")) != DocumentKind.GOP:
            for name in self.GOP_FIELDS:
                self.fields[name].required = False

    @property
    def is_gop(self) -> bool:
        return self.cleaned_data.get("kind") == DocumentKind.GOP
