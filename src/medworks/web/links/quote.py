"""The one-click links of the quote email: confirm the charges, or dispute them saying why.

As the offered-dates links (views.py): no login, the signed, expiring token in the URL is the
credential (billing/links.py). A GET only shows the charges and a button and never changes
anything (mail scanners and link previews open every link in a message); the person's POST
acts, as a signed-link Actor with no acting user. The page shows no patient data: the Order Id,
the insurer's reference and the charges as the insurer's setting shows them.

A link names one version of the quote: once a newer version replaced it, the link says so
(410) and acts on nothing; a version already answered (or answered meanwhile) is refused by
the quote's workflow (409).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from medworks.billing.links import quote_link_read, quote_link_target
from medworks.billing.models import InsurerView, QuoteStatus
from medworks.billing.quotes import quote_confirm, quote_dispute
from medworks.billing.selectors import insurer_pricing_of
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, NotFound

from ..forms import NoteForm
from .signed import read_signed

TEMPLATE = "web/links/quote.html"


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # The token is in the URL: keep it out of Referer headers sent to other sites.
    # Not "no-referrer": under it a browser posts the page's own form with "Origin: null",
    # which Django's CSRF check refuses; "same-origin" sends nothing to other sites either.
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return _page(request, {"refused": True, "title": title, "message": message}, status=status)


def _link_actor(case) -> Actor:
    """Whoever holds the quote's signed link acts for the case's insurer, on this quote only."""
    return Actor.for_signed_link(organisation_id=case.insurer_id, purpose="quote link")


@never_cache
def quote_link(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design (no capability): the signed token is checked here instead."""
    read = read_signed(request, token, quote_link_read, _refused)
    if isinstance(read, HttpResponse):
        return read
    kind, pk = read
    try:
        quote = quote_link_target(pk=pk)
    except NotFound:
        return _refused(
            request, _("This quote no longer exists"), _("Nothing to answer here."), 410
        )
    case = quote.case
    if quote.status == QuoteStatus.SUPERSEDED:
        return _refused(
            request,
            _("This quote is no longer current"),
            _(
                "Version %(version)s of the charges for %(order_id)s has been replaced. Answer "
                "the latest quote email, or sign in to the portal to see the charges that stand."
            )
            % {"version": quote.version, "order_id": case.order_id},
            410,
        )
    context = {
        "kind": kind,
        "case": case,
        "quote": quote,
        "insurer_view": insurer_pricing_of(case.insurer).insurer_view,
        "insurer_views": InsurerView,
        "available": quote.status == QuoteStatus.AWAITING_CONFIRMATION,
    }
    if kind == "confirm":
        return _confirm(request, context)
    return _dispute(request, context)


def _confirm(request: HttpRequest, context: dict) -> HttpResponse:
    if request.method == "POST":
        quote = context["quote"]
        try:
            quote_confirm(quote=quote, actor=_link_actor(quote.case))
        except DomainError as exc:
            return _page(request, {**context, "available": False, "error": exc.message}, 409)
        return _page(request, {**context, "done": True})
    return _page(request, context)


def _dispute(request: HttpRequest, context: dict) -> HttpResponse:
    context["form"] = NoteForm()
    if request.method == "POST":
        quote = context["quote"]
        form = NoteForm(request.POST)
        context["form"] = form
        if not form.is_valid():
            return _page(request, context, 400)
        try:
            quote_dispute(
                quote=quote, actor=_link_actor(quote.case), note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            return _page(request, {**context, "available": False, "error": exc.message}, 409)
        return _page(request, {**context, "done": True})
    return _page(request, context)
