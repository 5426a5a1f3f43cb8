"""Providers' invoices and what MedWorks owes them (SOP case 3): the payables page, one
provider's invoice with its flags, recording one from a case, and finance's steps.

Every member of staff reads (`BACK_OFFICE`: Order Ids and amounts, no patient data); the
booking team records an invoice received (`BOOKING_WORK`: it holds the case and its
documents); finance approves, rejects and records payments (`INVOICING`). Each POST view has
its own capability (403 otherwise) and the use case in `billing.provider_invoices` decides
again. Balances come from the ledger (`billing.payables`), never stored.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.models import (
    ProviderInvoice,
    ProviderInvoiceStatus,
    ProviderPaymentMethod,
)
from medworks.billing.payables import (
    case_provider_invoices,
    payables,
    payment_plan_of,
    provider_invoice_balance,
    provider_invoice_flags,
)
from medworks.billing.provider_invoices import (
    LineIn,
    provider_invoice_approve,
    provider_invoice_record,
    provider_invoice_reject,
    provider_payment_record,
)
from medworks.billing.selectors import quote_current
from medworks.billing.workflow import PROVIDER_INVOICE_WORKFLOW
from medworks.bookings.models import BookingRequest
from medworks.core.errors import DomainError
from medworks.network.models import AffiliatePartner, Service

from ..access import actor_of, require_capability
from ..actions import case_or_404, form_action_response
from ..forms import add_domain_errors

PAGE_SIZE = 50
LINE_ROWS = 6


# --- Forms --------------------------------------------------------------------------------------


def _money_field(label, **kwargs):
    # Typed as written (150.00) and passed on as text: the use case parses it, never rounding.
    return forms.CharField(
        label=label,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        **kwargs,
    )


class ProviderInvoiceForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Provider's invoice number"), max_length=64)
    invoice_date = forms.DateField(
        label=gettext_lazy("Invoice date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_date = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Blank: the provider's payment terms from the invoice date."),
    )
    tax_total = _money_field(gettext_lazy("Tax (CAD)"), initial="0.00")
    total = _money_field(
        gettext_lazy("Total (CAD)"), help_text=gettext_lazy("As printed on the invoice.")
    )
    file = forms.FileField(label=gettext_lazy("The invoice (PDF)"))


class LineForm(forms.Form):
    order_id = forms.CharField(label=gettext_lazy("Order Id"), max_length=20, required=False)
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"),
        queryset=Service.objects.filter(is_active=True).order_by("name_en"),
        required=False,
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255, required=False)
    amount = _money_field(gettext_lazy("Amount before tax (CAD)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Shown in a table under column headings: each input still names itself.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label

    def clean(self):
        data = super().clean()
        if data.get("order_id") and not data.get("amount"):
            self.add_error("amount", gettext("Enter the amount of this line."))
        if data.get("amount") and not data.get("order_id"):
            self.add_error("order_id", gettext("Enter the Order Id this line bills."))
        return data


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=50, absolute_max=50)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why it is rejected"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ProviderPaymentForm(forms.Form):
    amount = _money_field(gettext_lazy("Amount (CAD)"))
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=ProviderPaymentMethod.choices)
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        help_text=gettext_lazy("The EFT trace, cheque number or card authorisation."),
    )


class PayablesFilterForm(forms.Form):
    provider = forms.ModelChoiceField(
        label=gettext_lazy("Provider"),
        queryset=AffiliatePartner.objects.filter(provider_invoices__isnull=False)
        .distinct()
        .order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every provider"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Every status")), *ProviderInvoiceStatus.choices],
    )


# --- Pages --------------------------------------------------------------------------------------


@require_safe
@require_capability(Capability.BACK_OFFICE)
def payables_page(request):
    """What MedWorks owes each provider (overdue first in the eye: its own column), then the
    providers' invoices, newest first, by provider and status; 50 a page."""
    form = PayablesFilterForm(request.GET or None)
    invoices = ProviderInvoice.objects.select_related("provider").order_by("-recorded_at", "-pk")
    if form.is_valid():
        if form.cleaned_data["provider"]:
            invoices = invoices.filter(provider=form.cleaned_data["provider"])
        if form.cleaned_data["status"]:
            invoices = invoices.filter(status=form.cleaned_data["status"])
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/staff/payables/list.html",
        {
            "form": form,
            "owed": payables(today=timezone.localdate()),
            "page": page,
            "query": query.urlencode(),
        },
    )


