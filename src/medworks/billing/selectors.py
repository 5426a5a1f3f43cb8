"""Reads of the pricing data and of the cases' quotes that use cases, pages and commands share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.core.errors import DomainError, NotFound
from medworks.network.models import BillingArrangement, Province, Service

from .models import (
    InsurerFixedPrice,
    InsurerPricing,
    InsurerServiceMarkup,
    Quote,
    QuoteStatus,
    TaxRate,
)


def province_code(province: str) -> str:
    """The two-letter code, upper case; DomainError `province_unknown` otherwise."""
    code = str(province or "").strip().upper()
    if code not in Province.values:
        raise DomainError(
            "province_unknown",
            _("%(province)s is not a Canadian province or territory code (such as ON or QC).")
            % {"province": repr(str(province or ""))},
            fields={"province": [_("Use a two-letter code such as ON, QC or BC.")]},
        )
    return code


def tax_rates_at(province: str, tax_point: dt.date) -> tuple[TaxRate, ...]:
    """The rates of `province` in force on `tax_point` (never "today" by default).

    DomainError `tax_rate_missing` when the table has none for that date, and
    `tax_rates_inconsistent` when two rows of one tax overlap on it.
    """
    code = province_code(province)
    if not isinstance(tax_point, dt.date) or isinstance(tax_point, dt.datetime):
        raise TypeError("tax_point must be a date")
    rows = tuple(
        TaxRate.objects.filter(province=code, valid_from__lte=tax_point)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=tax_point))
        .order_by("tax_name", "valid_from")
    )
    if not rows:
        raise DomainError(
            "tax_rate_missing",
            _("The tax table has no rate for %(province)s on %(date)s.")
            % {"province": code, "date": tax_point.isoformat()},
        )
    names = [row.tax_name for row in rows]
    if len(set(names)) != len(names):
        raise DomainError(
            "tax_rates_inconsistent",
            _("The tax table has two rates of one tax for %(province)s on %(date)s.")
            % {"province": code, "date": tax_point.isoformat()},
        )
    return rows


def insurer_by_name(name: str) -> Organisation:
    """An active insurance partner by its name (any case); NotFound otherwise."""
    text = (name or "").strip()
    insurer = Organisation.objects.filter(
        kind=OrganisationKind.INSURER, is_active=True, name__iexact=text
    ).first()
    if insurer is None:
        raise NotFound(
            "insurer_unknown",
            _("No active insurance partner is called %(name)s.") % {"name": repr(text)},
        )
    return insurer


def service_by_code(code: str) -> Service:
    """A catalogue service by its code (any case); NotFound otherwise."""
    text = (code or "").strip()
    service = Service.objects.filter(code__iexact=text).first()
    if service is None:
        raise NotFound(
            "service_unknown",
            _("No catalogue service has the code %(code)s.") % {"code": repr(text)},
        )
    return service


def insurer_pricing_of(insurer: Organisation) -> InsurerPricing:
    """The insurer's pricing settings, or the defaults (unsaved) when it has none."""
    pricing = InsurerPricing.objects.filter(insurer=insurer).first()
    return pricing if pricing is not None else InsurerPricing(insurer=insurer)


def insurer_service_markup(
    *, insurer: Organisation, service: Service
) -> InsurerServiceMarkup | None:
    return InsurerServiceMarkup.objects.filter(insurer=insurer, service=service).first()


def insurer_fixed_price(*, insurer: Organisation, service: Service) -> InsurerFixedPrice | None:
    return InsurerFixedPrice.objects.filter(insurer=insurer, service=service).first()


def insurers_with_pricing() -> list[tuple[Organisation, InsurerPricing]]:
    """Every insurer, by name, with its pricing settings (the defaults, unsaved, when it has
    none): finance's overview, two queries."""
    insurers = list(Organisation.objects.filter(kind=OrganisationKind.INSURER).order_by("name"))
    saved = {p.insurer_id: p for p in InsurerPricing.objects.filter(insurer__in=insurers)}
    return [(i, saved.get(i.pk) or InsurerPricing(insurer=i)) for i in insurers]


def insurer_service_overrides(
    *, insurer: Organisation
) -> tuple[list[InsurerServiceMarkup], list[InsurerFixedPrice]]:
    """The insurer's per-service markups and fixed prices, each by service name."""
    markups = InsurerServiceMarkup.objects.filter(insurer=insurer).select_related("service")
    prices = InsurerFixedPrice.objects.filter(insurer=insurer).select_related("service")
    return (
        list(markups.order_by("service__name_en")),
        list(prices.order_by("service__name_en")),
    )


def tax_rate_table() -> list[TaxRate]:
    """The whole dated table, by province, tax and first day."""
    return list(TaxRate.objects.order_by("province", "tax_name", "valid_from"))


# --- Quotes ----------------------------------------------------------------------------------


def quote_current(*, case) -> Quote | None:
    """The case's standing quote (awaiting confirmation, confirmed or disputed) with its lines
    and taxes, or None (no clinic chosen yet, no clinic price yet, or the case cancelled).
    The caller has already checked the reader may see the case."""
    return (
        Quote.objects.filter(case=case)
        .exclude(status=QuoteStatus.SUPERSEDED)
        .select_related("location", "confirmed_by")
        .prefetch_related("lines__service", "taxes")
        .first()
    )


def quote_versions(*, case) -> list[Quote]:
    """Every version of the case's quote, newest first (superseded ones kept)."""
    return list(Quote.objects.filter(case=case).order_by("-version"))


def quote_confirmed_amount(*, case) -> Decimal | None:
    """The amount the insurer confirmed on the case's standing quote, or None when that quote
    is not confirmed (none yet, awaiting, disputed; or a new version superseded the confirmed
    one). The gate a payment to a provider passes first: no payment without a confirmed
    amount, and a changed quote needs a new confirmation."""
    return (
        Quote.objects.filter(case=case, status=QuoteStatus.CONFIRMED)
        .values_list("confirmed_total", flat=True)
        .first()
    )


# --- Pre-payment -----------------------------------------------------------------------------


def prepayment_needed(case) -> bool:
    """Whether the provider at the case's location is paid in advance, so the booking team
    sends finance an order (SOP case 2 step 3; `billing.orders.order_send`).

    The one rule, for the order and for the case pages that say "a pre-payment will be
    needed": a provider outside the network (`is_affiliate` unticked: found by management
    during an escalation, "willing to accept pre-payment"); or an affiliate that accepts
    pre-payment and has no direct billing (SOP case 4: "in the event that billing can be
    established, MedWorks will opt for that option"). False before a clinic is chosen.
    """
    if case.location_id is None:
        return False
    partner = case.location.partner
    if not partner.is_affiliate:
        return True
    arrangements = partner.billing_arrangements or []
    return partner.accepts_prepayment and BillingArrangement.DIRECT_BILLING not in arrangements
