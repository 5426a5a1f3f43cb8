"""Forms of the staff back office: the directory, the work queue and case actions, email intake,
paperwork. They parse what people type; the rules live in the domain services (a refusal comes
back as a DomainError and is put on the form by `add_domain_errors`).
"""

from __future__ import annotations

import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.bookings.models import BookingStatus, Urgency
from medworks.bookings.selectors import OWNER_FILTERS, QUEUE_STATES
from medworks.bookings.services import CANCELLED_BY
from medworks.documents.models import DocumentKind, GopStatus
from medworks.documents.workflow import STATUS_STEPS
from medworks.network.models import BillingArrangement, PartnerKind, Province, Service
from medworks.network.selectors import service_list

from ..forms import PriceField
from ..paperwork_forms import GopForm, UploadField

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


YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _service_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((s.code, s.name_en) for s in service_list())]


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class PartnerSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, city or postal code", "autofocus": True}
        ),
    )
    province = forms.ChoiceField(
        label="Province", required=False, choices=[("", "All provinces"), *Province.choices]
    )
    service = forms.ChoiceField(label="Service", required=False)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *PartnerKind.choices]
    )
    active = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "All"), ("yes", "Active"), ("no", "Inactive")],
    )
    affiliate = forms.ChoiceField(
        label="Affiliation",
        required=False,
        choices=[("", "All"), ("yes", "Affiliate"), ("no", "Non-affiliate")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _service_choices("All services")

    def search_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "q": data.get("q", ""),
            "province": data.get("province", ""),
            "service": data.get("service", ""),
            "kind": data.get("kind", ""),
            "active": yes_no(data.get("active", "")),
            "affiliate": yes_no(data.get("affiliate", "")),
        }


class PartnerForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=PartnerKind.choices)
    is_affiliate = forms.BooleanField(
        label="Affiliate partner",
        required=False,
        help_text="Untick for a provider found during an escalation (not in the network).",
    )
    billing_arrangements = forms.MultipleChoiceField(
        label="Billing arrangements",
        required=False,
        choices=BillingArrangement.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    accepts_prepayment = forms.BooleanField(label="Accepts pre-payment", required=False)
    tax_number = forms.CharField(label="GST/HST number", max_length=32, required=False)
    contact_name = forms.CharField(label="Contact name", max_length=200, required=False)
    contact_email = forms.EmailField(label="Contact e-mail", required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=40, required=False)
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="Inactive partners are never proposed."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    organisation = forms.ModelChoiceField(
        label="Clinic portal organisation",
        queryset=Organisation.objects.filter(kind=OrganisationKind.AFFILIATE, is_active=True),
        required=False,
        empty_label="None (no clinic portal)",
        help_text="Its clinic users enter dates and see the paperwork of this partner's cases.",
    )


class LocationForm(forms.Form):
    name = forms.CharField(max_length=200)
    address = forms.CharField(max_length=255, required=False)
    city = forms.CharField(max_length=100, required=False)
    province = forms.ChoiceField(choices=[("", "Choose…"), *Province.choices])
    postal_code = forms.CharField(
        label="Postal code",
        max_length=10,
        help_text="A1A 1A1. The location is placed on the map from it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(label="E-mail", required=False)
    languages = forms.CharField(
        max_length=100, required=False, help_text="For example: English, French"
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class OfferingPriceForm(forms.Form):
    price = PriceField(
        label="Clinic price (CAD)",
        required=False,
        max_length=20,
        help_text="Leave blank to remove the price.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )


class OfferingAddForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), to_field_name="code", empty_label="Choose a service…"
    )
    price = PriceField(
        label="Clinic price (CAD)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = service_list()


# A Canadian postal code anywhere in a line of text (an address, "near M5V3L9", ...).
_POSTAL_IN_TEXT = re.compile(r"(?i)\b([A-Z]\d[A-Z])[\s-]?(\d[A-Z]\d)\b")


class FindClinicForm(forms.Form):
    where = forms.CharField(
        label="Patient's postal code",
        max_length=300,
        help_text="A postal code, or a full address that contains one.",
        widget=forms.TextInput(
            attrs={"placeholder": "M5V 3L9", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    service = forms.ChoiceField(label="Service")
    max_minutes = forms.IntegerField(
        label="Service area (minutes by road)", min_value=5, max_value=600
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _service_choices("Choose a service…")
        self.fields["max_minutes"].initial = settings.MEDWORKS_SERVICE_AREA_MINUTES

    def clean_where(self) -> str:
        """Keep only the postal code: the rest of an address is not needed to find a clinic."""
        text = self.cleaned_data["where"].strip()
        found = _POSTAL_IN_TEXT.search(text)
        if found:
            return f"{found.group(1)}{found.group(2)}".upper()
        # No code-shaped text: hand it on as typed, so the matcher says precisely what is wrong.
        if len(text) <= 8:
            return text
        raise forms.ValidationError("No postal code found: type one such as M5V 3L9.")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="The National Affiliate Partner spreadsheet, as .xlsx or .csv.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label="Dry run",
        required=False,
        initial=True,
        help_text="Check the file and show what would change, without saving anything.",
    )
    strict = forms.BooleanField(
        label="Strict",
        required=False,
        help_text="Refuse the whole file if any row is rejected.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MEDWORKS_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; the largest accepted is "
                f"{filesizeformat(limit)}. Split it, or remove unused sheets and columns."
            )
        if Path(upload.name).suffix.lower() not in {".xlsx", ".csv"}:
            raise forms.ValidationError("Upload an .xlsx or .csv file.")
        return upload


# What each party may upload (the domain decides again; these only shape the choice lists).
STAFF_KINDS = [
    (DocumentKind.INSURER_FORM, "Insurer form"),
    (DocumentKind.COMPLETED_FORM, "Completed / signed form"),
    (DocumentKind.RESULTS, "Results"),
    (DocumentKind.CLINIC_INVOICE, "Clinic invoice"),
    (DocumentKind.OTHER, "Other"),
]


# The moves staff make on a GOP by hand; issuing, amending and the clinic's acknowledgement
# have their own use cases.
STAFF_GOP_STATUSES = [(to, GopStatus(to).label) for to in STATUS_STEPS]


class DocumentUploadForm(forms.Form):
    """Staff attach a document to a case, or a new version of one already there."""

    kind = forms.ChoiceField(label="Kind", choices=STAFF_KINDS)
    title = forms.CharField(label="Title", max_length=200, required=False)
    file = UploadField()
    document = forms.IntegerField(required=False, widget=forms.HiddenInput)


class GopUploadForm(GopForm):
    """Staff issue or amend a GOP: its details and, optionally, the insurer's document."""

    file = UploadField(required=False, label="GOP document (optional)")
    field_order = ["file"]


class GopStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=STAFF_GOP_STATUSES)
    note = forms.CharField(label="Note", required=False, max_length=2000)