def _invoice_or_404(invoice_id: int) -> ProviderInvoice:
    return get_object_or_404(ProviderInvoice.objects.select_related("provider"), pk=invoice_id)


def _detail_url(invoice: ProviderInvoice) -> str:
    return reverse("web:provider_invoice_detail", args=[invoice.pk])


def _detail(request, invoice: ProviderInvoice, **bound):
    finance = user_can(request.user, Capability.INVOICING)
    moves = (
        {m.name: m for m in PROVIDER_INVOICE_WORKFLOW.moves(invoice, actor_of(request))}
        if finance
        else {}
    )
    lines = list(invoice.lines.select_related("case", "service").order_by("position"))
    return render(
        request,
        "web/staff/payables/detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "pdf_case": lines[0].case if lines else None,
            "flags": provider_invoice_flags(invoice),
            "balance": provider_invoice_balance(invoice),
            "payments": list(invoice.payments.order_by("paid_on", "pk")),
            "finance": finance,
            "moves": moves,
            "approve_form": bound.get("approve") or NoteForm(prefix="approve"),
            "reject_form": bound.get("reject") or RejectForm(prefix="reject"),
            "payment_form": bound.get("pay")
            or ProviderPaymentForm(
                prefix="pay",
                initial={"paid_on": timezone.localdate(), "amount": ""},
            ),
        },
    )


@require_safe
@require_capability(Capability.BACK_OFFICE)
def provider_invoice_detail(request, invoice_id: int):
    return _detail(request, _invoice_or_404(invoice_id))


def _step(request, invoice_id, *, form_class, prefix, action, success):
    invoice = _invoice_or_404(invoice_id)
    form = form_class(request.POST, prefix=prefix)
    return form_action_response(
        request,
        form,
        lambda data: action(invoice, data),
        success=success,
        done=lambda: redirect(_detail_url(invoice)),
        again=lambda: _detail(request, invoice, **{prefix: form}),
    )


@require_POST
@require_capability(Capability.INVOICING)
def provider_invoice_approve_view(request, invoice_id: int):
    return _step(
        request,
        invoice_id,
        form_class=NoteForm,
        prefix="approve",
        action=lambda invoice, data: provider_invoice_approve(
            invoice=invoice, actor=actor_of(request), note=data["note"]
        ),
        success=lambda invoice: (
            gettext("Invoice %(number)s approved for payment.") % {"number": invoice.number}
        ),
    )


@require_POST
@require_capability(Capability.INVOICING)
def provider_invoice_reject_view(request, invoice_id: int):
    return _step(
        request,
        invoice_id,
        form_class=RejectForm,
        prefix="reject",
        action=lambda invoice, data: provider_invoice_reject(
            invoice=invoice, actor=actor_of(request), note=data["note"]
        ),
        success=lambda invoice: (
            gettext("Invoice %(number)s rejected.") % {"number": invoice.number}
        ),
    )


@require_POST
@require_capability(Capability.INVOICING)
def provider_payment_view(request, invoice_id: int):
    return _step(
        request,
        invoice_id,
        form_class=ProviderPaymentForm,
        prefix="pay",
        action=lambda invoice, data: provider_payment_record(
            invoice=invoice,
            amount=data["amount"],
            paid_on=data["paid_on"],
            method=data["method"],
            reference=data["reference"],
            actor=actor_of(request),
        ),
        success=lambda payment: (
            gettext("Payment of %(amount)s recorded.") % {"amount": f"{payment.amount:.2f}"}
        ),
    )


# --- Recording one, from a case -----------------------------------------------------------------


