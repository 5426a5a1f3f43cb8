"""Forms of the paperwork pages: attaching a document, a GOP's details, the clinic's uploads.

They check the shape of what people send (a file is there, a date is a date, an amount is a
Decimal). Whether a file is acceptable (its type decided by its content, its size, its name)
and what a GOP may say are the documents domain's rules: its refusal comes back as a
DomainError whose field errors are put on these forms (`add_domain_errors`), "file" included,
so the message shows on the file field with the rest of the input kept.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from medworks.documents.models import DocumentKind, GopStatus
from medworks.documents.workflow import STATUS_STEPS

from ..forms import PriceField

# What each party may upload (the domain decides again; these only shape the choice lists).
STAFF_KINDS = [
    (DocumentKind.INSURER_FORM, "Insurer form"),
    (DocumentKind.COMPLETED_FORM, "Completed / signed form"),
    (DocumentKind.RESULTS, "Results"),
    (DocumentKind.CLINIC_INVOICE, "Clinic invoice"),
    (DocumentKind.OTHER, "Other"),
]
INSURER_KINDS = [
    (DocumentKind.GOP, "Guarantee of payment (GOP)"),
    (DocumentKind.INSURER_FORM, "Insurer form"),
    (DocumentKind.OTHER, "Other"),
]
# The moves staff make on a GOP by hand; issuing, amending and the clinic's acknowledgement
# have their own use cases.
STAFF_GOP_STATUSES = [(to, GopStatus(to).label) for to in STATUS_STEPS]
ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.docx"


def max_upload_bytes() -> int:
    return getattr(settings, "MEDWORKS_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)


class _FileField(forms.FileField):
    """A file, refused here already when it is larger than the documents' limit.

    The domain checks the size again (it is its rule); checking here spares hashing and
    sniffing a file that cannot be accepted. Django has streamed the upload to a temporary
    file by now (above FILE_UPLOAD_MAX_MEMORY_SIZE), so a large file never sits in memory.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "File")
        kwargs.setdefault(
            "help_text",
            f"PDF, PNG, JPEG, TIFF or Word (.docx), up to {filesizeformat(max_upload_bytes())}.",
        )
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is not None and upload.size > max_upload_bytes():
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; the largest accepted is "
                f"{filesizeformat(max_upload_bytes())}."
            )
        return upload


class DocumentUploadForm(forms.Form):
    """Staff attach a document to a case, or a new version of one already there."""

    kind = forms.ChoiceField(label="Kind", choices=STAFF_KINDS)
    title = forms.CharField(label="Title", max_length=200, required=False)
    file = _FileField()
    document = forms.IntegerField(required=False, widget=forms.HiddenInput)


class GopForm(forms.Form):
    """A GOP's details (RULES.md: what a guarantee of payment says)."""

    insurer_reference = forms.CharField(label="Insurer's case reference", max_length=100)
    patient_name = forms.CharField(label="Patient name", max_length=200)
    patient_date_of_birth = forms.DateField(
        label="Patient date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    policy_number = forms.CharField(label="Policy number", max_length=100, required=False)
    authorised_services = forms.MultipleChoiceField(
        label="Authorised services", widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateField(label="Valid from", widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label="Valid to", widget=forms.DateInput(attrs={"type": "date"}))
    max_amount = PriceField(
        label="Maximum amount",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    currency = forms.CharField(
        label="Currency", max_length=3, initial="CAD", help_text="Guarantees are in CAD."
    )
    copay_exclusions = forms.CharField(
        label="Co-pay / exclusions",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    billing_instructions = forms.CharField(
        label="Billing instructions",
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
            raise forms.ValidationError("A three-letter currency code, such as CAD.")
        return value

    def gop_data(self) -> dict:
        """The details as the GOP use cases take them (services by code)."""
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        data.pop("file", None)
        data.pop("kind", None)
        data.pop("title", None)
        return data


class GopUploadForm(GopForm):
    """Staff issue or amend a GOP: its details and, optionally, the insurer's document."""

    file = _FileField(required=False, label="GOP document (optional)")
    field_order = ["file"]


class GopStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=STAFF_GOP_STATUSES)
    note = forms.CharField(label="Note", required=False, max_length=2000)


class InsurerUploadForm(GopForm):
    """The insurer's paperwork: a GOP (with its details) or another form.

    The GOP details are required only when the kind is GOP; otherwise they are ignored.
    """

    kind = forms.ChoiceField(label="What is it?", choices=INSURER_KINDS)
    title = forms.CharField(label="Title", max_length=200, required=False)
    file = _FileField()
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


class SignedUploadForm(forms.Form):
    """The clinic's completed paperwork, signed off by the physician."""

    file = _FileField(label="Signed documents")
    title = forms.CharField(label="Title", max_length=200, required=False)
    signed_by = forms.CharField(label="Signing physician", max_length=200)
    signed_on = forms.DateField(label="Date signed", widget=forms.DateInput(attrs={"type": "date"}))
    attested = forms.BooleanField(
        label="I attest that the physician named above signed these documents.",
        error_messages={"required": "Tick the attestation to upload signed documents."},
    )


class InvoiceUploadForm(forms.Form):
    file = _FileField(label="Invoice")
    title = forms.CharField(label="Title (e.g. invoice number)", max_length=200, required=False)
