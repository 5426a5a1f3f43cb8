"""The quote's figures: clinic cost + MedWorks fee + sales tax, to the cent.

`quote_compute` is the arithmetic: given the rates (or reading them from the dated table at the
tax point) it returns frozen figures and a sentence saying which rule and rates it used. It
writes nothing and never reads "today". `insurer_quote` reads an insurer's settings (markup,
per-service markup, fixed price, place of supply, tax treatment, taxable base) and calls it.

Rules (RULES.md, Money and sales tax):

- Decimal only: a float anywhere is a TypeError (a programming error, not a rounding question).
- Each line is rounded half-up to the cent; the total is the sum of the rounded lines:
  `total = clinic_cost + medworks_fee + sum(tax amounts)`, `subtotal = clinic_cost + fee`.
- A fixed price is the price before tax: `subtotal = fixed_price`, `fee = fixed_price - cost`.
- Tax lines: one HST line where HST applies (never split federal/provincial); GST and QST as
  two lines in Quebec; GST alone elsewhere. Zero-rated and exempt: no tax line.
- The taxable base is the subtotal (the SOP's rule) or the fee alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from medworks.core.errors import DomainError
from medworks.core.money import is_plain_decimal, to_money

from .models import DEFAULT_MARKUP_PERCENT, TaxableBase, TaxName, TaxTreatment
from .selectors import (
    insurer_fixed_price,
    insurer_pricing_of,
    insurer_service_markup,
    province_code,
    tax_rates_at,
)

# Lines are listed in this order: GST before QST (Quebec), HST alone, PST last.
_LINE_ORDER = {TaxName.GST: 0, TaxName.HST: 1, TaxName.QST: 2, TaxName.PST: 3}


@dataclass(frozen=True)
class Rate:
    """One tax in force: its name, its rate as a fraction, and since when (for the rule)."""

    name: str
    rate: Decimal
    valid_from: dt.date | None = None


@dataclass(frozen=True)
class TaxLine:
    name: str  # GST, HST, QST, PST
    rate: Decimal  # a fraction: 0.13 for 13%
    amount: Decimal  # to the cent


@dataclass(frozen=True)
class QuoteFigures:
    clinic_cost: Decimal
    medworks_fee: Decimal
    subtotal: Decimal  # clinic cost + fee: the price before tax
    taxes: tuple[TaxLine, ...]
    total: Decimal
    rule: str  # which rule and rates were used, for people
    province: str  # the place of supply whose tax was applied
    tax_point: dt.date


def percent_text(value: Decimal) -> str:
    """50 -> "50", 12.50 -> "12.5" (never "5E+1")."""
    return format(value.normalize(), "f")


def rate_text(rate: Decimal) -> str:
    """A fraction as a percentage: 0.09975 -> "9.975"."""
    return percent_text(rate * 100)


def _decimal(value: Any, *, field: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{field} must not be a float; pass a Decimal, int or str")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{field} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        number = None
    if isinstance(value, str) and not is_plain_decimal(value):
        number = None  # "1e3", "١٢", "1_000": Decimal reads them, the desk does not
    if number is None or not number.is_finite():
        raise DomainError(
            f"{field}_invalid",
            _("%(value)s is not a number.") % {"value": repr(value)},
            fields={field: [_("Enter a number such as 200.00.")]},
        )
    return number


def _amount(value: Any, *, field: str) -> Decimal:
    """A non-negative amount given to the cent (200, 200.5 and 200.00 are; 200.005 is not)."""
    number = _decimal(value, field=field)
    if number < 0:
        raise DomainError(
            f"{field}_negative",
            _("An amount cannot be negative (%(value)s).") % {"value": number},
            fields={field: [_("Enter zero or more.")]},
        )
    cents = to_money(number)
    if cents != number:
        raise DomainError(
            f"{field}_not_cents",
            _("An amount has at most two decimals (%(value)s).") % {"value": number},
            fields={field: [_("Enter the amount to the cent, such as 200.00.")]},
        )
    return cents


def _markup(value: Any) -> Decimal:
    number = _decimal(value, field="markup_percent")
    if number < 0:
        raise DomainError(
            "markup_percent_negative",
            _("A markup cannot be negative (%(value)s%%).") % {"value": number},
            fields={"markup_percent": [_("Enter zero or more.")]},
        )
    return number


def _choice(value: Any, choices: type, *, field: str) -> str:
    text = str(value)
    if text not in choices.values:
        raise DomainError(
            f"{field}_unknown",
            _("%(value)s is not one of %(choices)s.")
            % {"value": repr(text), "choices": ", ".join(choices.values)},
        )
    return text


def _ordered(rates: Sequence[Rate], *, province: str, tax_point: dt.date) -> list[Rate]:
    names = [r.name for r in rates]
    if len(set(names)) != len(names) or (TaxName.HST in names and TaxName.GST in names):
        # HST includes the GST: a table holding both for one date is wrong, not to be summed.
        raise DomainError(
            "tax_rates_inconsistent",
            _("The tax table's rates for %(province)s on %(date)s overlap: %(names)s.")
            % {"province": province, "date": tax_point.isoformat(), "names": ", ".join(names)},
        )
    for r in rates:
        if isinstance(r.rate, float):
            raise TypeError("a tax rate must not be a float")
    return sorted(rates, key=lambda r: (_LINE_ORDER.get(r.name, 9), r.name))


def _rates_text(rates: Sequence[Rate]) -> str:
    parts = []
    for r in rates:
        if r.valid_from is None:
            parts.append(
                _("%(name)s %(percent)s%%") % {"name": r.name, "percent": rate_text(r.rate)}
            )
        else:
            parts.append(
                _("%(name)s %(percent)s%% (rate in force from %(valid_from)s)")
                % {
                    "name": r.name,
                    "percent": rate_text(r.rate),
                    "valid_from": r.valid_from.isoformat(),
                }
            )
    return " + ".join(parts)


def _fee(*, cost: Decimal, markup: Decimal, fixed_price: Any) -> tuple[Decimal, Decimal, str]:
    """One line's fee: (fee, price before tax, the sentence saying how it was made)."""
    if fixed_price is not None:
        subtotal = _amount(fixed_price, field="fixed_price")
        if subtotal < cost:
            raise DomainError(
                "fixed_price_below_cost",
                _(
                    "The fixed price %(price)s is below the clinic cost %(cost)s: the MedWorks "
                    "fee would be negative. Review the contract price or quote with a markup."
                )
                % {"price": subtotal, "cost": cost},
            )
        fee_rule = _(
            "Fixed price %(price)s before tax; the MedWorks fee is what remains after the "
            "clinic cost."
        ) % {"price": subtotal}
        return subtotal - cost, subtotal, fee_rule
    fee = to_money(cost * markup / 100)
    fee_rule = _("MedWorks fee: %(percent)s%% of the clinic cost.") % {
        "percent": percent_text(markup)
    }
    return fee, cost + fee, fee_rule


