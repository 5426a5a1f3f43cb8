"""The dated sales-tax table in the back office: every member of staff reads it, by province;
finance adds a rate and edits one (its rate, period and source) through `billing.services`,
which refuses a period overlapping another rate of the tax (shown on the first day's field).
A rate is typed as a percentage (13, 9.975) and stored as a fraction (0.13, 0.09975)."""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from medworks.accounts.permissions import Capability
from medworks.billing.models import TaxName, TaxRate
from medworks.billing.selectors import tax_rate_table
from medworks.billing.services import tax_rate_create, tax_rate_update
from medworks.core.errors import DomainError
from medworks.network.models import Province

from ..access import actor_of, require_capability
from ..actions import run_form_action
from ..forms import add_domain_errors
from ..templatetags.medworks_settings import percent_text, rate_percent
from .insurer_settings import DecimalText

_DATE = {"type": "date"}


class TaxRatePeriodForm(forms.Form):
    """A rate's value, period and source: what an existing rate may change."""

    rate = DecimalText(
        label=gettext_lazy("Rate (percent)"),
        help_text=gettext_lazy("A percentage, such as 13 or 9.975."),
    )
    valid_from = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    valid_to = forms.DateField(
        label=gettext_lazy("Last day"),
        required=False,
        widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
        help_text=gettext_lazy("The last day the rate applies. Blank: until further notice."),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        required=False,
        max_length=255,
        help_text=gettext_lazy("Where the rate comes from, such as a notice of the CRA."),
    )

    def clean_rate(self) -> Decimal:
        """The percentage typed, as the fraction the table keeps (13 -> 0.13, exactly)."""
        return self.cleaned_data["rate"].scaleb(-2)


class TaxRateCreateForm(TaxRatePeriodForm):
    province = forms.ChoiceField(label=gettext_lazy("Province or territory"))
    tax_name = forms.ChoiceField(label=gettext_lazy("Tax"), choices=TaxName.choices)

    field_order = ("province", "tax_name", "rate", "valid_from", "valid_to", "source")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(code, f"{label} ({code})") for code, label in Province.choices]
        self.fields["province"].choices = [("", gettext("Choose a province…")), *choices]


def _put_errors(form: forms.BaseForm, error: DomainError) -> None:
    """The service speaks of the stored fraction; the form asks for a percentage."""
    if error.code == "rate_invalid":
        form.add_error(
            "rate",
            gettext("Enter a percentage from 0 to less than 100, with at most 3 decimals."),
        )
        return
    add_domain_errors(form, error)


def _edit_errors(rate: TaxRate):
    """On the edit page, an overlap is put on the day that was changed (the service names the
    first day, as when a rate is added)."""

    def put(form: forms.BaseForm, error: DomainError) -> None:
        if error.code != "tax_rate_overlap":
            _put_errors(form, error)
            return
        period = ("valid_from", "valid_to")
        changed = [f for f in period if form.cleaned_data.get(f) != getattr(rate, f)]
        for field in changed or ["valid_from"]:
            for message in error.fields.get("valid_from") or [error.message]:
                form.add_error(field, message)

    return put


def describe(rate: TaxRate) -> str:
    """'HST of Nova Scotia, 14% from 2025-04-01' in the reader's language."""
    values = {
        "tax": rate.get_tax_name_display(),
        "province": rate.get_province_display(),
        "rate": rate_percent(rate.rate),
        "first": rate.valid_from.isoformat(),
    }
    if rate.valid_to is None:
        return gettext("%(tax)s of %(province)s, %(rate)s from %(first)s") % values
    return gettext("%(tax)s of %(province)s, %(rate)s from %(first)s to %(last)s") % {
        **values,
        "last": rate.valid_to.isoformat(),
    }


def _list(request: HttpRequest, form: TaxRateCreateForm, *, status: int = 200) -> HttpResponse:
    provinces = [
        {"code": code, "name": Province(code).label, "rates": list(rates)}
        for code, rates in groupby(tax_rate_table(), key=lambda rate: rate.province)
    ]
    return render(
        request,
        "web/staff/settings/tax_rates.html",
        {"provinces": provinces, "form": form},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.BACK_OFFICE)
def tax_rate_list(request: HttpRequest) -> HttpResponse:
    """The table (every member of staff); its POST is the add form (finance only)."""
    if request.method == "POST":
        return _tax_rate_add(request)
    return _list(request, TaxRateCreateForm())


@require_capability(Capability.TAX_SETTINGS_EDIT)
def _tax_rate_add(request: HttpRequest) -> HttpResponse:
    form = TaxRateCreateForm(request.POST)
    if run_form_action(
        request,
        form,
        lambda data: tax_rate_create(actor=actor_of(request), **data),
        success=lambda row: gettext("Rate added: %(rate)s.") % {"rate": describe(row)},
        put_errors=_put_errors,
    ):
        return redirect(reverse("web:tax_rates") + f"#province-{form.cleaned_data['province']}")
    return _list(request, form, status=422)


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.TAX_SETTINGS_EDIT)
def tax_rate_edit(request: HttpRequest, rate_id: int) -> HttpResponse:
    rate = get_object_or_404(TaxRate, pk=rate_id)
    status = 200
    if request.method == "POST":
        form = TaxRatePeriodForm(request.POST)
        if run_form_action(
            request,
            form,
            lambda data: tax_rate_update(actor=actor_of(request), tax_rate=rate, data=data),
            success=lambda row: gettext("Rate saved: %(rate)s.") % {"rate": describe(row)},
            put_errors=_edit_errors(rate),
        ):
            return redirect(reverse("web:tax_rates") + f"#province-{rate.province}")
        status = 422
    else:
        form = TaxRatePeriodForm(
            initial={
                "rate": Decimal(percent_text(rate.rate * 100)),
                "valid_from": rate.valid_from,
                "valid_to": rate.valid_to,
                "source": rate.source,
            }
        )
    return render(
        request,
        "web/staff/settings/tax_rate_edit.html",
        {"rate": rate, "form": form, "described": describe(rate)},
        status=status,
    )
