"""Finance's invoicing pages (SOP case 3): the invoices, one invoice with the moves its workflow
allows, a case's invoice panel, the monthly statements, payments received, the receivables and
the ledger's journal as CSV.

Every member of staff reads the lists and an invoice (`BACK_OFFICE`: no patient data on them,
only Order Ids); every action is finance's (`INVOICING`), checked by its own POST view (403
otherwise) and decided again by the use case in `billing.invoices`. The buttons of an invoice
are the moves `INVOICE_WORKFLOW.moves` lists for this actor; a refusal is the domain's message.
Balances are read from the ledger (`billing.receivables`), never stored.
"""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, user_can
from medworks.billing.invoices import (
    credit_note_issue,
    insurer_invoiced_monthly,
    insurers_invoiced_monthly,
    invoice_draft_discard,
    invoice_draft_for_case,
    invoice_draft_statement,
    invoice_issue,
    invoice_pdf_bytes,
    payment_record,
)
from medworks.billing.models import (
    INVOICE_OPEN_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PaymentAllocation,
    PaymentMethod,
    PaymentReceived,
)
from medworks.billing.receivables import (
    BUCKET_LABELS,
    BUCKETS,
    ageing,
    insurer_credit,
    invoice_balances,
    ledger_journal_csv,
    ledger_rows,
)
from medworks.billing.selectors import quote_confirmed_amount
from medworks.billing.workflow import INVOICE_WORKFLOW
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.audit import audit_record
from medworks.core.errors import DomainError, NotFound
from medworks.payments.charges import charges_of
from medworks.payments.vault import card_current

from ..access import actor_of, require_capability
from ..actions import case_or_404, run_action, run_form_action
from ..statements import statement_pdf_response

PAGE_SIZE = 50


def _insurers():
    return Organisation.objects.filter(kind=OrganisationKind.INSURER).order_by("name")


# --- Forms --------------------------------------------------------------------------------------


class InvoiceFilterForm(forms.Form):
    insurer = forms.ModelChoiceField(
        label=gettext_lazy("Insurer"),
        queryset=_insurers(),
        required=False,
        empty_label=gettext_lazy("Every insurer"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Every status")), *InvoiceStatus.choices],
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why"), widget=forms.Textarea(attrs={"rows": 2}))


class CreditNoteForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the credit note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Printed on the credit note the insurer receives."),
    )


class StatementForm(forms.Form):
    insurer = forms.ModelChoiceField(
        label=gettext_lazy("Insurer"),
        queryset=_insurers(),
        empty_label=gettext_lazy("Choose an insurer…"),
    )
    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=gettext_lazy("The month the appointments took place, such as 2026-11."),
    )


class PaymentForm(forms.Form):
    insurer = forms.ModelChoiceField(
        label=gettext_lazy("Insurer"),
        queryset=_insurers(),
        empty_label=gettext_lazy("Choose an insurer…"),
    )
    # Typed as written (150.00) and passed on as text: the use case parses it and refuses
    # a float, a negative amount or sub-cent digits, never rounding what finance typed.
    amount = forms.CharField(
        label=gettext_lazy("Amount (CAD)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        help_text=gettext_lazy("Such as 150.00."),
    )
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        help_text=gettext_lazy("The cheque number, EFT trace or card authorisation."),
    )
    invoices = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Invoices it pays"),
        queryset=Invoice.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "None ticked: the insurer's open invoices, oldest first. What is left over is its "
            "credit."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["invoices"]
        field.queryset = (
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=INVOICE_OPEN_STATUSES)
            .select_related("insurer")
            .order_by("insurer__name", "issue_date", "number")
        )
        field.label_from_instance = lambda i: f"{i.display_number} · {i.insurer.name}"


class JournalForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


# --- Shared -------------------------------------------------------------------------------------


def _invoice_or_404(invoice_id: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("insurer", "credits"), pk=invoice_id)


def _detail_url(invoice: Invoice) -> str:
    return reverse("web:invoice_detail", args=[invoice.pk])


