"""The one-click links of the "dates offered" email: approve one date, or decline them all.

No login: the signed, expiring token in the URL is the credential (bookings/links.py). A GET
only shows a confirmation page and never changes anything, because mail scanners and link
previews open every link in a message; the person's POST does the work, as a signed-link Actor
with no acting user. The page shows no patient data (whoever holds the link sees it): the
Order Id, the insurer's reference, the dates and the clinic.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from medworks.bookings import selectors, services
from medworks.bookings.links import offer_link_read
from medworks.bookings.models import OfferStatus
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, NotFound

from ..forms import NoteForm
from .signed import read_signed

TEMPLATE = "web/links/offer.html"


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # The token is in the URL: keep it out of Referer headers sent to other sites.
    # Not "no-referrer": under it a browser posts the page's own form with "Origin: null",
    # which Django's CSRF check refuses; "same-origin" sends nothing to other sites either.
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return _page(request, {"refused": True, "title": title, "message": message}, status=status)


@never_cache
def offer_link(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design (no capability): the signed token is checked here instead."""
    read = read_signed(request, token, offer_link_read, _refused)
    if isinstance(read, HttpResponse):
        return read
    kind, pk = read
    try:
        target = selectors.offer_link_target(kind=kind, pk=pk)
    except NotFound:
        return _refused(
            request, _("These dates no longer exist"), _("Nothing to answer here."), 410
        )
    if kind == "approve":
        return _approve(request, slot=target)
    return _decline(request, offer=target)


def _link_actor(case) -> Actor:
    """Whoever holds the offer's signed link acts for the case's insurer, on this offer only."""
    return Actor.for_signed_link(organisation_id=case.insurer_id, purpose="offer link")


def _approve(request: HttpRequest, *, slot) -> HttpResponse:
    offer = slot.offer
    context = {
        "kind": "approve",
        "case": offer.request,
        "location": offer.location,
        "slot": slot,
        "available": offer.status == OfferStatus.OPEN and slot.is_available(),
    }
    if request.method == "POST":
        try:
            appointment = services.availability_offer_approve(
                slot=slot, actor=_link_actor(offer.request)
            )
        except DomainError as exc:
            return _page(request, {**context, "available": False, "error": exc.message}, 409)
        return _page(request, {**context, "done": True, "appointment": appointment})
    return _page(request, context)


def _decline(request: HttpRequest, *, offer) -> HttpResponse:
    context = {
        "kind": "decline",
        "case": offer.request,
        "location": offer.location,
        "slots": list(offer.slots.all()),
        "available": offer.status == OfferStatus.OPEN,
        "form": NoteForm(),
    }
    if request.method == "POST":
        form = NoteForm(request.POST)
        context["form"] = form
        if not form.is_valid():
            return _page(request, context, 400)
        try:
            services.availability_offer_decline(
                case=offer.request,
                offer=offer,
                actor=_link_actor(offer.request),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            return _page(request, {**context, "available": False, "error": exc.message}, 409)
        return _page(request, {**context, "done": True})
    return _page(request, context)
