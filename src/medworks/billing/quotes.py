"""Every write about a case's quote (the insurer's confirmation of charges, SOP case 2 step 4).
Keyword-only, one transaction each.

The lifecycle is QUOTE_WORKFLOW (billing/workflow.py). `quote_prepare` writes a version in its
initial state (awaiting the insurer's confirmation), superseding the standing one; the insurer
confirms or disputes it (`quote_confirm`, `quote_dispute`). Three effects on the booking
workflow, registered from BillingConfig.ready(), keep the quote in step with the case: a
clinic chosen prepares one (`quote_on_clinic_chosen`), a case cancelled supersedes it
(`quote_on_case_cancelled`), and so does a clinic that cannot offer dates
(`quote_on_clinic_declined`).

Who may: staff (or the system) prepare and supersede; the case's insurer (its user, its API
key, its contact through a signed link) confirms or disputes, or staff record its answer for it
with a note saying how it was given. An actor with no business with the case gets NotFound, so
another insurer learns nothing of the quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.workflow import party_of
from medworks.core.actor import Actor, Party
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.network.models import Location, Offering, Service

from .emails import insurer_quote
from .models import CostSource, Quote, QuoteLine, QuoteStatus, QuoteTax
from .pricing import QuoteSheet, insurer_quote_lines
from .workflow import QUOTE_WORKFLOW, quote_event_write

# A requested service has no clinic price at the case's location and none was entered: staff
# enter the clinic's cost for this case (`quote_prepare(clinic_costs=...)`).
QUOTE_CLINIC_COST_MISSING = "quote_clinic_cost_missing"
_PREPARERS = frozenset({Party.STAFF, Party.SYSTEM})
# A quote no longer changes once its case has ended.
_ENDED = frozenset({BookingStatus.CANCELLED, BookingStatus.CLOSED})
# A standing quote in one of these is kept when a new computation gives the same figures.
_KEPT_WHEN_UNCHANGED = frozenset({QuoteStatus.AWAITING_CONFIRMATION, QuoteStatus.CONFIRMED})


def _party_on(actor: Actor, case: BookingRequest) -> Party:
    """The actor's party on the case; NotFound when it has no business with it."""
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    party = party_of(actor, case)
    if party is None:
        raise NotFound(
            "quote_not_found",
            _("No quote of case %(order_id)s for you.") % {"order_id": case.order_id},
        )
    return party


def _service_name(service: Service) -> str:
    language = (translation.get_language() or "en").lower()
    name = service.name_fr if language.startswith("fr") and service.name_fr else service.name_en
    return _("%(name)s (%(code)s)") % {"name": name, "code": service.code}


def _standing(case: BookingRequest) -> Quote | None:
    return (
        Quote.objects.filter(case=case)
        .exclude(status=QuoteStatus.SUPERSEDED)
        .prefetch_related("lines", "taxes")
        .first()
    )


def _entered(case: BookingRequest, clinic_costs: Mapping | None) -> dict[int, Decimal]:
    """The costs staff entered, by service id; each must be a service the case asks for."""
    entered: dict[int, Decimal] = {}
    wanted = set(case.services.values_list("pk", flat=True))
    unknown = []
    for key, cost in (clinic_costs or {}).items():
        service_id = key.pk if isinstance(key, Service) else key
        if isinstance(service_id, bool) or not isinstance(service_id, int):
            raise TypeError("clinic_costs are keyed by service id")
        if service_id not in wanted:
            unknown.append(str(service_id))
        elif cost is not None:
            entered[service_id] = cost
    if unknown:
        raise DomainError(
            "quote_service_not_requested",
            _("Case %(order_id)s does not ask for the service(s) %(services)s.")
            % {"order_id": case.order_id, "services": ", ".join(unknown)},
            fields={"clinic_costs": [_("Enter costs only for the services requested.")]},
        )
    return entered


def _costs(
    *,
    services: list[Service],
    location: Location,
    standing: Quote | None,
    entered: dict[int, Decimal],
) -> list[tuple[Service, Decimal, str]]:
    """(service, clinic cost, where it came from) for each requested service.

    First to last: the cost entered now; the cost entered for an earlier version at the same
    location (kept until replaced); the location's clinic price in the directory. A service
    with none of these is refused with QUOTE_CLINIC_COST_MISSING, naming it."""
    directory = dict(
        Offering.objects.filter(
            location=location,
            service__in=services,
            is_active=True,
            clinic_price__isnull=False,
        ).values_list("service_id", "clinic_price")
    )
    carried = {}
    if standing is not None and standing.location_id == location.pk:
        carried = {
            line.service_id: line.clinic_cost
            for line in standing.lines.all()
            if line.cost_source == CostSource.ENTERED
        }
    costs, missing = [], []
    for service in services:
        if service.pk in entered:
            costs.append((service, entered[service.pk], CostSource.ENTERED))
        elif service.pk in carried:
            costs.append((service, carried[service.pk], CostSource.ENTERED))
        elif service.pk in directory:
            costs.append((service, directory[service.pk], CostSource.DIRECTORY))
        else:
            missing.append(service)
    if missing:
        names = ", ".join(_service_name(s) for s in missing)
        raise DomainError(
            QUOTE_CLINIC_COST_MISSING,
            _(
                "%(location)s has no clinic price in the directory for %(services)s: enter "
                "the clinic's cost for this case to prepare the quote."
            )
            % {"location": location.name, "services": names},
            fields={
                "clinic_costs": [
                    _("Enter the clinic's cost for %(services)s.") % {"services": names}
                ]
            },
        )
    return costs


