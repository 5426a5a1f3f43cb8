"""The vault: the insurer's corporate card for a case (SOP case 4 step 4), the one place a card
number and a security code exist, as ciphertext (RULES.md, cards; PCI DSS v4.0.1).

- `card_store(...)`: the insurer enters its card in its portal for one of its cases, or staff
  (CARD_ENTER) enter it during a phone call; never by email. Checked first (`cards.py`: Luhn,
  brand and length, expiry, security code, name); the number and the security code sealed
  (`vault_crypto`, AES-256-GCM, each bound to its row and field); only the brand, the last
  four digits, the expiry and the name stay readable. A new card for the case replaces the
  one before (its secrets destroyed at once).
- `card_reveal(...)`: the full number (and the security code while it exists) for the call
  with the clinic: an allowed role (CARD_REVEAL) and a reason; every attempt, granted or
  refused, is in the audit trail with who, when, from where and why.
- `card_secrets_destroy(...)`: once the payment is recorded the security code and the number
  go; brand, last four, expiry and name stay. `cards_sweep()` (the worker's periodic job)
  destroys every security code past MEDWORKS_CVC_MAX_HOURS and every secret of a card whose
  expiry month has passed.
- `vault_reseal()`: after a new key is put first in MEDWORKS_CARD_KEYS, every sealed value is
  sealed again under it (`medworks vault-reseal`), then the old key can be dropped.
- `card_for_payment(card)`: the number, expiry and security code for the payment gateway,
  inside this app only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.billing.orders import CardOnFile
from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, NotFound, PermissionDenied

from .cards import (
    CardError,
    card_number_check,
    expiry_check,
    name_on_card_check,
    security_code_check,
)
from .models import CardEntry, ProviderBankAccount, StoredCard
from .vault_crypto import reseal, seal, unseal

_CLOSED = frozenset({BookingStatus.CANCELLED, BookingStatus.CLOSED})


def _context(card: StoredCard, field: str) -> str:
    return f"card:{card.pk}:{field}"


def _entry_of(actor: Actor, case: BookingRequest) -> str:
    """How the actor may enter a card for `case`, or PermissionDenied."""
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if actor.user is not None and actor_can(actor, Capability.CARD_ENTER):
        return CardEntry.PHONE
    if (
        actor.user is not None
        and actor_can(actor, Capability.INSURER_PORTAL)
        and actor.principal.organisation_id == case.insurer_id
    ):
        return CardEntry.PORTAL
    raise PermissionDenied(
        "card_forbidden",
        _("Only the case's insurer, in its portal, or the booking team by phone enters a card."),
    )


def card_reference(case: BookingRequest):
    """The order's line about the card (billing.orders.CardOnFile): masked, with the page."""
    card = card_current(case)
    if card is None:
        return None
    path = reverse("web:staff_card", args=[case.order_id])
    return CardOnFile(masked=card.masked, url=settings.MEDWORKS_BASE_URL.rstrip("/") + path)


def card_current(case: BookingRequest) -> StoredCard | None:
    """The card on file for the case (not replaced), or None."""
    return StoredCard.objects.filter(case=case, replaced_at__isnull=True).first()


