"""Charging the insurer's card for a case (SOP case 4 step 5: "we will then take payment
directly from the Insurance Partner's credit card, charging for services and appropriate
mark-up"), through the payment gateway, for what the insurer owes on the case's invoice.

`card_charge(invoice=, actor=, idempotency_key=)`, finance only:
- one CardCharge per idempotency key (unique): the same key again (a double click, a retry
  after a time-out) returns the charge already made and asks the processor nothing more;
- the amount is the invoice's balance, read from the ledger;
- approved: the payment is recorded on the invoice (billing.invoices.payment_record, method
  card, the processor's authorisation as reference: Dr bank / Cr receivable), the card's
  number and security code destroyed, a "card charged" event;
- declined: nothing posted, the case still owes, the charge says why; a retry is a new charge
  with a new key.
The processor is called inside the transaction that holds the invoice's lock: a second
charge of the same invoice waits, then finds nothing left to charge.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.billing.invoices import payment_record
from medworks.billing.models import Invoice, InvoiceLine, PaymentMethod
from medworks.billing.receivables import invoice_balance
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, PermissionDenied

from .gateway import GatewayUnavailable, gateway
from .models import CardCharge
from .vault import card_current, card_for_payment, card_secrets_destroy
from .workflow import CARD_CHARGE_WORKFLOW


def _case_of(invoice: Invoice):
    cases = {
        line.case
        for line in InvoiceLine.objects.filter(invoice=invoice, case__isnull=False).select_related(
            "case"
        )
    }
    if len(cases) != 1:
        raise DomainError(
            "card_charge_one_case",
            _("A card is charged for one case's invoice; this invoice bills %(n)s cases.")
            % {"n": len(cases)},
        )
    return cases.pop()


def card_charge(*, invoice: Invoice, actor: Actor, idempotency_key: str) -> CardCharge:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, Capability.INVOICING):
        raise PermissionDenied(
            "card_charge_forbidden", _("Only finance charges the insurer's card.")
        )
    key = (idempotency_key or "").strip()
    if not 16 <= len(key) <= 64:
        raise DomainError("card_charge_key", _("The charge has no valid idempotency key."))
    existing = CardCharge.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        existing = CardCharge.objects.filter(idempotency_key=key).first()
        if existing is not None:  # the same submit, made while this one waited for the lock
            return existing
        case = _case_of(locked)
        card = card_current(case)
        if card is None:
            raise DomainError(
                "card_none", _("No card is on file for %(order)s.") % {"order": case.order_id}
            )
        amount = invoice_balance(locked)
        if amount <= 0:
            raise DomainError(
                "card_charge_nothing_owed",
                _("Nothing is owed on %(number)s: the card is not charged.")
                % {"number": locked.display_number},
            )
        details = card_for_payment(card)
        processor = gateway()
        try:
            with transaction.atomic():
                charge = CardCharge.objects.create(
                    case=case,
                    card=card,
                    amount=amount,
                    idempotency_key=key,
                    gateway=processor.name,
                    requested_by=actor.user,
                )
        except IntegrityError:  # the same key, at the same moment
            return CardCharge.objects.get(idempotency_key=key)
        try:
            result = processor.charge(
                idempotency_key=key,
                amount=amount,
                currency=charge.currency,
                number=details.number,
                expiry=details.expiry,
                security_code=details.security_code,
                name_on_card=details.name_on_card,
            )
        except GatewayUnavailable:
            raise DomainError(
                "card_gateway_unavailable",
                _("The card processor did not answer: nothing was charged. Try again."),
            ) from None
        payload = {"charge_id": charge.pk, "card": card.masked, "amount": f"{amount:.2f}"}
        if not result.approved:
            CardCharge.objects.filter(pk=charge.pk).update(
                decline_reason=result.decline_reason[:200]
            )
            return CARD_CHARGE_WORKFLOW.fire(
                record=charge, name="decline", actor=actor, payload=payload
            )
        CardCharge.objects.filter(pk=charge.pk).update(gateway_reference=result.reference[:64])
        payment_record(
            insurer=locked.insurer,
            amount=amount,
            received_on=timezone.localdate(),
            method=PaymentMethod.CARD,
            reference=f"{card.masked} {result.reference}"[:100],
            actor=actor,
            allocations=[locked],
        )
        card_secrets_destroy(card=card, actor=actor, why=f"charge {charge.pk} recorded")
        charge = CARD_CHARGE_WORKFLOW.fire(
            record=charge, name="succeed", actor=actor, payload=payload
        )
    return charge


def charges_of(case) -> list[CardCharge]:
    return list(CardCharge.objects.filter(case=case).select_related("card"))
