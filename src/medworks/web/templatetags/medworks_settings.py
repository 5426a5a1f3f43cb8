"""Formatting for finance's settings pages: a markup and a tax rate as a percentage."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import translation

register = template.Library()


def percent_text(number: Decimal) -> str:
    """Decimal('40.00') -> '40', Decimal('9.97500') -> '9.975', Decimal('0.00') -> '0'."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _written(number: Decimal) -> str:
    text = percent_text(number)
    if (translation.get_language() or "en").startswith("fr"):
        return text.replace(".", ",") + "\xa0%"
    return text + "%"


@register.filter
def markup(value: Decimal | None) -> str:
    """A markup, a percentage already: Decimal('40.00') -> '40%' (English), '40 %' (French)."""
    if value is None or value == "":
        return "—"
    return _written(Decimal(value))


@register.filter
def rate_percent(value: Decimal | None) -> str:
    """A tax rate, a fraction: Decimal('0.09975') -> '9.975%' (English), '9,975 %' (French)."""
    if value is None or value == "":
        return "—"
    return _written(Decimal(value) * 100)
