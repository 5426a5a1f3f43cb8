"""Small factories: each makes one valid object, and takes keywords for what a test cares about."""

from __future__ import annotations

import itertools
from decimal import Decimal

from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
from medworks.network.models import AffiliatePartner, GeoPrecision, Location, Offering, Service
from medworks.network.text import name_key

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_organisation(*, kind: str = OrganisationKind.INSURER, name: str | None = None):
    return Organisation.objects.create(name=name or f"{kind.title()} {next(_seq)}", kind=kind)


def operator():
    return Organisation.objects.get(kind=OrganisationKind.OPERATOR, name="MedWorks")


def make_user(*, roles: list[str], organisation=None, username: str | None = None, **extra):
    if organisation is None:
        if roles and roles[0] == RoleCode.INSURER_USER:
            organisation = make_organisation(kind=OrganisationKind.INSURER)
        elif roles and roles[0] == RoleCode.CLINIC_USER:
            organisation = make_organisation(kind=OrganisationKind.AFFILIATE)
        else:
            organisation = operator()
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=PASSWORD,
        organisation=organisation,
        email=extra.pop("email", "person@example.com"),
        **extra,
    )
    user.roles.set(Role.objects.filter(code__in=roles))
    return user


def make_partner(*, name: str | None = None, **fields) -> AffiliatePartner:
    name = name or f"Partner {next(_seq)}"
    return AffiliatePartner.objects.create(name=name, name_key=name_key(name), **fields)


def make_location(
    *,
    partner: AffiliatePartner | None = None,
    name: str | None = None,
    postal_code: str = "M5V 3L9",
    province: str = "ON",
    latitude: float | None = 43.6426,
    longitude: float | None = -79.3871,
    **fields,
) -> Location:
    from medworks.network.geo import grid_cell

    partner = partner or make_partner()
    name = name or f"Clinic {next(_seq)}"
    return Location.objects.create(
        partner=partner,
        name=name,
        name_key=name_key(name),
        postal_code=postal_code,
        province=province,
        latitude=latitude,
        longitude=longitude,
        geo_precision=GeoPrecision.POSTAL_CODE if latitude is not None else GeoPrecision.NONE,
        geo_cell=grid_cell(latitude, longitude) if latitude is not None else None,
        **fields,
    )


def service(code: str) -> Service:
    return Service.objects.get(code=code)


def make_offering(*, location: Location, service_code: str = "XRAY", price: str | None = "120.00"):
    return Offering.objects.create(
        location=location,
        service=service(service_code),
        clinic_price=Decimal(price) if price is not None else None,
    )