def _taxes(
    *,
    subtotal: Decimal,
    fee: Decimal,
    code: str,
    tax_point: dt.date,
    treatment: str,
    taxable_base: str,
    rates: Sequence[Rate] | None,
) -> tuple[tuple[TaxLine, ...], str]:
    """The tax lines on a price before tax (`subtotal`, of which `fee` is MedWorks'), each
    rounded half-up once, and the sentence saying which rule and rates were used."""
    if treatment == TaxTreatment.ZERO_RATED:
        return (), _("Zero-rated supply (place of supply %(province)s): no sales tax.") % {
            "province": code
        }
    if treatment != TaxTreatment.TAXABLE:
        return (), _("Exempt supply (place of supply %(province)s): no sales tax.") % {
            "province": code
        }
    if rates is None:
        rates = [
            Rate(name=row.tax_name, rate=row.rate, valid_from=row.valid_from)
            for row in tax_rates_at(code, tax_point)
        ]
    ordered = _ordered(rates, province=code, tax_point=tax_point)
    base = subtotal if taxable_base == TaxableBase.COST_PLUS_FEE else fee
    lines = tuple(
        TaxLine(name=r.name, rate=r.rate.normalize(), amount=to_money(base * r.rate))
        for r in ordered
    )
    values = {"province": code, "date": tax_point.isoformat(), "rates": _rates_text(ordered)}
    if taxable_base == TaxableBase.COST_PLUS_FEE:
        rule = (
            _(
                "Sales tax of %(province)s on %(date)s: %(rates)s, on the clinic cost plus "
                "the MedWorks fee."
            )
            % values
        )
    else:
        rule = (
            _("Sales tax of %(province)s on %(date)s: %(rates)s, on the MedWorks fee only.")
            % values
        )
    return lines, rule


def _tax_terms(
    *, province: str, tax_point: Any, treatment: str, taxable_base: str
) -> tuple[str, str, str]:
    code = province_code(province)
    if not isinstance(tax_point, dt.date) or isinstance(tax_point, dt.datetime):
        raise TypeError("tax_point must be a date, not a datetime or text")
    treatment = _choice(treatment, TaxTreatment, field="tax_treatment")
    taxable_base = _choice(taxable_base, TaxableBase, field="taxable_base")
    return code, treatment, taxable_base


