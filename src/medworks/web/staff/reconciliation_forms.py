"""The SOP table's filters (insurer, provider, order dates, status), as the page and its
exports read them from the query string."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.network.models import AffiliatePartner
from medworks.reconciliation.models import Reconciliation, ReconciliationStatus
from medworks.reconciliation.selectors import TableFilter

FILTER_FIELDS = ("insurer", "provider", "date_from", "date_to", "status")


class ReconciliationFilterForm(forms.Form):
    insurer = forms.ModelChoiceField(
        label=gettext_lazy("Insurer"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.INSURER).order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every insurer"),
    )
    provider = forms.ModelChoiceField(
        label=gettext_lazy("Provider"),
        # The providers of the table's orders (read on the provider index), not the directory.
        queryset=AffiliatePartner.objects.filter(
            pk__in=Reconciliation.objects.filter(provider__isnull=False)
            .values("provider_id")
            .distinct()
        ).order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every provider"),
    )
    date_from = forms.DateField(
        label=gettext_lazy("Order date from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("Order date to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Reconciliation status"),
        required=False,
        choices=[("", gettext_lazy("Every status")), *ReconciliationStatus.choices],
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error(
                "date_to",
                gettext("The end date is before the start date (%(start)s).")
                % {"start": start.isoformat()},
            )
        return data

    def table_filter(self) -> TableFilter:
        """The filters of a valid form (none for an unbound one)."""
        if not self.is_bound:
            return TableFilter()
        data = self.cleaned_data
        return TableFilter(
            insurer_id=data["insurer"].pk if data.get("insurer") else None,
            provider_id=data["provider"].pk if data.get("provider") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            status=data.get("status") or "",
        )