def _same(quote: Quote, *, location: Location, sheet: QuoteSheet, sources: list[str]) -> bool:
    """Whether a new computation says what the standing quote says (so no new version)."""
    old_lines = [
        (line.service_id, line.cost_source, line.clinic_cost, line.medworks_fee, line.amount)
        for line in quote.lines.all()
    ]
    new_lines = [
        (line.service.pk, source, line.clinic_cost, line.medworks_fee, line.amount)
        for line, source in zip(sheet.lines, sources, strict=True)
    ]
    old_taxes = [(t.name, t.rate, t.amount) for t in quote.taxes.all()]
    new_taxes = [(t.name, t.rate, t.amount) for t in sheet.taxes]
    return (
        quote.location_id == location.pk
        and quote.place_of_supply == sheet.province
        and quote.total == sheet.total
        and old_lines == new_lines
        and old_taxes == new_taxes
    )


def quote_prepare(
    *,
    case: BookingRequest,
    actor: Actor,
    clinic_costs: Mapping[int, Decimal] | None = None,
) -> Quote:
    """The case's quote at its chosen clinic, as a new version awaiting the insurer's
    confirmation; the standing version (if any) is superseded and kept.

    One line per requested service: its clinic cost is the one given in `clinic_costs` (by
    service id), else the one entered for an earlier version at the same location, else the
    location's clinic price in the directory. The fee, the place of supply (the insurer's
    setting, else the clinic location's province), the tax treatment and base are the
    insurer's (`pricing.insurer_quote_lines`).

    The tax point is today's local date for now: the rates are read on the day the quote is
    made. When invoices exist, the invoice's issue date replaces it as the tax point (RULES.md:
    the earlier of the invoice date and the payment date, never "today").

    When the figures come out the same as the standing quote's (same clinic, lines, taxes and
    total), and that quote awaits confirmation or is confirmed, it is returned unchanged: a new
    version is made per change, and a confirmation stands until something changes. A disputed
    quote is always replaced by a new version (for the insurer to answer again).

    Staff or the system only (PermissionDenied `quote_forbidden`). Refused: no clinic chosen
    (`quote_location_missing`), a case cancelled or closed (`quote_case_ended`), a service
    without a clinic cost (QUOTE_CLINIC_COST_MISSING, naming it), a cost entered for a service
    the case does not ask for (`quote_service_not_requested`), and pricing's refusals.
    """
    party = _party_on(actor, case)
    if party not in _PREPARERS:
        raise PermissionDenied("quote_forbidden", _("Only MedWorks prepares a quote."))
    with transaction.atomic():
        locked = lock_case(case.pk)  # the one lock order: the case, then its quotes
        if locked.status in _ENDED:
            raise DomainError(
                "quote_case_ended",
                _("Case %(order_id)s is %(state)s: its quote no longer changes.")
                % {"order_id": locked.order_id, "state": locked.get_status_display().lower()},
            )
        if locked.location_id is None:
            raise DomainError(
                "quote_location_missing",
                _("Choose a clinic for case %(order_id)s before preparing its quote.")
                % {"order_id": locked.order_id},
            )
        location = Location.objects.get(pk=locked.location_id)
        services = list(locked.services.order_by("code"))
        entered = _entered(locked, clinic_costs)
        standing = _standing(locked)
        costs = _costs(services=services, location=location, standing=standing, entered=entered)
        items = [(service, cost) for service, cost, _source in costs]
        tax_point = timezone.localdate()
        # The rule (which fee, place of supply and rates) is kept in both languages, so each
        # reader reads it in theirs; the figures are the same whatever the language.
        with translation.override("en"):
            sheet = insurer_quote_lines(
                insurer=locked.insurer, items=items, province=location.province, tax_point=tax_point
            )
        with translation.override("fr"):
            rule_fr = insurer_quote_lines(
                insurer=locked.insurer, items=items, province=location.province, tax_point=tax_point
            ).rule
        sources = [source for _service, _cost, source in costs]
        if (
            standing is not None
            and standing.status in _KEPT_WHEN_UNCHANGED
            and _same(standing, location=location, sheet=sheet, sources=sources)
        ):
            return standing
        if standing is not None:
            QUOTE_WORKFLOW.fire(
                record=standing, name="supersede", actor=actor, payload={"reason": "new_version"}
            )
        version = (Quote.objects.filter(case=locked).aggregate(n=Max("version"))["n"] or 0) + 1
        quote = Quote.objects.create(
            case=locked,
            version=version,
            supersedes=standing,
            location=location,
            tax_point=sheet.tax_point,
            place_of_supply=sheet.province,
            rule=sheet.rule,
            rule_fr=rule_fr,
            clinic_cost=sheet.clinic_cost,
            medworks_fee=sheet.medworks_fee,
            subtotal=sheet.subtotal,
            total=sheet.total,
            created_by=actor.user,
        )
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=quote,
                position=position,
                service=line.service,
                cost_source=source,
                clinic_cost=line.clinic_cost,
                medworks_fee=line.medworks_fee,
                amount=line.amount,
                rule=line.rule,
            )
            for position, (line, source) in enumerate(zip(sheet.lines, sources, strict=True))
        )
        QuoteTax.objects.bulk_create(
            QuoteTax(quote=quote, position=position, name=t.name, rate=t.rate, amount=t.amount)
            for position, t in enumerate(sheet.taxes)
        )
        quote_event_write(
            quote=quote,
            kind="quote_prepared",
            actor=actor,
            party=party,
            extra={"supersedes": standing.version if standing is not None else None},
        )
        # The new version goes to the insurer's contact with its one-click links (outbox).
        insurer_quote(quote)
    return quote