def quote_compute(
    *,
    clinic_cost: Decimal,
    province: str,
    tax_point: dt.date,
    markup_percent: Decimal | int = DEFAULT_MARKUP_PERCENT,
    fixed_price: Decimal | None = None,
    treatment: str = TaxTreatment.TAXABLE,
    taxable_base: str = TaxableBase.COST_PLUS_FEE,
    rates: Sequence[Rate] | None = None,
) -> QuoteFigures:
    """The figures of one service's quote; see the module docstring for the rules.

    `province` is the place of supply. `rates` are the taxes in force there at `tax_point`;
    when None they are read from the table (`selectors.tax_rates_at`). DomainError on a
    negative or sub-cent amount, an unknown province, a fixed price below the clinic cost, or a
    missing rate; TypeError on a float.
    """
    cost = _amount(clinic_cost, field="clinic_cost")
    markup = _markup(markup_percent)
    code, treatment, taxable_base = _tax_terms(
        province=province, tax_point=tax_point, treatment=treatment, taxable_base=taxable_base
    )
    fee, subtotal, fee_rule = _fee(cost=cost, markup=markup, fixed_price=fixed_price)
    lines, tax_rule = _taxes(
        subtotal=subtotal,
        fee=fee,
        code=code,
        tax_point=tax_point,
        treatment=treatment,
        taxable_base=taxable_base,
        rates=rates,
    )
    total = subtotal + sum((line.amount for line in lines), Decimal("0.00"))
    return QuoteFigures(
        clinic_cost=cost,
        medworks_fee=fee,
        subtotal=subtotal,
        taxes=lines,
        total=total,
        rule=f"{fee_rule} {tax_rule}",
        province=code,
        tax_point=tax_point,
    )


def _insurer_fee_terms(
    *, insurer, pricing, service, markup_percent
) -> tuple[Decimal | int, Decimal | None, str]:
    """(markup, fixed price or None, the sentence naming where they come from) for one service:
    the markup given here, the insurer's fixed price for the service, its markup for the
    service, its own markup, 50%."""
    names = {"insurer": insurer.name, "service": getattr(service, "code", "")}
    if markup_percent is not None:
        return (
            markup_percent,
            None,
            _("Markup given for this quote, not the settings of %(insurer)s.") % names,
        )
    if service is not None:
        fixed_row = insurer_fixed_price(insurer=insurer, service=service)
        if fixed_row is not None:
            return (
                pricing.markup_percent,
                fixed_row.price,
                _("Contract price of %(insurer)s for %(service)s.") % names,
            )
        markup_row = insurer_service_markup(insurer=insurer, service=service)
        if markup_row is not None:
            return (
                markup_row.markup_percent,
                None,
                _("Markup of %(insurer)s for %(service)s.") % names,
            )
    return pricing.markup_percent, None, _("Pricing of %(insurer)s.") % names


def _place_of_supply(pricing, province: str) -> tuple[str, str]:
    """The insurer's place of supply when it has one, else where the service is performed."""
    performed = province_code(province)
    if pricing.place_of_supply:
        place = pricing.place_of_supply
        return place, _("Place of supply %(province)s (the insurer's setting).") % {
            "province": place
        }
    return performed, _("Place of supply %(province)s, where the service is performed.") % {
        "province": performed
    }


def insurer_quote(
    *,
    insurer,
    clinic_cost: Decimal,
    province: str,
    tax_point: dt.date,
    service=None,
    markup_percent: Decimal | int | None = None,
) -> QuoteFigures:
    """The quote for `insurer`, for a service performed in `province`, with its settings.

    The fee comes from, first to last: `markup_percent` given here (this quote only), the
    insurer's fixed price for `service`, its markup for `service`, its own markup, 50%. The tax
    is that of its place of supply when it has one, else of `province`; its tax treatment and
    taxable base apply. An insurer without settings gets the defaults.
    """
    pricing = insurer_pricing_of(insurer)
    markup, fixed, source = _insurer_fee_terms(
        insurer=insurer, pricing=pricing, service=service, markup_percent=markup_percent
    )
    place, supply = _place_of_supply(pricing, province)
    figures = quote_compute(
        clinic_cost=clinic_cost,
        province=place,
        tax_point=tax_point,
        markup_percent=markup,
        fixed_price=fixed,
        treatment=pricing.tax_treatment,
        taxable_base=pricing.taxable_base,
    )
    return dataclasses.replace(figures, rule=f"{source} {supply} {figures.rule}")


