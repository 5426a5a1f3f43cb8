"""Small factories: each makes one valid object, and takes keywords for what a test cares about."""

from __future__ import annotations

import itertools
from decimal import Decimal

from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
from medworks.accounts.services import ApiClient
from medworks.core.actor import Actor
from medworks.network.models import AffiliatePartner, GeoPrecision, Location, Offering, Service
from medworks.network.text import name_key

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_organisation(*, kind: str = OrganisationKind.INSURER, name: str | None = None):
    return Organisation.objects.create(name=name or f"{kind.title()} {next(_seq)}", kind=kind)


def operator():
    return Organisation.objects.get(kind=OrganisationKind.OPERATOR, name="MedWorks")


def make_user(*, roles: list[str], organisation=None, username: str | None = None, **extra):
    if organisation is None:
        if roles and roles[0] == RoleCode.INSURER_USER:
            organisation = make_organisation(kind=OrganisationKind.INSURER)
        elif roles and roles[0] == RoleCode.CLINIC_USER:
            organisation = make_organisation(kind=OrganisationKind.AFFILIATE)
        else:
            organisation = operator()
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=PASSWORD,
        organisation=organisation,
        email=extra.pop("email", "person@example.com"),
        **extra,
    )
    user.roles.set(Role.objects.filter(code__in=roles))
    return user


def make_partner(*, name: str | None = None, **fields) -> AffiliatePartner:
    name = name or f"Partner {next(_seq)}"
    return AffiliatePartner.objects.create(name=name, name_key=name_key(name), **fields)


def make_location(
    *,
    partner: AffiliatePartner | None = None,
    name: str | None = None,
    postal_code: str = "M5V 3L9",
    province: str = "ON",
    latitude: float | None = 43.6426,
    longitude: float | None = -79.3871,
    **fields,
) -> Location:
    from medworks.network.geo import grid_cell

    partner = partner or make_partner()
    name = name or f"Clinic {next(_seq)}"
    return Location.objects.create(
        partner=partner,
        name=name,
        name_key=name_key(name),
        postal_code=postal_code,
        province=province,
        latitude=latitude,
        longitude=longitude,
        geo_precision=GeoPrecision.POSTAL_CODE if latitude is not None else GeoPrecision.NONE,
        geo_cell=grid_cell(latitude, longitude) if latitude is not None else None,
        **fields,
    )


def service(code: str) -> Service:
    return Service.objects.get(code=code)


def make_offering(*, location: Location, service_code: str = "XRAY", price: str | None = "120.00"):
    return Offering.objects.create(
        location=location,
        service=service(service_code),
        clinic_price=Decimal(price) if price is not None else None,
    )


def booking_request_data(**overrides) -> dict:
    """A valid request as an insurer would send it (any door); override what the test is about."""
    import datetime as dt

    from django.utils import timezone

    data = {
        "insurer_reference": f"CLM-{next(_seq)}",
        "policy_number": "POL-778812",
        "insurer_contact_name": "Ines Adjuster",
        "insurer_contact_email": "adjuster@maple-assist.example",
        "insurer_contact_phone": "416-555-0100",
        "patient_first_name": "Jean",
        "patient_last_name": "Tremblay",
        "patient_date_of_birth": "1980-04-12",
        "patient_phone": "416-555-0199",
        "patient_email": "patient@example.com",
        "patient_address": "300 Front Street West",
        "patient_city": "Toronto",
        "patient_province": "ON",
        "patient_postal_code": "M5V 3L9",
        "patient_language": "en",
        "services": ["XRAY"],
        "symptoms": "Pain in the left wrist after a fall.",
        "summary": "Wrist X-ray, two views.",
        "preferred_dates": [(timezone.localdate() + dt.timedelta(days=3)).isoformat()],
        "preferred_time_window": "morning",
        "scheduling_notes": "",
        "urgency": "soon",
        "paperwork_required": False,
        "results_delivery": "direct_to_patient",
        "notify_patient": True,
    }
    data.update(overrides)
    return data


def make_booking_request(*, insurer=None, actor=None, channel: str = "portal", **overrides):
    """A submitted case (status received) through the real use case."""
    from medworks.bookings.services import booking_request_submit

    insurer = insurer or make_organisation(kind=OrganisationKind.INSURER)
    return booking_request_submit(
        insurer=insurer,
        data=booking_request_data(**overrides),
        actor=actor or act(None),
        channel=channel,
    )


def slot_data(*, days: int = 5, hour: int = 10, hold_hours: int = 48, **extra) -> dict:
    """One offered date, `days` from now at `hour`, held for `hold_hours`."""
    import datetime as dt

    from django.utils import timezone

    day = timezone.localdate() + dt.timedelta(days=days)
    starts_at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
    return {
        "starts_at": starts_at,
        "expires_at": timezone.now() + dt.timedelta(hours=hold_hours),
        "duration_minutes": 30,
        **extra,
    }


def make_case_awaiting_dates(*, insurer=None, location=None, agent=None, **overrides):
    """A case an agent took and sent to a clinic location for dates (awaiting_availability)."""
    from medworks.bookings.services import booking_request_select_clinic, booking_request_take

    if location is None:
        location = make_location()
        make_offering(location=location, service_code="XRAY")
    agent = agent or make_user(roles=[RoleCode.BOOKING_AGENT])
    case = make_booking_request(insurer=insurer, **overrides)
    booking_request_take(case=case, actor=act(agent))
    return booking_request_select_clinic(case=case, location=location, actor=act(agent))


def make_case_with_offer(*, slots: list[dict] | None = None, agent=None, **kwargs):
    """A case with dates offered to the insurer (dates_offered); returns (case, offer)."""
    from medworks.bookings.services import availability_offer_record

    agent = agent or make_user(roles=[RoleCode.BOOKING_AGENT])
    case = make_case_awaiting_dates(agent=agent, **kwargs)
    offer = availability_offer_record(
        case=case, slots=slots or [slot_data(days=5), slot_data(days=6)], actor=act(agent)
    )
    case.refresh_from_db()
    return case, offer


def act(principal) -> Actor:
    """The Actor a test's persona acts as: a user, an API key's client, or (None) the system,
    as the command line acts."""
    if principal is None:
        return Actor.system("test")
    if isinstance(principal, ApiClient):
        return Actor.for_api_client(principal)
    return Actor.for_user(principal)


def appointment_time_passes(case, *, hours: int = 2):
    """The case's booked appointment took place `hours` ago: dates are offered in the future,
    and nothing is completed, missed or signed before the appointment time."""
    import datetime as dt

    from django.utils import timezone

    from medworks.bookings.models import Appointment, AppointmentStatus

    appointment = Appointment.objects.get(request=case, status=AppointmentStatus.BOOKED)
    appointment.starts_at = timezone.now() - dt.timedelta(hours=hours)
    appointment.save(update_fields=["starts_at"])
    return appointment


def mark_reconciled(case) -> None:
    """The order's reconciliation written as reconciled, for tests of the booking workflow's
    `close` (the reconciliation's own tests take the real path: tests/reconciliation)."""
    from django.utils import timezone

    from medworks.reconciliation.models import CheckState, Reconciliation, ReconciliationStatus

    day = timezone.localdate(case.created_at)
    Reconciliation.objects.update_or_create(
        case=case,
        defaults={
            "status": ReconciliationStatus.RECONCILED,
            "month": day.replace(day=1),
            "insurer_id": case.insurer_id,
            "order_date": day,
            **{name: CheckState.MET for name in ("order_email", "payment_process")},
            **{name: CheckState.MET for name in ("provider_invoice", "insurer_payment")},
        },
    )
