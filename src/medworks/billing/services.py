"""Use cases that change pricing data: the tax table and the insurers' pricing settings, and
how each insurer is invoiced (per case or by monthly statement, its terms, where its invoices
go and the address printed on them: `insurer_invoicing_update`).

Each takes the `Actor` as `actor=`; only finance may (`Capability.TAX_SETTINGS_EDIT`), and
each change writes one audit row, with the old and new values, in its transaction. A tax rate
is never deleted (invoices are kept 6 years and say which rate they used): close it with a
`valid_to` and add the next one. Two rows of one tax (or an HST and a GST row, since the HST
includes the GST) may not overlap in a province.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, user_can
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, is_plain_decimal, to_money
from medworks.network.models import Service

from .models import (
    MARKUP_DECIMAL_PLACES,
    MARKUP_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    InsurerFixedPrice,
    InsurerPricing,
    InsurerServiceMarkup,
    InsurerView,
    InvoicingCycle,
    TaxableBase,
    TaxName,
    TaxRate,
    TaxTreatment,
)
from .selectors import province_code

TAX_RATE_FIELDS = frozenset({"rate", "valid_from", "valid_to", "source"})
INSURER_PRICING_FIELDS = frozenset(
    {
        "markup_percent",
        "place_of_supply",
        "tax_treatment",
        "taxable_base",
        "insurer_view",
        "in_network_needs_confirmation",
    }
)
INSURER_INVOICING_FIELDS = frozenset(
    {"invoicing", "payment_terms_days", "billing_email", "billing_address"}
)
# Payment terms: days from the invoice date to its due date (as a draft's, invoice_draft_edit).
PAYMENT_TERMS_MAX_DAYS = 365
BILLING_ADDRESS_MAX_CHARS = 500
# The HST includes the GST: in one province they never apply on the same day.
_EXCLUSIVE = {TaxName.HST: {TaxName.HST, TaxName.GST}, TaxName.GST: {TaxName.GST, TaxName.HST}}


def _apply(obj, cleaned: dict) -> dict[str, list[str]]:
    """Set the cleaned values on `obj`; the changes as {field: [old, new]} for the audit row."""
    changes = {
        field: [_text(getattr(obj, field)), _text(value)]
        for field, value in cleaned.items()
        if getattr(obj, field) != value
    }
    for field, value in cleaned.items():
        setattr(obj, field, value)
    return changes


def _require_finance(actor: Actor) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not user_can(actor.principal, Capability.TAX_SETTINGS_EDIT):
        raise PermissionDenied(
            "tax_settings_forbidden",
            _("Only finance may change the tax rates and the insurers' pricing settings."),
        )


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _audit(*, actor: Actor, action: str, obj, summary: str, **payload) -> None:
    # The Actor itself: the audit row records its user, or its kind and detail (core.audit).
    audit_record(actor=actor, action=action, obj=obj, summary=summary, payload=payload)


def _number(value: Any, *, field: str, places: int, below: Decimal, example: str) -> Decimal:
    """A Decimal from 0 up to (not including) `below`, with at most `places` decimals."""
    if isinstance(value, float):
        raise TypeError(f"{field} must not be a float; pass a Decimal, int or str")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        number = None
    if isinstance(value, str) and not is_plain_decimal(value):
        number = None  # "1e3", "١٢", "1_000": Decimal reads them, the desk does not
    if (
        number is None
        or isinstance(value, bool)
        or not number.is_finite()
        or number < 0
        or number >= below
        or -number.as_tuple().exponent > places
    ):
        raise DomainError(
            f"{field}_invalid",
            _(
                "%(value)s is not accepted: enter zero or more, below %(below)s, with at most "
                "%(places)s decimals, such as %(example)s."
            )
            % {"value": repr(value), "below": below, "places": places, "example": example},
            fields={field: [_("Enter a value such as %(example)s.") % {"example": example}]},
        )
    return number


def _clean_rate(value: Any) -> Decimal:
    """A rate is a fraction: 0.13 for 13%."""
    return _number(
        value, field="rate", places=RATE_DECIMAL_PLACES, below=Decimal(1), example="0.13"
    )


def _clean_date(value: Any, *, field: str, optional: bool = False) -> dt.date | None:
    if value is None and optional:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise DomainError(
        f"{field}_invalid",
        _("%(field)s must be a date.") % {"field": field},
        fields={field: [_("Enter a date such as 2025-04-01.")]},
    )


def _refuse_overlap(
    *,
    province: str,
    tax_name: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    exclude_pk: int | None = None,
) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(
            "tax_rate_period_invalid",
            _("The last day (%(valid_to)s) is before the first (%(valid_from)s).")
            % {"valid_to": valid_to.isoformat(), "valid_from": valid_from.isoformat()},
            fields={"valid_to": [_("Enter a date on or after the first day.")]},
        )
    # Lock the province's rows so two edits of one province are checked one after the other.
    rows = TaxRate.objects.select_for_update().filter(
        province=province, tax_name__in=_EXCLUSIVE.get(tax_name, {tax_name})
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    rows = rows.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        rows = rows.filter(valid_from__lte=valid_to)
    other = rows.order_by("valid_from").first()
    if other is not None:
        raise DomainError(
            "tax_rate_overlap",
            _(
                "This period overlaps %(other)s: close that rate (its last day) before adding "
                "the next one."
            )
            % {"other": str(other)},
            fields={"valid_from": [_("Overlaps another rate of this tax.")]},
        )


def tax_rate_create(
    *,
    actor: Actor,
    province: str,
    tax_name: str,
    rate: Decimal,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    source: str = "",
) -> TaxRate:
    """Add a rate to the table (finance only, audited)."""
    _require_finance(actor)
    refuse_card_numbers({"source": source})
    code = province_code(province)
    if tax_name not in TaxName.values:
        raise DomainError(
            "tax_name_unknown",
            _("%(name)s is not one of GST, HST, QST, PST.") % {"name": repr(tax_name)},
            fields={"tax_name": [_("Choose GST, HST, QST or PST.")]},
        )
    cleaned_rate = _clean_rate(rate)
    start = _clean_date(valid_from, field="valid_from")
    end = _clean_date(valid_to, field="valid_to", optional=True)
    with transaction.atomic():
        _refuse_overlap(province=code, tax_name=tax_name, valid_from=start, valid_to=end)
        row = TaxRate.objects.create(
            province=code,
            tax_name=tax_name,
            rate=cleaned_rate,
            valid_from=start,
            valid_to=end,
            source=(source or "").strip()[:255],
        )
        _audit(
            actor=actor,
            action="tax_rate.created",
            obj=row,
            summary=_("Added %(rate)s") % {"rate": str(row)},
            tax_rate={
                "province": code,
                "tax_name": tax_name,
                "rate": _text(cleaned_rate),
                "valid_from": _text(start),
                "valid_to": _text(end),
                "source": row.source,
            },
        )
    return row


def tax_rate_update(*, actor: Actor, tax_rate: TaxRate, data: Mapping[str, Any]) -> TaxRate:
    """Change a rate's value, period or source (finance only, audited with old and new)."""
    _require_finance(actor)
    refuse_card_numbers(data, ["source"])
    unknown = set(data) - TAX_RATE_FIELDS
    if unknown:
        raise ValueError(f"not a tax rate field: {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    if "rate" in data:
        cleaned["rate"] = _clean_rate(data["rate"])
    if "valid_from" in data:
        cleaned["valid_from"] = _clean_date(data["valid_from"], field="valid_from")
    if "valid_to" in data:
        cleaned["valid_to"] = _clean_date(data["valid_to"], field="valid_to", optional=True)
    if "source" in data:
        cleaned["source"] = (data["source"] or "").strip()[:255]
    with transaction.atomic():
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        changes = _apply(locked, cleaned)
        if not changes:
            return locked
        _refuse_overlap(
            province=locked.province,
            tax_name=locked.tax_name,
            valid_from=locked.valid_from,
            valid_to=locked.valid_to,
            exclude_pk=locked.pk,
        )
        locked.save()
        _audit(
            actor=actor,
            action="tax_rate.updated",
            obj=locked,
            summary=_("Changed %(fields)s of %(rate)s")
            % {"fields": ", ".join(sorted(changes)), "rate": str(locked)},
            tax_rate_id=locked.pk,
            changes=changes,
        )
    return locked


def _insurer(insurer: Organisation) -> Organisation:
    if insurer.kind != OrganisationKind.INSURER:
        raise DomainError(
            "insurer_invalid",
            _("%(name)s is not an insurance partner.") % {"name": insurer.name},
        )
    return insurer


def _markup(value: Any) -> Decimal:
    return _number(
        value,
        field="markup_percent",
        places=MARKUP_DECIMAL_PLACES,
        below=Decimal(10) ** (MARKUP_MAX_DIGITS - MARKUP_DECIMAL_PLACES),
        example="50",
    )


def _choice(value: Any, choices, *, field: str) -> str:
    text = "" if value is None else str(value)
    if text not in choices.values:
        raise DomainError(
            f"{field}_unknown",
            _("%(value)s is not one of %(choices)s.")
            % {"value": repr(text), "choices": ", ".join(choices.values)},
            fields={field: [_("Choose one of the listed values.")]},
        )
    return text


def _flag(value: Any, *, field: str) -> bool:
    """A yes or no: a real bool only ("yes", 1 or None are refused, never guessed)."""
    if not isinstance(value, bool):
        raise DomainError(
            f"{field}_invalid",
            _("%(value)s is not accepted: the answer is yes or no.") % {"value": repr(value)},
            fields={field: [_("Choose yes or no.")]},
        )
    return value


def insurer_pricing_update(
    *, actor: Actor, insurer: Organisation, data: Mapping[str, Any]
) -> InsurerPricing:
    """Change an insurer's markup, place of supply, tax treatment, taxable base, what it
    sees, or whether its in-network bookings wait for its confirmation of the charges (any
    subset of INSURER_PRICING_FIELDS; finance only, audited)."""
    _require_finance(actor)
    _insurer(insurer)
    unknown = set(data) - INSURER_PRICING_FIELDS
    if unknown:
        raise ValueError(f"not an insurer pricing field: {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    if "markup_percent" in data:
        cleaned["markup_percent"] = _markup(data["markup_percent"])
    if "place_of_supply" in data:
        place = data["place_of_supply"] or ""
        cleaned["place_of_supply"] = province_code(place) if str(place).strip() else ""
    if "tax_treatment" in data:
        cleaned["tax_treatment"] = _choice(
            data["tax_treatment"], TaxTreatment, field="tax_treatment"
        )
    if "taxable_base" in data:
        cleaned["taxable_base"] = _choice(data["taxable_base"], TaxableBase, field="taxable_base")
    if "insurer_view" in data:
        cleaned["insurer_view"] = _choice(data["insurer_view"], InsurerView, field="insurer_view")
    if "in_network_needs_confirmation" in data:
        cleaned["in_network_needs_confirmation"] = _flag(
            data["in_network_needs_confirmation"], field="in_network_needs_confirmation"
        )
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).get(pk=insurer.pk)
        pricing, _created = InsurerPricing.objects.get_or_create(insurer=insurer)
        changes = _apply(pricing, cleaned)
        if not changes:
            return pricing
        pricing.save()
        _audit(
            actor=actor,
            action="insurer_pricing.updated",
            obj=pricing,
            summary=_("Changed %(fields)s of the pricing of %(insurer)s")
            % {"fields": ", ".join(sorted(changes)), "insurer": insurer.name},
            insurer_id=insurer.pk,
            changes=changes,
        )
    return pricing


def _override_set(
    *,
    actor: Actor,
    insurer: Organisation,
    service: Service,
    model,
    field: str,
    value,
    action: str,
    label: str,
):
    """Create, change or (value None) remove one per-service row of an insurer, audited as
    `<action>.set` or `<action>.removed`."""
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).get(pk=insurer.pk)
        row = model.objects.filter(insurer=insurer, service=service).first()
        old = None if row is None else getattr(row, field)
        if old == value:
            return row
        if value is None:
            row.delete()
            row = None
        elif row is None:
            row = model.objects.create(insurer=insurer, service=service, **{field: value})
        else:
            setattr(row, field, value)
            row.save()
        _audit(
            actor=actor,
            action=f"{action}.{'set' if value is not None else 'removed'}",
            obj=insurer,
            summary=label
            % {
                "insurer": insurer.name,
                "service": service.code,
                "old": _text(old) or "-",
                "new": _text(value) or "-",
            },
            insurer_id=insurer.pk,
            service_id=service.pk,
            changes={field: [_text(old), _text(value)]},
        )
    return row