def _initial_lines(case: BookingRequest) -> list[dict]:
    """The case's services at the agreed clinic cost: what the invoice should say."""
    quote = quote_current(case=case)
    if quote is None:
        return [{"order_id": case.order_id}]
    return [
        {
            "order_id": case.order_id,
            "service": line.service_id,
            "amount": f"{line.clinic_cost:.2f}",
        }
        for line in quote.lines.all()
    ]


def _lines_in(formset) -> tuple[list[LineIn], bool]:
    """The filled rows as the use case's lines, and whether a row names no case (its error
    then on that row; the use case refuses a case that is not the provider's)."""
    wanted = {
        form.cleaned_data["order_id"].strip().upper()
        for form in formset.forms
        if form.cleaned_data.get("order_id")
    }
    cases = {c.order_id: c for c in BookingRequest.objects.filter(order_id__in=wanted)}
    lines, bad = [], False
    for form in formset.forms:
        data = form.cleaned_data
        if not data.get("order_id"):
            continue
        case = cases.get(data["order_id"].strip().upper())
        if case is None:
            form.add_error("order_id", gettext("No case with this Order Id."))
            bad = True
            continue
        lines.append(
            LineIn(
                case=case,
                amount=data["amount"],
                service=data.get("service"),
                description=data.get("description", ""),
            )
        )
    return lines, bad


@require_http_methods(["GET", "POST"])
@require_capability(Capability.BOOKING_WORK)
def provider_invoice_new(request, order_id: str):
    """Record the invoice the case's provider sent: its lines start from the case's services
    at the agreed clinic cost; more rows bill other cases of the same provider."""
    case = case_or_404(request, order_id, purpose="provider invoice")
    if case.location is None:
        return redirect(reverse("web:staff_booking_detail", args=[case.order_id]))
    provider = case.location.partner
    if request.method == "POST":
        form = ProviderInvoiceForm(request.POST, request.FILES, prefix="pi")
        formset = LineFormSet(request.POST, prefix="line")
    else:
        form = ProviderInvoiceForm(prefix="pi", initial={"invoice_date": timezone.localdate()})
        rows = _initial_lines(case)
        rows += [{}] * max(0, LINE_ROWS - len(rows))
        formset = LineFormSet(prefix="line", initial=rows)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines, bad = _lines_in(formset)
        if not bad:
            data = form.cleaned_data
            try:
                invoice = provider_invoice_record(
                    provider=provider,
                    number=data["number"],
                    invoice_date=data["invoice_date"],
                    due_date=data["due_date"],
                    lines=lines,
                    tax_total=data["tax_total"],
                    total=data["total"],
                    file=data["file"],
                    filename=data["file"].name,
                    actor=actor_of(request),
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                flags = provider_invoice_flags(invoice)
                messages.success(
                    request,
                    gettext("Invoice %(number)s of %(provider)s recorded.")
                    % {"number": invoice.number, "provider": provider.name}
                    + (" " + gettext("Finance will review its flags.") if flags else ""),
                )
                return redirect(_detail_url(invoice))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/staff/payables/new.html",
        {"case": case, "provider": provider, "form": form, "formset": formset},
        status=status,
    )


# --- On the case page ---------------------------------------------------------------------------


def payables_panel(request, case: BookingRequest) -> dict:
    """The context of `web/staff/payables/_case_panel.html`, as `payables_panel`: how the
    provider is paid (the payment plan, from the moment a clinic is chosen), the providers'
    invoices that bill the case with what is owed on each, and whether this user may record
    one (the booking team)."""
    plan = payment_plan_of(case)
    invoices = case_provider_invoices(case)
    rows = [(i, provider_invoice_balance(i)) for i in invoices]
    return {
        "payables_panel": {
            "plan": plan,
            "rows": rows,
            # What MedWorks owes for the case now: its providers' approved invoices, unpaid.
            "payable": sum((owed for _invoice, owed in rows), Decimal("0.00")),
            "can_record": plan is not None and user_can(request.user, Capability.BOOKING_WORK),
        }
    }
