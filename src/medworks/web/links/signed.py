"""What every signed-link page shares: reading the token, and saying why a link cannot be used."""

from __future__ import annotations

from collections.abc import Callable

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

Refuse = Callable[[HttpRequest, str, str, int], HttpResponse]


def read_signed(
    request: HttpRequest, token: str, read: Callable[[str], tuple], refuse: Refuse
) -> tuple | HttpResponse:
    """The link's contents (`read(token)`), or the page saying why it cannot be used: expired
    (410) or damaged (400)."""
    try:
        return read(token)
    except signing.SignatureExpired:
        return refuse(
            request,
            _("This link has expired"),
            _(
                "Links in our emails work for a limited time. Sign in to the portal to answer, "
                "or reply to the email and the booking team will help."
            ),
            410,
        )
    except signing.BadSignature:
        return refuse(
            request,
            _("This link is not valid"),
            _(
                "The link may have been cut short by your email program. Open it again from the "
                "email, or sign in to the portal."
            ),
            400,
        )
