"""Reads of the booking inbox. Lists never load the raw message (it stays in the database)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext

from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.errors import NotFound
from medworks.documents.storage import unseal

from .models import InboundEmail, InboundStatus

_LIST_FIELDS = (
    "id",
    "from_address",
    "from_name",
    "subject",
    "received_at",
    "status",
    "reasons",
    "holds_card_number",
    "case__order_id",
)


def inbox_waiting() -> QuerySet[InboundEmail]:
    """The messages waiting for an agent, newest first: sender, subject, when, why."""
    return (
        InboundEmail.objects.filter(status=InboundStatus.NEEDS_AGENT)
        .select_related("case")
        .only(*_LIST_FIELDS)
        .order_by("-received_at", "-id")
    )


def inbound_email_waiting_get(*, pk: int | str, actor: Actor, origin: str = "") -> InboundEmail:
    """A waiting message an agent opens in the intake page (the read is recorded: the message
    carries patient information). NotFound when it is not waiting (any more)."""
    inbound = None
    if str(pk).isdigit() and len(str(pk)) <= 18:
        inbound = (
            InboundEmail.objects.filter(pk=int(pk), status=InboundStatus.NEEDS_AGENT)
            .defer("raw_sealed")
            .first()
        )
    if inbound is None:
        raise NotFound("inbound_not_found", gettext("No such email waiting for an agent."))
    audit_record(
        actor=actor,
        action="inbound_email.viewed",
        obj=inbound,
        summary=f"inbound email {inbound.pk} opened",
        payload={"origin": origin[:100]},
    )
    return inbound


def inbound_emails_filed_on(*, case: BookingRequest) -> QuerySet[InboundEmail]:
    """The replies filed on a case (its staff page links each one's download)."""
    return (
        InboundEmail.objects.filter(case=case, status=InboundStatus.FILED)
        .only("id", "from_address", "from_name", "received_at", "case_id")
        .order_by("received_at", "id")
    )


def raw_of(inbound_email: InboundEmail) -> bytes:
    """The original message's bytes (unsealed)."""
    sealed = (
        InboundEmail.objects.filter(pk=inbound_email.pk).values_list("raw_sealed", flat=True).get()
    )
    return unseal(bytes(sealed))


def inbound_email_get(*, pk: int | str) -> InboundEmail | None:
    """One message by id, without its bytes (an action on it; nothing of it is shown)."""
    if not str(pk).isdigit() or len(str(pk)) > 18:
        return None
    return InboundEmail.objects.filter(pk=int(pk)).defer("raw_sealed").first()
