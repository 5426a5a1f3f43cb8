"""Directory edit use cases: every write the staff back office makes to partners and locations.

Each function is keyword-only, runs in one transaction, locks the row it changes, writes one
audit event, and raises `DomainError` (with field errors where a form can show them) on input
a person can correct. Views and commands call these; they never save directory rows themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from medworks.accounts.models import OrganisationKind
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import (
    CARD_NUMBER_CODE,
    CardNumberRefused,
    card_number_errors,
    refuse_card_numbers,
)
from medworks.core.errors import DomainError
from medworks.core.money import to_money

from . import geo
from .models import (
    AffiliatePartner,
    BillingArrangement,
    Location,
    Offering,
    PartnerKind,
    Province,
    Service,
)
from .text import clean_text, name_key

PARTNER_FIELDS = frozenset(
    {
        "name",
        "kind",
        "is_affiliate",
        "billing_arrangements",
        "accepts_prepayment",
        "payment_terms_days",
        "tax_number",
        "contact_name",
        "contact_email",
        "contact_phone",
        "is_active",
        "notes",
        "organisation",
    }
)
LOCATION_FIELDS = frozenset(
    {
        "name",
        "address",
        "city",
        "province",
        "postal_code",
        "phone",
        "email",
        "languages",
        "wheelchair_accessible",
        "notes",
        "is_active",
    }
)
_BOOL_FIELDS = frozenset({"is_affiliate", "accepts_prepayment", "is_active"})
_MULTILINE_FIELDS = frozenset({"notes"})
_EMAIL_FIELDS = frozenset({"contact_email", "email"})


def _json(value: Any) -> Any:
    """Audit payloads are JSON: money as its exact string, never a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        # A caller bug, not user input: fail loudly rather than silently drop a change.
        raise TypeError(f"fields that cannot be set here: {sorted(unknown)}")


