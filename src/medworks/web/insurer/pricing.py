"""The quote on the insurer's case page: the insurer confirms the charges, or disputes them
saying why (SOP case 2 step 4)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.billing.quotes import quote_confirm, quote_dispute
from medworks.billing.selectors import quote_current

from ..access import actor_of, require_capability
from ..actions import case_or_404, run_action
from ..pricing import QuoteAnswerForm


def _back(case) -> HttpResponse:
    return redirect(reverse("web:portal_request", args=[case.order_id]) + "#quote")


def _quote_of(request: HttpRequest, order_id: str, purpose: str):
    case = case_or_404(request, order_id, purpose=purpose)
    quote = quote_current(case=case)
    if quote is None:
        raise Http404("No quote")
    return case, quote


@require_POST
@require_capability(Capability.BOOKING_SUBMIT)
def portal_quote_confirm(request: HttpRequest, order_id: str) -> HttpResponse:
    case, quote = _quote_of(request, order_id, "quote_confirmed")
    run_action(
        request,
        lambda: quote_confirm(quote=quote, actor=actor_of(request)),
        success=_("Thank you: the charges are confirmed."),
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_SUBMIT)
def portal_quote_dispute(request: HttpRequest, order_id: str) -> HttpResponse:
    case, quote = _quote_of(request, order_id, "quote_disputed")
    form = QuoteAnswerForm(request.POST, prefix="quote")
    note = form.cleaned_data["note"] if form.is_valid() else ""
    run_action(
        request,
        lambda: quote_dispute(quote=quote, actor=actor_of(request), note=note),
        success=_("Your dispute is sent to MedWorks, who will answer with a new quote."),
    )
    return _back(case)
