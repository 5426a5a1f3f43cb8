"""Paying providers by EFT (SOP case 4 step 5): a provider's bank account, and finance's EFT
files page (the approved EFT requests waiting, making the CPA-005 file, downloading it).

Finance only (`INVOICING`), reads included: the bank account page and the files are where
money is sent. The account number is never shown, never put back in a form shown again,
never in a URL or a message; the file itself is downloaded as an attachment, never cached.
Each view parses, checks the capability and calls `payments.eft`, which decides again.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.permissions import Capability
from medworks.bookings.forms import forget_values
from medworks.network.models import AffiliatePartner
from medworks.payments.eft import (
    bank_account_masked,
    bank_account_set,
    eft_file_create,
    eft_file_text,
    eft_files,
    eft_requests_waiting,
)
from medworks.payments.models import EftFile, PaymentRequest, ProviderBankAccount

from ..access import actor_of, require_capability
from ..actions import run_action, run_form_action
from ..card_forms import no_store


class BankAccountForm(forms.Form):
    account_holder = forms.CharField(label=gettext_lazy("Account holder"), max_length=30)
    institution = forms.CharField(
        label=gettext_lazy("Institution number"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4, "autocomplete": "off"}),
        help_text=gettext_lazy("3 digits, such as 003."),
    )
    transit = forms.CharField(
        label=gettext_lazy("Transit (branch) number"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6, "autocomplete": "off"}),
        help_text=gettext_lazy("5 digits, such as 00012."),
    )
    account = forms.CharField(
        label=gettext_lazy("Account number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 14, "autocomplete": "off"}),
        help_text=gettext_lazy("1 to 12 digits. It is stored encrypted and shown masked."),
    )


def _provider_or_404(partner_id: int) -> AffiliatePartner:
    return get_object_or_404(AffiliatePartner, pk=partner_id)


def _bank_page(request, provider, form, *, status: int = 200) -> HttpResponse:
    if form.is_bound:
        forget_values(form, ["account"])  # the account number never comes back in the page
    account = ProviderBankAccount.objects.filter(provider=provider).select_related("updated_by")
    return no_store(
        render(
            request,
            "web/staff/eft/bank_account.html",
            {
                "provider": provider,
                "masked": bank_account_masked(provider),
                "account": account.first(),
                "form": form,
            },
            status=status,
        )
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.INVOICING)
def provider_bank_account(request, partner_id: int) -> HttpResponse:
    """Where the provider is paid by EFT: shown masked, recorded or replaced by finance."""
    provider = _provider_or_404(partner_id)
    if request.method == "POST":
        form = BankAccountForm(request.POST, prefix="bank")
        if run_form_action(
            request,
            form,
            lambda data: bank_account_set(
                provider=provider,
                account_holder=data["account_holder"],
                institution=data["institution"],
                transit=data["transit"],
                account=data["account"],
                actor=actor_of(request),
            ),
            success=lambda saved: (
                gettext("Bank account of %(provider)s recorded: account ending %(last)s.")
                % {"provider": provider.name, "last": saved.account_last_digits or "—"}
            ),
        ):
            return redirect(reverse("web:provider_bank_account", args=[provider.pk]))
        return _bank_page(request, provider, form, status=400)
    current = ProviderBankAccount.objects.filter(provider=provider).first()
    initial = {"account_holder": current.account_holder if current else provider.name[:30]}
    return _bank_page(request, provider, BankAccountForm(prefix="bank", initial=initial))


@require_safe
@require_capability(Capability.INVOICING)
def eft_files_page(request) -> HttpResponse:
    """The approved EFT requests waiting (with whether the provider's bank account is on
    file), the button that makes the file, and the files made."""
    waiting = eft_requests_waiting()
    ready = [request for request, account in waiting if account is not None]
    return render(
        request,
        "web/staff/eft/files.html",
        {
            "waiting": waiting,
            "ready_total": sum((r.clinic_cost for r in ready), start=Decimal("0.00")),
            "ready_count": len(ready),
            "files": eft_files(),
        },
    )


@require_POST
@require_capability(Capability.INVOICING)
def eft_file_create_view(request) -> HttpResponse:
    """Make the file of the requests ticked on the page (what finance saw, not what was
    approved since)."""
    ids = [
        int(value)
        for value in request.POST.getlist("request")
        if value.isascii() and value.isdigit() and len(value) <= 12
    ]
    chosen = list(PaymentRequest.objects.filter(pk__in=ids)) if ids else []
    run_action(
        request,
        lambda: eft_file_create(actor=actor_of(request), requests=chosen),
        success=lambda made: (
            ngettext(
                "EFT file %(number)s made: %(count)s payment, %(total)s. Download it and send "
                "it to the bank.",
                "EFT file %(number)s made: %(count)s payments, %(total)s. Download it and send "
                "it to the bank.",
                made.credit_count,
            )
            % {
                "number": f"{made.file_creation_number:04d}",
                "count": made.credit_count,
                "total": f"{made.credit_total:.2f}",
            }
        ),
    )
    return redirect(reverse("web:eft_files"))


@require_safe
@require_capability(Capability.INVOICING)
def eft_file_download(request, file_id: int) -> HttpResponse:
    eft_file = get_object_or_404(EftFile, pk=file_id)
    text = eft_file_text(eft_file=eft_file, actor=actor_of(request))
    response = HttpResponse(text.encode("ascii"), content_type="text/plain; charset=us-ascii")
    name = f"eft-{eft_file.file_creation_number:04d}-{eft_file.created_on:%Y%m%d}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["Pragma"] = "no-cache"
    return response