def invoice_panel(request: HttpRequest, case: BookingRequest) -> dict:
    """The context of `web/staff/bookings/_invoice_panel.html`, as `invoice_panel`: the case's
    invoices and credit notes with their balances, and whether finance may draft one now (the
    case ready for billing, its quote confirmed, no live invoice, its insurer invoiced per
    case: the use case decides again). An insurer invoiced by monthly statement: the panel
    says the case goes on the statement of its month instead of offering the button."""
    invoices = list(
        Invoice.objects.filter(lines__case=case)
        .distinct()
        .select_related("credits")
        .order_by("created_at", "pk")
    )
    balances = invoice_balances(invoices)
    live = any(i.kind == InvoiceKind.INVOICE and i.status != InvoiceStatus.VOIDED for i in invoices)
    ready = case.status == BookingStatus.READY_FOR_BILLING
    confirmed = ready and quote_confirmed_amount(case=case) is not None
    monthly = insurer_invoiced_monthly(case.insurer)
    finance = user_can(request.user, Capability.INVOICING)
    return {
        "invoice_panel": {
            "shown": ready or bool(invoices),
            "rows": [(i, balances[i.pk]) for i in invoices],
            "can_draft": finance and confirmed and not live and not monthly,
            "waits_for_confirmation": ready and not confirmed and not live,
            "monthly": ready and monthly and not live,
            "finance": finance,
        }
    }


# --- The invoices -------------------------------------------------------------------------------


@require_safe
@require_capability(Capability.BACK_OFFICE)
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices and credit notes, newest first, by insurer and status; 50 a page."""
    form = InvoiceFilterForm(request.GET or None)
    invoices = Invoice.objects.select_related("insurer").order_by("-created_at", "-pk")
    if form.is_valid():
        if form.cleaned_data["insurer"]:
            invoices = invoices.filter(insurer=form.cleaned_data["insurer"])
        if form.cleaned_data["status"]:
            invoices = invoices.filter(status=form.cleaned_data["status"])
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    balances = invoice_balances(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/staff/invoices/list.html",
        {
            "form": form,
            "page": page,
            "rows": [(i, balances[i.pk]) for i in page.object_list],
            "query": query.urlencode(),
            "finance": user_can(request.user, Capability.INVOICING),
        },
    )


def _card_to_charge(invoice: Invoice, finance: bool):
    """The insurer's card on file for the invoice's one case, when finance may charge it
    (payments.charges decides again), with the charges made so far."""
    if (
        not finance
        or invoice.kind != InvoiceKind.INVOICE
        or invoice.status not in (INVOICE_OPEN_STATUSES)
    ):
        return None
    cases = {line.case for line in invoice.lines.all() if line.case_id}
    if len(cases) != 1:
        return None
    (case,) = cases
    card = card_current(case)
    return {"card": card, "charges": charges_of(case)} if card is not None else None


def _detail(request: HttpRequest, invoice: Invoice, *, status: int = 200, **bound):
    actor = actor_of(request)
    finance = user_can(request.user, Capability.INVOICING)
    moves = {m.name: m for m in INVOICE_WORKFLOW.moves(invoice, actor)} if finance else {}
    lines = list(invoice.lines.select_related("case", "service"))
    allocations = list(
        PaymentAllocation.objects.filter(invoice=invoice)
        .select_related("payment")
        .order_by("applied_on", "pk")
    )
    context = {
        "invoice": invoice,
        "lines": lines,
        "taxes": list(invoice.taxes.all()),
        "balance": invoice_balances([invoice])[invoice.pk],
        "allocations": allocations,
        "credit_notes": list(invoice.credit_notes.order_by("issue_date", "pk")),
        "has_pdf": hasattr(invoice, "pdf") and invoice.display_number != "",
        "finance": finance,
        "moves": moves,
        "card": _card_to_charge(invoice, finance),
        "idempotency_key": uuid.uuid4().hex,
        "discard_form": bound.get("discard") or NoteForm(prefix="discard"),
        "credit_form": bound.get("credit") or CreditNoteForm(prefix="credit"),
    }
    return render(request, "web/staff/invoices/detail.html", context, status=status)


@require_safe
@require_capability(Capability.BACK_OFFICE)
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _detail(request, _invoice_or_404(invoice_id))


@require_safe
@require_capability(Capability.INVOICING)
def invoice_pdf_download(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The stored PDF, as sent to the insurer; each download is in the audit trail."""
    invoice = _invoice_or_404(invoice_id)
    actor = actor_of(request)
    try:
        data = invoice_pdf_bytes(invoice=invoice, actor=actor)
    except NotFound:
        raise Http404("No PDF for this invoice") from None
    audit_record(
        actor=actor,
        action="invoice.pdf_downloaded",
        obj=invoice,
        summary=f"{invoice.display_number} PDF downloaded",
        payload={"invoice_id": invoice.pk, "number": invoice.display_number},
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.display_number}.pdf"'
    return response


