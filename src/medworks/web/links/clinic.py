"""The link a clinic is emailed when it is asked for dates (bookings/emails.py `clinic_asked`):
it gives its dates, or says it cannot offer any, without logging in.

As the insurer's links (views.py, quote.py): no login, the signed, expiring token in the URL is
the credential (bookings/links.py), a GET only shows and never changes anything (mail scanners
and link previews open every link), the person's POST acts, with the CSRF token of the page it
was shown (as every form of the desk). It acts as a clinic-link Actor
(`Actor.for_clinic_link`), which the booking workflow takes as the case's clinic only while
the case waits for dates at the location the link was sent to (`bookings.workflow.party_of`).

The link stands while the case waits for that clinic's dates since the moment it was made
(`links.clinic_link_current`); after that (dates given, another clinic chosen, the case
cancelled) its page says so (410) and shows no patient data. An expired link is 410, a damaged
one 400 (`signed.read_signed`).

The page shows what the clinic needs to give dates: the Order Id, the clinic asked, the
services, the preferred dates and time window, the scheduling notes and the patient's name;
nothing else of the patient (the date of birth, contact and health details are for the clinic
that books them, in its portal). Showing the name is a read of the case: each showing is
recorded (`selectors.clinic_link_case_read`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from medworks.bookings import selectors, services
from medworks.bookings.links import CLINIC_LINK_PURPOSE, clinic_link_current, clinic_link_read
from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, NotFound

from ..actions import origin_of, place_slot_errors
from ..forms import NoteForm, add_domain_errors
from ..slots import SlotFormSet
from .signed import read_signed

TEMPLATE = "web/links/clinic.html"


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # The token is in the URL: keep it out of Referer headers sent to other sites. Not
    # "no-referrer": under it a browser sends the page's own POST with "Origin: null", which
    # Django's CSRF check refuses; "same-origin" sends nothing to other sites all the same.
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return _page(request, {"refused": True, "title": title, "message": message}, status=status)


def _stale(request: HttpRequest, case: BookingRequest, location_id: int) -> HttpResponse:
    """The link no longer stands: say why, without patient data."""
    if case.location_id != location_id:
        title = _("This request is no longer with your clinic")
        message = _(
            "MedWorks no longer needs dates from your clinic for order %(order_id)s: another "
            "clinic was asked, or the request was stopped. There is nothing to do here."
        ) % {"order_id": case.order_id}
    else:
        title = _("This request no longer waits for your dates")
        message = _(
            "The dates for order %(order_id)s have been given, or the request has changed. If "
            "MedWorks needs dates from you again, you will get a new email."
        ) % {"order_id": case.order_id}
    return _refused(request, title, message, 410)


@never_cache
def clinic_link(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design (no capability): the signed token is checked here instead."""
    read = read_signed(request, token, clinic_link_read, _refused)
    if isinstance(read, HttpResponse):
        return read
    case_id, location_id, since = read
    try:
        case = selectors.clinic_link_target(case_id=case_id)
    except NotFound:
        return _refused(
            request, _("This request no longer exists"), _("Nothing to answer here."), 410
        )
    if not clinic_link_current(case, location_id=location_id, since=since):
        return _stale(request, case, location_id)
    actor = Actor.for_clinic_link(
        case_id=case.pk, location_id=location_id, purpose=CLINIC_LINK_PURPOSE
    )
    slot_formset = SlotFormSet(prefix="slots")
    decline_form = NoteForm(prefix="decline")
    if request.method == "POST":
        if request.POST.get("action") == "decline":
            decline_form = NoteForm(request.POST, prefix="decline")
            if decline_form.is_valid():
                try:
                    services.booking_request_clinic_decline(
                        case=case, actor=actor, note=decline_form.cleaned_data["note"]
                    )
                except DomainError as exc:
                    add_domain_errors(decline_form, exc)
                else:
                    return _page(request, {"case": case, "done": "declined"})
        else:
            slot_formset = SlotFormSet(request.POST, prefix="slots")
            if slot_formset.is_valid():
                slots, rows = slot_formset.slots()
                try:
                    services.availability_offer_record(case=case, slots=slots, actor=actor)
                except DomainError as exc:
                    if not place_slot_errors(slot_formset, rows, exc):
                        slot_formset._non_form_errors = slot_formset.error_class([exc.message])
                else:
                    sent = ngettext(
                        "%(count)s date sent to the insurer for approval.",
                        "%(count)s dates sent to the insurer for approval.",
                        len(slots),
                    ) % {"count": len(slots)}
                    return _page(request, {"case": case, "done": "dates", "sent": sent})
    selectors.clinic_link_case_read(
        case=case, actor=actor, location_id=location_id, since=since, origin=origin_of(request)
    )
    context = {
        "case": case,
        "location": case.location,
        "services": list(case.services.all()),
        "zone": selectors.clinic_zone(case=case),
        "slot_formset": slot_formset,
        "decline_form": decline_form,
    }
    invalid = request.method == "POST"  # a POST that acted returned above
    return _page(request, context, status=400 if invalid else 200)
