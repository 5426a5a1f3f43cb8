"""Why a message waits for an agent, in the reader's language.

A reason is stored as data ({"code": ..., and what it names}) and worded when shown, so the
inbox reads in French for a French-speaking agent whatever language the fetch ran in. A reason
never quotes the message's text: field names, a domain, an Order Id, a card's last four digits.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_MALFORMED = {
    "no_headers": lambda: _("The message is malformed: it has no headers."),
    "broken_structure": lambda: _("The message is malformed: its parts cannot be found."),
    "unreadable": lambda: _("The message is malformed: it cannot be read."),
}


def _field_labels(names: list[str]) -> str:
    from medworks.bookings.forms import BookingRequestForm

    fields = BookingRequestForm.base_fields
    return ", ".join(str(fields[n].label) if n in fields else n for n in names)


def reason_text(reason: dict) -> str:
    code = reason.get("code", "")
    if code == "malformed":
        return _MALFORMED.get(reason.get("detail", ""), _MALFORMED["unreadable"])()
    if code == "too_large":
        return _("The message is too large to read: fill the form by hand.")
    if code == "no_sender":
        return _("The message has no sender address.")
    if code == "unknown_insurer":
        return _("No insurance partner is known to write from %(domain)s.") % {
            "domain": reason.get("domain", "")
        }
    if code == "card_number":
        endings = reason.get("last4", [])
        return ngettext(
            "It holds a card number (ending %(last4)s): it is never made into a case "
            "automatically.",
            "It holds card numbers (ending %(last4)s): it is never made into a case automatically.",
            len(endings),
        ) % {"last4": ", ".join(endings)}
    if code == "incomplete":
        names = reason.get("fields", [])
        return ngettext(
            "Missing or not valid: %(fields)s.",
            "Missing or not valid: %(fields)s.",
            len(names),
        ) % {"fields": _field_labels(names)}
    if code == "unknown_order":
        return _("Its subject names %(order)s, which is no case.") % {
            "order": reason.get("order_id", "")
        }
    if code == "refused":
        return _("The desk refused to make a case of it; enter it by hand.")
    if code == "own_message":
        return _("Sent by the desk itself.")
    return _("Needs an agent.")


def reasons_text(reasons: list[dict]) -> list[str]:
    return [reason_text(reason) for reason in reasons or []]
