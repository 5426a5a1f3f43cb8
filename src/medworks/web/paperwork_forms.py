"""The parts of the paperwork forms every audience shares: the file field and the GOP's terms."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .forms import PriceField

ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.docx"


def max_upload_bytes() -> int:
    return getattr(settings, "MEDWORKS_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)


def _upload_help_text() -> str:
    return gettext("PDF, PNG, JPEG, TIFF or Word (.docx), up to %(size)s.") % {
        "size": filesizeformat(max_upload_bytes())
    }


# Made when a page shows it, in that page's language (fields are built at import).
upload_help_text = lazy(_upload_help_text, str)


class UploadField(forms.FileField):
    """A file, refused here already when it is larger than the documents' limit.

    The domain checks the size again (it is its rule); checking here spares hashing and
    sniffing a file that cannot be accepted. Django has streamed the upload to a temporary
    file by now (above FILE_UPLOAD_MAX_MEMORY_SIZE), so a large file never sits in memory.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("File"))
        kwargs.setdefault("help_text", upload_help_text())
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is not None and upload.size > max_upload_bytes():
            raise forms.ValidationError(
                gettext("This file is %(size)s; the largest accepted is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_upload_bytes())}
            )
        return upload


class GopForm(forms.Form):
    """A GOP's details (RULES.md: what a guarantee of payment says)."""

    insurer_reference = forms.CharField(label=_("Insurer's case reference"), max_length=100)
    patient_name = forms.CharField(label=_("Patient name"), max_length=200)
    patient_date_of_birth = forms.DateField(
        label=_("Patient date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    policy_number = forms.CharField(label=_("Policy number"), max_length=100, required=False)
    authorised_services = forms.MultipleChoiceField(
        label=_("Authorised services"), widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(label=_("Valid to"), widget=forms.DateInput(attrs={"type": "date"}))
    max_amount = PriceField(
        label=_("Maximum amount"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="CAD", help_text=_("Guarantees are in CAD.")
    )
    copay_exclusions = forms.CharField(
        label=_("Co-pay / exclusions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    billing_instructions = forms.CharField(
        label=_("Billing instructions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, services=(), **kwargs):
        """`services`: the case's services; a GOP can authorise only those."""
        super().__init__(*args, **kwargs)
        self.fields["authorised_services"].choices = [
            (s.code, f"{s.name_en} ({s.code})") for s in services
        ]

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if value and (len(value) != 3 or not value.isalpha()):
            raise forms.ValidationError(gettext("A three-letter currency code, such as CAD."))
        return value

    def gop_data(self) -> dict:
        """The details as the GOP use cases take them (services by code)."""
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        data.pop("file", None)
        data.pop("kind", None)
        data.pop("title", None)
        return data