# --- Several services on one quote -----------------------------------------------------------


@dataclass(frozen=True)
class LineFigures:
    """One service of a quote: its clinic cost, MedWorks fee and price before tax."""

    service: Any  # the network.Service priced
    clinic_cost: Decimal
    medworks_fee: Decimal
    amount: Decimal  # clinic cost + fee: this service's price before tax
    rule: str  # how the fee was made


@dataclass(frozen=True)
class QuoteSheet:
    """A quote of several services: lines, then the tax lines on their sum, then the total.

    Every amount is rounded half-up once, where it is made (a fee per line, a tax per tax line);
    the sums are sums of rounded amounts: `subtotal = sum(line.amount)`,
    `total = subtotal + sum(tax.amount)`."""

    lines: tuple[LineFigures, ...]
    clinic_cost: Decimal  # sum of the lines' clinic costs
    medworks_fee: Decimal  # sum of the lines' fees
    subtotal: Decimal  # sum of the lines' prices before tax
    taxes: tuple[TaxLine, ...]  # one per tax (one HST line; GST then QST in Quebec)
    total: Decimal
    rule: str
    province: str  # the place of supply
    tax_point: dt.date


def insurer_quote_lines(
    *,
    insurer,
    items: Sequence[tuple[Any, Decimal]],
    province: str,
    tax_point: dt.date,
    rates: Sequence[Rate] | None = None,
) -> QuoteSheet:
    """The quote for `insurer` of several services performed in `province`: `items` are
    (service, clinic cost) pairs, in the order the lines are shown.

    Each line's fee follows `insurer_quote`'s order (the insurer's fixed price for the service,
    its markup for the service, its own markup, 50%). The tax is computed once on the sum of the
    lines (one line per tax, as an invoice shows it), at the insurer's place of supply or else
    `province`, with its tax treatment and taxable base. Refusals are those of `quote_compute`;
    no line at all is `quote_lines_missing`.
    """
    if not items:
        raise DomainError("quote_lines_missing", _("A quote needs at least one service."))
    pricing = insurer_pricing_of(insurer)
    place, supply = _place_of_supply(pricing, province)
    code, treatment, taxable_base = _tax_terms(
        province=place,
        tax_point=tax_point,
        treatment=pricing.tax_treatment,
        taxable_base=pricing.taxable_base,
    )
    lines = []
    for service, clinic_cost in items:
        cost = _amount(clinic_cost, field="clinic_cost")
        markup, fixed, source = _insurer_fee_terms(
            insurer=insurer, pricing=pricing, service=service, markup_percent=None
        )
        fee, amount, fee_rule = _fee(cost=cost, markup=_markup(markup), fixed_price=fixed)
        rule = _("%(service)s: %(source)s %(fee_rule)s") % {
            "service": getattr(service, "code", ""),
            "source": source,
            "fee_rule": fee_rule,
        }
        lines.append(LineFigures(service, cost, fee, amount, rule))
    zero = Decimal("0.00")
    clinic_total = sum((line.clinic_cost for line in lines), zero)
    fee_total = sum((line.medworks_fee for line in lines), zero)
    subtotal = sum((line.amount for line in lines), zero)
    taxes, tax_rule = _taxes(
        subtotal=subtotal,
        fee=fee_total,
        code=code,
        tax_point=tax_point,
        treatment=treatment,
        taxable_base=taxable_base,
        rates=rates,
    )
    return QuoteSheet(
        lines=tuple(lines),
        clinic_cost=clinic_total,
        medworks_fee=fee_total,
        subtotal=subtotal,
        taxes=taxes,
        total=subtotal + sum((t.amount for t in taxes), zero),
        rule=" ".join([*(line.rule for line in lines), supply, tax_rule]),
        province=code,
        tax_point=tax_point,
    )


def quote_as_dict(figures: QuoteFigures) -> dict[str, Any]:
    """The figures as JSON-ready values: every amount and rate a decimal string."""
    return {
        "clinic_cost": f"{figures.clinic_cost:.2f}",
        "medworks_fee": f"{figures.medworks_fee:.2f}",
        "subtotal": f"{figures.subtotal:.2f}",
        "taxes": [
            {"name": t.name, "rate": format(t.rate, "f"), "amount": f"{t.amount:.2f}"}
            for t in figures.taxes
        ],
        "total": f"{figures.total:.2f}",
        "province": figures.province,
        "tax_point": figures.tax_point.isoformat(),
        "rule": figures.rule,
    }
