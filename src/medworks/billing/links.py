"""Signed one-click links in the quote email: confirm the charges, or dispute them.

The token names the quote version and what to do with it, and expires after
MEDWORKS_OFFER_LINK_MAX_AGE_HOURS (the same age as the offered-dates links); it carries no
patient data. A link acts once: a version already answered, or superseded by a newer one, is
refused by the quote's workflow, not by the token (see web/links/quote.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext

from medworks.core.errors import NotFound

from .models import Quote

_SALT = "medworks.billing.quote-link"
QUOTE_LINK_KINDS = frozenset({"confirm", "dispute"})


def quote_link_token(*, kind: str, pk: int) -> str:
    """kind is 'confirm' or 'dispute'; pk is the Quote's (one version of a case's quote)."""
    if kind not in QUOTE_LINK_KINDS:
        raise ValueError(kind)
    return signing.TimestampSigner(salt=_SALT).sign_object({"k": kind, "id": pk}, compress=True)


def quote_link_read(token: str) -> tuple[str, int]:
    """The (kind, pk) a token names. Raises signing.BadSignature (or SignatureExpired)."""
    data = signing.TimestampSigner(salt=_SALT).unsign_object(
        token, max_age=settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS * 3600
    )
    kind = data.get("k") if isinstance(data, dict) else None
    if kind not in QUOTE_LINK_KINDS:
        raise signing.BadSignature("unknown quote link kind")
    return kind, int(data["id"])


def quote_link_url(*, kind: str, pk: int) -> str:
    path = reverse("web:quote_link", kwargs={"token": quote_link_token(kind=kind, pk=pk)})
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path


def quote_link_target(*, pk: int) -> Quote:
    """The quote version a signed link names, with its case, lines and taxes.

    The link page is for whoever holds the link (no login), so it shows no patient data: the
    Order Id, the insurer's reference and the charges."""
    found = (
        Quote.objects.select_related("case__insurer", "location")
        .prefetch_related("lines__service", "taxes")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound("quote_link_target_missing", gettext("This quote no longer exists."))
    return found
