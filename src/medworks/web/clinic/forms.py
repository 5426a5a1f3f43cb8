"""Forms of the clinic portal (dates: web/slots.py, shared with the agent)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..paperwork_forms import UploadField


class SignedUploadForm(forms.Form):
    """The clinic's completed paperwork, signed off by the physician."""

    file = UploadField(label=_("Signed documents"))
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    signed_by = forms.CharField(label=_("Signing physician"), max_length=200)
    signed_on = forms.DateField(
        label=_("Date signed"), widget=forms.DateInput(attrs={"type": "date"})
    )
    attested = forms.BooleanField(
        label=_("I attest that the physician named above signed these documents."),
        error_messages={"required": _("Tick the attestation to upload signed documents.")},
    )


class InvoiceUploadForm(forms.Form):
    file = UploadField(label=_("Invoice"))
    title = forms.CharField(label=_("Title (e.g. invoice number)"), max_length=200, required=False)
