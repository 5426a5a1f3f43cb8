"""The insurer portal and the clinic portal landing pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from medworks.accounts.permissions import Capability
from medworks.network.selectors import clinic_locations_for_organisation

from ..access import require_capability
from . import bookings_portals, documents_portals


@require_capability(Capability.INSURER_PORTAL)
def portal_home(request: HttpRequest) -> HttpResponse:
    # The insurer's home is its list of booking requests.
    return bookings_portals.portal_requests_page(request)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_home(request: HttpRequest) -> HttpResponse:
    organisation = request.user.organisation
    locations = clinic_locations_for_organisation(organisation=organisation)
    bookings = bookings_portals.clinic_bookings_context(request)
    documents_portals.clinic_home_paperwork(bookings["appointments"], user=request.user)
    return render(
        request,
        "web/clinic/home.html",
        {"organisation": organisation, "locations": locations, **bookings},
    )