@require_POST
@require_capability(Capability.INVOICING)
def invoice_issue_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(invoice_id)
    run_action(
        request,
        lambda: invoice_issue(invoice=invoice, actor=actor_of(request)),
        success=lambda issued: (
            gettext("Invoice %(number)s issued and sent to the insurer.")
            % {"number": issued.display_number}
        ),
    )
    return redirect(_detail_url(invoice))


@require_POST
@require_capability(Capability.INVOICING)
def invoice_credit(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(invoice_id)
    form = CreditNoteForm(request.POST, prefix="credit")
    if run_form_action(
        request,
        form,
        lambda data: credit_note_issue(
            invoice=invoice, actor=actor_of(request), reason=data["reason"]
        ),
        success=lambda note: (
            gettext("Credit note %(number)s issued: %(invoice)s is voided.")
            % {"number": note.display_number, "invoice": invoice.display_number}
        ),
    ):
        return redirect(_detail_url(invoice))
    return _detail(request, invoice, status=422, credit=form)


@require_POST
@require_capability(Capability.INVOICING)
def invoice_discard(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(invoice_id)
    form = NoteForm(request.POST, prefix="discard")
    if run_form_action(
        request,
        form,
        lambda data: invoice_draft_discard(
            invoice=invoice, actor=actor_of(request), note=data["note"]
        ),
        success=gettext("The draft is discarded: its cases can be invoiced again."),
    ):
        return redirect(_detail_url(invoice))
    return _detail(request, invoice, status=422, discard=form)


@require_POST
@require_capability(Capability.INVOICING)
def invoice_draft_case(request: HttpRequest, order_id: str) -> HttpResponse:
    """Draft the invoice of a case (from its page's invoice panel)."""
    case = case_or_404(request, order_id, purpose="invoiced")
    try:
        draft = invoice_draft_for_case(case=case, actor=actor_of(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("web:staff_booking_detail", args=[case.order_id]) + "#invoice")
    messages.success(request, gettext("Draft invoice made: check it, then issue it."))
    return redirect(_detail_url(draft))


# --- Monthly statements -------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.INVOICING)
def invoice_statement(request: HttpRequest) -> HttpResponse:
    """Draft an insurer's statements for a month; the cases left out are listed with why."""
    monthly = insurers_invoiced_monthly()
    if request.method != "POST":
        return render(
            request,
            "web/staff/invoices/statements.html",
            {"form": StatementForm(), "monthly": monthly},
        )
    form = StatementForm(request.POST)
    made = []

    def draft(data):
        made.append(
            invoice_draft_statement(
                insurer=data["insurer"], month=data["month"], actor=actor_of(request)
            )
        )
        return made[0]

    done = run_form_action(
        request,
        form,
        draft,
        success=lambda result: (
            ngettext(
                "%(count)s statement drafted: check it, then issue it.",
                "%(count)s statements drafted: check them, then issue them.",
                len(result.invoices),
            )
            % {"count": len(result.invoices)}
        ),
    )
    return render(
        request,
        "web/staff/invoices/statements.html",
        {
            "form": StatementForm() if done else form,
            "result": made[0] if done else None,
            "monthly": monthly,
        },
        status=200 if done else 422,
    )


# --- Payments received --------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.INVOICING)
def payment_record_page(request: HttpRequest) -> HttpResponse:
    """Record a payment received; the page then shows what it paid and any credit left."""
    if request.method == "POST":
        form = PaymentForm(request.POST)
        recorded: list[PaymentReceived] = []

        def record(data):
            payment = payment_record(
                insurer=data["insurer"],
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                actor=actor_of(request),
                allocations=list(data["invoices"].order_by("issue_date", "number"))
                if data["invoices"]
                else None,
            )
            recorded.append(payment)
            return payment

        if run_form_action(
            request,
            form,
            record,
            success=lambda p: (
                gettext("Payment %(number)s recorded.") % {"number": p.display_number}
            ),
        ):
            return redirect(reverse("web:payment_record") + f"?payment={recorded[0].pk}")
        return render(request, "web/staff/invoices/payment.html", {"form": form}, status=422)
    payment = None
    if (request.GET.get("payment") or "").isdigit():
        payment = (
            PaymentReceived.objects.select_related("insurer")
            .filter(pk=int(request.GET["payment"]))
            .first()
        )
    context = {"form": PaymentForm(initial={"received_on": timezone.localdate()})}
    if payment is not None:
        allocations = list(payment.allocations.select_related("invoice").order_by("pk"))
        context.update(
            payment=payment,
            allocations=allocations,
            left=payment.amount - sum((a.amount for a in allocations), Decimal("0.00")),
            insurer_credit=insurer_credit(payment.insurer),
        )
    return render(request, "web/staff/invoices/payment.html", context)


# --- Receivables and the journal ----------------------------------------------------------------


@require_safe
@require_capability(Capability.BACK_OFFICE)
def receivables(request: HttpRequest) -> HttpResponse:
    """What each insurer owes by age today, its credit, the totals."""
    report = ageing(today=timezone.localdate(), detail=False)  # the totals: 5 rows, not 15,000
    return render(
        request,
        "web/staff/invoices/receivables.html",
        {
            "report": report,
            "buckets": [(name, BUCKET_LABELS[name]) for name in BUCKETS],
            "rows": [(row, [row.buckets[name] for name in BUCKETS]) for row in report.insurers],
            "totals": [report.buckets[name] for name in BUCKETS],
            "journal_form": JournalForm(),
            "finance": user_can(request.user, Capability.INVOICING),
        },
    )


@require_safe
@require_capability(Capability.INVOICING)
def receivables_statement_pdf(request: HttpRequest, insurer_id: int) -> HttpResponse:
    """An insurer's statement of account (finance's; each download audited)."""
    insurer = get_object_or_404(Organisation, pk=insurer_id, kind=OrganisationKind.INSURER)
    return statement_pdf_response(request, insurer, origin="back_office")


class _Lines(io.StringIO):
    """What `ledger_journal_csv` writes, taken out after each batch."""

    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate(0)
        return text


def _journal_chunks(rows, batch: int = 500):
    """The journal's CSV, a batch of rows at a time (constant memory): the header once, then
    each batch written by `ledger_journal_csv` without its repeated header."""
    out = _Lines()
    ledger_journal_csv([], out)
    yield out.take()
    pending = []
    for row in rows.select_related("journal", "insurer", "invoice").iterator(chunk_size=2000):
        pending.append(row)
        if len(pending) == batch:
            ledger_journal_csv(pending, out)
            yield out.take().partition("\r\n")[2]
            pending = []
    if pending:
        ledger_journal_csv(pending, out)
        yield out.take().partition("\r\n")[2]


@require_safe
@require_capability(Capability.INVOICING)
def ledger_journal_download(request: HttpRequest) -> HttpResponse:
    """The ledger's journal for a date range (inclusive; open-ended when blank), streamed."""
    form = JournalForm(request.GET)
    if not form.is_valid():
        return HttpResponse(gettext("Enter the dates as YYYY-MM-DD."), status=400)
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    audit_record(
        actor=actor_of(request),
        action="ledger.journal_downloaded",
        summary="Ledger journal downloaded",
        payload={
            "date_from": date_from.isoformat() if date_from else "",
            "date_to": date_to.isoformat() if date_to else "",
        },
    )
    name = f"journal-{date_from or 'start'}-{date_to or timezone.localdate()}.csv"
    response = StreamingHttpResponse(
        _journal_chunks(ledger_rows(date_from=date_from, date_to=date_to)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
