"""The insurer enters its corporate card for one of its cases (SOP case 4 step 4), in the
portal, never by email: the vault keeps it (payments.vault); the page shows it masked."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from medworks.accounts.permissions import Capability
from medworks.billing.selectors import prepayment_needed
from medworks.core.errors import DomainError
from medworks.payments.vault import card_current, card_store

from ..access import actor_of, require_capability
from ..actions import case_or_404, origin_of
from ..card_forms import CardForm, no_store


@require_http_methods(["GET", "POST"])
@require_capability(Capability.INSURER_PORTAL)
def portal_card(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="card entry")
    form = CardForm(request.POST or None, prefix="card")
    status = 200
    if request.method == "POST":
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
                messages.success(
                    request,
                    _(
                        "%(card)s is on file for %(order)s. MedWorks charges it once the service "
                        "is paid; its security code is destroyed then."
                    )
                    % {"card": card.masked, "order": case.order_id},
                )
                return redirect(reverse("web:portal_request", args=[case.order_id]))
        status = 400
    return no_store(
        render(
            request,
            "web/insurer/card.html",
            {"case": case, "form": form, "card": card_current(case)},
            status=status,
        )
    )


def card_panel(case) -> dict | None:
    """The case page's card box: shown when the provider is pre-paid (SOP case 4) or a card is
    already on file, with the card masked and the link to the secure form."""
    card = card_current(case)
    if card is None and not prepayment_needed(case):
        return None
    return {"card": card}