def _clean_common(data: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """Trim text, coerce booleans, check e-mail addresses; collect errors per field."""
    cleaned: dict[str, Any] = {}
    for field, value in data.items():
        if field in _BOOL_FIELDS:
            cleaned[field] = bool(value)
        elif field in _MULTILINE_FIELDS:
            cleaned[field] = str(value or "").strip()
        elif isinstance(value, str) or value is None:
            cleaned[field] = clean_text(value)
        else:
            cleaned[field] = value
        if field in _EMAIL_FIELDS and cleaned[field]:
            try:
                validate_email(cleaned[field])
            except ValidationError:
                errors.setdefault(field, []).append(_("Enter a valid e-mail address."))
    if "name" in cleaned and not cleaned["name"]:
        errors.setdefault("name", []).append(_("A name is required."))
    return cleaned


def _sentence(exc: Exception) -> str:
    """geo's refusal as a sentence for a form: 'Postal code ... is unknown.'"""
    return geo.sentence_of(exc)


def _raise_if(errors: dict[str, list[str]], *, code: str = "invalid") -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(code, first, fields=errors)


def _apply(obj: Any, cleaned: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the changed attributes; return {field: [old, new]} for the audit trail."""
    changes: dict[str, list[Any]] = {}
    for field, new in cleaned.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_json(old), _json(new)]
            setattr(obj, field, new)
    return changes


# --- partners ---------------------------------------------------------------------------------


def _clean_partner(data: Mapping[str, Any], *, current: AffiliatePartner | None) -> dict[str, Any]:
    """Validate partner input (any subset of PARTNER_FIELDS); raise with field errors."""
    _check_fields(data, PARTNER_FIELDS)
    refuse_card_numbers(data)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_common(data, errors)
    if current is None and not cleaned.get("name"):
        errors.setdefault("name", []).append(_("A name is required."))
    if "kind" in cleaned and cleaned["kind"] not in PartnerKind.values:
        errors.setdefault("kind", []).append(_("Choose network or individual clinic."))
    if "billing_arrangements" in cleaned:
        arrangements = list(dict.fromkeys(cleaned["billing_arrangements"] or []))
        bad = [a for a in arrangements if a not in BillingArrangement.values]
        if bad:
            errors.setdefault("billing_arrangements", []).append(
                _("Unknown billing arrangement: %(values)s.") % {"values": ", ".join(map(str, bad))}
            )
        # Stored in the catalogue's order so an unchanged set never shows up as a change.
        cleaned["billing_arrangements"] = [
            a for a in BillingArrangement.values if a in arrangements
        ]
    cleaned.pop("payment_terms_days", None)  # a number, not text; blank keeps what it was
    if data.get("payment_terms_days") is not None:
        terms = data["payment_terms_days"]
        if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= 365:
            errors.setdefault("payment_terms_days", []).append(
                _("Enter a number of days from 0 to 365.")
            )
        else:
            cleaned["payment_terms_days"] = terms
    if cleaned.get("name"):
        key = name_key(cleaned["name"])
        twins = AffiliatePartner.objects.filter(name_key=key)
        if current is not None:
            twins = twins.exclude(pk=current.pk)
        if twins.exists():
            errors.setdefault("name", []).append(_("Another partner already has this name."))
    if "organisation" in data:  # a model or None, not text: _clean_common would make None ""
        cleaned["organisation"] = data["organisation"] or None
    organisation = cleaned.get("organisation")
    if organisation is not None:
        # Its clinic users will see this partner's cases: only an affiliate organisation, once.
        others = AffiliatePartner.objects.filter(organisation=organisation)
        if current is not None:
            others = others.exclude(pk=current.pk)
        if organisation.kind != OrganisationKind.AFFILIATE:
            errors.setdefault("organisation", []).append(
                _("Choose an affiliate partner's organisation.")
            )
        elif others.exists():
            errors.setdefault("organisation", []).append(
                _("This organisation already acts for another partner.")
            )
    _raise_if(errors)
    return cleaned


def partner_create(*, data: Mapping[str, Any], actor: Actor) -> AffiliatePartner:
    """Add a partner by hand (not only by spreadsheet): an affiliate, or a provider found by
    management during an escalation (is_affiliate False)."""
    cleaned = _clean_partner(data, current=None)
    with transaction.atomic():
        partner = AffiliatePartner(**cleaned)
        partner.name_key = name_key(partner.name)
        partner.save()
        audit_record(
            actor=actor,
            action="partner.created",
            obj=partner,
            summary=f"Added partner {partner.name}",
            payload={
                "partner_id": partner.pk,
                "is_affiliate": partner.is_affiliate,
                "billing_arrangements": partner.billing_arrangements,
            },
        )
    return partner


def partner_update(
    *, partner: AffiliatePartner, data: Mapping[str, Any], actor: Actor
) -> AffiliatePartner:
    """Change a partner's own fields (any subset of PARTNER_FIELDS)."""
    cleaned = _clean_partner(data, current=partner)

    with transaction.atomic():
        locked = AffiliatePartner.objects.select_for_update().get(pk=partner.pk)
        changes = _apply(locked, cleaned)
        if not changes:
            return locked
        if "name" in changes:
            locked.name_key = name_key(locked.name)
        locked.save()
        audit_record(
            actor=actor,
            action="partner.updated",
            obj=locked,
            summary=f"Changed {', '.join(sorted(changes))}",
            payload={"partner_id": locked.pk, "changes": changes},
        )
    return locked


def partner_set_active(
    *, partner: AffiliatePartner, active: bool, actor: Actor
) -> AffiliatePartner:
    """Take a partner out of matching (or back in) without losing its history."""
    with transaction.atomic():
        locked = AffiliatePartner.objects.select_for_update().get(pk=partner.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="partner.activated" if active else "partner.deactivated",
            obj=locked,
            summary="Reactivated" if active else "Deactivated",
            payload={"partner_id": locked.pk},
        )
    return locked


# --- locations --------------------------------------------------------------------------------


def _clean_location(
    data: Mapping[str, Any], *, current: Location | None
) -> tuple[dict[str, Any], geo.GeoPoint | None]:
    """Validate location input; geocode the postal code when it is new or has changed."""
    _check_fields(data, LOCATION_FIELDS)
    refuse_card_numbers(data)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_common(data, errors)

    postal_code = current.postal_code if current else ""
    if "postal_code" in cleaned or current is None:
        try:
            postal_code = geo.normalize_postal_code(cleaned.get("postal_code", ""))
            cleaned["postal_code"] = postal_code
        except ValueError as exc:
            errors.setdefault("postal_code", []).append(_sentence(exc))
            postal_code = ""

    province = cleaned.get("province", current.province if current else "")
    if province not in Province.values:
        errors.setdefault("province", []).append(_("Choose a province or territory."))
    elif postal_code:
        allowed = geo.provinces_for_postal_code(postal_code)
        if province not in allowed:
            errors.setdefault("province", []).append(
                _province_mismatch(postal_code=postal_code, allowed=allowed, province=province)
            )

    point = None
    moved = current is None or postal_code != current.postal_code
    if postal_code and "postal_code" not in errors and moved:
        try:
            point = geo.geocode(postal_code)
        except ValueError as exc:
            # Refused rather than stored unlocated: a location matching cannot place is
            # invisible to the booking team, and the usual cause is a typo.
            errors.setdefault("postal_code", []).append(_sentence(exc))
    _raise_if(errors)
    return cleaned, point


def _province_mismatch(*, postal_code: str, allowed: frozenset[str], province: str) -> str:
    """The refusal of a province the postal code is not in (one sentence per case)."""
    if len(allowed) == 1:
        return _("A postal code starting with %(letter)s is in %(allowed)s, not %(province)s.") % {
            "letter": postal_code[0],
            "allowed": next(iter(allowed)),
            "province": province,
        }
    first, second = sorted(allowed)[:2]
    return _(
        "A postal code starting with %(letter)s is in %(first)s or %(second)s, not %(province)s."
    ) % {"letter": postal_code[0], "first": first, "second": second, "province": province}


def _set_point(location: Location, point: geo.GeoPoint) -> None:
    location.latitude = point.latitude
    location.longitude = point.longitude
    location.geo_precision = point.precision
    location.geo_cell = geo.grid_cell(point.latitude, point.longitude)


def _refuse_duplicate(location: Location) -> None:
    twins = Location.objects.filter(
        partner_id=location.partner_id, name_key=location.name_key, postal_code=location.postal_code
    )
    if location.pk:
        twins = twins.exclude(pk=location.pk)
    if twins.exists():
        raise DomainError(
            "location_duplicate",
            _("This partner already has a location with this name at this postal code."),
            fields={"name": [_("This partner already has a location with this name here.")]},
        )


def location_create(
    *, partner: AffiliatePartner, data: Mapping[str, Any], actor: Actor
) -> Location:
    """Add a location to a partner, placed on the map from its postal code."""
    cleaned, point = _clean_location(data, current=None)
    with transaction.atomic():
        locked_partner = AffiliatePartner.objects.select_for_update().get(pk=partner.pk)
        location = Location(partner=locked_partner, **cleaned)
        location.name_key = name_key(location.name)
        if point is not None:
            _set_point(location, point)
        _refuse_duplicate(location)
        location.save()
        audit_record(
            actor=actor,
            action="location.created",
            obj=location,
            summary=f"Added location {location.name} ({location.postal_code})",
            payload={
                "partner_id": locked_partner.pk,
                "location_id": location.pk,
                "postal_code": location.postal_code,
                "geo_precision": location.geo_precision,
            },
        )
    return location


def location_update(*, location: Location, data: Mapping[str, Any], actor: Actor) -> Location:
    """Change a location; a new postal code moves it (re-geocoded, new grid cell)."""
    cleaned, point = _clean_location(data, current=location)
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        changes = _apply(locked, cleaned)
        if not changes:
            return locked
        if "name" in changes:
            locked.name_key = name_key(locked.name)
        if point is not None:
            before = [locked.latitude, locked.longitude, locked.geo_precision]
            _set_point(locked, point)
            changes["coordinates"] = [before, [point.latitude, point.longitude, point.precision]]
        _refuse_duplicate(locked)
        locked.save()
        audit_record(
            actor=actor,
            action="location.updated",
            obj=locked,
            summary=f"Changed {', '.join(sorted(changes))} of {locked.name}",
            payload={"partner_id": locked.partner_id, "location_id": locked.pk, "changes": changes},
        )
    return locked


# --- offerings --------------------------------------------------------------------------------


def _clean_price(price: Decimal | int | str | None) -> Decimal | None:
    if price is None or price == "":
        return None
    refuse_card_numbers({"price": price})
    try:
        value = to_money(price)
    except (TypeError, ValueError) as exc:
        # to_money's own words (a float is a caller's mistake), said in the person's language.
        detail = (
            str(exc)
            if isinstance(exc, TypeError)
            else _("not an amount of money: %(value)s") % {"value": repr(price)}
        )
        raise DomainError(
            "price_invalid", _("Enter an amount such as 125.00."), fields={"price": [detail]}
        ) from None
    if value < 0:
        raise DomainError(
            "price_invalid",
            _("A price cannot be negative."),
            fields={"price": [_("Cannot be negative.")]},
        )
    if value >= Decimal("10000000000"):
        raise DomainError(
            "price_invalid", _("This price is too large."), fields={"price": [_("Too large.")]}
        )
    return value


def offering_set_price(
    *, offering: Offering, price: Decimal | int | str | None, actor: Actor
) -> Offering:
    """Set, change or (with None) remove the clinic price of an offering."""
    value = _clean_price(price)
    with transaction.atomic():
        locked = (
            Offering.objects.select_for_update(of=("self",))
            .select_related("location", "service")
            .get(pk=offering.pk)
        )
        old = locked.clinic_price
        if old == value:
            return locked
        locked.clinic_price = value
        locked.save(update_fields=["clinic_price", "updated_at"])
        audit_record(
            actor=actor,
            action="offering.price_set" if value is not None else "offering.price_removed",
            obj=locked,
            summary=(
                f"{locked.service.name_en} at {locked.location.name}: "
                f"{old if old is not None else 'no price'} → "
                f"{value if value is not None else 'no price'}"
            ),
            payload={
                "partner_id": locked.location.partner_id,
                "location_id": locked.location_id,
                "service": locked.service.code,
                "old": _json(old),
                "new": _json(value),
            },
        )
    return locked


def offering_create(
    *, location: Location, service: Service, price: Decimal | int | str | None, actor: Actor
) -> Offering:
    """List a location for a catalogue service (an inactive listing is revived)."""
    value = _clean_price(price)
    if not service.is_active:
        raise DomainError(
            "service_inactive",
            _("%(service)s is no longer in the catalogue.") % {"service": service.name_en},
            fields={"service": [_("This service is no longer offered.")]},
        )
    with transaction.atomic():
        locked_location = Location.objects.select_for_update().get(pk=location.pk)
        offering = Offering.objects.filter(location=locked_location, service=service).first()
        if offering is not None and offering.is_active:
            raise DomainError(
                "offering_exists",
                _("%(location)s already offers %(service)s.")
                % {"location": locked_location.name, "service": service.name_en},
                fields={"service": [_("This location already offers this service.")]},
            )
        if offering is None:
            offering = Offering.objects.create(
                location=locked_location, service=service, clinic_price=value
            )
        else:
            offering.is_active = True
            offering.clinic_price = value
            offering.save(update_fields=["is_active", "clinic_price", "updated_at"])
        audit_record(
            actor=actor,
            action="offering.created",
            obj=offering,
            summary=f"{locked_location.name} now offers {service.name_en}",
            payload={
                "partner_id": locked_location.partner_id,
                "location_id": locked_location.pk,
                "service": service.code,
                "price": _json(value),
            },
        )
    return offering


def offering_set_active(*, offering: Offering, active: bool, actor: Actor) -> Offering:
    """Withdraw a service from a location (kept for history and billing), or restore it."""
    with transaction.atomic():
        locked = (
            Offering.objects.select_for_update(of=("self",))
            .select_related("location", "service")
            .get(pk=offering.pk)
        )
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="offering.activated" if active else "offering.withdrawn",
            obj=locked,
            summary=f"{locked.service.name_en} at {locked.location.name} "
            + ("restored" if active else "withdrawn"),
            payload={
                "partner_id": locked.location.partner_id,
                "location_id": locked.location_id,
                "service": locked.service.code,
            },
        )
    return locked


# --- providers found during an escalation ----------------------------------------------------


def provider_record(
    *,
    partner_data: Mapping[str, Any],
    location_data: Mapping[str, Any],
    prices: Mapping[Service, Decimal | str | None],
    actor: Actor,
) -> Location:
    """A provider management found outside the network (SOP escalation): a non-affiliate
    partner, its one location and the services it will perform at their clinic prices, in one
    transaction, so it is in the directory, searchable and reusable, next time.

    Every field error of the partner and the location is raised together, before anything is
    written."""
    partner_data = {"kind": PartnerKind.INDIVIDUAL, **partner_data, "is_affiliate": False}
    # A card number anywhere is the one refusal given: no other message may quote it.
    errors = card_number_errors(partner_data) | card_number_errors(location_data)
    errors |= card_number_errors({f"price_{s.pk}": price for s, price in prices.items()})
    if errors:
        raise CardNumberRefused(CARD_NUMBER_CODE, next(iter(errors.values()))[0], fields=errors)
    for clean in (
        lambda: _clean_partner(partner_data, current=None),
        lambda: _clean_location(location_data, current=None),
    ):
        try:
            clean()
        except DomainError as exc:
            for field, messages in (exc.fields or {"name": [exc.message]}).items():
                errors.setdefault(field, []).extend(messages)
    if not prices:
        errors.setdefault("services", []).append(_("Give at least one service and its price."))
    for service, price in prices.items():
        try:
            _clean_price(price)
        except DomainError as exc:
            errors.setdefault(f"price_{service.pk}", []).append(exc.message)
    _raise_if(errors, code="provider_invalid")
    with transaction.atomic():
        partner = partner_create(data=partner_data, actor=actor)
        location = location_create(partner=partner, data=location_data, actor=actor)
        for service, price in prices.items():
            offering_create(location=location, service=service, price=price, actor=actor)
    return location
