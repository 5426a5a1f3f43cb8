"""The quote panel of a case page, shared by the staff case page and the insurer's.

It shows the standing quote and the steps the reader may take on it now (the quote workflow's
moves for this actor): the insurer confirms or disputes; staff record the insurer's answer,
given by phone or email, with a note saying how.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from medworks.billing.models import InsurerView
from medworks.billing.selectors import insurer_pricing_of, quote_current
from medworks.billing.workflow import QUOTE_WORKFLOW
from medworks.bookings.models import BookingRequest

from .access import actor_of


class QuoteAnswerForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def quote_panel(request: HttpRequest, case: BookingRequest, **forms_) -> dict:
    """`quote`: the standing quote (lines and taxes loaded) or None; `quote_steps`: the names of
    the steps this person may take on it now; `insurer_view`: what the insurer is shown."""
    quote = quote_current(case=case)
    steps: set[str] = set()
    if quote is not None:
        quote.case = case  # loaded already: the workflow reads the parties from it
        steps = {t.name for t in QUOTE_WORKFLOW.allowed(quote, actor_of(request))}
    return {
        "quote": quote,
        "quote_steps": steps,
        "insurer_view": insurer_pricing_of(case.insurer).insurer_view,
        "insurer_views": InsurerView,
        "quote_form": forms_.get("quote_form") or QuoteAnswerForm(prefix="quote"),
    }