def insurer_service_markup_set(
    *, actor: Actor, insurer: Organisation, service: Service, markup_percent: Decimal | None
) -> InsurerServiceMarkup | None:
    """Set (or, with None, remove) an insurer's markup for one service; finance only, audited."""
    _require_finance(actor)
    _insurer(insurer)
    return _override_set(
        actor=actor,
        insurer=insurer,
        service=service,
        model=InsurerServiceMarkup,
        field="markup_percent",
        value=None if markup_percent is None else _markup(markup_percent),
        action="insurer_service_markup",
        label=_("Markup of %(insurer)s for %(service)s: %(old)s to %(new)s"),
    )


def insurer_fixed_price_set(
    *, actor: Actor, insurer: Organisation, service: Service, price: Decimal | None
) -> InsurerFixedPrice | None:
    """Set (or, with None, remove) an insurer's contract price before tax for one service;
    finance only, audited."""
    _require_finance(actor)
    _insurer(insurer)
    value = None
    if price is not None:
        value = to_money(
            _number(
                price,
                field="price",
                places=MONEY_DECIMAL_PLACES,
                below=Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES),
                example="250.00",
            )
        )
    return _override_set(
        actor=actor,
        insurer=insurer,
        service=service,
        model=InsurerFixedPrice,
        field="price",
        value=value,
        action="insurer_fixed_price",
        label=_("Fixed price of %(insurer)s for %(service)s: %(old)s to %(new)s"),
    )


