"""The demo: a made-up network at real postal codes and one login for every role.

Only for `make demo` and screenshots; refuses to run in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.network.importing import ImportReport, directory_import
from medworks.network.models import AffiliatePartner

DEMO_SPREADSHEET = Path(__file__).resolve().parent / "data" / "national-affiliate-partners.xlsx"
DEMO_PASSWORD = "medworks-demo"  # printed on purpose: demo logins only
DEMO_INSURER = "Maple Assist Insurance"
DEMO_CLINIC_PARTNER = "CanCare Medical Network"

# username, display name, role, organisation kind
DEMO_USERS = [
    ("agent", "Alex Agent", RoleCode.BOOKING_AGENT, OrganisationKind.OPERATOR),
    ("coordinator", "Casey Coordinator", RoleCode.BOOKING_COORDINATOR, OrganisationKind.OPERATOR),
    ("clinicmanager", "Morgan Clinic-Manager", RoleCode.CLINIC_MANAGER, OrganisationKind.OPERATOR),
    ("sales", "Sam Sales", RoleCode.SALES_MANAGER, OrganisationKind.OPERATOR),
    ("director", "Dana Director", RoleCode.DIRECTOR_OF_OPERATIONS, OrganisationKind.OPERATOR),
    ("senior", "Sasha Senior", RoleCode.SENIOR_MANAGER, OrganisationKind.OPERATOR),
    ("chief", "Chris Chief-of-Staff", RoleCode.CHIEF_OF_STAFF, OrganisationKind.OPERATOR),
    ("ceo", "Jordan CEO", RoleCode.CEO, OrganisationKind.OPERATOR),
    ("finance", "Joy Finance", RoleCode.FINANCE, OrganisationKind.OPERATOR),
    ("insurer", "Isabel Insurer", RoleCode.INSURER_USER, OrganisationKind.INSURER),
    ("clinic", "Claude Clinic", RoleCode.CLINIC_USER, OrganisationKind.AFFILIATE),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    organisation: str


def demo_seed(*, spreadsheet: Path = DEMO_SPREADSHEET) -> tuple[ImportReport, list[DemoLogin]]:
    """Import the demo network and create the demo users. Running it again changes nothing."""
    if settings.PRODUCTION:
        raise DomainError("demo_in_production", "The demo data is never loaded in production.")
    with spreadsheet.open("rb") as fh:
        report = directory_import(
            file=fh, filename=spreadsheet.name, actor=Actor.system("medworks seed-demo")
        )
    with transaction.atomic():
        operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR, name="MedWorks")
        insurer, _ = Organisation.objects.get_or_create(
            name=DEMO_INSURER, defaults={"kind": OrganisationKind.INSURER}
        )
        clinic_org, _ = Organisation.objects.get_or_create(
            name=DEMO_CLINIC_PARTNER, defaults={"kind": OrganisationKind.AFFILIATE}
        )
        AffiliatePartner.objects.filter(name=DEMO_CLINIC_PARTNER, organisation=None).update(
            organisation=clinic_org
        )
        orgs = {
            OrganisationKind.OPERATOR: operator,
            OrganisationKind.INSURER: insurer,
            OrganisationKind.AFFILIATE: clinic_org,
        }
        logins = []
        for username, name, role, kind in DEMO_USERS:
            first, _, last = name.partition(" ")
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@demo.medworks.example",
                    "organisation": orgs[kind],
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.roles.add(Role.objects.get(code=role))
            logins.append(DemoLogin(username, name, RoleCode(role).label, orgs[kind].name))
    demo_booking_requests(insurer=insurer)
    demo_prepayment(insurer=insurer)
    demo_reconciliation(insurer=insurer)
    return report, logins


# (reference, patient first/last, postal code, city, service codes, urgency, how far it goes,
# hours it has waited in its state). Each goes through the real use cases.
DEMO_REQUESTS = [
    ("DEMO-1001", "Amelia", "Wong", "M5V 3L9", "Toronto", ["XRAY"], "urgent", "received", 5),
    ("DEMO-1002", "Noah", "Gagnon", "M4W 1A5", "Toronto", ["XRAY"], "routine", "received", 0),
    ("DEMO-1003", "Olivia", "Singh", "M5V 3L9", "Toronto", ["XRAY"], "soon", "sourcing", 30),
    ("DEMO-1004", "Liam", "Roy", "M4W 1A5", "Toronto", ["XRAY"], "routine", "escalated", 2),
    ("DEMO-1005", "Emma", "Côté", "M5V 3L9", "Toronto", ["XRAY"], "routine", "awaiting", 10),
    ("DEMO-1006", "Lucas", "Martin", "M4W 1A5", "Toronto", ["XRAY"], "soon", "offered", 60),
    ("DEMO-1007", "Chloé", "Tremblay", "M5V 3L9", "Toronto", ["XRAY"], "routine", "booked", 4),
    # No road to Iqaluit: taking it, the desk escalates it to management by itself.
    ("DEMO-1008", "Aputi", "Kilabuk", "X0A 0H0", "Iqaluit", ["XRAY"], "soon", "taken", 28),
    # Seen, ready for billing: the clinic's invoice recorded, finance's to review and approve.
    ("DEMO-1009", "Mia", "Lavoie", "M5V 3L9", "Toronto", ["XRAY"], "routine", "seen", 0),
    # Seen and billed both ways: the provider approved and paid, the insurer invoiced.
    ("DEMO-1010", "Jacob", "Nguyen", "M4W 1A5", "Toronto", ["XRAY"], "routine", "billed", 0),
]


def demo_booking_requests(*, insurer: Organisation) -> int:
    """A handful of cases in different states, made through the use cases. Idempotent: a
    reference already present is skipped. Returns how many were created."""
    import datetime as dt

    from django.utils import timezone

    from medworks.bookings import services
    from medworks.bookings.models import BookingRequest
    from medworks.network.matching import match_clinics
    from medworks.network.models import Location

    agent = User.objects.get(username="agent")
    submitter = User.objects.get(username="insurer")
    manager = User.objects.get(username="clinicmanager")
    created = 0
    for ref, first, last, postal, city, codes, urgency, goal, hours in DEMO_REQUESTS:
        if BookingRequest.objects.filter(insurer=insurer, insurer_reference=ref).exists():
            continue
        day = timezone.localdate() + dt.timedelta(days=7)
        case = services.booking_request_submit(
            insurer=insurer,
            actor=Actor.for_user(submitter),
            data={
                "insurer_reference": ref,
                "policy_number": f"POL-{ref[-4:]}",
                "insurer_contact_name": "Isabel Insurer",
                "insurer_contact_email": "insurer@demo.medworks.example",
                "patient_first_name": first,
                "patient_last_name": last,
                "patient_date_of_birth": "1978-05-14",
                "patient_address": "100 Demo Street",
                "patient_city": city,
                "patient_postal_code": postal,
                # X is Nunavut or the Northwest Territories: the postal code alone cannot say.
                "patient_province": "NU" if postal.startswith("X0A") else "",
                "patient_language": "en",
                "services": codes,
                "symptoms": "Pain after a fall.",
                "summary": "Imaging as requested by the adjuster.",
                "preferred_dates": [day.isoformat()],
                "urgency": urgency,
                "preferred_time_window": "any",
                "results_delivery": "direct_to_patient",
            },
        )
        created += 1
        if goal != "received":
            case = services.booking_request_take(case=case, actor=Actor.for_user(agent))
        if goal == "escalated":
            services.booking_request_escalate(
                case=case,
                actor=Actor.for_user(agent),
                note="Demo: the nearest clinics are fully booked.",
            )
        if goal in {"awaiting", "offered", "booked", "seen", "billed"}:
            nearest = match_clinics(postal_code=postal, service=codes[0]).matches[0]
            location = Location.objects.get(pk=nearest.location_id)
            case = services.booking_request_select_clinic(
                case=case,
                location=location,
                actor=Actor.for_user(manager if goal == "awaiting" else agent),
            )
        if goal in {"offered", "booked", "seen", "billed"}:
            tz = timezone.get_current_timezone()
            slots = [
                {
                    "starts_at": dt.datetime.combine(
                        day + dt.timedelta(days=i), dt.time(9 + i * 2), tz
                    ),
                    "duration_minutes": 30,
                    "practitioner": "Dr. Demo",
                }
                for i in range(3)
            ]
            offer = services.availability_offer_record(
                case=case, slots=slots, actor=Actor.for_user(agent)
            )
            if goal != "offered":
                services.availability_offer_approve(
                    slot=offer.slots.order_by("starts_at").first(), actor=Actor.for_user(submitter)
                )
        if goal in {"seen", "billed"}:
            _demo_seen_and_invoiced(case, billed=goal == "billed")
        if hours:
            # Demo only: as if the case had been waiting `hours` in its state, so the queue
            # shows ages and highlights. The status itself only ever moves through the use cases.
            BookingRequest.objects.filter(pk=case.pk).update(
                status_changed_at=timezone.now() - dt.timedelta(hours=hours)
            )
    return created


def _demo_seen_and_invoiced(case, *, billed: bool) -> None:
    """The insurer confirms the charges, the patient is seen, the case is ready for billing
    and the clinic's invoice is recorded; `billed`: finance also approves and pays it, and
    invoices the insurer."""
    import datetime as dt
    import io

    from django.core.files.base import ContentFile
    from django.utils import timezone
    from reportlab.pdfgen import canvas

    from medworks.billing.invoices import invoice_draft_for_case, invoice_issue
    from medworks.billing.provider_invoices import (
        LineIn,
        provider_invoice_approve,
        provider_invoice_record,
        provider_payment_record,
    )
    from medworks.billing.quotes import quote_confirm
    from medworks.billing.selectors import quote_current
    from medworks.bookings import services
    from medworks.bookings.models import Appointment, AppointmentStatus

    agent = Actor.for_user(User.objects.get(username="agent"))
    finance = Actor.for_user(User.objects.get(username="finance"))
    submitter = Actor.for_user(User.objects.get(username="insurer"))
    quote = quote_current(case=case)
    if quote is not None and quote.status == "awaiting_confirmation":
        quote_confirm(quote=quote, actor=submitter)
    # Demo only: the appointment took place this morning (dates are only ever offered ahead).
    Appointment.objects.filter(request=case, status=AppointmentStatus.BOOKED).update(
        starts_at=timezone.now() - dt.timedelta(hours=3)
    )
    services.appointment_complete(case=case, actor=agent)
    services.booking_request_step(case=case, name="mark_ready_for_billing", actor=agent)
    case.refresh_from_db()
    quote = quote_current(case=case)
    number = f"{case.insurer_reference[-4:]}-A"
    paper = io.BytesIO()
    drawing = canvas.Canvas(paper)
    drawing.drawString(72, 720, f"{case.location.partner.name} - invoice {number}")
    drawing.save()
    provider_invoice = provider_invoice_record(
        provider=case.location.partner,
        number=number,
        invoice_date=timezone.localdate(),
        lines=[
            LineIn(case=case, service=line.service, amount=line.clinic_cost)
            for line in quote.lines.all()
        ],
        tax_total="0.00",
        total=sum((line.clinic_cost for line in quote.lines.all()), start=0),
        file=ContentFile(paper.getvalue()),
        filename=f"invoice-{number}.pdf",
        actor=agent,
    )
    if billed:
        provider_invoice_approve(invoice=provider_invoice, actor=finance)
        provider_payment_record(
            invoice=provider_invoice,
            amount=provider_invoice.total,
            paid_on=timezone.localdate(),
            method="eft",
            reference=f"EFT-{number}",
            actor=finance,
        )
        invoice_issue(invoice=invoice_draft_for_case(case=case, actor=finance), actor=finance)


DEMO_PREPAID_PROVIDER = "Northshore Physiotherapy (pre-paid)"


def demo_prepayment(*, insurer: Organisation) -> None:
    """SOP case 4: a provider paid in advance, a case booked there whose charges the insurer
    confirmed, the insurer's card on file, and the payment request reviewed by the Chief of
    Staff, waiting for the CEO. Idempotent (the reference DEMO-1011)."""
    import datetime as dt

    from django.utils import timezone

    from medworks.billing.quotes import quote_confirm
    from medworks.billing.selectors import quote_current
    from medworks.bookings import services
    from medworks.bookings.models import BookingRequest
    from medworks.network.geo import grid_cell
    from medworks.network.models import GeoPrecision, Location, Offering, Service
    from medworks.network.text import name_key
    from medworks.payments.requests import payment_request_prepare, payment_request_step
    from medworks.payments.vault import card_store

    if BookingRequest.objects.filter(insurer=insurer, insurer_reference="DEMO-1011").exists():
        return
    partner, _ = AffiliatePartner.objects.get_or_create(
        name_key=name_key(DEMO_PREPAID_PROVIDER),
        defaults={
            "name": DEMO_PREPAID_PROVIDER,
            "is_affiliate": False,
            "accepts_prepayment": True,
            "billing_arrangements": ["credit_card", "eft", "insurer_card"],
            "contact_email": "front@northshore.example",
        },
    )
    location = Location.objects.create(
        partner=partner,
        name="Northshore Physiotherapy Yorkville",
        name_key=name_key("Northshore Physiotherapy Yorkville"),
        address="80 Bloor Street West",
        city="Toronto",
        province="ON",
        postal_code="M5S 2V1",
        latitude=43.6697,
        longitude=-79.3907,
        geo_precision=GeoPrecision.POSTAL_CODE,
        geo_cell=grid_cell(43.6697, -79.3907),
    )
    Offering.objects.create(
        location=location, service=Service.objects.get(code="XRAY"), clinic_price="140.00"
    )
    agent = Actor.for_user(User.objects.get(username="agent"))
    submitter = Actor.for_user(User.objects.get(username="insurer"))
    day = timezone.localdate() + dt.timedelta(days=6)
    case = services.booking_request_submit(
        insurer=insurer,
        actor=submitter,
        data={
            "insurer_reference": "DEMO-1011",
            "policy_number": "POL-1011",
            "insurer_contact_name": "Isabel Insurer",
            "insurer_contact_email": "insurer@demo.medworks.example",
            "patient_first_name": "Ava",
            "patient_last_name": "Morin",
            "patient_date_of_birth": "1985-02-03",
            "patient_address": "12 Demo Avenue",
            "patient_city": "Toronto",
            "patient_postal_code": "M5S 2V1",
            "patient_province": "",
            "patient_language": "en",
            "services": ["XRAY"],
            "symptoms": "Shoulder pain.",
            "summary": "Imaging as requested by the adjuster.",
            "preferred_dates": [day.isoformat()],
            "urgency": "routine",
            "preferred_time_window": "any",
            "results_delivery": "direct_to_patient",
        },
    )
    case = services.booking_request_take(case=case, actor=agent)
    case = services.booking_request_select_clinic(case=case, location=location, actor=agent)
    quote_confirm(quote=quote_current(case=case), actor=submitter)
    tz = timezone.get_current_timezone()
    offer = services.availability_offer_record(
        case=case,
        slots=[
            {
                "starts_at": dt.datetime.combine(day, dt.time(10), tz),
                "duration_minutes": 30,
                "practitioner": "Dr. Demo",
            }
        ],
        actor=agent,
    )
    services.availability_offer_approve(slot=offer.slots.get(), actor=submitter)
    case.refresh_from_db()
    card_store(
        case=case,
        number="4111 1111 1111 1111",  # a processor's test number: the demo only
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(timezone.localdate().year + 2),
        security_code="123",
        actor=submitter,
    )
    request = payment_request_prepare(cases=[case], method="medworks_card", actor=agent)
    payment_request_step(request=request, name="submit", actor=agent)
    chief = Actor.for_user(User.objects.get(username="chief"))
    payment_request_step(request=request, name="review", actor=chief)


def demo_reconciliation(*, insurer: Organisation) -> None:
    """SOP case 4 step 6: the insurer paid part of DEMO-1010's invoice (a discrepancy in the
    coordinator's queue), and every booked order's checks evaluated. Idempotent."""
    from decimal import Decimal

    from django.utils import timezone

    from medworks.billing.invoices import payment_record
    from medworks.billing.models import Invoice, PaymentReceived
    from medworks.reconciliation.services import reconciliation_sweep

    finance = Actor.for_user(User.objects.get(username="finance"))
    invoice = Invoice.objects.filter(
        insurer=insurer, lines__case__insurer_reference="DEMO-1010"
    ).first()
    if invoice is not None and not PaymentReceived.objects.filter(insurer=insurer).exists():
        payment_record(
            insurer=insurer,
            amount=(invoice.total / 2).quantize(Decimal("0.01")),
            received_on=timezone.localdate(),
            method="eft",
            reference="DEMO-WIRE-1010",
            actor=finance,
            allocations=[(invoice, (invoice.total / 2).quantize(Decimal("0.01")))],
        )
    reconciliation_sweep()
