"""The insurer portal and the clinic portal landing pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from medworks.accounts.permissions import Capability
from medworks.network.selectors import clinic_locations_for_organisation

from ..access import require_capability


@require_capability(Capability.INSURER_PORTAL)
def portal_home(request: HttpRequest) -> HttpResponse:
    # Booking requests arrive with the next issue; the page already shows whose portal it is.
    return render(request, "web/portal/home.html", {"organisation": request.user.organisation})


@require_capability(Capability.CLINIC_PORTAL)
def clinic_home(request: HttpRequest) -> HttpResponse:
    organisation = request.user.organisation
    locations = clinic_locations_for_organisation(organisation=organisation)
    return render(
        request,
        "web/clinic/home.html",
        {"organisation": organisation, "locations": locations},
    )
