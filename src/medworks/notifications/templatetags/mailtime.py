"""Filters for email templates: `{{ slot.starts_at|when:location }}`, `{{ location|address }}`."""

from django import template

from ..formatting import address_line, format_when

register = template.Library()


@register.filter
def when(value, place=None) -> str:
    """A time in the place's (clinic's) zone, the zone written out, in the email's language."""
    return format_when(value, place)


@register.filter
def address(location) -> str:
    return address_line(location)
