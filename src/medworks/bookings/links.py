"""Signed links in emails: the insurer's one-click links (approve one offered date, or decline
them all), and the clinic's link to give dates (or say it cannot) without logging in.

Each token names what it acts on and expires; it carries no patient data. An insurer's link
works once: approving a slot that is taken or expired is refused by the use case, not the
token. A clinic's link works while the case waits for that clinic's dates (`clinic_link_current`).
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


# --- The clinic's link: give dates for one case without logging in ---------------------------

_CLINIC_SALT = "medworks.bookings.clinic-link"
CLINIC_LINK_PURPOSE = "clinic_dates"


def _since(case) -> str:
    """When the case entered its state: the link is for this one request for dates."""
    return case.status_changed_at.isoformat()


def clinic_link_token(*, case) -> str:
    """A signed token for the clinic asked for dates on `case`: it names the case, the location
    asked and the moment the case started waiting for it, so it stops working once the case
    leaves awaiting_availability (even if it comes back later) or another clinic is chosen, and
    after MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS in any case. No patient data in it."""
    data = {
        "p": CLINIC_LINK_PURPOSE,
        "c": case.pk,
        "l": case.location_id,
        "s": _since(case),
    }
    return signing.TimestampSigner(salt=_CLINIC_SALT).sign_object(data, compress=True)


def clinic_link_read(token: str) -> tuple[int, int, str]:
    """The (case id, location id, since) a clinic's token names. Raises signing.BadSignature
    (or SignatureExpired after MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS)."""
    data = signing.TimestampSigner(salt=_CLINIC_SALT).unsign_object(
        token, max_age=settings.MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS * 3600
    )
    if not isinstance(data, dict) or data.get("p") != CLINIC_LINK_PURPOSE:
        raise signing.BadSignature("not a clinic link")
    try:
        return int(data["c"]), int(data["l"]), str(data["s"])
    except (KeyError, TypeError, ValueError):
        raise signing.BadSignature("not a clinic link") from None


def clinic_link_current(case, *, location_id: int, since: str) -> bool:
    """Whether a clinic's link still stands for `case`: the case waits for dates, at the
    location the link was sent to, since the moment the link was made for."""
    from .models import BookingStatus

    return (
        case.status == BookingStatus.AWAITING_AVAILABILITY
        and case.location_id == location_id
        and _since(case) == since
    )


def clinic_link_url(*, case) -> str:
    path = reverse("web:clinic_link", kwargs={"token": clinic_link_token(case=case)})
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path