def card_store(
    *,
    case: BookingRequest,
    number: str,
    name_on_card: str,
    expiry_month,
    expiry_year,
    security_code: str,
    actor: Actor,
    origin: str = "",
) -> StoredCard:
    """Check and seal the card; returns the StoredCard (readable: brand, last four, expiry,
    name). Refused with a CardError per field (nothing stored): the form shows it again
    without the number."""
    via = _entry_of(actor, case)
    if case.status in _CLOSED:
        raise DomainError(
            "card_case_closed", _("The case is over: no card is taken for it any more.")
        )
    errors: dict[str, list[str]] = {}
    checked = month = year = code = name = None
    try:
        checked = card_number_check(number)
    except CardError as exc:
        errors["number"] = [exc.message]
    try:
        month, year = expiry_check(expiry_month, expiry_year, today=timezone.localdate())
    except CardError as exc:
        errors["expiry"] = [exc.message]
    if checked is not None:
        try:
            code = security_code_check(security_code, brand=checked.brand)
        except CardError as exc:
            errors["security_code"] = [exc.message]
    try:
        name = name_on_card_check(name_on_card)
    except CardError as exc:
        errors["name_on_card"] = [exc.message]
    if errors:
        raise CardError("card_invalid", _("Check the card's details."), fields=errors)
    now = timezone.now()
    with transaction.atomic():
        BookingRequest.objects.select_for_update(of=("self",)).get(pk=case.pk)
        for old in StoredCard.objects.select_for_update().filter(
            case=case, replaced_at__isnull=True
        ):
            _destroy(old, number=True, security_code=True, when=now)
            StoredCard.objects.filter(pk=old.pk).update(replaced_at=now)
        card = StoredCard.objects.create(
            case=case,
            insurer=case.insurer,
            brand=checked.brand_label,
            last4=checked.last4,
            expiry_month=month,
            expiry_year=year,
            name_on_card=name,
            entered_via=via,
            entered_by=actor.user,
            security_code_expires_at=now + dt.timedelta(hours=settings.MEDWORKS_CVC_MAX_HOURS),
        )
        card.number_sealed = seal(checked.digits, context=_context(card, "number"))
        card.security_code_sealed = seal(code, context=_context(card, "security_code"))
        card.save(update_fields=["number_sealed", "security_code_sealed"])
        payload = {"card_id": card.pk, "card": card.masked, "via": via, "origin": origin[:100]}
        BookingEvent.objects.record(request=case, actor=actor, kind="card_on_file", payload=payload)
        audit_record(
            actor=actor, action="card.stored", obj=card, summary=card.masked, payload=payload
        )
    return card


@dataclass(frozen=True, repr=False)
class RevealedCard:
    """What the call with the clinic needs. Never logged, never stored, never in an email:
    shown once on a page that is not cached."""

    number: str
    security_code: str  # "" once destroyed
    name_on_card: str
    expiry: str

    def __repr__(self) -> str:
        return "<RevealedCard>"


def card_reveal(*, card: StoredCard, actor: Actor, reason: str, origin: str = "") -> RevealedCard:
    """The full card for the payment call: CARD_REVEAL and a reason; each attempt logged."""
    reason = " ".join((reason or "").split())
    refuse_card_numbers({"reason": reason})
    allowed = actor.user is not None and actor_can(actor, Capability.CARD_REVEAL)
    base = {"card_id": card.pk, "card": card.masked, "origin": origin[:100], "reason": reason}
    if not allowed or len(reason) < 5 or card.number_sealed is None:
        result = "forbidden" if not allowed else "no_reason" if len(reason) < 5 else "destroyed"
        audit_record(
            actor=actor,
            action="card.reveal_refused",
            obj=card,
            summary=f"{card.masked} reveal refused ({result})",
            payload={**base, "result": result},
        )
        if not allowed:
            raise PermissionDenied(
                "card_reveal_forbidden",
                _("Only the Chief of Staff and the corporate booking coordinator see a card."),
            )
        if result == "no_reason":
            raise DomainError(
                "card_reveal_reason",
                _("Say why the card is shown (for example: the payment call with the clinic)."),
                fields={"reason": [_("Say why.")]},
            )
        raise NotFound(
            "card_destroyed",
            _("The card's number was destroyed once its payment was recorded."),
        )
    revealed = RevealedCard(
        number=unseal(card.number_sealed, context=_context(card, "number")),
        security_code=(
            unseal(card.security_code_sealed, context=_context(card, "security_code"))
            if card.security_code_sealed is not None
            else ""
        ),
        name_on_card=card.name_on_card,
        expiry=f"{card.expiry_month:02d}/{card.expiry_year % 100:02d}",
    )
    audit_record(
        actor=actor,
        action="card.revealed",
        obj=card,
        summary=f"{card.masked} revealed",
        payload={**base, "result": "granted"},
    )
    return revealed


