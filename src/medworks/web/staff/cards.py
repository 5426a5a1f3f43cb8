"""The insurer's card on the staff side (SOP case 4 steps 3-5): staff enter it during a phone
call with the insurer, the Chief of Staff or the corporate booking coordinator shows it whole
for the payment call with the clinic (a reason, every showing recorded), finance charges it
for what the insurer owes on the case's invoice.

Pages that hold card data are never cached (`no_store`); the number is shown on the reveal's
own answer only, never put in a URL, a message or a redirect.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.models import Invoice
from medworks.core.errors import DomainError
from medworks.payments.charges import card_charge, charges_of
from medworks.payments.models import ChargeStatus
from medworks.payments.vault import card_current, card_reveal, card_store

from ..access import actor_of, require_capability
from ..actions import case_or_404, origin_of
from ..card_forms import CardForm, RevealForm, no_store


def _card_page(request, case, *, form=None, reveal_form=None, revealed=None, status=200):
    return no_store(
        render(
            request,
            "web/staff/cards/card.html",
            {
                "case": case,
                "card": card_current(case),
                "charges": charges_of(case),
                "form": form or CardForm(prefix="card"),
                "reveal_form": reveal_form or RevealForm(prefix="reveal"),
                "revealed": revealed,
                "can_enter": user_can(request.user, Capability.CARD_ENTER),
                "can_reveal": user_can(request.user, Capability.CARD_REVEAL),
            },
            status=status,
        )
    )


@require_safe
@require_capability(Capability.PAYMENT_VIEW)
def staff_card(request: HttpRequest, order_id: str) -> HttpResponse:
    return _card_page(request, case_or_404(request, order_id, purpose="card"))


@require_POST
@require_capability(Capability.CARD_ENTER)
def staff_card_enter(request: HttpRequest, order_id: str) -> HttpResponse:
    """Staff type the card the insurer reads out on the phone."""
    case = case_or_404(request, order_id, purpose="card entry")
    form = CardForm(request.POST, prefix="card")
    if form.is_valid():
        data = form.cleaned_data
        try:
            card = card_store(
                case=case,
                number=data["number"],
                name_on_card=data["name_on_card"],
                expiry_month=data["expiry_month"],
                expiry_year=data["expiry_year"],
                security_code=data["security_code"],
                actor=actor_of(request),
                origin=origin_of(request),
            )
        except DomainError as exc:
            form.put_errors(exc)
        else:
            messages.success(request, _("%(card)s is on file.") % {"card": card.masked})
            return redirect(reverse("web:staff_card", args=[case.order_id]))
    return _card_page(request, case, form=form, status=400)


@require_POST
@require_capability(Capability.CARD_REVEAL)
def staff_card_reveal(request: HttpRequest, order_id: str) -> HttpResponse:
    """The whole card, for the call with the clinic, on this answer only."""
    case = case_or_404(request, order_id, purpose="card reveal")
    card = card_current(case)
    form = RevealForm(request.POST, prefix="reveal")
    if card is None:
        messages.error(request, _("No card is on file for this case."))
        return redirect(reverse("web:staff_card", args=[case.order_id]))
    reason = request.POST.get("reveal-reason", "")
    try:
        revealed = card_reveal(
            card=card, actor=actor_of(request), reason=reason, origin=origin_of(request)
        )
    except DomainError as exc:
        form.is_valid()
        form.add_error("reason" if "reason" in (exc.fields or {}) else None, exc.message)
        return _card_page(request, case, reveal_form=form, status=400)
    return _card_page(request, case, revealed=revealed)


@require_POST
@require_capability(Capability.INVOICING)
def invoice_card_charge(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Finance charges the insurer's card for the invoice's balance; the form's idempotency
    key makes a double click one charge."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    try:
        charge = card_charge(
            invoice=invoice,
            actor=actor_of(request),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if charge.status == ChargeStatus.SUCCEEDED:
            messages.success(
                request,
                _("%(card)s charged %(amount)s (authorisation %(reference)s).")
                % {
                    "card": charge.card.masked,
                    "amount": f"{charge.amount:.2f}",
                    "reference": charge.gateway_reference,
                },
            )
        else:
            messages.error(
                request,
                _("%(card)s was declined: %(why)s Nothing was charged; the invoice still owes.")
                % {"card": charge.card.masked, "why": charge.decline_reason},
            )
    return redirect(reverse("web:invoice_detail", args=[invoice.pk]))


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
