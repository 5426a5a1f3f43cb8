"""Signed one-click links in emails: approve one offered date, or decline them all.

The token names the slot (or offer) and expires; it carries no patient data. A link works
once: approving a slot that is taken or expired is refused by the use case, not the token.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "medworks.bookings.offer-link"


def _sign(kind: str, pk: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"k": kind, "id": pk}, compress=True)


def offer_link_token(*, kind: str, pk: int) -> str:
    """kind is 'approve' (pk of an OfferSlot) or 'decline' (pk of an AvailabilityOffer)."""
    if kind not in {"approve", "decline"}:
        raise ValueError(kind)
    return _sign(kind, pk)


def offer_link_read(token: str) -> tuple[str, int]:
    """The (kind, pk) a token names. Raises signing.BadSignature (or SignatureExpired)."""
    data = signing.TimestampSigner(salt=_SALT).unsign_object(
        token, max_age=settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS * 3600
    )
    return data["k"], int(data["id"])


def offer_link_url(*, kind: str, pk: int) -> str:
    path = reverse("web:offer_link", kwargs={"token": offer_link_token(kind=kind, pk=pk)})
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path