def quote_confirm(*, quote: Quote, actor: Actor, note: str = "") -> Quote:
    """The insurer confirms the quote's charges: who, when and the amount are recorded (on the
    quote and in the event). Staff may record the insurer's confirmation for it, saying how it
    was given (`note`, required of staff: "by phone with ..., on ..."). Only a quote awaiting
    confirmation can be confirmed (`quote_status_illegal`, naming its state)."""
    party = _party_on(actor, quote.case)
    note = (note or "").strip()
    name = "confirm"
    if party == Party.STAFF:
        if not note:
            raise DomainError(
                "note_required",
                _("Say how the insurer confirmed the quote (by phone, by email, and who)."),
                fields={"note": [_("Say how the insurer confirmed the quote.")]},
            )
        name = "confirm_for_insurer"
    return QUOTE_WORKFLOW.fire(record=quote, name=name, actor=actor, note=note)


def quote_dispute(*, quote: Quote, actor: Actor, note: str) -> Quote:
    """The insurer disputes the quote, saying why (`note`, required); staff may record the
    insurer's dispute for it. MedWorks answers with a new version (`quote_prepare`)."""
    _party_on(actor, quote.case)
    return QUOTE_WORKFLOW.fire(record=quote, name="dispute", actor=actor, note=note)


def quote_supersede(*, case: BookingRequest, actor: Actor, reason: str) -> Quote | None:
    """Supersede the case's standing quote, if any, with no new version (the case ended, or its
    clinic changed and has no price yet). `reason` is a code kept in the event's payload.
    Staff or the system only. Returns the superseded quote, or None when none stood."""
    with transaction.atomic():
        lock_case(case.pk)
        standing = _standing(case)
        if standing is None:
            return None
        return QUOTE_WORKFLOW.fire(
            record=standing, name="supersede", actor=actor, payload={"reason": reason}
        )


# --- Effects on the booking workflow (registered from BillingConfig.ready()) -----------------


def quote_on_clinic_chosen(*, record: BookingRequest, actor: Actor, payload: dict) -> None:
    """A clinic chosen ("select_clinic"): prepare the case's quote there, in the same
    transaction. A clinic without a price for a requested service does not stop the booking
    step: no quote is made then (staff enter the cost later, `quote_prepare(clinic_costs=...)`),
    and a quote standing for another clinic is superseded, since its figures no longer hold.
    Other refusals (a tax rate missing, a contract price below the clinic cost) stop the step:
    the quote is what the insurer confirms and payments are gated on, so it is not skipped
    silently."""
    try:
        with transaction.atomic():  # a savepoint: a refused quote leaves nothing behind
            quote_prepare(case=record, actor=actor)
    except DomainError as error:
        if error.code != QUOTE_CLINIC_COST_MISSING:
            raise
        standing = _standing(record)
        if standing is not None and standing.location_id != record.location_id:
            quote_supersede(case=record, actor=actor, reason="clinic_changed")


_CANCELLATION = Actor.system("case_cancelled")
_CLINIC_DECLINED = Actor.system("clinic_declined")


def quote_on_clinic_declined(*, record: BookingRequest, actor: Actor, payload: dict) -> None:
    """The clinic cannot offer dates ("clinic_decline"): the case goes back to sourcing without
    a clinic, so the quote standing for that clinic is superseded (its clinic cost no longer
    holds; choosing the next clinic prepares a new one). When the clinic itself declined (its
    user or its signed link), the system supersedes it: the clinic does not prepare quotes."""
    mover = actor if party_of(actor, record) in _PREPARERS else _CLINIC_DECLINED
    quote_supersede(case=record, actor=mover, reason="clinic_declined")


def quote_on_case_cancelled(*, record: BookingRequest, actor: Actor, payload: dict) -> None:
    """A case cancelled: its standing quote (awaiting, confirmed or disputed) is superseded,
    so no payment can rely on it. When the insurer or the clinic cancelled, the system
    supersedes it (the cancel event already names who cancelled)."""
    mover = actor if party_of(actor, record) in _PREPARERS else _CANCELLATION
    quote_supersede(case=record, actor=mover, reason="case_cancelled")
