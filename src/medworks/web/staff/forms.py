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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.bookings.models import BookingStatus, Urgency
from medworks.bookings.selectors import OWNER_FILTERS, QUEUE_STATES
from medworks.bookings.services import CANCELLED_BY
from medworks.documents.models import DocumentKind, GopStatus
from medworks.documents.workflow import STATUS_STEPS
from medworks.network.models import BillingArrangement, PartnerKind, Province, Service
from medworks.network.selectors import service_list
from medworks.network.spreadsheet import COLUMNS, FIELD_LABELS, REQUIRED_FIELDS
from medworks.network.text import fold

from ..forms import PriceField
from ..paperwork_forms import GopForm, UploadField

MAX_SOURCE_BYTES = 10 * 1024 * 1024


SOURCE_SUFFIXES = {".eml", ".msg", ".txt"}


class QueueFilterForm(forms.Form):
    """GET filters. Only states, owners, insurer, urgency, age and an Order Id/reference: a
    patient's name never goes in a URL (it would sit in history and server logs)."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        # Open states first (the queue's tabs), then the finished ones, for finding any case.
        choices=[
            ("", _("All open states")),
            *((s, BookingStatus(s).label) for s in QUEUE_STATES),
            *((s.value, s.label) for s in BookingStatus if s.value not in QUEUE_STATES),
        ],
    )
    owner = forms.ChoiceField(
        label=_("Owner"),
        required=False,
        choices=[("anyone", _("Anyone")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))],
    )
    insurer = forms.ModelChoiceField(
        label=_("Insurer"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label=_("All insurers"),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("Any urgency")), *Urgency.choices]
    )
    overdue = forms.BooleanField(required=False, label=_("Waiting too long only"))
    q = forms.CharField(
        required=False,
        max_length=100,
        label=_("Order Id or insurer reference"),
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


class CaseSearchForm(forms.Form):
    """Posted, never in a URL: it may carry a patient's name or date of birth."""

    q = forms.CharField(
        label=_("Order Id, insurer reference, patient name or date of birth"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": "Tremblay 1980-04-12"}
        ),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalateForm(forms.Form):
    note = forms.CharField(
        label=_("Why escalate, and what management should know"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SelectClinicForm(forms.Form):
    location = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class LocationSearchForm(forms.Form):
    find = forms.CharField(
        label=_("Any location: partner or clinic name, city, or postal code"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class ApproveSlotForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("How the insurer confirmed"),
        max_length=500,
        help_text=_("For example: by phone with J. Smith, 14:05; or by email of 3 March."),
    )


class DeclineForm(forms.Form):
    note = forms.CharField(
        label=_("Why the insurer declined"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClinicDeclineForm(forms.Form):
    """Staff record for the clinic that it cannot offer dates (its reason)."""

    note = forms.CharField(
        label=_("Why the clinic cannot offer dates"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# Who may cancel a case, as the cancel form names them (MedWorks stays MedWorks).
CANCELLED_BY_LABELS = {
    "clinic": _("Clinic"),
    "insurer": _("Insurer"),
    "medworks": "MedWorks",
    "patient": _("Patient"),
}


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(
        label=_("Who cancelled"),
        choices=[
            ("", _("Choose…")),
            *((c, CANCELLED_BY_LABELS.get(c, c.title())) for c in sorted(CANCELLED_BY)),
        ],
    )
    note = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EmailSourceForm(forms.Form):
    """The insurer and the original message of a request that came by email."""

    insurer = forms.ModelChoiceField(
        label=_("Insurer"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose the insurance partner…"),
    )
    source_file = forms.FileField(
        label=_("Original email (.eml or .msg)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".eml,.msg,.txt"}),
    )
    source_text = forms.CharField(
        label=_("…or paste the email"),
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
            raise forms.ValidationError(gettext("The email is larger than 10 MB."))
        if Path(upload.name).suffix.lower() not in SOURCE_SUFFIXES:
            raise forms.ValidationError(gettext("Attach an .eml or .msg file (or paste the text)."))
        return upload


YES_NO_ANY = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def _service_choices(blank: str) -> list[tuple[str, str]]:
    """The catalogue in the reader's language and its alphabetical order (accents ignored)."""
    services = sorted(service_list(), key=lambda s: fold(s.name))
    return [("", blank), *((s.code, s.name) for s in services)]


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class PartnerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, city or postal code"),
                "autofocus": True,
            }
        ),
    )
    province = forms.ChoiceField(
        label=_("Province"), required=False, choices=[("", _("All provinces")), *Province.choices]
    )
    service = forms.ChoiceField(label=_("Service"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *PartnerKind.choices]
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Inactive"))],
    )
    affiliate = forms.ChoiceField(
        label=_("Affiliation"),
        required=False,
        choices=[("", _("All")), ("yes", _("Affiliate")), ("no", _("Non-affiliate"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _service_choices(gettext("All services"))

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
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartnerKind.choices)
    is_affiliate = forms.BooleanField(
        label=_("Affiliate partner"),
        required=False,
        help_text=_("Untick for a provider found during an escalation (not in the network)."),
    )
    billing_arrangements = forms.MultipleChoiceField(
        label=_("Billing arrangements"),
        required=False,
        choices=BillingArrangement.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    accepts_prepayment = forms.BooleanField(label=_("Accepts pre-payment"), required=False)
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        required=False,
        help_text=_("How long MedWorks has to pay the provider's invoices."),
    )
    tax_number = forms.CharField(label=_("GST/HST number"), max_length=32, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Inactive partners are never proposed.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    organisation = forms.ModelChoiceField(
        label=_("Clinic portal organisation"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.AFFILIATE, is_active=True),
        required=False,
        empty_label=_("None (no clinic portal)"),
        help_text=_("Its clinic users enter dates and see the paperwork of this partner's cases."),
    )


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    province = forms.ChoiceField(
        label=_("Province"), choices=[("", _("Choose…")), *Province.choices]
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        help_text=_("A1A 1A1. The location is placed on the map from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    languages = forms.CharField(
        label=_("Languages"),
        max_length=100,
        required=False,
        help_text=_("For example: English, French"),
    )
    wheelchair_accessible = forms.NullBooleanField(
        label=_("Wheelchair accessible"),
        required=False,
        widget=forms.NullBooleanSelect,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class OfferingPriceForm(forms.Form):
    price = PriceField(
        label=_("Clinic price (CAD)"),
        required=False,
        max_length=20,
        help_text=_("Leave blank to remove the price."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )


class OfferingAddForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        to_field_name="code",
        empty_label=_("Choose a service…"),
    )
    price = PriceField(
        label=_("Clinic price (CAD)"),
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
        label=_("Patient's postal code"),
        max_length=300,
        help_text=_("A postal code, or a full address that contains one."),
        widget=forms.TextInput(
            attrs={"placeholder": "M5V 3L9", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    service = forms.ChoiceField(label=_("Service"))
    max_minutes = forms.IntegerField(
        label=_("Service area (minutes by road)"), min_value=5, max_value=600
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _service_choices(gettext("Choose a service…"))
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
        raise forms.ValidationError(gettext("No postal code found: type one such as M5V 3L9."))


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("The National Affiliate Partner spreadsheet, as .xlsx or .csv."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"),
        required=False,
        initial=True,
        help_text=_("Check the file and show what would change, without saving anything."),
    )
    strict = forms.BooleanField(
        label=_("Strict"),
        required=False,
        help_text=_("Refuse the whole file if any row is rejected."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MEDWORKS_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                gettext(
                    "This file is %(size)s; the largest accepted is %(limit)s. Split it, "
                    "or remove unused sheets and columns."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        if Path(upload.name).suffix.lower() not in {".xlsx", ".csv"}:
            raise forms.ValidationError(gettext("Upload an .xlsx or .csv file."))
        return upload


class ColumnMappingForm(forms.Form):
    """Which of the file's columns is which field, when the import could not tell.

    Shown inside the import form (prefix "column"), with the file's headers carried in hidden
    `column-headers` inputs: the page keeps no upload between two posts, so the user chooses
    the file again and the choices made here come with it. Every select is optional: whether
    a needed column is still missing is the import's to say (`directory_import(columns=)`).
    """

    prefix = "column"

    def __init__(self, data=None, *, headers: list[str], fields: list[str], initial=None):
        super().__init__(data, initial=initial)
        self.headers = list(headers)
        choices = [("", gettext("— choose a column —")), *((h, h) for h in self.headers)]
        for name in [name for name, _header in COLUMNS if name in fields]:  # layout order
            needed = name in REQUIRED_FIELDS
            self.fields[name] = forms.CharField(
                label=FIELD_LABELS[name],
                required=False,
                widget=forms.Select(choices=choices),
                help_text=_("Needed.") if needed else _("Optional."),
            )

    @staticmethod
    def posted_fields(data) -> list[str]:
        """The fields a posted mapping form showed (each select posts its name, even blank)."""
        return [name for name, _header in COLUMNS if f"column-{name}" in data]

    @staticmethod
    def fields_to_ask(found: dict[str, str]) -> list[str]:
        """The needed fields (what was read preselected) and the optional ones not found."""
        return [name for name, _header in COLUMNS if name in REQUIRED_FIELDS or name not in found]

    def columns(self) -> dict[str, str]:
        """field -> header, the selects that name a column (for directory_import)."""
        return {name: value for name, value in self.cleaned_data.items() if value}


# What each party may upload (the domain decides again; these only shape the choice lists).
STAFF_KINDS = [
    (DocumentKind.INSURER_FORM, _("Insurer form")),
    (DocumentKind.COMPLETED_FORM, _("Completed / signed form")),
    (DocumentKind.RESULTS, _("Results")),
    (DocumentKind.CLINIC_INVOICE, _("Clinic invoice")),
    (DocumentKind.OTHER, _("Other")),
]


# The moves staff make on a GOP by hand; issuing, amending and the clinic's acknowledgement
# have their own use cases.
STAFF_GOP_STATUSES = [(to, GopStatus(to).label) for to in STATUS_STEPS]


class DocumentUploadForm(forms.Form):
    """Staff attach a document to a case, or a new version of one already there."""

    kind = forms.ChoiceField(label=_("Kind"), choices=STAFF_KINDS)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = UploadField()
    document = forms.IntegerField(required=False, widget=forms.HiddenInput)


class GopUploadForm(GopForm):
    """Staff issue or amend a GOP: its details and, optionally, the insurer's document."""

    file = UploadField(required=False, label=_("GOP document (optional)"))
    field_order = ["file"]


class GopStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=STAFF_GOP_STATUSES)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


# How management says a provider is paid (the words), stored as billing arrangements.
PAYMENT_METHOD_CHOICES = [
    (BillingArrangement.CREDIT_CARD.value, _("Card")),
    (BillingArrangement.EFT.value, _("EFT")),
    (BillingArrangement.DIRECT_BILLING.value, _("Invoice (the provider bills MedWorks)")),
]


class ProviderForm(forms.Form):
    """The provider management found for an escalated case: it enters the directory as a
    non-affiliate provider with one location and a clinic price per requested service."""

    name = forms.CharField(label=_("Provider name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=255)
    city = forms.CharField(label=_("City"), max_length=100)
    province = forms.ChoiceField(
        label=_("Province"), choices=[("", _("Choose…")), *Province.choices]
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        help_text=_("A1A 1A1."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(label=_("Phone"), max_length=40)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    accepts_prepayment = forms.BooleanField(
        label=_("Accepts pre-payment"), required=False, initial=True
    )
    payment_methods = forms.MultipleChoiceField(
        label=_("Payment methods it takes"),
        choices=PAYMENT_METHOD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note for the booking team"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.services = list(services)
        for service in self.services:
            self.fields[f"price_{service.pk}"] = PriceField(
                label=gettext("Clinic price: %(service)s") % {"service": service.name},
                max_length=20,
                help_text=_("What the provider charges, before MedWorks' fee and tax."),
            )

    def price_fields(self):
        return [self[f"price_{service.pk}"] for service in self.services]

    def clean(self):
        data = super().clean()
        for service in self.services:
            key = f"price_{service.pk}"
            if key in data and data[key] is None:
                self.add_error(key, gettext("Give the provider's price."))
        return data

    def use_case_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "partner_data": {
                "name": data["name"],
                "accepts_prepayment": data["accepts_prepayment"],
                "billing_arrangements": data["payment_methods"],
                "contact_email": data["email"],
                "contact_phone": data["phone"],
            },
            "location_data": {
                "name": data["name"],
                "address": data["address"],
                "city": data["city"],
                "province": data["province"],
                "postal_code": data["postal_code"],
                "phone": data["phone"],
                "email": data["email"],
            },
            "prices": {s: data[f"price_{s.pk}"] for s in self.services},
            "note": data["note"],
        }


class EscalationAssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Give to"), queryset=None, empty_label=_("Choose a manager…")
    )

    def __init__(self, *args, **kwargs):
        from medworks.accounts.selectors import management_users

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = management_users()
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
