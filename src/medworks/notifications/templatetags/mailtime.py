"""Tags and filters for email templates: `{{ slot.starts_at|when:location }}`,
`{{ location|address }}`, `{% service_names as service_list %}`."""

from django import template
from django.utils import translation

from ..formatting import address_line, format_when

register = template.Library()


@register.filter
def when(value, place=None) -> str:
    """A time in the place's (clinic's) zone, the zone written out, in the email's language."""
    return format_when(value, place)


@register.filter
def address(location) -> str:
    return address_line(location)


@register.simple_tag(takes_context=True)
def service_names(context) -> str:
    """The case's services, comma-separated, in the email's (the active) language.

    Reads `services` (English names) and `services_fr` (French names) from the context, as
    `bookings.emails` puts them there; French falls back to the English list without them.
    """
    names = context.get("services") or []
    if (translation.get_language() or "en")[:2] == "fr":
        names = context.get("services_fr") or names
    return ", ".join(str(name) for name in names)