def _terms(value: Any) -> int | None:
    """Days from 0 to PAYMENT_TERMS_MAX_DAYS, or None (blank: the setting's default)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if isinstance(number, bool) or not isinstance(number, int):
        number = -1
    if not 0 <= number <= PAYMENT_TERMS_MAX_DAYS:
        raise DomainError(
            "payment_terms_days_invalid",
            _("%(value)s is not accepted: payment terms are whole days from 0 to %(max)s.")
            % {"value": repr(value), "max": PAYMENT_TERMS_MAX_DAYS},
            fields={
                "payment_terms_days": [
                    _("Enter whole days from 0 to %(max)s, or leave it blank.")
                    % {"max": PAYMENT_TERMS_MAX_DAYS}
                ]
            },
        )
    return number


def _billing_email(value: Any) -> str:
    text = ("" if value is None else str(value)).strip()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise DomainError(
            "billing_email_invalid",
            _("%(value)s is not an email address.") % {"value": repr(text)},
            fields={"billing_email": [_("Enter an email address such as ap@insurer.example.")]},
        ) from None
    return text.lower()


def _billing_address(value: Any) -> str:
    lines = [line.strip() for line in ("" if value is None else str(value)).splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > BILLING_ADDRESS_MAX_CHARS:
        raise DomainError(
            "billing_address_too_long",
            _("A billing address has at most %(max)s characters.")
            % {"max": BILLING_ADDRESS_MAX_CHARS},
            fields={
                "billing_address": [
                    _("Shorten it to %(max)s characters.") % {"max": BILLING_ADDRESS_MAX_CHARS}
                ]
            },
        )
    return text


def insurer_invoicing_update(
    *, actor: Actor, insurer: Organisation, data: Mapping[str, Any]
) -> InsurerPricing:
    """Change how an insurer is invoiced (any subset of INSURER_INVOICING_FIELDS; finance only,
    audited `insurer_invoicing.updated` with the old and new values):

    - `invoicing`: an invoice per case, or the month's cases on one statement
      (`InvoicingCycle`); a monthly insurer's cases are not invoiced one by one;
    - `payment_terms_days`: days from the invoice date to its due date, 0 to 365; None or
      blank: the setting MEDWORKS_INVOICE_TERMS_DAYS;
    - `billing_email`: where its invoices, credit notes and reminders go; blank: the case's
      contact or the insurer's users (`invoice_emails.invoice_recipients`);
    - `billing_address`: printed under its name on its invoices (lines kept, blank ones
      dropped; at most 500 characters; a card number in it is refused).

    Invoices already issued keep what they printed (their snapshot); drafts take the new terms
    only when drafted again."""
    _require_finance(actor)
    _insurer(insurer)
    unknown = set(data) - INSURER_INVOICING_FIELDS
    if unknown:
        raise ValueError(f"not an insurer invoicing field: {', '.join(sorted(unknown))}")
    refuse_card_numbers(data, ["billing_address", "billing_email"])
    cleaned: dict[str, Any] = {}
    if "invoicing" in data:
        cleaned["invoicing"] = _choice(data["invoicing"], InvoicingCycle, field="invoicing")
    if "payment_terms_days" in data:
        cleaned["payment_terms_days"] = _terms(data["payment_terms_days"])
    if "billing_email" in data:
        cleaned["billing_email"] = _billing_email(data["billing_email"])
    if "billing_address" in data:
        cleaned["billing_address"] = _billing_address(data["billing_address"])
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).get(pk=insurer.pk)
        pricing, _created = InsurerPricing.objects.get_or_create(insurer=insurer)
        changes = _apply(pricing, cleaned)
        if not changes:
            return pricing
        pricing.save()
        _audit(
            actor=actor,
            action="insurer_invoicing.updated",
            obj=pricing,
            summary=_("Changed %(fields)s of the invoicing of %(insurer)s")
            % {"fields": ", ".join(sorted(changes)), "insurer": insurer.name},
            insurer_id=insurer.pk,
            changes=changes,
        )
    return pricing