def card_for_payment(card: StoredCard) -> RevealedCard:
    """The card for the payment gateway (payments.charges): not a person's reveal, not
    logged as one; the charge is."""
    if card.number_sealed is None:
        raise NotFound(
            "card_destroyed", _("The card's number was destroyed: ask the insurer for it again.")
        )
    return RevealedCard(
        number=unseal(card.number_sealed, context=_context(card, "number")),
        security_code=(
            unseal(card.security_code_sealed, context=_context(card, "security_code"))
            if card.security_code_sealed is not None
            else ""
        ),
        name_on_card=card.name_on_card,
        expiry=f"{card.expiry_month:02d}/{card.expiry_year % 100:02d}",
    )


def _destroy(card: StoredCard, *, number: bool, security_code: bool, when) -> list[str]:
    fields, done = {}, []
    if security_code and card.security_code_sealed is not None:
        fields.update(security_code_sealed=None, security_code_destroyed_at=when)
        done.append("security_code")
    if number and card.number_sealed is not None:
        fields.update(number_sealed=None, number_destroyed_at=when)
        done.append("number")
    if fields:
        StoredCard.objects.filter(pk=card.pk).update(**fields)
        for name, value in fields.items():
            setattr(card, name, value)
    return done


def card_secrets_destroy(
    *, card: StoredCard, actor: Actor, why: str, number: bool = True
) -> list[str]:
    """The payment is recorded: the security code goes, and the number unless `number` is
    False (inside the caller's transaction). Returns what was destroyed."""
    done = _destroy(card, number=number, security_code=True, when=timezone.now())
    if done:
        audit_record(
            actor=actor,
            action="card.secrets_destroyed",
            obj=card,
            summary=f"{card.masked}: {', '.join(done)} destroyed ({why})",
            payload={"card_id": card.pk, "destroyed": done, "why": why},
        )
    return done


def cards_sweep(*, now: dt.datetime | None = None) -> int:
    """The worker's job: destroy every security code past its deadline and every secret of a
    card whose expiry month is over. Returns how many cards it changed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    changed = 0
    late_codes = StoredCard.objects.filter(
        security_code_sealed__isnull=False, security_code_expires_at__lte=now
    )
    expired = StoredCard.objects.filter(
        Q(number_sealed__isnull=False) | Q(security_code_sealed__isnull=False)
    ).filter(
        Q(expiry_year__lt=today.year) | Q(expiry_year=today.year, expiry_month__lt=today.month)
    )
    system = Actor.system("cards sweep")
    with transaction.atomic():
        for card in expired.select_for_update():
            if _destroy(card, number=True, security_code=True, when=now):
                changed += 1
                audit_record(
                    actor=system,
                    action="card.secrets_destroyed",
                    obj=card,
                    summary=f"{card.masked}: expired, destroyed",
                    payload={"card_id": card.pk, "why": "expired"},
                )
        for card in late_codes.select_for_update():
            if _destroy(card, number=False, security_code=True, when=now):
                changed += 1
                audit_record(
                    actor=system,
                    action="card.secrets_destroyed",
                    obj=card,
                    summary=f"{card.masked}: security code past its deadline, destroyed",
                    payload={"card_id": card.pk, "why": "deadline"},
                )
    return changed


def vault_reseal() -> int:
    """Seal every stored secret again under the current key. Returns how many were moved."""
    moved = 0
    with transaction.atomic():
        cards = StoredCard.objects.select_for_update().filter(
            Q(number_sealed__isnull=False) | Q(security_code_sealed__isnull=False)
        )
        for card in cards:
            update = {}
            for field, name in (
                ("number_sealed", "number"),
                ("security_code_sealed", "security_code"),
            ):
                blob = getattr(card, field)
                if blob is None:
                    continue
                fresh = reseal(blob, context=_context(card, name))
                if bytes(fresh) != bytes(blob):
                    update[field] = fresh
            if update:
                StoredCard.objects.filter(pk=card.pk).update(**update)
                moved += len(update)
        for account in ProviderBankAccount.objects.select_for_update():
            context = f"bank:{account.provider_id}:details"
            fresh = reseal(account.details_sealed, context=context)
            if bytes(fresh) != bytes(account.details_sealed):
                ProviderBankAccount.objects.filter(pk=account.pk).update(details_sealed=fresh)
                moved += 1
        from .eft import eft_files_reseal

        moved += eft_files_reseal()
    return moved
