"""The quote on the staff case page: staff record the insurer's confirmation or dispute given
by phone or email, saying how (the quote workflow requires the note of staff)."""

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


def _answer(request: HttpRequest, order_id: str, *, confirm: bool) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    quote = quote_current(case=case)
    if quote is None:
        raise Http404("No quote")
    form = QuoteAnswerForm(request.POST, prefix="quote")
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if confirm:
        run_action(
            request,
            lambda: quote_confirm(quote=quote, actor=actor_of(request), note=note),
            success=_("The insurer's confirmation of the quote is recorded."),
        )
    else:
        run_action(
            request,
            lambda: quote_dispute(quote=quote, actor=actor_of(request), note=note),
            success=_("The insurer's dispute of the quote is recorded."),
        )
    return redirect(reverse("web:staff_booking_detail", args=[case.order_id]) + "#quote")


@require_POST
@require_capability(Capability.BOOKING_WORK)
def staff_quote_confirm(request: HttpRequest, order_id: str) -> HttpResponse:
    return _answer(request, order_id, confirm=True)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def staff_quote_dispute(request: HttpRequest, order_id: str) -> HttpResponse:
    return _answer(request, order_id, confirm=False)
