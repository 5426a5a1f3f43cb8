"""Find a clinic: the SOP's first step, "locate an Affiliate Partner that provides the service".

Privacy: the form is POSTed, because the box accepts a whole address and an address is
patient data that must not land in the URL, the browser history or access logs. Only the
postal code is kept (the form drops the rest) and, with the service and minutes, it is pushed
as the page's GET URL so Back and bookmarks work: a postal code alone does not identify a
person (it covers a street or a building), and the service code is not clinical detail. A GET
with those three parameters runs the same search.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import push_url

from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError
from medworks.network.matching import match_clinics

from ..access import require_capability
from ..forms import add_domain_errors
from .forms import FindClinicForm

# Which form field a matcher refusal belongs to.
_ERROR_FIELD = {
    "postal_code_invalid": "where",
    "postal_code_unknown": "where",
    "service_unknown": "service",
    "service_missing": "service",
}


@require_capability(Capability.MATCH_CLINICS)
def find_clinic(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = FindClinicForm(request.POST)
    elif "postal_code" in request.GET:
        form = FindClinicForm(
            {
                "where": request.GET.get("postal_code", ""),
                "service": request.GET.get("service", ""),
                "max_minutes": request.GET.get(
                    "max_minutes", settings.MEDWORKS_SERVICE_AREA_MINUTES
                ),
            }
        )
    else:
        form = FindClinicForm()

    result = None
    if form.is_bound and form.is_valid():
        try:
            result = match_clinics(
                postal_code=form.cleaned_data["where"],
                service=form.cleaned_data["service"],
                max_minutes=form.cleaned_data["max_minutes"],
            )
        except DomainError as exc:
            field = _ERROR_FIELD.get(exc.code)
            if field:
                form.add_error(field, exc.message)
            else:
                add_domain_errors(form, exc)

    context = {"form": form, "result": result}
    if request.htmx:
        response = render(request, "web/staff/_find_results.html", context)
        if result is not None:
            clean = {
                "postal_code": result.origin.postal_code,
                "service": result.service.code,
                "max_minutes": result.max_minutes,
            }
            response = push_url(response, f"{reverse('web:find_clinic')}?{urlencode(clean)}")
        return response
    return render(request, "web/staff/find.html", context)
