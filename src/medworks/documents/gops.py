"""Every write about a case's guarantee of payment (GOP). Keyword-only, one transaction each.

The lifecycle is GOP_WORKFLOW (documents/workflow.py); these use cases validate the terms, create
versions in their initial state and take its steps. Who may: the insurer or staff issue and
amend; the clinic (or staff) acknowledges; staff request one and record what became of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from medworks.bookings.models import BookingRequest
from medworks.bookings.workflow import party_of
from medworks.core.actor import Actor, Party
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.ids import looks_like_id, parse_id
from medworks.core.money import CURRENCY, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, parse_money
from medworks.network.models import Location, Service

from . import emails
from .models import GOP_LIVE_STATUSES, DocumentKind, Gop, GopStatus
from .services import _lock, _upload, _visible_case
from .workflow import GOP_WORKFLOW, STATUS_STEPS, gop_event_write, gop_state_phrase

K = DocumentKind


GOP_FIELDS = frozenset(
    {
        "insurer_reference",
        "patient_name",
        "patient_date_of_birth",
        "policy_number",
        "provider",
        "authorised_services",
        "valid_from",
        "valid_to",
        "max_amount",
        "currency",
        "copay_exclusions",
        "billing_instructions",
    }
)
_TEXT_LIMITS = {
    "insurer_reference": 100,
    "patient_name": 200,
    "policy_number": 100,
    "copay_exclusions": 2000,
    "billing_instructions": 2000,
}
# Dates a guarantee can hold: no day before 1900 nor after 2100 (a typo, not a term).
_EARLIEST, _LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _as_date(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        errors[field] = [_("Give a date, not a date and time.")]
        return None
    if isinstance(value, dt.date):
        return _in_range(value, field, errors)
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        errors[field] = [_("Give a date as YYYY-MM-DD.")]
    return _in_range(parsed, field, errors)


def _in_range(day: dt.date | None, field: str, errors: dict) -> dt.date | None:
    if day is not None and not _EARLIEST <= day <= _LATEST:
        errors[field] = [_("Give a date between 1900 and 2100.")]
        return None
    return day


def _as_amount(value, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, float | bool):
        errors["max_amount"] = [_('Give the amount as text or a decimal, e.g. "1500.00".')]
        return None
    try:
        # The documented format only: no exponent, no other digits, at most two decimals.
        amount = parse_money(value)
    except (ValueError, TypeError, InvalidOperation):
        errors["max_amount"] = [_("Give an amount in dollars and cents, e.g. 1500.00.")]
        return None
    if not amount.is_finite():
        errors["max_amount"] = [_("Give an amount in dollars and cents, e.g. 1500.00.")]
    elif amount < 0:
        errors["max_amount"] = [_("The maximum cannot be negative.")]
    elif amount.adjusted() >= MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES:
        errors["max_amount"] = [_("The amount is too large.")]
    else:
        return amount
    return None


def _gop_terms(*, case: BookingRequest, data: Mapping[str, Any], base: dict) -> tuple[dict, list]:
    """Validated GOP terms: `base` (defaults, or the amended version's terms) overlaid with
    `data`. Returns (fields, services). Raises DomainError("gop_invalid") with field errors;
    a card number in any of them first (CardNumberRefused, "card_number"): none is kept."""
    refuse_card_numbers(data)
    errors: dict[str, list[str]] = {}
    unknown = set(data) - GOP_FIELDS
    for key in sorted(unknown):
        errors[str(key)] = [_("Not a GOP field.")]
    terms = {key: value for key, value in base.items() if key != "authorised_services"}
    for key in GOP_FIELDS & set(data) - {"authorised_services", "provider"}:
        terms[key] = data[key]
    for key, limit in _TEXT_LIMITS.items():
        text = str(terms.get(key) or "").strip()
        if len(text) > limit:
            errors[key] = [_("At most %(limit)s characters.") % {"limit": limit}]
        terms[key] = text[:limit]
    for key in ("copay_exclusions", "billing_instructions"):
        terms[key] = str(terms.get(key) or "").strip()
    terms["patient_date_of_birth"] = _as_date(
        terms.get("patient_date_of_birth"), "patient_date_of_birth", errors
    )
    terms["valid_from"] = _as_date(terms.get("valid_from"), "valid_from", errors)
    terms["valid_to"] = _as_date(terms.get("valid_to"), "valid_to", errors)
    terms["max_amount"] = _as_amount(terms.get("max_amount"), errors)
    terms["currency"] = str(terms.get("currency") or CURRENCY).strip().upper()
    if terms["currency"] != CURRENCY:
        errors["currency"] = [_("Guarantees are in %(currency)s.") % {"currency": CURRENCY}]
    for key, missing in (
        ("valid_from", _("Give the first day of the guarantee.")),
        ("valid_to", _("Give the last day of the guarantee.")),
        ("max_amount", _("Give the maximum amount of the guarantee.")),
    ):
        if terms[key] is None and key not in errors:
            errors[key] = [missing]
    if terms["valid_from"] and terms["valid_to"] and terms["valid_to"] < terms["valid_from"]:
        errors["valid_to"] = [_("The guarantee ends before it starts.")]

    provider = data["provider"] if "provider" in data else base.get("provider")
    if isinstance(provider, Location) or provider is None:
        pass
    elif looks_like_id(provider):  # never a boolean, nor an id past what the database holds
        number = parse_id(provider)
        provider = Location.objects.filter(pk=number).first() if number else None
        if provider is None:
            errors["provider"] = [_("No such clinic location.")]
    elif provider == "":
        provider = None
    else:
        errors["provider"] = [_("Name the clinic location by its id.")]
        provider = None
    if provider is not None and case.location_id and provider.pk != case.location_id:
        errors["provider"] = [_("The provider is the case's clinic.")]
    terms["provider"] = provider

    wanted = (
        data["authorised_services"]
        if "authorised_services" in data
        else base.get("authorised_services", [])
    )
    if isinstance(wanted, str | int | Service):
        wanted = [wanted]
    case_services = {s.pk: s for s in case.services.all()}
    by_code = {s.code.upper(): s for s in case_services.values()}
    services, bad = [], []
    for item in wanted or []:
        if isinstance(item, Service):
            found = case_services.get(item.pk)
        elif isinstance(item, bool):
            found = None
        elif looks_like_id(item):
            found = case_services.get(parse_id(item))
        else:
            found = by_code.get(str(item).strip().upper())
        if found is None:
            bad.append(str(getattr(item, "code", item)))
        elif found not in services:
            services.append(found)
    if bad and by_code:
        errors["authorised_services"] = [
            _("Not a service of this case: %(services)s. The case asks for %(asked)s.")
            % {"services": ", ".join(bad), "asked": ", ".join(sorted(by_code))}
        ]
    elif bad:
        errors["authorised_services"] = [
            _("Not a service of this case: %(services)s. The case asks for no service.")
            % {"services": ", ".join(bad)}
        ]
    elif not services:
        errors["authorised_services"] = [_("Name the services the guarantee covers.")]
    if errors:
        raise DomainError(
            "gop_invalid", _("The guarantee has errors: see the fields."), fields=errors
        )
    return terms, services


def _gop_defaults(case: BookingRequest) -> dict:
    """A new GOP's terms default to what the case already says (the insurer confirms them)."""
    patient = case.patient
    return {
        "insurer_reference": case.insurer_reference,
        "patient_name": patient.full_name,
        "patient_date_of_birth": patient.date_of_birth,
        "policy_number": case.policy_number,
        "provider": case.location,
        "currency": CURRENCY,
    }


def _require_party(actor: Actor, case: BookingRequest, step: str, refusal: str) -> Party:
    """Refuse early (before the terms are read) an actor whose party may not take `step`."""
    party = party_of(actor, case)
    if party is None or party not in GOP_WORKFLOW[step].parties:
        raise PermissionDenied("gop_forbidden", refusal)
    return party


def _attach_gop_file(*, case, gop: Gop, file, filename: str, actor: Actor, document=None):
    version = _upload(
        case=case,
        kind=K.GOP,
        file=file,
        filename=filename,
        actor=actor,
        title=_("GOP version %(version)s") % {"version": gop.version},
        signed_by="",
        signed_on=None,
        attested=False,
        document=document,
        notify=False,  # the GOP's own email says it (one email, not two)
    )
    return version.document


def _next_gop_version(case) -> int:
    return (case.gops.aggregate(n=Max("version"))["n"] or 0) + 1


def _new_version(*, case, actor: Actor, **fields) -> Gop:
    """A GOP version born in its initial state (requested); its steps do the rest."""
    return Gop.objects.create(
        request=case, version=_next_gop_version(case), created_by=actor.user, **fields
    )


def gop_issue(
    *, case: BookingRequest, data: Mapping[str, Any], actor: Actor, file=None, filename: str = ""
) -> Gop:
    """The insurer (or staff for it) issues the case's guarantee of payment: status issued.

    Terms not given default to the case's (reference, patient, date of birth, policy number,
    provider); validity dates, the maximum amount and the authorised services (codes or ids,
    services of the case) are required. A GOP that MedWorks requested (`gop_request`) is
    filled in; a case whose GOP is already issued is refused: amend it instead.
    """
    case = _visible_case(case, actor)
    _require_party(actor, case, "issue", _("Only the insurer or MedWorks issues a GOP."))
    terms, services = _gop_terms(case=case, data=data, base=_gop_defaults(case))
    with transaction.atomic():
        case = _lock(case)
        standing = case.gops.filter(status__in=GOP_LIVE_STATUSES).order_by("-version").first()
        if standing is not None and standing.status != GopStatus.REQUESTED:
            raise DomainError(
                "gop_exists",
                _("This case already has a GOP (version %(version)s, %(state)s): amend it instead.")
                % {"version": standing.version, "state": gop_state_phrase(standing.status)},
            )
        if standing is not None:
            gop = standing
            for key, value in terms.items():
                setattr(gop, key, value)
            gop.save(update_fields=list(terms))
        else:
            gop = _new_version(case=case, actor=actor, **terms)
        gop.authorised_services.set(services)
        if file is not None:
            gop.document = _attach_gop_file(
                case=case, gop=gop, file=file, filename=filename, actor=actor
            )
            gop.save(update_fields=["document"])
        gop = GOP_WORKFLOW.fire(record=gop, name="issue", actor=actor)
        emails.paperwork_for_clinic(
            case, kind=K.GOP, what="document" if file is not None else "gop_terms"
        )
    return gop


def gop_request(*, case: BookingRequest, actor: Actor, note: str = "") -> Gop:
    """MedWorks asks the insurer for a GOP: a placeholder (status requested) with no terms,
    filled in by `gop_issue`. Staff only. The insurer's contact is emailed (after commit, by
    the outbox); the note stays on the case for the team."""
    case = _visible_case(case, actor)
    if party_of(actor, case) != Party.STAFF:
        raise PermissionDenied("gop_forbidden", _("Only MedWorks requests a GOP."))
    with transaction.atomic():
        case = _lock(case)
        if case.gops.filter(status__in=GOP_LIVE_STATUSES).exists():
            raise DomainError("gop_exists", _("This case already has a GOP."))
        gop = _new_version(case=case, actor=actor, insurer_reference=case.insurer_reference)
        gop_event_write(gop=gop, kind="gop_requested", actor=actor, note=note.strip())
        emails.gop_requested_for_insurer(case)
    return gop


def _terms_of(gop: Gop) -> dict:
    terms = {key: getattr(gop, key) for key in GOP_FIELDS - {"authorised_services"}}
    terms["authorised_services"] = list(gop.authorised_services.all())
    return terms


def gop_amend(
    *, gop: Gop, data: Mapping[str, Any], actor: Actor, file=None, filename: str = ""
) -> Gop:
    """A new version (version + 1) superseding `gop`, which becomes amended and is kept.

    The new version takes the old terms, overlaid with `data`, and is issued. Its file, if any,
    is a new version of the old GOP's document. Only the standing version can be amended.
    """
    case = _visible_case(gop.request, actor)
    _require_party(actor, case, "supersede", _("Only the insurer or MedWorks amends a GOP."))
    terms, services = _gop_terms(case=case, data=data, base=_terms_of(gop))
    with transaction.atomic():
        case = _lock(case)
        old = GOP_WORKFLOW.fire(record=gop, name="supersede", actor=actor)
        new = _new_version(case=case, actor=actor, supersedes=old, **terms)
        new.authorised_services.set(services)
        if file is not None:
            new.document = _attach_gop_file(
                case=case,
                gop=new,
                file=file,
                filename=filename,
                actor=actor,
                document=old.document,
            )
            new.save(update_fields=["document"])
        new = GOP_WORKFLOW.fire(record=new, name="issue_amendment", actor=actor)
        emails.paperwork_for_clinic(
            case, kind=K.GOP, what="document" if file is not None else "gop_terms"
        )
    return new


def gop_acknowledge(*, gop: Gop, actor: Actor) -> Gop:
    """The clinic of the case's location (or staff for it) confirms it has the GOP."""
    case = _visible_case(gop.request, actor)
    _require_party(actor, case, "acknowledge", _("Only the case's clinic acknowledges its GOP."))
    return GOP_WORKFLOW.fire(record=gop, name="acknowledge", actor=actor)


def gop_set_status(*, gop: Gop, status: str, actor: Actor, note: str = "") -> Gop:
    """Staff record what became of a GOP: service rendered, expired or cancelled (STATUS_STEPS)."""
    case = _visible_case(gop.request, actor)
    if party_of(actor, case) != Party.STAFF:
        raise PermissionDenied("gop_forbidden", _("Only MedWorks changes a GOP's status."))
    step = STATUS_STEPS.get(status)
    if step is None:
        raise DomainError(
            "gop_status_illegal",
            _("A GOP is made %(status)r by its own step (issue, acknowledge, amend), not here.")
            % {"status": status},
            fields={"status": [_("One of: %(choices)s.") % {"choices": ", ".join(STATUS_STEPS)}]},
        )
    return GOP_WORKFLOW.fire(record=gop, name=step, actor=actor, note=note)
