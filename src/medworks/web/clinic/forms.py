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
    """The clinic's invoice to MedWorks for the case: its number, dates, an amount per service
    of the case (before tax), the tax, the total, and the invoice itself. Recorded as data
    (billing.provider_invoices), its file stored as the case's clinic-invoice document."""

    file = UploadField(label=_("Invoice"))
    number = forms.CharField(label=_("Your invoice number"), max_length=64)
    invoice_date = forms.DateField(
        label=_("Invoice date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Blank: your payment terms with MedWorks."),
    )
    tax_total = forms.CharField(label=_("Tax (CAD)"), max_length=20, initial="0.00")
    total = forms.CharField(label=_("Total (CAD)"), max_length=20)

    def __init__(self, *args, services=(), **kwargs):
        """`services`: (service, agreed clinic cost or None) for each service of the case."""
        super().__init__(*args, **kwargs)
        self.service_keys = []
        for service, cost in services:
            key = f"amount_{service.pk}"
            self.fields[key] = forms.CharField(
                label=_("%(service)s, before tax (CAD)") % {"service": service.name},
                max_length=20,
                initial=f"{cost:.2f}" if cost is not None else "",
            )
            self.service_keys.append((key, service))
        # The amounts first, then tax and total, in the order an invoice reads.
        order = ["file", "number", "invoice_date", "due_date"]
        order += [key for key, _service in self.service_keys] + ["tax_total", "total"]
        self.order_fields(order)

    def service_fields(self):
        return [self[key] for key, _service in self.service_keys]
