"""Reads of the directory that pages, the API and commands share."""

from __future__ import annotations

import re

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from medworks.core.errors import DomainError, NotFound
from medworks.core.models import AuditEvent

from .models import AffiliatePartner, Location, Offering, Service
from .text import fold, name_key


def service_list(*, active_only: bool = True) -> QuerySet[Service]:
    qs = Service.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name_en")


def service_resolve(*, name_or_code: str) -> Service:
    """A service by code (case-insensitive) or by English or French name (accents ignored)."""
    text = (name_or_code or "").strip()
    if not text:
        raise DomainError("service_missing", _("Name a service, by code or by name."))
    found = Service.objects.filter(Q(code__iexact=text) | Q(name_key=name_key(text))).first()
    if found is None:
        key = fold(text)
        for service in Service.objects.filter(is_active=True):
            if fold(service.name_fr) == key:
                return service
        raise DomainError(
            "service_unknown",
            _("Unknown service %(service)s: give a catalogue code or name.")
            % {"service": repr(text)},
        )
    return found


# --- directory search and pages -----------------------------------------------------------------

_POSTAL_FRAGMENT = re.compile(r"^[A-Za-z]\d[A-Za-z]?\s?\d?[A-Za-z]?\d?$")


def _postal_fragment(q: str) -> str | None:
    """'m5v', 'M5V3', 'm5v 3l9' -> the stored spelling's prefix ('M5V', 'M5V 3'), else None."""
    text = q.strip()
    if not _POSTAL_FRAGMENT.match(text):
        return None
    bare = re.sub(r"\s", "", text).upper()
    return bare if len(bare) <= 3 else f"{bare[:3]} {bare[3:]}"


def partner_search(
    *,
    q: str = "",
    province: str = "",
    service: str = "",
    kind: str = "",
    active: bool | None = None,
    affiliate: bool | None = None,
) -> QuerySet[AffiliatePartner]:
    """Partners matching a free-text search and filters, with `location_count` annotated.

    `q` matches the partner's or a location's name (accents and case ignored), a city, or the
    start of a postal code. Location conditions are EXISTS subqueries, so a partner with many
    matching locations appears once and the count stays right.
    """
    qs = AffiliatePartner.objects.all()
    q = (q or "").strip()
    if q:
        key = fold(q)
        location_q = Q(city__icontains=q)
        if key:
            location_q |= Q(name_key__contains=key)
        fragment = _postal_fragment(q)
        if fragment:
            location_q |= Q(postal_code__startswith=fragment)
        partner_q = Q(name_key__contains=key) if key else Q(pk__in=[])
        qs = qs.filter(
            partner_q | Exists(Location.objects.filter(location_q, partner=OuterRef("pk")))
        )
    if province:
        qs = qs.filter(Exists(Location.objects.filter(partner=OuterRef("pk"), province=province)))
    if service:
        qs = qs.filter(
            Exists(
                Offering.objects.filter(
                    location__partner=OuterRef("pk"), service__code=service, is_active=True
                )
            )
        )
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    if affiliate is not None:
        qs = qs.filter(is_affiliate=affiliate)
    return qs.annotate(location_count=Count("locations")).order_by("name", "pk")


def partner_provinces(*, partner_ids: list[int]) -> dict[int, list[str]]:
    """The provinces each partner has locations in: one query for a whole page of partners."""
    found: dict[int, set[str]] = {pk: set() for pk in partner_ids}
    rows = (
        Location.objects.filter(partner_id__in=partner_ids)
        .values_list("partner_id", "province")
        .distinct()
    )
    for partner_id, province in rows:
        found[partner_id].add(province)
    return {pk: sorted(provinces) for pk, provinces in found.items()}


def partner_detail(*, partner_id: int) -> AffiliatePartner:
    """A partner with its locations and their offerings (service loaded), in three queries."""
    offerings = Offering.objects.select_related("service").order_by(
        "-is_active", "service__name_en"
    )
    locations = Location.objects.order_by("-is_active", "name").prefetch_related(
        Prefetch("offerings", queryset=offerings)
    )
    try:
        return AffiliatePartner.objects.prefetch_related(
            Prefetch("locations", queryset=locations)
        ).get(pk=partner_id)
    except AffiliatePartner.DoesNotExist:
        raise NotFound("partner_not_found", _("No such partner.")) from None


def partner_audit_events(*, partner: AffiliatePartner, limit: int = 20) -> list[AuditEvent]:
    """Recent audit events about the partner, its locations and their offerings."""
    location_ids = [str(pk) for pk in partner.locations.values_list("pk", flat=True)]
    offering_ids = [
        str(pk)
        for pk in Offering.objects.filter(location__partner=partner).values_list("pk", flat=True)
    ]
    about = Q(object_type="network.affiliatepartner", object_id=str(partner.pk))
    if location_ids:
        about |= Q(object_type="network.location", object_id__in=location_ids)
    if offering_ids:
        about |= Q(object_type="network.offering", object_id__in=offering_ids)
    return list(AuditEvent.objects.filter(about).select_related("actor")[:limit])


def clinic_locations_for_organisation(*, organisation) -> list[Location]:
    """The locations of the affiliate partner a clinic organisation acts for, with offerings."""
    if organisation is None:
        return []
    offerings = (
        Offering.objects.filter(is_active=True)
        .select_related("service")
        .order_by("service__name_en")
    )
    return list(
        Location.objects.filter(partner__organisation=organisation, is_active=True)
        .select_related("partner")
        .prefetch_related(Prefetch("offerings", queryset=offerings))
        .order_by("name")
    )
