"""The card processor behind the insurer's card charges (SOP case 4 step 5), one interface
with an offline implementation for development and tests, and room for a real processor.

A gateway takes one charge with an idempotency key: asked twice with the same key (a retry
after a time-out), it answers the first result and charges nothing again, as real processors
do (Stripe's, Moneris', Bambora's idempotency keys). `gateway()` builds the one named by
settings.MEDWORKS_PAYMENT_GATEWAY.

A real processor would be a class with the same `charge` (and ideally tokenise the card so the
vault keeps only the processor's token); the vault hands it the number once, never to a log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str  # the processor's authorisation, "" when declined
    decline_reason: str = ""  # the processor's words, for the person who retries


class PaymentGateway(Protocol):
    name: str

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        number: str,
        expiry: str,
        security_code: str,
        name_on_card: str,
    ) -> ChargeResult: ...


class GatewayUnavailable(Exception):
    """The processor did not answer (a time-out, a network error): nothing is known charged;
    the same idempotency key retried later settles it."""


class OfflineGateway:
    """Records each charge by its key and approves it, except a card whose number ends in 0002
    (declined, "insufficient funds", like processors' test cards) or any card while
    `decline_all` is set (a test tells it to decline)."""

    name = "offline"
    decline_all = False
    _charges: dict[str, ChargeResult] = {}  # by idempotency key: the processor's memory
    calls: list[str] = []  # every key it was asked to charge, repeats included

    def charge(
        self, *, idempotency_key, amount, currency, number, expiry, security_code, name_on_card
    ) -> ChargeResult:
        type(self).calls.append(idempotency_key)
        known = type(self)._charges.get(idempotency_key)
        if known is not None:
            return known
        if type(self).decline_all or number.endswith("0002"):
            result = ChargeResult(False, "", "Declined by the card issuer: insufficient funds.")
        else:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
            result = ChargeResult(True, f"OFF-{digest}")
        type(self)._charges[idempotency_key] = result
        return result

    @classmethod
    def reset(cls) -> None:
        cls._charges, cls.calls, cls.decline_all = {}, [], False


def gateway() -> PaymentGateway:
    return import_string(settings.MEDWORKS_PAYMENT_GATEWAY)()
