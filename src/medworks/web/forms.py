"""Forms parse and check the shape of input; the rules of the domain live in the services.

A service's `DomainError.fields` are copied back onto the form (`add_domain_errors`), so a
refusal shows next to the field the person typed into, with their input kept.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.core.errors import DomainError
from medworks.network.models import BillingArrangement, PartnerKind, Province, Service
from medworks.network.selectors import service_list
from medworks.network.text import parse_price

YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def add_domain_errors(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where it names one, else at the top."""
    placed = False
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


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


class PriceField(forms.CharField):
    """Accepts what people type: 125, 125.00, $1,250.00, 1 250,00 $. Blank means no price."""

    def clean(self, value) -> Decimal | None:
        text = super().clean(value)
        try:
            return parse_price(text)
        except ValueError as exc:
            message = str(exc)
            raise forms.ValidationError(message[:1].upper() + message[1:] + ".") from None


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
