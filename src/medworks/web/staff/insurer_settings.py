"""Each insurer's settings in the back office: its pricing and tax (finance edits, through
`billing.services`), how it is invoiced (finance: per case or by monthly statement, its payment
terms, billing email and billing address), its per-service markups and fixed prices (finance),
and its designated service area (the coordinator and management, through `accounts.services`).
Every member of staff reads them; the forms are shown only to whoever may use them, and each
POST checks its own capability. URLs name the insurer's id only.

The page's own URL takes the pricing form's POST; the other forms post to their own URLs, each
through `_override_action` (bind the form, run the use case, answer). A refusal is shown on the
form, on the page again (422); a change is a message and a redirect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability
from medworks.accounts.selectors import service_area_minutes_of
from medworks.accounts.services import insurer_service_area_set
from medworks.billing.models import InsurerView, InvoicingCycle, TaxableBase, TaxTreatment
from medworks.billing.selectors import (
    insurer_pricing_of,
    insurer_service_overrides,
    insurers_with_pricing,
)
from medworks.billing.services import (
    INSURER_INVOICING_FIELDS,
    INSURER_PRICING_FIELDS,
    PAYMENT_TERMS_MAX_DAYS,
    insurer_fixed_price_set,
    insurer_invoicing_update,
    insurer_pricing_update,
    insurer_service_markup_set,
)
from medworks.network.models import Province
from medworks.network.selectors import service_list

from ..access import actor_of, require_capability
from ..actions import run_form_action

_DECIMAL = {"inputmode": "decimal", "size": 8}
_SPACES_AND_SIGN = re.compile(r"[\s\u00a0\u202f$%]")


class DecimalText(forms.DecimalField):
    """A number as typed, in the reader's notation (40, 12.5; French 12,5), spaces and a $ or %
    sign ignored: a Decimal exactly as typed, never rounded (the service refuses too many
    decimals rather than change what finance typed)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs=_DECIMAL))
        super().__init__(localize=True, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = _SPACES_AND_SIGN.sub("", value)
            # ASCII digits, a decimal mark and a minus only: Decimal would also read "1e3",
            # "1_000" and other scripts' digits, none of which is how an amount is written.
            if value.strip("0123456789.,-"):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class InsurerPricingForm(forms.Form):
    """What is typed is parsed here; what is allowed (ranges, decimals) is the service's rule."""

    markup_percent = DecimalText(
        label=gettext_lazy("MedWorks markup (percent of the clinic cost)"),
        help_text=gettext_lazy("Such as 50 for 50%: the fee is this share of the clinic cost."),
    )
    place_of_supply = forms.ChoiceField(
        label=gettext_lazy("Place of supply"),
        required=False,
        choices=[("", gettext_lazy("Where the service is performed")), *Province.choices],
        help_text=gettext_lazy(
            "The province of the insurer's Canadian business address; blank when it has none."
        ),
    )
    tax_treatment = forms.ChoiceField(
        label=gettext_lazy("Tax treatment"), choices=TaxTreatment.choices
    )
    taxable_base = forms.ChoiceField(
        label=gettext_lazy("Taxable base"), choices=TaxableBase.choices
    )
    insurer_view = forms.ChoiceField(
        label=gettext_lazy("What the insurer sees"), choices=InsurerView.choices
    )
    in_network_needs_confirmation = forms.BooleanField(
        label=gettext_lazy(
            "In-network bookings wait for the insurer's confirmation of the charges"
        ),
        required=False,
        help_text=gettext_lazy(
            "Out of network, the insurer always confirms the charges before the booking."
        ),
    )


class InsurerInvoicingForm(forms.Form):
    """What is typed is parsed here; the ranges and the email's shape are the service's rule."""

    invoicing = forms.ChoiceField(
        label=gettext_lazy("Invoicing"),
        choices=InvoicingCycle.choices,
        help_text=gettext_lazy(
            "By monthly statement, the month's cases are billed together and a case is not "
            "invoiced on its own."
        ),
    )
    payment_terms_days = forms.IntegerField(
        label=gettext_lazy("Payment terms (days)"),
        required=False,
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    billing_email = forms.CharField(
        label=gettext_lazy("Billing email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Invoices, credit notes and reminders go here. Blank: to the case's contact, or "
            "for a statement to the insurer's users."
        ),
    )
    billing_address = forms.CharField(
        label=gettext_lazy("Billing address"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Printed under the insurer's name on its invoices."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_terms_days"].help_text = gettext(
            "Whole days from 0 to %(max)s from the invoice date to its due date. Blank: the "
            "default, %(days)s days."
        ) % {"max": PAYMENT_TERMS_MAX_DAYS, "days": settings.MEDWORKS_INVOICE_TERMS_DAYS}


class ServiceMarkupForm(forms.Form):
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"),
        queryset=service_list(),
        to_field_name="code",
        empty_label=gettext_lazy("Choose a service…"),
    )
    markup_percent = DecimalText(
        label=gettext_lazy("Markup for this service (%)"),
        required=False,
        help_text=gettext_lazy("Blank removes it: the insurer's own markup applies."),
    )


class FixedPriceForm(forms.Form):
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"),
        queryset=service_list(),
        to_field_name="code",
        empty_label=gettext_lazy("Choose a service…"),
    )
    price = DecimalText(
        label=gettext_lazy("Contract price before tax (CAD)"),
        required=False,
        help_text=gettext_lazy("Such as 250.00. Blank removes it: the markup applies."),
    )


class ServiceAreaForm(forms.Form):
    minutes = forms.IntegerField(
        label=gettext_lazy("Service area (minutes by road)"),
        required=False,
        widget=forms.NumberInput(attrs={"size": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].help_text = gettext(
            "Whole minutes from 1 to 600. Blank: the default, %(minutes)s minutes."
        ) % {"minutes": settings.MEDWORKS_SERVICE_AREA_MINUTES}


# Prefixes: the page holds the five forms at once, and two of them have a markup field.
PRICING, INVOICING, MARKUP, FIXED, AREA = "pricing", "invoicing", "markup", "fixed", "area"


def _insurer_or_404(insurer_id: int) -> Organisation:
    return get_object_or_404(Organisation, pk=insurer_id, kind=OrganisationKind.INSURER)


def _page(
    request: HttpRequest, insurer: Organisation, *, status: int = 200, **bound
) -> HttpResponse:
    """The settings page, with the forms given bound (a refusal shown again) and the others
    fresh."""
    pricing = insurer_pricing_of(insurer)
    markups, fixed_prices = insurer_service_overrides(insurer=insurer)
    fresh = {
        PRICING: lambda: InsurerPricingForm(
            prefix=PRICING,
            initial={field: getattr(pricing, field) for field in INSURER_PRICING_FIELDS},
        ),
        INVOICING: lambda: InsurerInvoicingForm(
            prefix=INVOICING,
            initial={field: getattr(pricing, field) for field in INSURER_INVOICING_FIELDS},
        ),
        MARKUP: lambda: ServiceMarkupForm(prefix=MARKUP),
        FIXED: lambda: FixedPriceForm(prefix=FIXED),
        AREA: lambda: ServiceAreaForm(
            prefix=AREA, initial={"minutes": insurer.service_area_minutes}
        ),
    }
    forms_ = {name: bound[name] if name in bound else make() for name, make in fresh.items()}
    context = {
        "insurer": insurer,
        "pricing": pricing,
        "markups": markups,
        "fixed_prices": fixed_prices,
        "service_area": service_area_minutes_of(insurer),
        "service_area_is_default": insurer.service_area_minutes is None,
        "default_service_area": settings.MEDWORKS_SERVICE_AREA_MINUTES,
        "default_terms_days": settings.MEDWORKS_INVOICE_TERMS_DAYS,
        "pricing_form": forms_[PRICING],
        "invoicing_form": forms_[INVOICING],
        "markup_form": forms_[MARKUP],
        "fixed_form": forms_[FIXED],
        "area_form": forms_[AREA],
    }
    return render(request, "web/staff/settings/insurer_settings.html", context, status=status)


def _back(insurer: Organisation, anchor: str) -> HttpResponse:
    return redirect(reverse("web:insurer_settings", args=[insurer.pk]) + f"#{anchor}")


@require_safe
@require_capability(Capability.BACK_OFFICE)
def insurer_settings_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "insurer": insurer,
            "pricing": pricing,
            "service_area": service_area_minutes_of(insurer),
            "service_area_is_default": insurer.service_area_minutes is None,
        }
        for insurer, pricing in insurers_with_pricing()
    ]
    return render(request, "web/staff/settings/insurer_list.html", {"rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.BACK_OFFICE)
def insurer_settings(request: HttpRequest, insurer_id: int) -> HttpResponse:
    """The page (every member of staff); its POST is the pricing form (finance only)."""
    if request.method == "POST":
        return _pricing_save(request, insurer_id)
    return _page(request, _insurer_or_404(insurer_id))


@require_capability(Capability.TAX_SETTINGS_EDIT)
def _pricing_save(request: HttpRequest, insurer_id: int) -> HttpResponse:
    insurer = _insurer_or_404(insurer_id)
    form = InsurerPricingForm(request.POST, prefix=PRICING)
    if run_form_action(
        request,
        form,
        lambda data: insurer_pricing_update(actor=actor_of(request), insurer=insurer, data=data),
        success=gettext("Pricing and tax settings of %(insurer)s saved.")
        % {"insurer": insurer.name},
    ):
        return _back(insurer, "pricing")
    return _page(request, insurer, status=422, **{PRICING: form})


def _override_action(
    request: HttpRequest,
    insurer_id: int,
    *,
    form_class: type[forms.Form],
    prefix: str,
    action: Callable[[Organisation, dict], Any],
    success: Callable[[Organisation, dict, Any], str],
    anchor: str,
) -> HttpResponse:
    """A form of the page that sets one of the insurer's own values over a default (a
    service's markup or price, its invoicing, its service area), posted to its own URL: bind
    it, run `action(insurer, cleaned_data)` (the use case), then the message `success(insurer,
    cleaned_data, result)` and back to the page's `anchor`; a refusal is the page again with
    the form as posted (422). The view's decorator checks the capability first."""
    insurer = _insurer_or_404(insurer_id)
    form = form_class(request.POST, prefix=prefix)
    if run_form_action(
        request,
        form,
        lambda data: action(insurer, data),
        success=lambda result: success(insurer, form.cleaned_data, result),
    ):
        return _back(insurer, anchor)
    return _page(request, insurer, status=422, **{prefix: form})


@require_POST
@require_capability(Capability.TAX_SETTINGS_EDIT)
def insurer_invoicing(request: HttpRequest, insurer_id: int) -> HttpResponse:
    return _override_action(
        request,
        insurer_id,
        form_class=InsurerInvoicingForm,
        prefix=INVOICING,
        action=lambda insurer, data: insurer_invoicing_update(
            actor=actor_of(request), insurer=insurer, data=data
        ),
        success=lambda insurer, data, _pricing: (
            gettext("Invoicing settings of %(insurer)s saved.") % {"insurer": insurer.name}
        ),
        anchor="invoicing",
    )


@require_POST
@require_capability(Capability.TAX_SETTINGS_EDIT)
def insurer_service_markup(request: HttpRequest, insurer_id: int) -> HttpResponse:
    return _override_action(
        request,
        insurer_id,
        form_class=ServiceMarkupForm,
        prefix=MARKUP,
        action=lambda insurer, data: insurer_service_markup_set(
            actor=actor_of(request),
            insurer=insurer,
            service=data["service"],
            markup_percent=data["markup_percent"],
        ),
        success=lambda insurer, data, row: (
            gettext("Markup for %(service)s saved.") % {"service": data["service"]}
            if row is not None
            else gettext("No markup of its own for %(service)s now.") % {"service": data["service"]}
        ),
        anchor="per-service",
    )


@require_POST
@require_capability(Capability.TAX_SETTINGS_EDIT)
def insurer_fixed_price(request: HttpRequest, insurer_id: int) -> HttpResponse:
    return _override_action(
        request,
        insurer_id,
        form_class=FixedPriceForm,
        prefix=FIXED,
        action=lambda insurer, data: insurer_fixed_price_set(
            actor=actor_of(request), insurer=insurer, service=data["service"], price=data["price"]
        ),
        success=lambda insurer, data, row: (
            gettext("Fixed price for %(service)s saved.") % {"service": data["service"]}
            if row is not None
            else gettext("No fixed price for %(service)s now.") % {"service": data["service"]}
        ),
        anchor="per-service",
    )


@require_POST
@require_capability(Capability.DIRECTORY_EDIT)
def insurer_service_area(request: HttpRequest, insurer_id: int) -> HttpResponse:
    return _override_action(
        request,
        insurer_id,
        form_class=ServiceAreaForm,
        prefix=AREA,
        action=lambda insurer, data: insurer_service_area_set(
            actor=actor_of(request), insurer=insurer, minutes=data["minutes"]
        ),
        success=lambda _insurer, _data, org: (
            gettext("Service area of %(insurer)s: %(minutes)s minutes.")
            % {"insurer": org.name, "minutes": service_area_minutes_of(org)}
        ),
        anchor="service-area",
    )
