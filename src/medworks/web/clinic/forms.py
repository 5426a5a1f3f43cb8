"""Forms of the clinic portal (dates: web/slots.py, shared with the agent)."""

from __future__ import annotations

from django import forms

from ..paperwork_forms import UploadField


class SignedUploadForm(forms.Form):
    """The clinic's completed paperwork, signed off by the physician."""

    file = UploadField(label="Signed documents")
    title = forms.CharField(label="Title", max_length=200, required=False)
    signed_by = forms.CharField(label="Signing physician", max_length=200)
    signed_on = forms.DateField(label="Date signed", widget=forms.DateInput(attrs={"type": "date"}))
    attested = forms.BooleanField(
        label="I attest that the physician named above signed these documents.",
        error_messages={"required": "Tick the attestation to upload signed documents."},
    )


class InvoiceUploadForm(forms.Form):
    file = UploadField(label="Invoice")
    title = forms.CharField(label="Title (e.g. invoice number)", max_length=200, required=False)
