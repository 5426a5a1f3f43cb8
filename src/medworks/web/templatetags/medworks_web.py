"""Formatting for pages: money in CAD, labels of stored codes."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import translation

from medworks.core.money import format_money
from medworks.network.models import BillingArrangement, GeoPrecision, Province

register = template.Library()


@register.filter
def cad(value: Decimal | None) -> str:
    """Decimal('1250') -> '$1,250.00' (English) or '1 250,00 $' (French); None -> '—' (no
    price recorded yet)."""
    if value is None or value == "":
        return "—"
    return format_money(Decimal(value), translation.get_language() or "en")


@register.filter
def province_name(code: str) -> str:
    try:
        return Province(code).label
    except ValueError:
        return code


@register.filter
def precision_label(code: str) -> str:
    try:
        return GeoPrecision(code).label
    except ValueError:
        return code


@register.filter
def arrangement_labels(values: list[str]) -> str:
    labels = dict(BillingArrangement.choices)
    return ", ".join(str(labels.get(v, v)) for v in values or []) or "—"


@register.filter
def percent(rate: Decimal | None) -> str:
    """Decimal('0.09975') -> '9.975%' (English) or '9,975 %' (French)."""
    if rate is None or rate == "":
        return ""
    text = format(Decimal(rate) * 100, "f").rstrip("0").rstrip(".")
    if (translation.get_language() or "en").startswith("fr"):
        return text.replace(".", ",") + "\xa0%"
    return text + "%"
