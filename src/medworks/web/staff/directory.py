"""The staff back office: home, the partner directory, and its edit pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError, NotFound
from medworks.network import selectors, services
from medworks.network.models import AffiliatePartner, Location, Offering

from ..access import actor_of, require_capability
from ..actions import run_form_action
from ..forms import add_domain_errors
from .forms import (
    LocationForm,
    OfferingAddForm,
    OfferingPriceForm,
    PartnerForm,
    PartnerSearchForm,
)

PARTNERS_PER_PAGE = 50


@require_capability(Capability.BACK_OFFICE)
def staff_home(request: HttpRequest) -> HttpResponse:
    from medworks.accounts.permissions import user_can

    from .queue import staff_booking_counts

    context = {}
    if user_can(request.user, Capability.BOOKING_VIEW):
        context["booking_counts"] = staff_booking_counts(request.user)
    if user_can(request.user, Capability.ESCALATION_HANDLE):
        from .escalations import escalation_counts

        context["escalation_counts"] = escalation_counts(request.user)
    return render(request, "web/staff/home.html", context)


@require_capability(Capability.DIRECTORY_VIEW)
def partner_list(request: HttpRequest) -> HttpResponse:
    """One view for the page and for its htmx refresh (the table alone) while the user types."""
    form = PartnerSearchForm(request.GET)
    partners = selectors.partner_search(**form.search_kwargs())
    page = Paginator(partners, PARTNERS_PER_PAGE).get_page(request.GET.get("page"))
    provinces = selectors.partner_provinces(partner_ids=[p.pk for p in page.object_list])
    rows = [(partner, provinces.get(partner.pk, [])) for partner in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    if request.htmx and not request.htmx.boosted:
        return render(request, "web/staff/_partner_table.html", context)
    return render(request, "web/staff/partner_list.html", context)


def _partner_or_404(partner_id: int) -> AffiliatePartner:
    try:
        return selectors.partner_detail(partner_id=partner_id)
    except NotFound:
        raise Http404("No such partner") from None


@require_capability(Capability.DIRECTORY_VIEW)
def partner_detail(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = _partner_or_404(partner_id)
    return render(
        request,
        "web/staff/partner_detail.html",
        {
            "partner": partner,
            "events": selectors.partner_audit_events(partner=partner),
        },
    )


@require_capability(Capability.DIRECTORY_EDIT)
def partner_create(request: HttpRequest) -> HttpResponse:
    """Add a partner by hand (an affiliate, or a provider found outside the network), then its
    locations from its page."""
    if request.method == "POST":
        form = PartnerForm(request.POST)
        created = []
        if run_form_action(
            request,
            form,
            lambda data: created.append(
                services.partner_create(data=data, actor=actor_of(request))
            ),
            success=_("Partner added: add its locations."),
        ):
            return redirect("web:partner_detail", partner_id=created[0].pk)
    else:
        form = PartnerForm(initial={"is_affiliate": True, "is_active": True})
    return render(request, "web/staff/partner_form.html", {"form": form, "partner": None})


@require_capability(Capability.DIRECTORY_EDIT)
def partner_edit(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = get_object_or_404(AffiliatePartner, pk=partner_id)
    if request.method == "POST":
        form = PartnerForm(request.POST)
        if run_form_action(
            request,
            form,
            lambda data: services.partner_update(
                partner=partner, data=data, actor=actor_of(request)
            ),
            success=_("Partner saved."),
        ):
            return redirect("web:partner_detail", partner_id=partner.pk)
    else:
        form = PartnerForm(initial={f: getattr(partner, f) for f in services.PARTNER_FIELDS})
    return render(request, "web/staff/partner_form.html", {"form": form, "partner": partner})


@require_POST
@require_capability(Capability.DIRECTORY_EDIT)
def partner_set_active(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = get_object_or_404(AffiliatePartner, pk=partner_id)
    active = request.POST.get("active") == "yes"
    services.partner_set_active(partner=partner, active=active, actor=actor_of(request))
    messages.success(request, _("Partner reactivated.") if active else _("Partner deactivated."))
    return redirect("web:partner_detail", partner_id=partner.pk)


@require_capability(Capability.DIRECTORY_EDIT)
def location_create(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = get_object_or_404(AffiliatePartner, pk=partner_id)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if run_form_action(
            request,
            form,
            lambda data: services.location_create(
                partner=partner, data=data, actor=actor_of(request)
            ),
            success=_("Location added."),
        ):
            return redirect("web:partner_detail", partner_id=partner.pk)
    else:
        form = LocationForm()
    return render(
        request,
        "web/staff/location_form.html",
        {"form": form, "partner": partner, "location": None},
    )


@require_capability(Capability.DIRECTORY_EDIT)
def location_edit(request: HttpRequest, location_id: int) -> HttpResponse:
    location = get_object_or_404(Location.objects.select_related("partner"), pk=location_id)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if run_form_action(
            request,
            form,
            lambda data: services.location_update(
                location=location, data=data, actor=actor_of(request)
            ),
            success=_("Location saved."),
        ):
            return redirect("web:partner_detail", partner_id=location.partner_id)
    else:
        form = LocationForm(initial={f: getattr(location, f) for f in services.LOCATION_FIELDS})
    return render(
        request,
        "web/staff/location_form.html",
        {"form": form, "partner": location.partner, "location": location},
    )


@require_capability(Capability.DIRECTORY_EDIT)
def offering_price(request: HttpRequest, offering_id: int) -> HttpResponse:
    """Set, change or remove a price: inline on the partner page (htmx), or as its own page."""
    offering = get_object_or_404(
        Offering.objects.select_related("service", "location__partner"), pk=offering_id
    )
    saved = False
    if request.method == "POST":
        form = OfferingPriceForm(request.POST)
        if form.is_valid():
            try:
                offering = services.offering_set_price(
                    offering=offering, price=form.cleaned_data["price"], actor=actor_of(request)
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                saved = True
                if not request.htmx:
                    messages.success(
                        request,
                        _("Price of %(service)s saved.") % {"service": offering.service.name_en},
                    )
                    return redirect("web:partner_detail", partner_id=offering.location.partner_id)
                form = OfferingPriceForm(initial={"price": offering.clinic_price})
    else:
        form = OfferingPriceForm(initial={"price": offering.clinic_price})
    context = {"offering": offering, "price_form": form, "saved": saved}
    if request.htmx:
        return render(request, "web/staff/_offering_row.html", context)
    return render(request, "web/staff/offering_price.html", context)


@require_capability(Capability.DIRECTORY_EDIT)
def offering_add(request: HttpRequest, location_id: int) -> HttpResponse:
    location = get_object_or_404(Location.objects.select_related("partner"), pk=location_id)
    if request.method == "POST":
        form = OfferingAddForm(request.POST)
        if run_form_action(
            request,
            form,
            lambda data: services.offering_create(
                location=location,
                service=data["service"],
                price=data["price"],
                actor=actor_of(request),
            ),
            success=lambda offering: (
                _("%(location)s now offers %(service)s.")
                % {"location": location.name, "service": offering.service.name_en}
            ),
        ):
            return redirect(
                reverse("web:partner_detail", args=[location.partner_id])
                + f"#location-{location.pk}"
            )
    else:
        form = OfferingAddForm()
    return render(request, "web/staff/offering_add.html", {"form": form, "location": location})


@require_POST
@require_capability(Capability.DIRECTORY_EDIT)
def offering_set_active(request: HttpRequest, offering_id: int) -> HttpResponse:
    offering = get_object_or_404(Offering.objects.select_related("location"), pk=offering_id)
    active = request.POST.get("active") == "yes"
    services.offering_set_active(offering=offering, active=active, actor=actor_of(request))
    messages.success(request, _("Service restored.") if active else _("Service withdrawn."))
    return redirect("web:partner_detail", partner_id=offering.location.partner_id)
